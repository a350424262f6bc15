"""The consumer's wiring: Kafka source -> validated orders -> one streaming query.

- pedidos: each record read and parsed once, de-duplicated by id_ordem and summed per
  product in Spark's state store (checkpointed, partitioned); each micro-batch hands the
  keys it touched to vendas.consumer.batch, which keeps the driver's bounded totals (exactly
  once, fenced by batch id), sends rejected records to the dead-letter topic and feeds the
  sinks.
- janelas (with --window): totals per event-time window, a query of its own.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pyspark.errors import StreamingQueryException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from vendas import contract as c
from vendas.consumer.batch import BatchProcessor, Sink, WindowBatchProcessor
from vendas.consumer.figures import status_line
from vendas.consumer.progress import ProgressListener, Reporter
from vendas.errors import UserError
from vendas.kafka.admin import ensure_topic, wait_for_broker
from vendas.kafka.broker_watch import BrokerWatch
from vendas.kafka.checkpoint_offsets import (
    batch_offset_range,
    check_offsets,
    is_data_loss,
    last_source_offsets,
    records_between,
    topic_end_offsets,
)
from vendas.kafka.config import PLAINTEXT, KafkaClientConfig
from vendas.outputs.console import DEFAULT_ROWS, TotalsPrinter, WindowPrinter, format_table
from vendas.outputs.dead_letters import DeadLetterWriter, kafka_batch_reader
from vendas.outputs.metrics import DEFAULT_HOST as METRICS_HOST
from vendas.outputs.metrics import Metrics
from vendas.pipeline.totals_log import TotalsLog
from vendas.pipeline.transforms import (
    deduplicate_orders,
    ledger_entries,
    parse_orders,
    running_totals,
    windowed_totals,
)
from vendas.signals import StopSignals
from vendas.spark import jvm
from vendas.spark.session import build_session
from vendas.terminal import visible

if TYPE_CHECKING:  # psycopg loads only with --banco: its libraries take a while to load
    from vendas.outputs.postgres import DatabaseSink, TotalsStore

log = logging.getLogger(__name__)

ORDERS_QUERY = "pedidos"
WINDOWS_QUERY = "janelas"
# How long Ctrl-C waits for a running batch to end before interrupting it: the whole stop
# must fit in 15 s whatever the size of the state (with spark.sql.streaming.stopTimeout, the
# longest an interrupted batch may take to end, in vendas/spark/session.py).
STOP_WAIT_S = 8.0
# Spark's error classes for a checkpoint whose state another version of the queries wrote
# in another shape: there is no migration, so the user gets one sentence.
INCOMPATIBLE_STATE_ERRORS = ("STATE_STORE_KEY_SCHEMA_NOT_COMPATIBLE",
                             "STATE_STORE_VALUE_SCHEMA_NOT_COMPATIBLE",
                             "STATE_STORE_INVALID_VALUE_SCHEMA_EVOLUTION")


@dataclass
class ConsumerOptions:
    bootstrap_servers: str = c.DEFAULT_BOOTSTRAP_SERVERS
    topic: str = c.DEFAULT_TOPIC
    dlq_topic: str = c.DEFAULT_DLQ_TOPIC
    starting_offsets: str = "earliest"
    # a local dir or a URI (hdfs://, s3a://); default .checkpoints/<topic>
    checkpoint: str | None = None
    trigger_seconds: float = 5.0
    # larger batches drain a backlog faster, up to about this size (bench/consumer.py)
    max_offsets_per_trigger: int | None = 500_000
    available_now: bool = False
    dedup_window: str = "24 hours"
    window: str | None = None  # e.g. "1 minute": also totals per event-time window
    watermark: str = "10 minutes"
    rows: int = DEFAULT_ROWS  # --linhas: products in the console table
    metrics_port: int | None = None  # --metricas-porta: Prometheus endpoint
    metrics_host: str = METRICS_HOST
    # --banco / VENDAS_BANCO: the totals also in PostgreSQL (not in repr: it may hold a password)
    database_url: str | None = field(default=None, repr=False)
    kafka_options: dict[str, str] = field(default_factory=lambda: {
        # larger fetches per partition: fewer of them draining a backlog
        "kafka.max.partition.fetch.bytes": str(8 * 2**20),
        # a batch that reads the last records before a pause waits this long for more data,
        # which shows in the latency at short triggers (bench/latency.py)
        "kafka.fetch.max.wait.ms": "100",
        # Spark's Kafka reader asks the broker for the partition's first and last offsets
        # after every poll, a round trip with CPU on both sides: fewer, larger polls
        # (bench/consumer.py)
        "kafka.max.poll.records": "5000",
    })
    # --kafka-config / VENDAS_KAFKA_CONFIG (security, credentials) for every Kafka client
    kafka_config: KafkaClientConfig = PLAINTEXT

    @property
    def spark_kafka_options(self) -> dict[str, str]:
        """Options of Spark's Kafka source and sink: the client configuration, with
        --kafka-option winning over it (in-JVM options, never spark-submit's argv)."""
        return {**self.kafka_config.spark_options(), **self.kafka_options}

    @property
    def checkpoint_location(self) -> str:
        """Where Spark keeps offsets and state: shared storage on a cluster, else a local dir."""
        if self.checkpoint and "://" in self.checkpoint:
            return self.checkpoint.rstrip("/")
        return str(Path(self.checkpoint or Path(".checkpoints") / self.topic).resolve())

    @property
    def local_checkpoint_dir(self) -> Path | None:
        return None if "://" in self.checkpoint_location else Path(self.checkpoint_location)

    def check(self) -> None:
        """Refuse settings that cannot work, before anything starts."""
        if _kafka_topic_collision(self.topic) == _kafka_topic_collision(self.dlq_topic):
            raise UserError(
                f"O tópico de rejeitadas ({self.dlq_topic}) não pode ser o tópico lido "
                f"({self.topic}): cada mensagem rejeitada voltaria a ser lida e rejeitada sem "
                "fim. Use outro --dlq-topic."
            )


def _kafka_topic_collision(name: str) -> str:
    """Kafka takes '.' and '_' for the same character in topic names (metric names)."""
    return name.replace(".", "_")


def make_local_checkpoint_dir(options: ConsumerOptions) -> Path | None:
    """The local checkpoint directory, created if missing; None on shared storage."""
    local_dir = options.local_checkpoint_dir
    if local_dir is not None:
        try:
            local_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserError(
                f"Não foi possível criar o diretório do checkpoint {local_dir}: "
                f"{error.strerror or error}. Use --checkpoint com um diretório gravável."
            ) from None
    return local_dir


def check_checkpoint(options: ConsumerOptions) -> None:
    """Make sure the offsets in an existing local checkpoint fit this topic in this Kafka."""
    local_dir = options.local_checkpoint_dir
    if local_dir is None:
        return  # shared storage (hdfs://, s3a://): Spark itself reads and checks it
    for query in (ORDERS_QUERY, WINDOWS_QUERY):
        saved = last_source_offsets(local_dir / query)
        if saved is not None:
            check_offsets(str(local_dir), saved, options.topic,
                          lambda: topic_end_offsets(options.bootstrap_servers, options.topic,
                                                    options.kafka_config.python_kwargs()))


def kafka_records(spark: SparkSession, options: ConsumerOptions) -> DataFrame:
    """The topic as a stream of Kafka records (Spark's own Kafka source)."""
    reader = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", options.bootstrap_servers)
        .option("subscribe", options.topic)
        .option("startingOffsets", options.starting_offsets)
    )
    if options.max_offsets_per_trigger:
        reader = reader.option("maxOffsetsPerTrigger", str(options.max_offsets_per_trigger))
    for key, value in options.spark_kafka_options.items():
        reader = reader.option(key, value)
    return reader.load()


