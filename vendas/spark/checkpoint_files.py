"""Files in a checkpoint directory: the few operations the consumer needs beside Spark's own.

Local checkpoints use the file system directly; a checkpoint on shared storage (hdfs://,
s3a://, file://) goes through Hadoop's FileSystem API, the one Spark itself writes with.
Writes are atomic: a temporary name, then a rename.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from pyspark.sql import SparkSession


class LocalFiles:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def names(self) -> list[str]:
        return [p.name for p in self.directory.iterdir()] if self.directory.exists() else []

    def read(self, name: str) -> str:
        return (self.directory / name).read_text(encoding="utf-8", errors="replace")

    def create(self, name: str, text: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".{name}.{uuid.uuid4().hex}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.directory / name)

    def delete(self, name: str) -> None:
        (self.directory / name).unlink(missing_ok=True)


class HadoopFiles:
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


def checkpoint_files(location: str, spark: SparkSession | None = None) -> LocalFiles | HadoopFiles:
    """The files under `location`: a local directory, or a URI on shared storage."""
    if "://" in location and spark is not None:
        return HadoopFiles(spark, location)
    return LocalFiles(Path(location))
