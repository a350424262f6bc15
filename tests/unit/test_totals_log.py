"""The driver's totals fenced by batch id: a replayed batch changes nothing, a gap is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from vendas.errors import UserError
from vendas.pipeline.totals import BatchChanges, ProductTotal
from vendas.pipeline.totals_log import TotalsLog


def mouse(quantity: int, value: str) -> BatchChanges:
    """A batch after which Mouse, the only product, has these totals."""
    return BatchChanges(top=[ProductTotal("Mouse", quantity, Decimal(value))],
                        products=(quantity, Decimal(value), quantity, Decimal(0)))


def test_a_replayed_batch_is_counted_once_and_survives_a_restart(tmp_path):
    log = TotalsLog(str(tmp_path))
    log.add(0, mouse(2, "179.80"))
    log.add(1, mouse(3, "269.70"))
    again = TotalsLog(str(tmp_path))  # a restart after a crash before Spark's commit of 1
    assert again.batch_id == 1
    before, after = again.add(1, mouse(3, "269.70"))
    assert (before.pedidos, after.pedidos) == (2, 3)  # the batch's own counts, even replayed
    before, after = again.add(2, mouse(4, "359.60"))
    assert after.produtos == [ProductTotal("Mouse", 4, Decimal("359.60"))]
    assert sorted(p.name for p in (tmp_path / "totais-por-lote").iterdir()) == [
        "lote-1.json", "lote-2.json"]


def test_a_checkpoint_that_went_back_or_lost_its_totals_is_refused(tmp_path):
    log = TotalsLog(str(tmp_path / "a"))
    log.add(0, mouse(1, "89.90"))
    log.add(1, mouse(2, "179.80"))
    with pytest.raises(UserError, match="o checkpoint voltou ao lote 0"):
        TotalsLog(str(tmp_path / "a")).add(0, mouse(1, "89.90"))
    with pytest.raises(UserError, match="os totais em .* sumiram"):
        TotalsLog(str(tmp_path / "b")).add(5, mouse(1, "89.90"))


def test_totals_of_an_earlier_version_are_refused_in_one_sentence(tmp_path):
    (tmp_path / "totais-por-lote").mkdir()
    (tmp_path / "totais-por-lote" / "lote-3.json").write_text(
        '{"produtos": [], "pedidos": 1, "valor_nao_atribuido": "0", "rejeitadas": {}, "lote": 3}')
    with pytest.raises(UserError, match="versão anterior do consumidor"):
        TotalsLog(str(tmp_path))