@dataclass
class RunningConsumer:
    spark: SparkSession
    queries: list[StreamingQuery]
    batches: BatchProcessor
    progress: ProgressListener
    databases: list[DatabaseSink] = field(default_factory=list)

    def stop(self, batch_timeout_s: float = STOP_WAIT_S) -> None:
        """Stop between batches when one ends soon enough, else in the middle of it (the
        checkpoint replays an unfinished batch: nothing is lost either way)."""
        deadline = time.monotonic() + batch_timeout_s
        stuck = False
        for query in self.queries:
            while (query.isActive and query.status["isTriggerActive"]
                   and time.monotonic() < deadline):
                time.sleep(0.1)
            try:
                query.stop()
            except Exception:  # noqa: BLE001 -- Spark's stopTimeout, whatever class it maps to
                # A batch stuck in native code (RocksDB loading a large state) ignores the
                # interrupt: the process ends anyway, and the checkpoint replays the batch.
                stuck = True
                log.warning("A consulta %s não parou em %s; o consumidor termina assim mesmo "
                            "(o lote interrompido será refeito).", query.name,
                            self.spark.conf.get("spark.sql.streaming.stopTimeout"))
        # Spark posts a batch's progress and a query's end after the fact: let them be told
        # before Python stops listening, or the JVM finds no one to call
        ids = {str(query.id) for query in self.queries}
        while (not stuck and not self.progress.idle(ids, self.batches.processed)
               and time.monotonic() < deadline + 5):
            time.sleep(0.1)
        self.spark.streams.removeListener(self.progress)


