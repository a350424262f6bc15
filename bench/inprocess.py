"""Draining the same orders inside one warm Spark session, the in-process strategies:

  kafka             the consumer's own queries (vendas.consumer.start: totals and dead
                    letters, available-now, a fresh checkpoint) over Spark's Kafka source;
  arquivo           the same queries over the JSON lines, mapped to the Kafka source's columns;
  simples           the plain query (bench.plain_query) on the same topic, with the same
                    Kafka source options and batch size;
  simples-arquivos  the plain query over the JSON lines.

Every drain must end with the generated orders' totals, to the cent, or the run fails.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from bench import plain_query
from bench.errors import BenchmarkError
from bench.machine import load_average
from bench.metrics import (
    StateFigures,
    Timing,
    batches_with_input,
    peak_memory,
    state_figures,
    stopwatch,
)
from bench.orders import LoadedOrders, ShownTotals, check_shown, check_totals
from vendas.consumer.app import ConsumerOptions, start

KAFKA, FILES, PLAIN, PLAIN_FILES = "kafka", "arquivo", "simples", "simples-arquivos"
LABELS = {KAFKA: "nosso, Kafka", FILES: "nosso, arquivos", PLAIN: "simples, Kafka",
          PLAIN_FILES: "simples, arquivos"}
FILE_TOPIC = "arquivos"


@dataclass(frozen=True)
class DrainSettings:
    """How the sources are read, the same for every strategy of a run."""

    max_offsets_per_trigger: int | None = ConsumerOptions().max_offsets_per_trigger
    kafka_options: dict[str, str] = field(
        default_factory=lambda: dict(ConsumerOptions().kafka_options))
    lines_per_file: int = 10_000
    # the plain query's Kafka source options (None: the same as ours)
    plain_kafka_options: dict[str, str] | None = None

    @property
    def files_per_trigger(self) -> int | None:
        """As many files per micro-batch as Kafka reads orders per micro-batch."""
        if not self.max_offsets_per_trigger:
            return None
        return max(1, self.max_offsets_per_trigger // self.lines_per_file)


@dataclass
class Drain:
    source: str
    timing: Timing
    batches: int
    jvm_peak: int
    python_peak: int
    state: StateFigures = field(default_factory=dict)
    load: float = 0.0  # the machine's 1-minute load average at the end


def file_records(spark: SparkSession, directory: Path, max_files: int | None) -> DataFrame:
    """JSON lines as a stream with the Kafka source's columns (value as binary, the rest
    synthesized), so that vendas.consumer.start runs the very same queries over it."""
    reader = spark.readStream.format("text")
    if max_files:
        reader = reader.option("maxFilesPerTrigger", str(max_files))
    return reader.load(str(directory)).select(
        F.lit(None).cast("binary").alias("key"),
        F.col("value").cast("binary").alias("value"),
        F.lit(FILE_TOPIC).alias("topic"),
        F.lit(0).alias("partition"),
        # unique per distinct line, which is all the dead-letter dedup key needs
        F.xxhash64("value").alias("offset"),
        F.current_timestamp().alias("timestamp"),
    )


def consumer_options(bootstrap: str, topic: str, checkpoint: Path,
                     settings: DrainSettings) -> ConsumerOptions:
    return ConsumerOptions(
        bootstrap_servers=bootstrap,
        topic=topic,
        dlq_topic=f"{topic}-dlq",
        checkpoint=str(checkpoint),
        available_now=True,
        max_offsets_per_trigger=settings.max_offsets_per_trigger,
        kafka_options=dict(settings.kafka_options),
    )


def drain(spark: SparkSession, source: str, loaded: LoadedOrders, work: Path,
          bootstrap: str, settings: DrainSettings) -> Drain:
    """Run one strategy until its source is drained; check the totals. Its checkpoint is
    fresh (everything is read again) and removed afterwards."""
    checkpoint = work / f"checkpoint-{source}-{uuid.uuid4().hex[:8]}"
    try:
        return _drain(spark, source, loaded, checkpoint, bootstrap, settings)
    finally:
        shutil.rmtree(checkpoint, ignore_errors=True)


def _drain(spark: SparkSession, source: str, loaded: LoadedOrders, checkpoint: Path,
           bootstrap: str, settings: DrainSettings) -> Drain:
    if source in (PLAIN, PLAIN_FILES):
        return _drain_plain(spark, source, loaded, checkpoint, bootstrap, settings)
    if source == FILES and loaded.jsonl_dir is None:
        raise BenchmarkError("os pedidos não foram gravados em arquivos")
    if loaded.topic is None:
        raise BenchmarkError("os pedidos não foram enviados a um tópico")
    options = consumer_options(bootstrap, loaded.topic, checkpoint, settings)
    records = (file_records(spark, loaded.jsonl_dir, settings.files_per_trigger)
               if source == FILES else None)
    with peak_memory(spark) as memory, stopwatch() as clock:
        running = start(spark, options, records)
        for query in running.queries:
            query.awaitTermination()
    failures = [q.exception() for q in running.queries if q.exception() is not None]
    if failures:
        raise BenchmarkError(f"{LABELS[source]}: a consulta falhou: {failures[0]}")
    check_shown(LABELS[source], loaded, ShownTotals.of(running.batches.totals))
    progress = running.queries[0].recentProgress
    return Drain(source, Timing(loaded.orders, clock.seconds), batches_with_input(progress),
                 memory.jvm, memory.python, state_figures(progress), load_average())


def _drain_plain(spark: SparkSession, source: str, loaded: LoadedOrders, checkpoint: Path,
                 bootstrap: str, settings: DrainSettings) -> Drain:
    if source == PLAIN_FILES and loaded.jsonl_dir is None:
        raise BenchmarkError("os pedidos não foram gravados em arquivos")
    if source == PLAIN and loaded.topic is None:
        raise BenchmarkError("os pedidos não foram enviados a um tópico")
    with peak_memory(spark) as memory, stopwatch() as clock:
        lines = (plain_query.kafka_lines(spark, bootstrap, loaded.topic,
                                         settings.max_offsets_per_trigger,
                                         settings.kafka_options
                                         if settings.plain_kafka_options is None
                                         else settings.plain_kafka_options)
                 if source == PLAIN else
                 plain_query.file_lines(spark, str(loaded.jsonl_dir),
                                        settings.files_per_trigger))
        query, sink = plain_query.start(lines, str(checkpoint))
        query.awaitTermination()
    if query.exception() is not None:
        raise BenchmarkError(f"{LABELS[source]}: a consulta falhou: {query.exception()}")
    check_totals(LABELS[source], loaded, sink.table())
    progress = query.recentProgress
    return Drain(source, Timing(loaded.orders, clock.seconds), batches_with_input(progress),
                 memory.jvm, memory.python, state_figures(progress), load_average())
