"""Running totals fenced by batch id: a replayed batch changes nothing, a gap is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from vendas.errors import UserError
from vendas.pipeline.totals import ProductTotal, Totals
from vendas.pipeline.totals_log import TotalsLog


def batch(*products: tuple[str, int, str | None], orders: int = 1, unattributed: str = "0",
          rejected: dict[str, int] | None = None) -> Totals:
    return Totals([ProductTotal(name, q, None if v is None else Decimal(v))
                   for name, q, v in products], orders, Decimal(unattributed), rejected or {})


def test_totals_add_up_per_product_and_unknown_values_stay_unknown():
    first = batch(("Mouse", 2, "179.80"), ("Teclado", 1, None), orders=2, unattributed="50.00",
                  rejected={"json_invalido": 1})
    second = batch(("Mouse", 1, "89.90"), ("Teclado", 3, "449.70"), ("Fogão", 1, None),
                   rejected={"json_invalido": 2, "data_invalida": 1})
    total = first.plus(second)
    assert total.produtos == [ProductTotal("Teclado", 4, Decimal("449.70")),
                              ProductTotal("Mouse", 3, Decimal("269.70")),
                              ProductTotal("Fogão", 1, None)]
    assert (total.pedidos, total.valor_nao_atribuido) == (3, Decimal("50.00"))
    assert total.rejeitadas == {"data_invalida": 1, "json_invalido": 3}


def test_a_replayed_batch_is_counted_once_and_survives_a_restart(tmp_path):
    log = TotalsLog(str(tmp_path))
    log.add(0, batch(("Mouse", 2, "179.80")))
    log.add(1, batch(("Mouse", 1, "89.90")))
    again = TotalsLog(str(tmp_path))  # a restart after a crash before Spark's commit of 1
    assert again.batch_id == 1
    assert again.add(1, batch(("Mouse", 1, "89.90"))).produtos == [
        ProductTotal("Mouse", 3, Decimal("269.70"))]
    assert again.add(2, batch(("Mouse", 1, "89.90"))).produtos == [
        ProductTotal("Mouse", 4, Decimal("359.60"))]
    assert sorted(p.name for p in (tmp_path / "totais-por-lote").iterdir()) == [
        "lote-1.json", "lote-2.json"]


def test_a_checkpoint_that_went_back_or_lost_its_totals_is_refused(tmp_path):
    log = TotalsLog(str(tmp_path / "a"))
    log.add(0, batch(("Mouse", 1, "89.90")))
    log.add(1, batch(("Mouse", 1, "89.90")))
    with pytest.raises(UserError, match="o checkpoint voltou ao lote 0"):
        TotalsLog(str(tmp_path / "a")).add(0, batch(("Mouse", 1, "89.90")))
    with pytest.raises(UserError, match="os totais em .* sumiram"):
        TotalsLog(str(tmp_path / "b")).add(5, batch(("Mouse", 1, "89.90")))