def start(spark: SparkSession, options: ConsumerOptions, records: DataFrame | None = None,
          store: TotalsStore | None = None, metrics: Metrics | None = None) -> RunningConsumer:
    """Start the streaming queries; the caller waits on them.

    `records` defaults to the Kafka topic; any stream with Kafka's columns will do (the
    benchmark feeds the same queries from files to compare sources; such a stream has no
    dead-letter topic, so a rejected record there fails the batch).
    """
    from_kafka = records is None
    orders = parse_orders(kafka_records(spark, options) if from_kafka else records)
    checkpoint = options.checkpoint_location
    make_local_checkpoint_dir(options)
    trigger = (
        {"availableNow": True}
        if options.available_now
        else {"processingTime": f"{options.trigger_seconds} seconds"}
    )
    orders_checkpoint = f"{checkpoint}/{ORDERS_QUERY}"
    dead_letters = DeadLetterWriter(
        kafka_batch_reader(spark, orders_checkpoint, options.bootstrap_servers, options.topic,
                           options.spark_kafka_options),
        options.bootstrap_servers, options.dlq_topic, options.spark_kafka_options,
    ) if from_kafka else None
    database = None
    if store is not None:
        from vendas.outputs.postgres import DatabaseSink
        database = DatabaseSink(store)
    # the database first: the console never runs ahead of it
    sinks: list[Sink] = [s for s in (database, metrics) if s is not None]
    sinks.append(TotalsPrinter(print_each_batch=not options.available_now, rows=options.rows))
    totals_log = TotalsLog(checkpoint, spark)
    if metrics is not None:
        metrics.show_totals(totals_log.totals, totals_log.batch_id)
    records_read = None
    if from_kafka:
        def records_read(batch_id: int) -> int:
            return records_between(*batch_offset_range(orders_checkpoint, batch_id, spark))
    batches = BatchProcessor(totals_log, dead_letters, sinks, records_read)
    orders_query = (
        running_totals(ledger_entries(deduplicate_orders(orders, options.dedup_window)))
        .writeStream.queryName(ORDERS_QUERY)
        .outputMode("update")
        .foreachBatch(batches)
        .option("checkpointLocation", orders_checkpoint)
        .trigger(**trigger)
        .start()
    )
    if database is not None:
        database.bind(orders_query.id)
    reporters: list[Reporter] = [
        lambda figures: log.info(status_line(figures, batches.rejected_in(figures.lote)))]
    if store is not None:
        from vendas.outputs.postgres import HistoryRecorder
        reporters.append(HistoryRecorder(store.url))
    if metrics is not None:
        reporters.append(metrics)
    listener = ProgressListener(ORDERS_QUERY, reporters)
    spark.streams.addListener(listener)
    queries = [orders_query]
    window_database = None
    if options.window:
        if store is not None:
            from vendas.outputs.postgres import WindowDatabaseSink
            window_database = WindowDatabaseSink(store.sibling())  # its own connection
        windows_query = (
            windowed_totals(orders, options.window, options.watermark)
            .writeStream.queryName(WINDOWS_QUERY)
            .outputMode("update")
            .foreachBatch(WindowBatchProcessor(WindowPrinter(options.rows), window_database))
            .option("checkpointLocation", f"{checkpoint}/{WINDOWS_QUERY}")
            .trigger(**trigger)
            .start()
        )
        if window_database is not None:
            window_database.bind(windows_query.id)
        queries.append(windows_query)
    log.info("Consumindo %s em %s (checkpoint: %s).", options.topic, options.bootstrap_servers,
             checkpoint)
    return RunningConsumer(spark, queries, batches, listener,
                           [d for d in (database, window_database) if d is not None])


