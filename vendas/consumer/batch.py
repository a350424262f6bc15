"""What the consumer does with each micro-batch of its totals query.

The streaming query (vendas.consumer.app) reads the topic once, validates and de-duplicates
the orders and sums them in Spark's state store (vendas.pipeline.transforms.running_totals,
update mode): each micro-batch brings only the keys it touched, with their totals so far.
Its foreachBatch call then

1. reads the few rows the driver keeps (the touched products' top, the counts), and moves
   the driver's bounded totals on, fenced by batch id in the checkpoint (exactly once);
2. sends the batch's rejected records to the dead-letter topic when its counts say it had
   any (vendas.outputs.dead_letters);
3. hands the batch to the sinks, peers that each take what they show: PostgreSQL (every
   touched product, fenced by batch id), then the console.

Everything here costs what the batch touched, never what history holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from py4j.protocol import Py4JJavaError
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from vendas.contract import LEDGER_PRODUCT
from vendas.outputs.console import WindowPrinter
from vendas.outputs.dead_letters import DeadLetterWriter
from vendas.pipeline.totals import PER_KEY, PER_KIND, TOP_KEPT, BatchChanges, Totals
from vendas.pipeline.totals_log import TotalsLog
from vendas.pipeline.transforms import batch_overview

if TYPE_CHECKING:  # psycopg loads only with --banco
    from vendas.outputs.postgres import WindowDatabaseSink


@dataclass(frozen=True)
class BatchResult:
    """One micro-batch, as the sinks see it."""

    batch_id: int
    before: Totals  # the totals before the batch
    totals: Totals  # and after it
    changed: DataFrame  # the batch's running_totals rows (persisted while the sinks run)

    def touched_products(self) -> Iterator[tuple[str, int, object]]:
        """Every product the batch touched, with its totals so far, partition by partition."""
        rows = self.changed.where((F.col("nivel") == PER_KEY)
                                  & (F.col("tipo") == LEDGER_PRODUCT))
        for row in rows.select("chave", "quantidade_total", "valor_total").toLocalIterator():
            yield row[0], row[1], row[2]


# What a job interrupted by the query's stop raises, at the bottom of its causes.
_INTERRUPTIONS = ("java.lang.InterruptedException", "java.io.InterruptedIOException",
                  "java.nio.channels.ClosedByInterruptException")


class InterruptedBatch(Exception):
    """A batch interrupted by the query's stop, told to Spark in one line."""


@contextmanager
def quiet_interruption() -> Iterator[None]:
    """Spark tells a batch its stop interrupted from a failed one by matching a regular
    expression on the Python traceback of foreachBatch, and on a long traceback the match
    overflows the JVM's stack (a wall of Java frames on every Ctrl-C in the middle of a batch).
    An interrupted job leaves here as one short line that still matches."""
    try:
        yield
    except Py4JJavaError as error:
        if not _interrupted(error.java_exception):
            raise
        raise InterruptedBatch("py4j.protocol.Py4JJavaError: An error occurred while calling "
                               "foreachBatch.\n: java.lang.InterruptedException") from None


def _interrupted(java_error: object, depth: int = 10) -> bool:
    while java_error is not None and depth > 0:
        name = java_error.getClass().getName()
        if name in _INTERRUPTIONS or (name == "org.apache.spark.SparkException"
                                      and "cancelled" in (java_error.getMessage() or "")):
            return True
        java_error, depth = java_error.getCause(), depth - 1
    return False


class Sink(Protocol):
    """A consumer output: gets every micro-batch once it is counted."""

    def write(self, batch: BatchResult) -> None: ...


@dataclass
class BatchProcessor:
    """The foreachBatch function of the consumer's totals query."""

    totals_log: TotalsLog
    dead_letters: DeadLetterWriter | None
    sinks: list[Sink] = field(default_factory=list)
    # how many records batch N read (its offset range); None: count what it classified
    records_read: Callable[[int], int] | None = None
    # the last batch this run processed (None before its first): the stop waits for its
    # progress, not for that of a batch an earlier run left in the checkpoint
    processed: int | None = None
    # the last batches' rejections per reason, for the status line (vendas.consumer.progress)
    _rejected: dict[int, dict[str, int]] = field(default_factory=dict)

    def __call__(self, changed: DataFrame, batch_id: int) -> None:
        with quiet_interruption():
            self._process(changed, batch_id)

    def _process(self, changed: DataFrame, batch_id: int) -> None:
        changed.persist()
        try:
            changes = BatchChanges.from_rows(batch_overview(changed, TOP_KEPT).collect())
            if self.records_read is not None:
                changes = replace(changes, mensagens=self.records_read(batch_id))
            before, totals = self.totals_log.add(batch_id, changes)
            rejected = {reason: n - before.rejeitadas.get(reason, 0)
                        for reason, n in totals.rejeitadas.items()
                        if n != before.rejeitadas.get(reason, 0)}
            self._rejected = {**{b: r for b, r in self._rejected.items() if b > batch_id - 10},
                              batch_id: rejected}
            if rejected:
                if self.dead_letters is None:
                    raise RuntimeError("mensagens rejeitadas numa fonte sem tópico de rejeitadas")
                self.dead_letters.write(batch_id, rejected)
            result = BatchResult(batch_id, before, totals, changed)
            for sink in self.sinks:
                sink.write(result)
            self.processed = batch_id
        finally:
            changed.unpersist()

    def rejected_in(self, batch_id: int) -> dict[str, int]:
        """The rejections per reason of a recent batch."""
        return self._rejected.get(batch_id, {})

    @property
    def totals(self) -> Totals:
        """The totals so far: this run's, else those an earlier run left in the checkpoint."""
        return self.totals_log.totals

    @property
    def last_batch(self) -> int | None:
        return self.totals_log.batch_id


@dataclass
class WindowBatchProcessor:
    """The foreachBatch function of the windows query (--window): the windows a batch
    touched, to PostgreSQL (every touched row, fenced by batch id) and to the console."""

    printer: WindowPrinter
    database: WindowDatabaseSink | None = None

    def __call__(self, changed: DataFrame, batch_id: int) -> None:
        with quiet_interruption():
            self._process(changed, batch_id)

    def _process(self, changed: DataFrame, batch_id: int) -> None:
        changed.persist()
        try:
            if self.database is not None:
                from vendas.outputs.postgres import WindowBatchWrite
                self.database.write_windows(WindowBatchWrite(
                    batch_id, lambda: _window_rows(changed, PER_KIND),
                    lambda: _window_rows(changed, PER_KEY)))
            self.printer.write(changed, batch_id)
        finally:
            changed.unpersist()


def _window_rows(changed: DataFrame, level: int) -> Iterator[tuple]:
    """windowed_totals rows of one level: per window (start, end, orders, quantity, value),
    or per window and product (start, end, product, quantity, value)."""
    middle = ["pedidos"] if level == PER_KIND else ["produto"]
    rows = changed.where(F.col("nivel") == level).select(
        "janela.start", "janela.end", *middle, "quantidade_total", "valor_total")
    for row in rows.toLocalIterator():
        yield tuple(row)
