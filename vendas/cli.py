"""Command-line plumbing shared by the two entry points: argparse in Portuguese, exit codes."""

from __future__ import annotations

import argparse
import logging
import re

from vendas.errors import UserError

log = logging.getLogger(__name__)

# argparse builds its messages with gettext; these are its English strings we show users.
_ARGPARSE_PT = {
    "usage: ": "uso: ",
    "options": "opções",
    "positional arguments": "argumentos posicionais",
    "show this help message and exit": "mostra esta ajuda e sai",
    "%(prog)s: error: %(message)s\n": "%(prog)s: erro: %(message)s\n",
    "the following arguments are required: %s": "os seguintes argumentos são obrigatórios: %s",
    "unrecognized arguments: %s": "argumentos não reconhecidos: %s",
    "expected one argument": "esperava um valor",
    "invalid %(type)s value: %(value)r": "valor inválido para %(type)s: %(value)r",
    "invalid choice: %(value)r (choose from %(choices)s)": "opção inválida: %(value)r (escolha entre %(choices)s)",
    "ambiguous option: %(option)s could match %(matches)s": "opção ambígua: %(option)s pode ser %(matches)s",
    "argument %(argument_name)s: %(message)s": "argumento %(argument_name)s: %(message)s",
    "not allowed with argument %s": "não pode ser usado com o argumento %s",
}


def _translate(message: str) -> str:
    return _ARGPARSE_PT.get(message, message)


argparse._ = _translate  # argparse looks `_` up at call time, so this covers every message


def positive_int(text: str) -> int:
    """argparse type: an integer > 0, with a Portuguese error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} não é um número inteiro") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} deve ser maior que zero")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a number >= 0, with a Portuguese error."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} não é um número") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} não pode ser negativo")
    return value


_DURATION = re.compile(r"^\s*\d+(\.\d+)?\s+(second|minute|hour|day|week)s?\s*$", re.IGNORECASE)


def duration(text: str) -> str:
    """argparse type: a Spark interval such as "10 minutes" or "24 hours"."""
    if not _DURATION.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} não é uma duração; use, por exemplo, \"30 seconds\", \"10 minutes\" ou \"24 hours\""
        )
    return text.strip()


def spark_conf(text: str) -> tuple[str, str]:
    """argparse type: KEY=VALUE for --conf."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} deve ter a forma CHAVE=VALOR")
    return key.strip(), value


def exit_code_for(error: UserError) -> int:
    """Log a user error as its one sentence; the exit code every entry point uses."""
    log.error("%s", error)
    return 2
