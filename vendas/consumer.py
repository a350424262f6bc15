"""The consumer's wiring: Kafka source -> validated orders -> two streaming queries.

- totais: de-duplicate, explode, sum per product (plus rejection counts) in checkpointed
  state, complete mode; each result is printed as a table. Exactly once for the numbers.
- rejeitadas: rejected records, untouched, to the dead-letter topic with reason headers
  (at least once: a rerun after a crash may write a dead letter twice, never loses one).

Each query has its own checkpoint under --checkpoint, so either can be restarted alone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from vendas import contract as c
from vendas.broker_watch import BrokerWatch
from vendas.errors import UserError
from vendas.kafka_admin import ensure_topic, wait_for_broker
from vendas.spark_session import build_session
from vendas.report import ProductTotal, Totals, format_table, format_windows, totals_from_ledger
from vendas.transforms import (
    aggregate_ledger,
    dead_letters,
    deduplicate_orders,
    ledger_entries,
    parse_orders,
    windowed_totals,
)

log = logging.getLogger(__name__)

TOTALS_QUERY = "totais"
DEAD_LETTER_QUERY = "rejeitadas"
WINDOWS_QUERY = "janelas"
LAST_RESULT_FILE = "ultimo_resultado.json"


@dataclass
class ConsumerOptions:
    bootstrap_servers: str = c.DEFAULT_BOOTSTRAP_SERVERS
    topic: str = c.DEFAULT_TOPIC
    dlq_topic: str = c.DEFAULT_DLQ_TOPIC
    starting_offsets: str = "earliest"
    checkpoint: str | None = None  # a local dir or a URI (hdfs://, s3a://); default .checkpoints/<topic>
    trigger_seconds: float = 5.0
    max_offsets_per_trigger: int | None = 500_000  # bench/consumer.py: +5% over 200_000
    available_now: bool = False
    dedup_window: str = "24 hours"
    window: str | None = None  # e.g. "1 minute": also totals per event-time window
    watermark: str = "10 minutes"
    kafka_options: dict[str, str] = field(default_factory=lambda: {
        # 8 MiB per partition and fetch instead of 1 MiB: +3% draining a backlog (bench/consumer.py)
        "kafka.max.partition.fetch.bytes": str(8 * 2**20),
        # a batch that reads the last records before a pause waited the default 500 ms for
        # more data (bench/latency.py, 1 s trigger: that batch 1.3 -> 0.6 s, p99 2.1 -> 1.5 s)
        "kafka.fetch.max.wait.ms": "100",
    })

    @property
    def checkpoint_location(self) -> str:
        """Where Spark keeps offsets and state: shared storage on a cluster, else a local dir."""
        if self.checkpoint and "://" in self.checkpoint:
            return self.checkpoint.rstrip("/")
        return str(Path(self.checkpoint or Path(".checkpoints") / self.topic).resolve())

    @property
    def local_checkpoint_dir(self) -> Path | None:
        return None if "://" in self.checkpoint_location else Path(self.checkpoint_location)


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
    for key, value in options.kafka_options.items():
        reader = reader.option(key, value)
    return reader.load()


class TotalsPrinter:
    """foreachBatch sink of the totals query: prints the table when it changes.

    The console sink is not fault tolerant; the numbers survive restarts through the
    checkpointed state, and the last table is also kept beside the checkpoint so that a
    run with nothing new to read can still show it.
    """

    def __init__(self, result_file: Path | None, print_each_batch: bool,
                 out: Callable[[str], None] = print):
        self.result_file = result_file
        self.print_each_batch = print_each_batch
        self.out = out
        self.last: Totals | None = None
        self.last_batch: int | None = None

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        totals = totals_from_ledger(batch.collect())
        changed = totals != self.last
        self.last, self.last_batch = totals, batch_id
        if changed:
            if self.result_file is not None:
                _write_atomically(self.result_file, _totals_to_json(totals, batch_id))
            if self.print_each_batch:
                self.out(f"\nTotais por produto (lote {batch_id}):\n{format_table(totals)}")
            else:  # --available-now: one table at the end, progress meanwhile
                log.info("Lote %d: %d pedidos contados até agora.", batch_id, totals.pedidos)

    def final(self) -> Totals:
        """The latest totals: this run's, else the ones saved by an earlier run."""
        if self.last is None and self.result_file is not None and self.result_file.exists():
            self.last, self.last_batch = _totals_from_json(self.result_file.read_text())
        return self.last or Totals()


