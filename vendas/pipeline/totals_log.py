"""The running totals, kept in the checkpoint and fenced by batch id: exactly once.

Spark's checkpoint keeps the offsets and the de-duplication state; the totals are kept
here, one file per batch id (`totais-por-lote/lote-<N>.json`), written before Spark commits that
batch. A batch replayed after a crash finds its own file already there and changes
nothing; a batch that had not been saved is counted. Files are created under a temporary
name and renamed, so a crash leaves a whole file or none.

Local checkpoints use the file system directly; a checkpoint on shared storage (hdfs://,
s3a://, file://) goes through Hadoop's FileSystem API, the one Spark itself writes with.
"""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path

from pyspark.sql import SparkSession

from vendas.errors import UserError
from vendas.pipeline.totals import Totals

log = logging.getLogger(__name__)

TOTALS_DIR = "totais-por-lote"
KEEP = 2  # the latest batch's file and the one before it
_NAME = re.compile(r"^lote-(\d+)\.json$")


class _LocalFiles:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def names(self) -> list[str]:
        return [p.name for p in self.directory.iterdir()] if self.directory.exists() else []

    def read(self, name: str) -> str:
        return (self.directory / name).read_text(encoding="utf-8")

    def create(self, name: str, text: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".{name}.{uuid.uuid4().hex}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.directory / name)

    def delete(self, name: str) -> None:
        (self.directory / name).unlink(missing_ok=True)


class _HadoopFiles:
    """The same four operations through Hadoop's FileSystem, reached via py4j: PySpark has
    no public Python API for files on the cluster's storage."""

    def __init__(self, spark: SparkSession, directory: str) -> None:
        jvm = spark.sparkContext._jvm
        self._io = jvm.org.apache.commons.io.IOUtils
        self._path = jvm.org.apache.hadoop.fs.Path
        self.directory = self._path(directory)
        self.fs = self.directory.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())

    def names(self) -> list[str]:
        if not self.fs.exists(self.directory):
            return []
        return [status.getPath().getName() for status in self.fs.listStatus(self.directory)]

    def read(self, name: str) -> str:
        stream = self.fs.open(self._path(self.directory, name))
        try:
            return self._io.toString(stream, "UTF-8")
        finally:
            stream.close()

    def create(self, name: str, text: str) -> None:
        tmp = self._path(self.directory, f".{name}.{uuid.uuid4().hex}.tmp")
        stream = self.fs.create(tmp, True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()
        if not self.fs.rename(tmp, self._path(self.directory, name)):
            raise OSError(f"rename para {name} falhou")

    def delete(self, name: str) -> None:
        self.fs.delete(self._path(self.directory, name), False)


class TotalsLog:
    """Load the running totals of the last batch; count each batch's totals once."""

    def __init__(self, checkpoint: str, spark: SparkSession | None = None) -> None:
        location = f"{checkpoint.rstrip('/')}/{TOTALS_DIR}"
        self.location = location
        self.files = (_HadoopFiles(spark, location) if "://" in checkpoint and spark is not None
                      else _LocalFiles(Path(location)))
        self.totals, self.batch_id = self._load()

    def _batches(self) -> list[int]:
        return sorted(int(m[1]) for name in self.files.names() if (m := _NAME.match(name)))

    def _load(self) -> tuple[Totals, int | None]:
        batches = self._batches()
        if not batches:
            return Totals(), None
        totals, batch_id = Totals.from_json(self.files.read(f"lote-{batches[-1]}.json"))
        return totals, batch_id

    def add(self, batch_id: int, batch_totals: Totals) -> Totals:
        """The running totals including batch `batch_id`, counted once however often the
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
            return self.totals
        totals = self.totals.plus(batch_totals)
        self.files.create(f"lote-{batch_id}.json", totals.to_json(batch_id))
        self.totals, self.batch_id = totals, batch_id
        for old in self._batches()[:-KEEP]:
            self.files.delete(f"lote-{old}.json")
        return totals
