"""What the consumer does with each micro-batch of validated, de-duplicated orders.

One streaming query reads the topic once, parses each record once and turns the
de-duplicated orders into ledger entries (vendas.transforms.ledger_entries, planned once
with the query rather than again in every batch). Its foreachBatch call then (1) sums the
batch's entries, (2) counts them into the running totals, fenced by batch id in the
checkpoint, (3) writes the batch's rejected records to the dead-letter topic when it has
any, and (4) shows the totals (console, database).

The batch is not cached: most batches have no rejected record, and summing the ledger is
then the only pass over it. A batch with rejections is computed a second time to write
them; Spark re-runs the same micro-batch plan on the same offsets and the same state, so
the dead letters are exactly the records the ledger counted as rejected.
"""

from __future__ import annotations

from pyspark.sql import DataFrame

from vendas.outputs.sinks import DeadLetterWriter, TotalsPrinter
from vendas.pipeline.totals import Totals, totals_from_ledger
from vendas.pipeline.totals_log import TotalsLog
from vendas.pipeline.transforms import aggregate_ledger, dead_letters


class BatchProcessor:
    """The foreachBatch function of the consumer's query."""

    def __init__(self, totals_log: TotalsLog, printer: TotalsPrinter,
                 dead_letter_writer: DeadLetterWriter) -> None:
        self.totals_log = totals_log
        self.printer = printer
        self.dead_letter_writer = dead_letter_writer

    def __call__(self, entries: DataFrame, batch_id: int) -> None:
        batch_totals = totals_from_ledger(aggregate_ledger(entries).collect())
        totals = self.totals_log.add(batch_id, batch_totals)
        if batch_totals.rejeitadas:
            self.dead_letter_writer.write(dead_letters(entries), batch_id,
                                          batch_totals.rejeitadas)
        self.printer.show(totals, batch_id)

    @property
    def totals(self) -> Totals:
        """The running totals: this run's, else those an earlier run left in the checkpoint."""
        return self.totals_log.totals

    @property
    def last_batch(self) -> int | None:
        return self.totals_log.batch_id