class DeadLetterWriter:
    """foreachBatch sink of the rejected records: write them to the DLQ, log the reasons."""

    def __init__(self, bootstrap_servers: str, dlq_topic: str, kafka_options: dict[str, str] | None = None):
        self.bootstrap_servers = bootstrap_servers
        self.dlq_topic = dlq_topic
        # The client settings (security, timeouts...) the source uses apply to the sink too.
        self.client_options = {k: v for k, v in (kafka_options or {}).items() if k.startswith("kafka.")}
        self.written = 0

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        batch.persist()
        try:
            counts = {r["motivo"]: r["count"] for r in batch.groupBy("motivo").count().collect()}
            if not counts:
                return
            (
                batch.select("key", "value", "headers")
                .write.format("kafka")
                .options(**self.client_options)
                .option("kafka.bootstrap.servers", self.bootstrap_servers)
                .option("topic", self.dlq_topic)
                .save()
            )
            total = sum(counts.values())
            self.written += total
            reasons = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
            log.info("Lote %d: %d mensagens rejeitadas enviadas a %s (%s).",
                     batch_id, total, self.dlq_topic, reasons)
        finally:
            batch.unpersist()


class WindowPrinter:
    """foreachBatch sink of the windowed totals (update mode): prints the changed windows."""

    def __init__(self, out: Callable[[str], None] = print):
        self.out = out

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        rows = batch.select(
            F.col("janela.start").alias("ordem"),
            F.date_format("janela.start", "dd/MM/yyyy HH:mm:ss").alias("inicio_janela"),
            F.date_format("janela.end", "dd/MM/yyyy HH:mm:ss").alias("fim_janela"),
            "produto", "quantidade_total", "valor_total",
        ).collect()
        if rows:
            self.out(f"\nJanelas atualizadas (lote {batch_id}):\n{format_windows(rows)}")


@dataclass
class RunningConsumer:
    queries: list[StreamingQuery]
    printer: TotalsPrinter
    dead_letters: DeadLetterWriter

    def stop(self, batch_timeout_s: float = 60.0) -> None:
        """Stop between batches when possible: interrupting a batch in the middle of its
        Python foreachBatch call makes the JVM print errors (nothing is lost either way)."""
        deadline = time.monotonic() + batch_timeout_s
        for query in self.queries:
            while query.isActive and query.status["isTriggerActive"] and time.monotonic() < deadline:
                time.sleep(0.1)
            query.stop()


