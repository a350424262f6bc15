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

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from vendas.contract import LEDGER_PRODUCT
from vendas.outputs.dead_letters import DeadLetterWriter
from vendas.pipeline.totals import PER_KEY, TOP_KEPT, BatchChanges, Totals
from vendas.pipeline.totals_log import TotalsLog
from vendas.pipeline.transforms import batch_overview


@dataclass(frozen=True)
class BatchResult:
    """One micro-batch, as the sinks see it."""

    batch_id: int
    totals: Totals  # after the batch
    changed: DataFrame  # the batch's running_totals rows (persisted while the sinks run)

    def touched_products(self) -> Iterator[tuple[str, int, object]]:
        """Every product the batch touched, with its totals so far, partition by partition."""
        rows = self.changed.where((F.col("nivel") == PER_KEY)
                                  & (F.col("tipo") == LEDGER_PRODUCT))
        for row in rows.select("chave", "quantidade_total", "valor_total").toLocalIterator():
            yield row[0], row[1], row[2]


class Sink(Protocol):
    """A consumer output: gets every micro-batch once it is counted."""

    def write(self, batch: BatchResult) -> None: ...


@dataclass
class BatchProcessor:
    """The foreachBatch function of the consumer's totals query."""

    totals_log: TotalsLog
    dead_letters: DeadLetterWriter | None
    sinks: list[Sink] = field(default_factory=list)

    def __call__(self, changed: DataFrame, batch_id: int) -> None:
        changed.persist()
        try:
            before = self.totals_log.totals if self.totals_log.batch_id == batch_id - 1 else None
            changes = BatchChanges.from_rows(batch_overview(changed, TOP_KEPT).collect())
            totals = self.totals_log.add(batch_id, changes)
            if changes.rejeitadas:
                self._send_dead_letters(batch_id, changes, before)
            result = BatchResult(batch_id, totals, changed)
            for sink in self.sinks:
                sink.write(result)
        finally:
            changed.unpersist()

    def _send_dead_letters(self, batch_id: int, changes: BatchChanges,
                           before: Totals | None) -> None:
        if self.dead_letters is None:
            raise RuntimeError("mensagens rejeitadas sem um tópico de rejeitadas configurado")
        counts = None if before is None else {
            reason: n - before.rejeitadas.get(reason, 0)
            for reason, n in changes.rejeitadas.items()}
        self.dead_letters.write(batch_id, counts)

    @property
    def totals(self) -> Totals:
        """The totals so far: this run's, else those an earlier run left in the checkpoint."""
        return self.totals_log.totals

    @property
    def last_batch(self) -> int | None:
        return self.totals_log.batch_id
