"""The console tables: every product, untruncated, sorted by value, money with two places.

Product names come from messages: each cell is shown through `visible` (control
characters escaped) and aligned by its width on screen, not by its length in code points.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pyspark.sql import Row

from vendas.pipeline.totals import Totals
from vendas.terminal import display_width, pad, visible

COLUMNS = ("produto", "quantidade_total", "valor_total")
WINDOW_COLUMNS = ("inicio_janela", "fim_janela", "produto", "quantidade_total", "valor_total")
UNKNOWN_VALUE = "n/d"  # the originals' messages carry no unit price: value not invented


def format_money(value: Decimal | None) -> str:
    """A table cell for money: two decimals, or n/d where no unit price was known."""
    return UNKNOWN_VALUE if value is None else f"{value:.2f}"


def ascii_table(columns: tuple[str, ...], rows: list[tuple[str, ...]],
                text_columns: int = 1) -> str:
    """Rows under a header, like Spark's console sink but never truncated: the first
    `text_columns` columns aligned left, numbers aligned right."""
    cells = [tuple(visible(v) for v in row) for row in rows]
    widths = [max([len(h)] + [display_width(r[i]) for r in cells])
              for i, h in enumerate(columns)]
    rule = "+" + "+".join("-" * w for w in widths) + "+"

    def line(values: tuple[str, ...]) -> str:
        return "|" + "|".join(pad(v, w, align_right=i >= text_columns)
                              for i, (v, w) in enumerate(zip(values, widths))) + "|"

    return "\n".join([rule, line(columns), rule, *(line(r) for r in cells), rule])


def format_table(totals: Totals) -> str:
    """The running totals, sorted by value, with the summary line under them."""
    rows = [(p.produto, str(p.quantidade_total), format_money(p.valor_total))
            for p in totals.produtos]
    table = ascii_table(COLUMNS, rows)
    if not rows:
        table += "\n(nenhum pedido válido ainda)"
    return f"{table}\n{summary_line(totals)}"


def format_windows(rows: Iterable[Row]) -> str:
    """Windows updated in one batch (window bounds already formatted), by window then value."""
    ordered = sorted(rows, key=lambda r: (r["ordem"], -(r["valor_total"] or 0), r["produto"]))
    cells = [
        (r["inicio_janela"], r["fim_janela"], r["produto"], str(r["quantidade_total"]),
         format_money(r["valor_total"]))
        for r in ordered
    ]
    return ascii_table(WINDOW_COLUMNS, cells, text_columns=3)


def summary_line(totals: Totals) -> str:
    parts = [f"pedidos contados: {totals.pedidos}"]
    if totals.valor_nao_atribuido:
        parts.append("valor de pedidos sem preço unitário, não atribuído a produtos: "
                     f"{totals.valor_nao_atribuido:.2f}")
    reasons = ", ".join(f"{reason}: {n}" for reason, n in totals.rejeitadas.items())
    parts.append(f"mensagens rejeitadas: {totals.total_rejeitadas}"
                 + (f" ({visible(reasons)})" if reasons else ""))
    return "; ".join(parts)
