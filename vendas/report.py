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


def money(value: Decimal | None) -> str:
    return UNKNOWN_VALUE if value is None else f"{value:.2f}"


def ascii_table(columns: tuple[str, ...], rows: list[tuple[str, ...]], text_columns: int = 1) -> str:
    """Rows under a header, like Spark's console sink but never truncated: the first
    `text_columns` columns aligned left, numbers aligned right."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(columns)]
    rule = "+" + "+".join("-" * w for w in widths) + "+"

    def line(values: tuple[str, ...]) -> str:
        cells = [v.ljust(w) if i < text_columns else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths))]
        return "|" + "|".join(cells) + "|"

    return "\n".join([rule, line(columns), rule, *(line(r) for r in rows), rule])


def format_table(totals: Totals) -> str:
    """The running totals, sorted by value, with the summary line under them."""
    rows = [(p.produto, str(p.quantidade_total), money(p.valor_total)) for p in totals.produtos]
    table = ascii_table(COLUMNS, rows)
    if not rows:
        table += "\n(nenhum pedido válido ainda)"
    return f"{table}\n{summary_line(totals)}"


WINDOW_COLUMNS = ("inicio_janela", "fim_janela", "produto", "quantidade_total", "valor_total")


def format_windows(rows: Iterable[Row]) -> str:
    """Windows updated in one batch (window bounds already formatted), by window then value."""
    ordered = sorted(rows, key=lambda r: (r["ordem"], -(r["valor_total"] or 0), r["produto"]))
    cells = [
        (r["inicio_janela"], r["fim_janela"], r["produto"], str(r["quantidade_total"]), money(r["valor_total"]))
        for r in ordered
    ]
    return ascii_table(WINDOW_COLUMNS, cells, text_columns=3)


def summary_line(totals: Totals) -> str:
    parts = [f"pedidos contados: {totals.pedidos}"]
    if totals.valor_nao_atribuido:
        parts.append(
            f"valor de pedidos sem preço unitário, não atribuído a produtos: {totals.valor_nao_atribuido:.2f}"
        )
    reasons = ", ".join(f"{reason}: {n}" for reason, n in totals.rejeitadas.items())
    parts.append(f"mensagens rejeitadas: {totals.total_rejeitadas}" + (f" ({reasons})" if reasons else ""))
    return "; ".join(parts)