def start(spark: SparkSession, options: ConsumerOptions, records: DataFrame | None = None) -> RunningConsumer:
    """Start the streaming queries; the caller waits on them.

    `records` defaults to the Kafka topic; any stream with Kafka's columns will do (the
    benchmark feeds the same queries from files to compare sources).
    """
    orders = parse_orders(records if records is not None else kafka_records(spark, options))
    checkpoint = options.checkpoint_location
    local_dir = options.local_checkpoint_dir
    if local_dir is not None:
        local_dir.mkdir(parents=True, exist_ok=True)
    trigger = (
        {"availableNow": True}
        if options.available_now
        else {"processingTime": f"{options.trigger_seconds} seconds"}
    )
    printer = TotalsPrinter(local_dir / LAST_RESULT_FILE if local_dir else None,
                            print_each_batch=not options.available_now)
    totals = aggregate_ledger(ledger_entries(deduplicate_orders(orders, options.dedup_window)))
    totals_query = (
        totals.writeStream.queryName(TOTALS_QUERY)
        .outputMode("complete")
        .foreachBatch(printer)
        .option("checkpointLocation", f"{checkpoint}/{TOTALS_QUERY}")
        .trigger(**trigger)
        .start()
    )
    writer = DeadLetterWriter(options.bootstrap_servers, options.dlq_topic, options.kafka_options)
    dlq_query = (
        dead_letters(orders).writeStream.queryName(DEAD_LETTER_QUERY)
        .foreachBatch(writer)
        .option("checkpointLocation", f"{checkpoint}/{DEAD_LETTER_QUERY}")
        .trigger(**trigger)
        .start()
    )
    queries = [totals_query, dlq_query]
    if options.window:
        queries.append(
            windowed_totals(orders, options.window, options.watermark).writeStream.queryName(WINDOWS_QUERY)
            .outputMode("update")
            .foreachBatch(WindowPrinter())
            .option("checkpointLocation", f"{checkpoint}/{WINDOWS_QUERY}")
            .trigger(**trigger)
            .start()
        )
    log.info("Consumindo %s em %s (checkpoint: %s).", options.topic, options.bootstrap_servers, checkpoint)
    return RunningConsumer(queries, printer, writer)


def run(options: ConsumerOptions, conf: dict[str, str] | None = None, verbose: bool = False) -> None:
    """Run until Ctrl-C (or, with --available-now, until the topic is drained), then
    print the final table. Raises UserError with one sentence for what the user can fix."""
    wait_for_broker(options.bootstrap_servers)
    ensure_topic(options.bootstrap_servers, options.topic)
    ensure_topic(options.bootstrap_servers, options.dlq_topic)
    spark = build_session("vendas-ecommerce-consumidor", conf, verbose)
    running = start(spark, options)
    watch = BrokerWatch(options.bootstrap_servers)
    watch.start()
    try:
        with _stop_on_signals() as stop_requested:
            _wait(running.queries, stop_requested, all_must_finish=options.available_now)
    finally:
        watch.stop()
        running.stop()
    failures = [q.exception() for q in running.queries if q.exception() is not None]
    if failures:
        raise UserError(f"A consulta parou com erro: {_first_line(failures[0])}")
    totals = running.printer.final()
    batch = running.printer.last_batch
    header = "Totais por produto" + (f" (até o lote {batch})" if batch is not None else "")
    print(f"\n{header}:\n{format_table(totals)}", flush=True)


def _wait(queries: list[StreamingQuery], stop_requested: threading.Event, all_must_finish: bool) -> None:
    """Wait in short py4j calls, so that a stop request is seen within a second."""
    while not stop_requested.is_set():
        active = [q for q in queries if q.isActive]
        if not active or (not all_must_finish and len(active) < len(queries)):
            return  # done, or one query failed: the caller stops the others and reports
        active[0].awaitTermination(1)


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """Ctrl-C / SIGTERM ask for a clean stop at the next check instead of raising.

    PySpark's own SIGINT handler cancels jobs from inside the signal handler, re-entering
    py4j while the main thread is in a py4j call, which prints a wall of tracebacks.
    A second Ctrl-C still interrupts at once.
    """
    stop_requested = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop_requested
        return

    def request_stop(signum: int, frame: object) -> None:
        if stop_requested.is_set():
            raise KeyboardInterrupt
        log.info("Parando o consumidor (o checkpoint guarda onde parou)...")
        stop_requested.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop_requested
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "desc", None) or error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def _totals_to_json(totals: Totals, batch_id: int) -> str:
    data = asdict(totals)
    data["lote"] = batch_id
    return json.dumps(data, default=str, ensure_ascii=False)


def _totals_from_json(text: str) -> tuple[Totals, int]:
    data = json.loads(text)
    products = [
        ProductTotal(p["produto"], p["quantidade_total"],
                     None if p["valor_total"] is None else Decimal(p["valor_total"]))
        for p in data["produtos"]
    ]
    totals = Totals(products, data["pedidos"], Decimal(data["valor_nao_atribuido"]), data["rejeitadas"])
    return totals, data["lote"]


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)