def run(options: ConsumerOptions, conf: dict[str, str] | None = None,
        verbose: bool = False) -> None:
    """Run until Ctrl-C (or, with --available-now, until the topic is drained), then
    print the final table. Raises UserError with one sentence for what the user can fix."""
    options.check()
    jvm.require_jar()  # before anything starts: one sentence, not a failed query
    make_local_checkpoint_dir(options)
    wait_for_broker(options.bootstrap_servers, config=options.kafka_config)
    ensure_topic(options.bootstrap_servers, options.topic, config=options.kafka_config)
    ensure_topic(options.bootstrap_servers, options.dlq_topic, config=options.kafka_config)
    check_checkpoint(options)
    # The database is checked before Spark starts: a bad URL fails in a second, not ten.
    store = None
    if options.database_url:
        from vendas.outputs.postgres import Owner, TotalsStore
        store = TotalsStore(options.database_url,
                            Owner(options.checkpoint_location, options.topic)).open()
    metrics = None
    if options.metrics_port:
        metrics = Metrics(options.topic)
        serve_metrics(metrics, options.metrics_port, options.metrics_host)
    # From here a Ctrl-C only sets a flag, seen between steps: PySpark's own handler would
    # cancel jobs from inside the signal handler, re-entering py4j.
    with StopSignals(on_request=_log_stopping) as stop:
        spark = build_session("vendas-ecommerce-consumidor", conf, verbose)
        if stop.requested:
            log.info("Interrompido antes de começar a consumir.")
            return
        running = start(spark, options, store=store, metrics=metrics)
        watch = BrokerWatch(options.bootstrap_servers)
        watch.start()
        try:
            _wait(running.queries, stop, all_must_finish=options.available_now)
        finally:
            watch.stop()
            running.stop()
            for database in running.databases:
                database.store.close()
    for database in running.databases:
        if database.failure is not None:
            raise UserError(str(database.failure))
    failures = [q.exception() for q in running.queries if q.exception() is not None]
    if failures:
        if is_data_loss(str(failures[0])):
            raise UserError(
                f"Os offsets do checkpoint {options.checkpoint_location} não existem mais neste "
                "Kafka (dados do broker apagados, tópico recriado ou retenção expirada): apague "
                "o checkpoint para recomeçar do início, ou use outro --checkpoint."
            )
        if any(code in str(failures[0]) for code in INCOMPATIBLE_STATE_ERRORS):
            raise UserError(
                f"O checkpoint {options.checkpoint_location} guarda o estado num formato de "
                "outra versão do consumidor: use outro --checkpoint, ou apague este para "
                "recomeçar do início (os totais recomeçam do zero)."
            )
        raise UserError(f"A consulta parou com erro: {_first_line(failures[0])}")
    totals = running.batches.totals
    batch = running.batches.last_batch
    header = "Totais por produto" + (f" (até o lote {batch})" if batch is not None else "")
    print(f"\n{header}:\n{format_table(totals, options.rows)}", flush=True)


def serve_metrics(metrics: Metrics, port: int, host: str) -> None:
    """Serve the metrics, or say in one sentence why the port cannot be used."""
    try:
        metrics.serve(port, host)
    except OSError as error:
        raise UserError(
            f"A porta {port} das métricas em {host} não pôde ser aberta "
            f"({error.strerror or error}): escolha outra com --metricas-porta."
        ) from None
    log.info("Métricas Prometheus em http://%s:%d/metrics", host, port)


def _wait(queries: list[StreamingQuery], stop: StopSignals, all_must_finish: bool) -> None:
    """Wait in short py4j calls, so that a stop request (StopSignals' flag) is seen within a
    second."""
    while not stop.requested:
        active = [q for q in queries if q.isActive]
        if not active or (not all_must_finish and len(active) < len(queries)):
            return  # done, or one query failed: the caller stops the others and reports
        try:
            active[0].awaitTermination(1)
        except StreamingQueryException:
            return  # it failed meanwhile: the caller reports its error in one sentence


def _log_stopping(signal_name: str) -> None:
    log.info("Parando o consumidor (o checkpoint guarda onde parou)...")


def _first_line(error: BaseException) -> str:
    """The error's first line; Spark quotes message values in it, so shown through visible."""
    text = str(getattr(error, "desc", None) or error)
    return visible(text.strip().splitlines()[0]) if text.strip() else type(error).__name__
