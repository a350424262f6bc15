"""What the consumer has counted: the running totals per product, orders and rejections.

Built from the aggregation's rows after every batch; kept as JSON beside the checkpoint so
that a run with nothing new to read still knows the last totals.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from pyspark.sql import Row

from vendas.contract import LEDGER_PRODUCT, LEDGER_REJECTION


@dataclass(frozen=True)
class ProductTotal:
    produto: str
    quantidade_total: int
    valor_total: Decimal | None  # None: only orders without unit prices sold it


@dataclass(frozen=True)
class Totals:
    """One aggregation result: products sorted by value (unknown value last)."""

    produtos: list[ProductTotal] = field(default_factory=list)
    pedidos: int = 0
    valor_nao_atribuido: Decimal = Decimal("0.00")
    rejeitadas: dict[str, int] = field(default_factory=dict)

    @property
    def total_rejeitadas(self) -> int:
        return sum(self.rejeitadas.values())

    def plus(self, batch: Totals) -> Totals:
        """These totals with one more batch's counted in. A value stays None only while no
        order with unit prices sold the product, as SQL's SUM ignores nulls."""
        products = {p.produto: p for p in self.produtos}
        for new in batch.produtos:
            old = products.get(new.produto)
            if old is None:
                products[new.produto] = new
                continue
            values = [v for v in (old.valor_total, new.valor_total) if v is not None]
            products[new.produto] = ProductTotal(
                new.produto, old.quantidade_total + new.quantidade_total,
                sum(values) if values else None)
        rejected = dict(self.rejeitadas)
        for reason, count in batch.rejeitadas.items():
            rejected[reason] = rejected.get(reason, 0) + count
        return Totals(sorted_products(products.values()), self.pedidos + batch.pedidos,
                      self.valor_nao_atribuido + batch.valor_nao_atribuido,
                      dict(sorted(rejected.items())))

    def to_json(self, batch_id: int) -> str:
        """The totals and the batch they belong to, money as exact decimal strings."""
        data = asdict(self)
        data["lote"] = batch_id
        return json.dumps(data, default=str, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> tuple[Totals, int]:
        data = json.loads(text)
        products = [
            ProductTotal(p["produto"], p["quantidade_total"],
                         None if p["valor_total"] is None else Decimal(p["valor_total"]))
            for p in data["produtos"]
        ]
        totals = cls(products, data["pedidos"], Decimal(data["valor_nao_atribuido"]),
                     data["rejeitadas"])
        return totals, data["lote"]


def totals_from_ledger(rows: Iterable[Row]) -> Totals:
    """Build Totals from aggregate_ledger's rows."""
    products, rejected = [], {}
    orders, unattributed = 0, Decimal("0.00")
    for row in rows:
        if row["tipo"] == LEDGER_PRODUCT:
            products.append(
                ProductTotal(row["chave"], int(row["quantidade_total"]), row["valor_total"]))
            orders += int(row["pedidos"])
            unattributed += row["valor_nao_atribuido"] or 0
        elif row["tipo"] == LEDGER_REJECTION:
            rejected[row["chave"]] = int(row["quantidade_total"])
    return Totals(sorted_products(products), orders, unattributed, dict(sorted(rejected.items())))


def sorted_products(products: Iterable[ProductTotal]) -> list[ProductTotal]:
    """By value, highest first; products without a known value last."""
    return sorted(products, key=lambda p: (p.valor_total is None, -(p.valor_total or 0),
                                           -p.quantidade_total, p.produto))
