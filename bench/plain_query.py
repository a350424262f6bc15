"""Consulta simples de referência: from_json, explode e groupBy sobre os pedidos do tópico Kafka.

Uso: spark-submit --packages <conector> bench/plain_query.py --bootstrap-servers HOST:PORTA
                  --topic TÓPICO --checkpoint DIR [--max-offsets-per-trigger N]
                  [--kafka-option CHAVE=VALOR] [--conf CHAVE=VALOR]
     spark-submit bench/plain_query.py --input DIR --checkpoint DIR [--max-files-per-trigger N]
     (or python bench/plain_query.py ...; bench.consumer imports start() for its
     in-process runs)

The reference bench.consumer measures the consumer against: what a Spark user writes for
the same job with nothing else, submitted the same way as the consumer -- Spark's Kafka
source on the same topic (or, as a second reference, Spark's file source over the same
orders as JSON lines), from_json with the canonical message's fixed schema, explode of the
products, groupBy(produto), sum of the quantity and of quantity x unit price (as
decimals), trigger availableNow, the result collected by a foreachBatch sink. No
validation, no de-duplication, no dead letters.

It imports nothing from the project, only pyspark and the standard library: a baseline
that shares the code under test cannot see that code's cost (and spark-submit runs it as a
file, without the project on its path). So its schema restates the data contract
(vendas/contract.py) on purpose. It prints the final totals, one `produto<TAB>quantidade
<TAB>valor` line each after a `totais:` line, for the benchmark to check to the cent.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from decimal import Decimal

from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery
from pyspark.sql.types import (
    ArrayType,
    DecimalType,
    IntegerType,
    MapType,
    StringType,
    StructField,
    StructType,
)

PRICE = DecimalType(12, 2)
ORDER_SCHEMA = StructType([
    StructField("id_ordem", StringType()),
    StructField("cpf_cliente", StringType()),
    StructField("produtos_comprados", ArrayType(StringType())),
    StructField("quantidade_por_produto", MapType(StringType(), IntegerType())),
    StructField("preco_unitario_por_produto", MapType(StringType(), PRICE)),
    StructField("valor_total", PRICE),
    StructField("data_hora", StringType()),
])
RESULT_HEADER = "totais:"
QUERY_NAME = "consulta_simples"


def plain_totals(lines: DataFrame) -> DataFrame:
    """Lines of JSON text (a `value` column) -> produto, quantidade_total, valor_total."""
    orders = lines.select(F.from_json("value", ORDER_SCHEMA).alias("o"))
    items = orders.select(
        F.explode("o.produtos_comprados").alias("produto"),
        F.col("o.quantidade_por_produto").alias("quantidades"),
        F.col("o.preco_unitario_por_produto").alias("precos"),
    ).select(
        "produto",
        F.element_at("quantidades", F.col("produto")).alias("quantidade"),
        F.element_at("precos", F.col("produto")).alias("preco"),
    )
    return items.groupBy("produto").agg(
        F.sum("quantidade").alias("quantidade_total"),
        F.sum(F.col("quantidade") * F.col("preco")).alias("valor_total"),
    )


def kafka_lines(spark: SparkSession, bootstrap: str, topic: str,
                max_offsets_per_trigger: int | None = None,
                options: Mapping[str, str] | None = None) -> DataFrame:
    """The topic's message values as text, the way Spark's Kafka guide reads them."""
    reader = (spark.readStream.format("kafka")
              .option("kafka.bootstrap.servers", bootstrap)
              .option("subscribe", topic)
              .option("startingOffsets", "earliest"))
    if max_offsets_per_trigger:
        reader = reader.option("maxOffsetsPerTrigger", str(max_offsets_per_trigger))
    for key, value in (options or {}).items():
        reader = reader.option(key, value)
    return reader.load().selectExpr("CAST(value AS STRING) AS value")


def file_lines(spark: SparkSession, input_dir: str,
               max_files_per_trigger: int | None = None) -> DataFrame:
    """The JSON lines files in `input_dir`, one `value` per line."""
    reader = spark.readStream.format("text")
    if max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", str(max_files_per_trigger))
    return reader.load(input_dir)


class LastResult:
    """foreachBatch sink: keeps the latest complete result (the totals so far)."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        self.rows = batch.collect()

    def table(self) -> dict[str, tuple[int, Decimal]]:
        return {r["produto"]: (int(r["quantidade_total"]), r["valor_total"]) for r in self.rows}


def start(lines: DataFrame, checkpoint: str) -> tuple[StreamingQuery, LastResult]:
    """Start the plain query over `lines` (kafka_lines or file_lines); the caller waits."""
    sink = LastResult()
    query = (
        plain_totals(lines).writeStream.queryName(QUERY_NAME)
        .outputMode("complete")
        .foreachBatch(sink)
        .option("checkpointLocation", checkpoint)
        .trigger(availableNow=True)
        .start()
    )
    return query, sink


def format_result(table: dict[str, tuple[int, Decimal]]) -> str:
    lines = [RESULT_HEADER]
    for product, (quantity, value) in sorted(table.items(), key=lambda kv: -kv[1][1]):
        lines.append(f"{product}\t{quantity}\t{value}")
    return "\n".join(lines)


def parse_result(output: str) -> dict[str, tuple[int, Decimal]]:
    """The table format_result printed, read back from the process's output."""
    _, found, rest = output.rpartition(RESULT_HEADER + "\n")
    if not found:
        raise ValueError("a consulta simples não imprimiu os totais")
    table = {}
    for line in rest.splitlines():
        parts = line.split("\t")
        if len(parts) != 3:
            break
        table[parts[0]] = (int(parts[1]), Decimal(parts[2]))
    return table


def key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"use a forma CHAVE=VALOR: {text!r}")
    return key.strip(), value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/plain_query.py",
                                     description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--topic", help="tópico Kafka dos pedidos")
    source.add_argument("--input", help="diretório dos arquivos JSON lines")
    parser.add_argument("--bootstrap-servers", default="localhost:9092",
                        help="endereço do Kafka (padrão: %(default)s)")
    parser.add_argument("--checkpoint", required=True, help="diretório do checkpoint (novo)")
    parser.add_argument("--max-offsets-per-trigger", type=int, default=None,
                        help="mensagens por lote (padrão: o do Spark, tudo num lote)")
    parser.add_argument("--max-files-per-trigger", type=int, default=None,
                        help="arquivos por lote (padrão: todos num lote)")
    parser.add_argument("--kafka-option", type=key_value, action="append", default=[],
                        metavar="CHAVE=VALOR", help="opção da fonte Kafka (pode repetir)")
    parser.add_argument("--conf", type=key_value, action="append", default=[],
                        metavar="CHAVE=VALOR", help="configuração do Spark (pode repetir)")
    args = parser.parse_args(argv)
    builder = SparkSession.builder.appName("consulta-simples")
    for key, value in args.conf:
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        lines = (kafka_lines(spark, args.bootstrap_servers, args.topic,
                             args.max_offsets_per_trigger, dict(args.kafka_option))
                 if args.topic else
                 file_lines(spark, args.input, args.max_files_per_trigger))
        query, sink = start(lines, args.checkpoint)
        query.awaitTermination()
        if query.exception() is not None:
            print(f"a consulta simples falhou: {query.exception()}", file=sys.stderr)
            return 1
        print(format_result(sink.table()), flush=True)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
