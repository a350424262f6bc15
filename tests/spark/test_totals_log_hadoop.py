"""The running totals on shared storage (a file: URI), read and written through Hadoop."""

from __future__ import annotations

from decimal import Decimal

from vendas.pipeline.totals import ProductTotal, Totals
from vendas.pipeline.totals_log import TotalsLog


def test_shared_storage_goes_through_hadoop(spark, tmp_path):
    uri = (tmp_path / "ckpt").as_uri()  # file:///..., read and written by Hadoop's FileSystem
    log = TotalsLog(uri, spark)
    log.add(0, Totals([ProductTotal("Fogão", 1, Decimal("1299.00"))], pedidos=1))
    reloaded = TotalsLog(uri, spark)
    assert (reloaded.batch_id, reloaded.totals.produtos) == (
        0, [ProductTotal("Fogão", 1, Decimal("1299.00"))])
