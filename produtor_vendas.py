"""Produtor de pedidos de e-commerce para o Kafka (tópico vendas-ecommerce).

Uso: python produtor_vendas.py [-b HOST:PORTA] [--kafka-config ARQUIVO] [--topic NOME]
                               [--count N] [--rate R]
                               [--seed S] [--date-format {iso,br}] [--spread-days D]
                               [--start-time DATA] [--products N] [--quiet]

Gera pedidos realistas e reproduzíveis (mesma --seed, mesmos pedidos) e os envia com
chave id_ordem e acks=all; ao terminar (--count, Ctrl-C ou SIGTERM) espera as
confirmações e mostra um resumo. Sai com código 1 se algum pedido não foi confirmado
e 2 em erros de uso (Kafka inacessível, tópico recusado, opção inválida).
"""

from __future__ import annotations

import argparse
import logging
import sys

from vendas.cli import (
    PortugueseArgumentParser,
    integer,
    non_negative_float,
    positive_float,
    positive_int,
    report_user_error,
)
from vendas.contract import DATE_FORMATS, DEFAULT_BOOTSTRAP_SERVERS, DEFAULT_TOPIC
from vendas.errors import UserError
from vendas.kafka import config as kafka_config
from vendas.logs import setup_logging
from vendas.producer.catalog import PRODUCTS, catalog
from vendas.producer.generator import (
    DEFAULT_CUSTOMERS,
    MAX_PRODUCTS_PER_ORDER,
    OrderGenerator,
    make_clock,
    new_seed,
    parse_start_time,
)
from vendas.producer.sender import DEFAULT_DELIVERY_TIMEOUT_S, DEFAULT_RATE, ProducerOptions, run

log = logging.getLogger("produtor_vendas")

def _start_time(text: str):
    try:
        return parse_start_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"data/hora inválida: {text!r}; use ISO-8601 (2026-11-23T14:05:09) "
            "ou dd/mm/aaaa HH:MM:SS"
        ) from None


def _catalog_size(text: str) -> int:
    value = positive_int(text)
    if value < MAX_PRODUCTS_PER_ORDER:
        raise argparse.ArgumentTypeError(
            f"deve ser de pelo menos {MAX_PRODUCTS_PER_ORDER} produtos (o maior pedido): {text}")
    return value


def _delivery_timeout(text: str) -> float:
    value = positive_float(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"deve ser de pelo menos 1 segundo: {text}")
    return value


def build_parser() -> PortugueseArgumentParser:
    parser = PortugueseArgumentParser(
        prog="produtor_vendas.py",
        description="Gera pedidos de e-commerce realistas e os publica no Kafka,\n"
                    "com chave id_ordem e confirmação (acks=all) de cada pedido.",
        epilog="Exemplos:\n"
               "  python produtor_vendas.py --count 10000 --rate 0 --seed 42\n"
               "  python produtor_vendas.py -b kafka:9092 --date-format br --spread-days 30",
    )
    parser.add_argument(
        "-b",
        "--bootstrap-servers",
        default=None,
        metavar="HOST:PORTA",
        help="endereço(s) do Kafka, separados por vírgula (padrão: o "
        f"bootstrap.servers de --kafka-config, ou {DEFAULT_BOOTSTRAP_SERVERS})",
    )
    kafka_config.add_cli_option(parser)
    parser.add_argument(
        "-t",
        "--topic",
        default=DEFAULT_TOPIC,
        metavar="NOME",
        help="tópico de destino, criado se não existir (padrão: %(default)s)",
    )
    parser.add_argument(
        "-n",
        "--count",
        type=positive_int,
        metavar="N",
        help="quantos pedidos enviar (padrão: até Ctrl-C)",
    )
    parser.add_argument(
        "-r",
        "--rate",
        type=non_negative_float,
        default=DEFAULT_RATE,
        metavar="R",
        help="pedidos por segundo; 0 = o mais rápido possível (padrão: %(default)g)",
    )
    parser.add_argument(
        "--seed",
        type=integer,
        metavar="S",
        help="semente: a mesma semente gera os mesmos pedidos (padrão: sorteada e mostrada no log)",
    )
    parser.add_argument(
        "--date-format",
        choices=list(DATE_FORMATS),
        default="iso",
        help="formato de data_hora: iso (2026-11-23T14:05:09) ou "
        "br (23/11/2026 14:05:09) (padrão: %(default)s)",
    )
    parser.add_argument(
        "--spread-days",
        type=positive_float,
        metavar="D",
        help="espalha data_hora ao acaso pelos D dias anteriores a agora "
        "(ou a --start-time), como os projetos originais",
    )
    parser.add_argument(
        "--start-time",
        type=_start_time,
        metavar="DATA",
        help="data/hora fixa de início: o relógio dos pedidos avança como se "
        "chegassem a --rate por segundo (100/s com --rate 0); com "
        "--seed, a execução fica totalmente reproduzível",
    )
    parser.add_argument(
        "--delivery-timeout",
        type=_delivery_timeout,
        metavar="S",
        default=DEFAULT_DELIVERY_TIMEOUT_S,
        help="segundos que cada pedido espera a confirmação do Kafka antes de "
        "contar como falha; se nada for confirmado por esse tempo, o "
        "produtor para (padrão: %(default)g)",
    )
    parser.add_argument(
        "--customers",
        type=positive_int,
        default=DEFAULT_CUSTOMERS,
        metavar="N",
        help="tamanho da base de clientes (padrão: %(default)s)",
    )
    parser.add_argument(
        "--products",
        type=_catalog_size,
        default=len(PRODUCTS),
        metavar="N",
        help="produtos no catálogo: os %(default)s reais e, acima disso, modelos numerados "
        "deles, cada um com o seu preço (um milhão simula uma loja grande) "
        "(padrão: %(default)s)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="sem progresso nem resumo (só erros)"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="mostra também as mensagens do cliente Kafka"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(verbose=args.verbose, quiet=args.quiet)
    seed = args.seed if args.seed is not None else new_seed()
    try:
        clock = make_clock(
            args.date_format,
            seed=seed,
            start_time=args.start_time,
            spread_days=args.spread_days,
            rate=args.rate or DEFAULT_RATE,
        )
        generator = OrderGenerator(seed, clock=clock, products=catalog(args.products),
                                   customers=args.customers)
        log.info("Semente %d (repita a mesma sequência de pedidos com --seed %d).", seed, seed)
        client = kafka_config.load(args.kafka_config)
        options = ProducerOptions(
            bootstrap_servers=client.bootstrap(args.bootstrap_servers, DEFAULT_BOOTSTRAP_SERVERS),
            kafka_config=client,
            topic=args.topic,
            count=args.count,
            rate=args.rate,
            delivery_timeout_s=args.delivery_timeout,
        )
        summary = run(options, iter(generator))
    except UserError as error:
        return report_user_error(error)
    except KeyboardInterrupt:
        log.warning("Interrompido.")
        return 130
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
