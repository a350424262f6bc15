"""Consumidor de vendas: agrega por produto os pedidos do tópico Kafka com Spark.

Uso:
    python consumidor_vendas.py [--bootstrap-servers HOST:PORTA] [--kafka-config ARQUIVO]
                                [--available-now] ...
    spark-submit --packages org.apache.spark:spark-sql-kafka-0-10_2.13:<versão do pyspark> \\
        consumidor_vendas.py --bootstrap-servers HOST:PORTA

Mostra, por produto, quantidade_total e valor_total (decimal, ao centavo); mensagens
inválidas vão, intactas, para o tópico de mensagens rejeitadas com o motivo.
"""

from __future__ import annotations

import argparse
import os
import sys

from vendas.cli import (
    PortugueseArgumentParser,
    duration,
    key_value,
    non_negative_float,
    positive_int,
    report_user_error,
)
from vendas.consumer.app import ConsumerOptions, run
from vendas.errors import UserError
from vendas.kafka import config as kafka_config
from vendas.logs import setup_logging
from vendas.outputs.console import MAX_ROWS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = ConsumerOptions()
    parser = PortugueseArgumentParser(
        prog="consumidor_vendas.py",
        description="Lê pedidos do Kafka e mostra quantidade e valor vendidos por produto.",
        epilog="Exemplos:\n"
               "  python consumidor_vendas.py --available-now\n"
               "  python consumidor_vendas.py -b kafka:9092 --window \"1 minute\" --trigger 2",
    )
    parser.add_argument("-b", "--bootstrap-servers", default=None, metavar="HOST:PORTA",
                        help="endereço(s) do Kafka, separados por vírgula (padrão: o "
                             "bootstrap.servers de --kafka-config, ou "
                             f"{defaults.bootstrap_servers})")
    kafka_config.add_cli_option(parser)
    parser.add_argument("-t", "--topic", default=defaults.topic, metavar="NOME",
                        help="tópico dos pedidos (padrão: %(default)s)")
    parser.add_argument("--dlq-topic", default=defaults.dlq_topic, metavar="NOME",
                        help="tópico das mensagens rejeitadas (padrão: %(default)s)")
    parser.add_argument("--starting-offsets", choices=["earliest", "latest"],
                        default=defaults.starting_offsets,
                        help="onde começar quando não há checkpoint (padrão: %(default)s)")
    parser.add_argument("--checkpoint", default=None, metavar="DIR",
                        help="diretório do checkpoint, local ou URI como hdfs://... ou s3a://... "
                             "(padrão: .checkpoints/<tópico>)")
    parser.add_argument("--trigger", type=non_negative_float, default=defaults.trigger_seconds,
                        metavar="SEGUNDOS",
                        help="intervalo entre lotes, em segundos (padrão: %(default)s)")
    parser.add_argument("--max-offsets-per-trigger", type=positive_int,
                        default=defaults.max_offsets_per_trigger, metavar="N",
                        help="máximo de mensagens por lote (padrão: %(default)s)")
    parser.add_argument("--available-now", action="store_true",
                        help="processa o que o tópico tem agora, mostra a tabela final e termina")
    parser.add_argument("--dedup-window", type=duration, default=defaults.dedup_window,
                        metavar="DURAÇÃO",
                        help="por quanto tempo um id_ordem repetido é reconhecido "
                             "(padrão: %(default)s)")
    parser.add_argument("--window", type=duration, default=defaults.window, metavar="DURAÇÃO",
                        help="mostra também totais por janela de data_hora, ex.: \"1 minute\"")
    parser.add_argument("--watermark", type=duration, default=defaults.watermark,
                        metavar="DURAÇÃO",
                        help="atraso tolerado nas janelas; mais antigos só entram nos totais "
                             "(padrão: %(default)s)")
    parser.add_argument("--conf", type=key_value, action="append", default=[],
                        metavar="CHAVE=VALOR",
                        help="configuração extra do Spark (pode repetir)")
    parser.add_argument("--kafka-option", type=key_value, action="append",
                        default=list(defaults.kafka_options.items()),
                        metavar="CHAVE=VALOR",
                        help="opção da fonte Kafka do Spark (pode repetir), ex.: minPartitions=48 "
                             "ou kafka.security.protocol=SASL_SSL")
    parser.add_argument("--banco", default=None, metavar="URL",
                        help="grava também os totais no PostgreSQL, exatamente uma vez, ex.: "
                             "postgresql://usuario:senha@host:5432/vendas (padrão: a variável "
                             "VENDAS_BANCO, que evita a senha na linha de comando)")
    parser.add_argument("--linhas", type=positive_int, default=defaults.rows, metavar="N",
                        help="produtos na tabela do console, os de maior valor; os demais "
                             f"numa linha de resumo (padrão: %(default)s, no máximo {MAX_ROWS})")
    parser.add_argument("--metricas-porta", type=positive_int, default=None, metavar="PORTA",
                        help="serve métricas Prometheus em http://HOST:PORTA/metrics "
                             "(padrão: sem métricas)")
    parser.add_argument("--metricas-host", default=defaults.metrics_host, metavar="HOST",
                        help="endereço das métricas; 0.0.0.0 abre para a rede "
                             "(padrão: %(default)s)")
    parser.add_argument("-v", "--verbose", action="store_true", help="mostra os logs do Spark")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(verbose=args.verbose)
    try:  # --kafka-option's connection settings win over the file's
        client = kafka_config.load(args.kafka_config, overrides=dict(args.kafka_option))
    except UserError as error:
        return report_user_error(error)
    options = ConsumerOptions(
        bootstrap_servers=client.bootstrap(args.bootstrap_servers,
                                           ConsumerOptions().bootstrap_servers),
        kafka_config=client,
        topic=args.topic,
        dlq_topic=args.dlq_topic,
        starting_offsets=args.starting_offsets,
        checkpoint=args.checkpoint,
        trigger_seconds=args.trigger,
        max_offsets_per_trigger=args.max_offsets_per_trigger,
        available_now=args.available_now,
        dedup_window=args.dedup_window,
        window=args.window,
        watermark=args.watermark,
        kafka_options=dict(args.kafka_option),
        database_url=args.banco or os.environ.get("VENDAS_BANCO") or None,
        rows=min(args.linhas, MAX_ROWS),
        metrics_port=args.metricas_porta,
        metrics_host=args.metricas_host,
    )
    try:
        run(options, conf=dict(args.conf), verbose=args.verbose)
    except UserError as error:
        return report_user_error(error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
