"""Command-line plumbing shared by the entry points: argparse in Portuguese, value types.

Users see Brazilian Portuguese everywhere, including argparse's own usage and error
lines; no gettext catalog is needed for the dozen messages argparse can print.
"""

from __future__ import annotations

import argparse
import logging
import math
import re
import sys
from collections.abc import Callable
from typing import NoReturn

from vendas.errors import UserError

log = logging.getLogger(__name__)

# argparse's own error messages (Python 3.10-3.13) and their Portuguese versions.
_ARGPARSE_PT: list[tuple[str, str | Callable[[re.Match], str]]] = [
    (r"argument (.+?): (.*)", lambda m: f"argumento {m[1]}: {translate_argparse(m[2])}"),
    (r"the following arguments are required: (.*)", r"estes argumentos são obrigatórios: \1"),
    (r"unrecognized arguments: (.*)", r"argumentos não reconhecidos: \1"),
    (r"expected one argument", "esperava um valor"),
    (r"expected at most one argument", "esperava no máximo um valor"),
    (r"expected at least one argument", "esperava ao menos um valor"),
    (r"invalid choice: (.*) \(choose from (.*)\)", r"escolha inválida: \1 (opções: \2)"),
    (r"invalid (\S+) value: (.*)", r"valor inválido (\1): \2"),
    (r"ambiguous option: (\S+) could match (.*)", r"opção ambígua: \1 pode ser \2"),
    (r"not allowed with argument (.*)", r"não pode ser usado com o argumento \1"),
    (r"ignored explicit argument (.*)", r"valor ignorado: \1"),
    (r"one of the arguments (.*) is required", r"um destes argumentos é obrigatório: \1"),
]


def translate_argparse(message: str) -> str:
    for pattern, replacement in _ARGPARSE_PT:
        match = re.fullmatch(pattern, message, flags=re.DOTALL)
        if match:
            return replacement(match) if callable(replacement) else match.expand(replacement)
    return message


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, prefix or "uso: ")


class PortugueseArgumentParser(argparse.ArgumentParser):
    """argparse with its help and error messages in Brazilian Portuguese."""

    def __init__(self, **kwargs) -> None:
        super().__init__(formatter_class=_HelpFormatter, add_help=False, **kwargs)
        self._positionals.title = "argumentos posicionais"
        self._optionals.title = "opções"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help="mostra esta ajuda e sai")

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: erro: {translate_argparse(message)}\n")


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"número inteiro inválido: {text!r}") from None


def positive_int(text: str) -> int:
    value = integer(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"deve ser maior que zero: {text}")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"número inválido: {text!r}") from None
    if not value >= 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"deve ser um número maior ou igual a zero: {text}")
    return value


def positive_float(text: str) -> float:
    value = non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"deve ser maior que zero: {text}")
    return value


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s+(second|minute|hour|day|week)s?\s*$",
                       re.IGNORECASE)
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


def duration(text: str) -> str:
    """A Spark interval such as "10 minutes" or "24 hours"."""
    if not _DURATION.match(text):
        raise argparse.ArgumentTypeError(
            f"duração inválida: {text!r}; use, por exemplo, \"30 seconds\", "
            "\"10 minutes\" ou \"24 hours\""
        )
    return text.strip()


def duration_ms(text: str) -> int:
    """A duration accepted by `duration`, in milliseconds."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"duração inválida: {text!r}")
    return round(float(match[1]) * _UNIT_SECONDS[match[2].lower()] * 1000)


def key_value(text: str) -> tuple[str, str]:
    """KEY=VALUE, for --conf."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"use a forma CHAVE=VALOR: {text!r}")
    return key.strip(), value


def report_user_error(error: UserError) -> int:
    """Log a user error as its one sentence; returns the exit code for it."""
    log.error("%s", error)
    return 2
