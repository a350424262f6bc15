"""Checkpoint files on shared storage (a file: URI), read and written through Hadoop."""

from __future__ import annotations

from decimal import Decimal

from vendas.kafka.checkpoint_offsets import batch_offset_range, records_between
from vendas.pipeline.totals import BatchChanges, ProductTotal
from vendas.pipeline.totals_log import TotalsLog
from vendas.spark.checkpoint_files import checkpoint_files


def test_the_totals_on_shared_storage_go_through_hadoop(spark, tmp_path):
    uri = (tmp_path / "ckpt").as_uri()  # file:///..., read and written by Hadoop's FileSystem
    log = TotalsLog(uri, spark)
    log.add(0, BatchChanges(top=[ProductTotal("Fogão", 1, Decimal("1299.00"))],
                            products=(1, Decimal("1299.00"), 1, Decimal(0)), new_products=1))
    reloaded = TotalsLog(uri, spark)
    assert (reloaded.batch_id, reloaded.totals.produtos, reloaded.totals.total_produtos) == (
        0, [ProductTotal("Fogão", 1, Decimal("1299.00"))], 1)


def test_a_batch_offset_range_is_read_from_the_offsets_log(spark, tmp_path):
    """Spark's formats: the Kafka source's initial offsets (a NUL byte, a version line, the
    JSON) and an offsets log entry (version, metadata, one JSON line per source)."""
    uri = (tmp_path / "pedidos").as_uri()
    checkpoint_files(f"{uri}/sources/0", spark).create("0", '\x00v1\n{"t":{"0":5,"1":7}}')
    offsets = checkpoint_files(f"{uri}/offsets", spark)
    offsets.create("0", 'v1\n{"batchWatermarkMs":0}\n{"t":{"0":9,"1":7}}')
    offsets.create("1", 'v1\n{"batchWatermarkMs":0}\n{"t":{"0":12,"1":10,"2":4}}')
    assert batch_offset_range(uri, 0, spark) == ({"t": {0: 5, 1: 7}}, {"t": {0: 9, 1: 7}})
    start, end = batch_offset_range(uri, 1, spark)
    assert records_between(start, end) == 3 + 3 + 4  # partition 2 is new: from its offset 0
