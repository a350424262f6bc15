"""Where the consumer's results go, batch after batch (see vendas.consumer.batch).

- TotalsPrinter: the running totals, printed as a table when they change; with --banco,
  also written to PostgreSQL by DatabaseSink (exactly once).
- DeadLetterWriter: rejected records, untouched, to the dead-letter topic.
- WindowPrinter: per event-time window totals, printed as they change.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from vendas.errors import DatabaseUnavailable
from vendas.outputs.console import format_table, format_windows
from vendas.pipeline.totals import Totals
from vendas.terminal import visible

if TYPE_CHECKING:  # psycopg loads only with --banco: its libraries take a while to load
    from vendas.outputs.postgres import TotalsStore

log = logging.getLogger(__name__)


class TotalsPrinter:
    """The running totals after each batch: printed as a table when they change.

    The console is not fault tolerant; the numbers survive restarts through the
    checkpoint (vendas.pipeline.totals_log), which also lets a run with nothing new to read show
    the last table.
    """

    def __init__(self, print_each_batch: bool, out: Callable[[str], None] = print,
                 store: TotalsStore | None = None):
        self.print_each_batch = print_each_batch
        self.out = out
        self.last: Totals | None = None
        self.last_batch: int | None = None
        self.database = DatabaseSink(store) if store is not None else None

    def show(self, totals: Totals, batch_id: int) -> None:
        if self.database is not None:  # before printing: the console never runs ahead of it
            self.database(totals, batch_id)
        changed = totals != self.last
        self.last, self.last_batch = totals, batch_id
        if changed:
            if self.print_each_batch:
                self.out(f"\nTotais por produto (lote {batch_id}):\n{format_table(totals)}")
            else:  # --available-now: one table at the end, progress meanwhile
                log.info("Lote %d: %d pedidos contados até agora.", batch_id, totals.pedidos)



class DatabaseSink:
    """The totals of each batch into PostgreSQL, fenced by the query's id and the batch id.

    Called by TotalsPrinter with the totals it computed. When the database stays down for
    the store's whole retry budget, the batch fails and with it the query; `failure` keeps
    the one sentence to report, and Spark replays the batch on the next start.
    """

    def __init__(self, store: TotalsStore, bind_timeout_s: float = 120.0):
        self.store = store
        self.bind_timeout_s = bind_timeout_s
        self.query_id: str | None = None
        self._bound = threading.Event()
        self.failure: DatabaseUnavailable | None = None

    def bind(self, query_id: str) -> None:
        """The query's id, known once it started: the one Spark keeps in the checkpoint, the
        same across restarts and new with a new checkpoint (whose batch ids restart at 0)."""
        self.query_id = query_id
        self._bound.set()

    def __call__(self, totals: Totals, batch_id: int) -> None:
        # The first batch may begin before start() returned the query to bind.
        if not self._bound.wait(self.bind_timeout_s):
            raise RuntimeError("DatabaseSink used before bind(query_id)")
        try:
            self.store.write(totals, batch_id, self.query_id)
        except DatabaseUnavailable as error:
            self.failure = error
            raise


class DeadLetterWriter:
    """Sink of the rejected records: write them to the DLQ, log how many per reason."""

    def __init__(self, bootstrap_servers: str, dlq_topic: str,
                 kafka_options: dict[str, str] | None = None):
        self.bootstrap_servers = bootstrap_servers
        self.dlq_topic = dlq_topic
        # The client settings (security, timeouts...) the source uses apply to the sink too.
        self.client_options = {k: v for k, v in (kafka_options or {}).items()
                               if k.startswith("kafka.")}
        self.written = 0

    def write(self, letters: DataFrame, batch_id: int, counts: dict[str, int]) -> None:
        """Write `letters` (transforms.dead_letters of a batch, `counts` of them by reason)."""
        (
            letters.select("key", "value", "headers")
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
                 batch_id, total, self.dlq_topic, visible(reasons))


class WindowPrinter:
    """Sink of the windowed totals (update mode): prints the changed windows."""

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
