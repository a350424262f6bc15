"""Produtor de pedidos de e-commerce para o Kafka (tópico vendas-ecommerce).

Uso: python produtor_vendas.py [-b HOST:PORTA] [--topic NOME] [--count N] [--rate R]
                               [--seed S] [--date-format {iso,br}] [--spread-days D]
                               [--start-time DATA] [--quiet]

Gera pedidos realistas e reproduzíveis (mesma --seed, mesmos pedidos) e os envia com
chave id_ordem e acks=all; ao terminar (--count, Ctrl-C ou SIGTERM) espera as
confirmações e mostra um resumo. Sai com código 1 se algum pedido não foi confirmado
e 2 em erros de uso (Kafka inacessível, tópico recusado, opção inválida).
"""

from __future__ import annotations

import argparse
import logging
import re
import sys

from vendas.contract import DATE_FORMATS, DEFAULT_BOOTSTRAP_SERVERS, DEFAULT_TOPIC
from vendas.errors import UserError
from vendas.generator import (
    DEFAULT_CUSTOMERS,
    OrderGenerator,
    make_clock,
    new_seed,
    parse_start_time,
)
from vendas.logs import setup_logging
from vendas.producer import DEFAULT_RATE, ProducerOptions, run

log = logging.getLogger("produtor_vendas")

# argparse's own messages (Python 3.10-3.13), in Portuguese; no gettext catalog needed.
_ARGPARSE_PT = [
    (r"argument (.+?): (.*)", lambda m: f"argumento {m[1]}: {_translate(m[2])}"),
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


def _translate(message: str) -> str:
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

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: erro: {_translate(message)}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"número inteiro inválido: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"deve ser maior que zero: {text}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"número inteiro inválido: {text!r}") from None


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"número inválido: {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"deve ser um número maior ou igual a zero: {text}")
    return value


def _positive_float(text: str) -> float:
    value = _non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"deve ser maior que zero: {text}")
    return value


def _start_time(text: str):
    try:
        return parse_start_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"data/hora inválida: {text!r}; use ISO-8601 (2026-11-23T14:05:09) "
            "ou dd/mm/aaaa HH:MM:SS"
        ) from None


def build_parser() -> PortugueseArgumentParser:
    parser = PortugueseArgumentParser(
        prog="produtor_vendas.py",
        description="Gera pedidos de e-commerce realistas e os publica no Kafka,\n"
                    "com chave id_ordem e confirmação (acks=all) de cada pedido.",
        epilog="Exemplos:\n"
               "  python produtor_vendas.py --count 10000 --rate 0 --seed 42\n"
               "  python produtor_vendas.py -b kafka:9092 --date-format br --spread-days 30",
    )
    parser.add_argument("-b", "--bootstrap-servers", default=DEFAULT_BOOTSTRAP_SERVERS,
                        metavar="HOST:PORTA",
                        help="endereço(s) do Kafka, separados por vírgula (padrão: %(default)s)")
    parser.add_argument("-t", "--topic", default=DEFAULT_TOPIC, metavar="NOME",
                        help="tópico de destino, criado se não existir (padrão: %(default)s)")
    parser.add_argument("-n", "--count", type=_positive_int, metavar="N",
                        help="quantos pedidos enviar (padrão: até Ctrl-C)")
    parser.add_argument("-r", "--rate", type=_non_negative_float, default=DEFAULT_RATE,
                        metavar="R",
                        help="pedidos por segundo; 0 = o mais rápido possível "
                             "(padrão: %(default)g)")
    parser.add_argument("--seed", type=_int, metavar="S",
                        help="semente: a mesma semente gera os mesmos pedidos "
                             "(padrão: sorteada e mostrada no log)")
    parser.add_argument("--date-format", choices=list(DATE_FORMATS), default="iso",
                        help="formato de data_hora: iso (2026-11-23T14:05:09) ou "
                             "br (23/11/2026 14:05:09) (padrão: %(default)s)")
    parser.add_argument("--spread-days", type=_positive_float, metavar="D",
                        help="espalha data_hora ao acaso pelos D dias anteriores a agora "
                             "(ou a --start-time), como os projetos originais")
    parser.add_argument("--start-time", type=_start_time, metavar="DATA",
                        help="data/hora fixa de início: o relógio dos pedidos avança como se "
                             "chegassem a --rate por segundo (100/s com --rate 0); com "
                             "--seed, a execução fica totalmente reproduzível")
    parser.add_argument("--customers", type=_positive_int, default=DEFAULT_CUSTOMERS,
                        metavar="N", help="tamanho da base de clientes (padrão: %(default)s)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="sem progresso nem resumo (só erros)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="mostra também as mensagens do cliente Kafka")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(verbose=args.verbose, quiet=args.quiet)
    seed = args.seed if args.seed is not None else new_seed()
    try:
        clock = make_clock(args.date_format, seed=seed, start_time=args.start_time,
                           spread_days=args.spread_days, rate=args.rate or DEFAULT_RATE)
        generator = OrderGenerator(seed, clock=clock, customers=args.customers)
        log.info("Semente %d (repita a mesma sequência de pedidos com --seed %d).", seed, seed)
        options = ProducerOptions(bootstrap_servers=args.bootstrap_servers, topic=args.topic,
                                  count=args.count, rate=args.rate)
        summary = run(options, iter(generator))
    except UserError as error:
        log.error("%s", error)
        return 2
    except KeyboardInterrupt:
        log.warning("Interrompido.")
        return 130
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
