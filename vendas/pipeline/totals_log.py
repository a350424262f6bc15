"""The driver's bounded totals (vendas.pipeline.totals), kept in the checkpoint and fenced
by batch id: exactly once.

Spark's checkpoint keeps the offsets and the state (de-duplication, every product's
totals); what the driver shows is kept here, one small file per batch id
(`totais-por-lote/lote-<N>.json`), written before Spark commits that batch. A batch
replayed after a crash finds its own file already there and changes nothing; a batch that
had not been saved is counted. Files are created under a temporary name and renamed, so a
crash leaves a whole file or none.
"""

from __future__ import annotations

import logging
import re

from pyspark.sql import SparkSession

from vendas.errors import UserError
from vendas.pipeline.totals import BatchChanges, Totals
from vendas.spark.checkpoint_files import checkpoint_files

log = logging.getLogger(__name__)

TOTALS_DIR = "totais-por-lote"
KEEP = 2  # the latest batch's file and the one before it
_NAME = re.compile(r"^lote-(\d+)\.json$")


class TotalsLog:
    """Load the running totals of the last batch; count each batch's totals once."""

    def __init__(self, checkpoint: str, spark: SparkSession | None = None) -> None:
        location = f"{checkpoint.rstrip('/')}/{TOTALS_DIR}"
        self.location = location
        self.files = checkpoint_files(location, spark)
        self.totals, self.batch_id = self._load()

    def _batches(self) -> list[int]:
        return sorted(int(m[1]) for name in self.files.names() if (m := _NAME.match(name)))

    def _load(self) -> tuple[Totals, int | None]:
        batches = self._batches()
        if not batches:
            return Totals(), None
        try:
            return Totals.from_json(self.files.read(f"lote-{batches[-1]}.json"))
        except (KeyError, TypeError, ValueError):
            raise UserError(
                f"Os totais em {self.location} são de uma versão anterior do consumidor ou "
                "estão corrompidos: apague o diretório do checkpoint inteiro para contar o "
                "tópico desde o início."
            ) from None

    def add(self, batch_id: int, changes: BatchChanges) -> tuple[Totals, Totals]:
        """The totals before and after batch `batch_id`, counted once however often the
        batch is replayed."""
        if self.batch_id is None and batch_id > 0:
            raise UserError(
                f"O checkpoint já passou do lote {batch_id - 1}, mas os totais em "
                f"{self.location} sumiram: apague o diretório do checkpoint inteiro para "
                "contar o tópico desde o início."
            )
        if self.batch_id is not None and batch_id <= self.batch_id:
            if batch_id < self.batch_id:
                raise UserError(
                    f"Os totais em {self.location} já vão até o lote {self.batch_id}, mas o "
                    f"checkpoint voltou ao lote {batch_id}: o checkpoint foi trocado. Apague "
                    "o diretório do checkpoint inteiro para recomeçar do início."
                )
            log.info("Lote %d já contado antes de uma interrupção; nada muda.", batch_id)
            return self._saved(batch_id - 1), self.totals
        before = self.totals
        totals = before.advance(changes)
        self.files.create(f"lote-{batch_id}.json", totals.to_json(batch_id))
        self.totals, self.batch_id = totals, batch_id
        for old in self._batches()[:-KEEP]:
            self.files.delete(f"lote-{old}.json")
        return before, totals

    def _saved(self, batch_id: int) -> Totals:
        """The totals after `batch_id` (kept: the batch before the last), or none yet."""
        if batch_id < 0:
            return Totals()
        return Totals.from_json(self.files.read(f"lote-{batch_id}.json"))[0]
