"""The console table: every product, untruncated, sorted by value, money with two places."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from pyspark.sql import Row

from vendas.transforms import LEDGER_PRODUCT, LEDGER_REJECTION

COLUMNS = ("produto", "quantidade_total", "valor_total")
UNKNOWN_VALUE = "n/d"  # the originals' messages carry no unit price: value not invented


@dataclass(frozen=True)
class ProductTotal:
    produto: str
    quantidade_total: int
    valor_total: Decimal | None  # None: only orders without unit prices sold it


@dataclass(frozen=True)
class Totals:
    """What the consumer has counted so far (one aggregation result)."""

    produtos: list[ProductTotal] = field(default_factory=list)
    pedidos: int = 0
    valor_nao_atribuido: Decimal = Decimal("0.00")
    rejeitadas: dict[str, int] = field(default_factory=dict)

    @property
    def total_rejeitadas(self) -> int:
        return sum(self.rejeitadas.values())


def totals_from_ledger(rows: Iterable[Row]) -> Totals:
    """Build Totals from aggregate_ledger's rows, products sorted by value (unknown last)."""
    products, rejected = [], {}
    orders, unattributed = 0, Decimal("0.00")
    for row in rows:
        if row["tipo"] == LEDGER_PRODUCT:
            products.append(ProductTotal(row["chave"], int(row["quantidade_total"]), row["valor_total"]))
            orders += int(row["pedidos"])
            unattributed += row["valor_nao_atribuido"] or 0
        elif row["tipo"] == LEDGER_REJECTION:
            rejected[row["chave"]] = int(row["quantidade_total"])
    products.sort(key=lambda p: (p.valor_total is None, -(p.valor_total or 0), -p.quantidade_total, p.produto))
    return Totals(products, orders, unattributed, dict(sorted(rejected.items())))


def format_table(totals: Totals) -> str:
    """An ASCII table like Spark's console sink, but complete and sorted."""
    cells = [
        (p.produto, str(p.quantidade_total), UNKNOWN_VALUE if p.valor_total is None else f"{p.valor_total:.2f}")
        for p in totals.produtos
    ]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(COLUMNS)]
    rule = "+" + "+".join("-" * w for w in widths) + "+"

    def line(values: tuple[str, ...]) -> str:
        first = values[0].ljust(widths[0])
        rest = [v.rjust(w) for v, w in zip(values[1:], widths[1:])]
        return "|" + "|".join([first, *rest]) + "|"

    out = [rule, line(COLUMNS), rule, *(line(r) for r in cells), rule]
    if not cells:
        out.insert(3, "(nenhum pedido válido ainda)")
    out.append(summary_line(totals))
    return "\n".join(out)


def summary_line(totals: Totals) -> str:
    parts = [f"pedidos contados: {totals.pedidos}"]
    if totals.valor_nao_atribuido:
        parts.append(
            f"valor de pedidos sem preço unitário, não atribuído a produtos: {totals.valor_nao_atribuido:.2f}"
        )
    reasons = ", ".join(f"{reason}: {n}" for reason, n in totals.rejeitadas.items())
    parts.append(f"mensagens rejeitadas: {totals.total_rejeitadas}" + (f" ({reasons})" if reasons else ""))
    return "; ".join(parts)
