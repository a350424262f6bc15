"""The console: the top products by value and a line for the rest, money with two places.

Product names come from messages: each cell is shown through `visible` (control
characters escaped) and aligned by its width on screen, not by its length in code points.
The console is not fault tolerant; the numbers survive restarts through the checkpoint
(vendas.pipeline.totals_log), which also lets a run with nothing new to read show the last
table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from pyspark.sql import DataFrame, Row
from pyspark.sql import functions as F

from vendas.pipeline.totals import PER_KEY, PER_KIND, TOP_KEPT, Totals
from vendas.terminal import display_width, pad, visible

if TYPE_CHECKING:
    from vendas.consumer.batch import BatchResult

log = logging.getLogger(__name__)

COLUMNS = ("produto", "quantidade_total", "valor_total")
WINDOW_COLUMNS = ("inicio_janela", "fim_janela", "produto", "quantidade_total", "valor_total")
UNKNOWN_VALUE = "n/d"  # the originals' messages carry no unit price: value not invented
# Products in the console table by default: the demo's whole catalog.
DEFAULT_ROWS = 60
MAX_ROWS = TOP_KEPT


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


def format_table(totals: Totals, rows: int = DEFAULT_ROWS) -> str:
    """The top `rows` products by value, a line for the others, and the counts under them."""
    cells = [(p.produto, str(p.quantidade_total), format_money(p.valor_total))
             for p in totals.produtos[:rows]]
    table = ascii_table(COLUMNS, cells)
    if not cells:
        table += "\n(nenhum pedido válido ainda)"
    others, quantity, value = totals.rest(rows)
    if others:
        table += (f"\n... e mais {others} produtos: quantidade_total {quantity}, "
                  f"valor_total {format_money(value)} (todos no banco, com --banco)")
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
    parts = [f"produtos: {totals.total_produtos}", f"pedidos contados: {totals.pedidos}"]
    if totals.valor_nao_atribuido:
        parts.append("valor de pedidos sem preço unitário, não atribuído a produtos: "
                     f"{totals.valor_nao_atribuido:.2f}")
    reasons = ", ".join(f"{reason}: {n}" for reason, n in totals.rejeitadas.items())
    parts.append(f"mensagens rejeitadas: {totals.total_rejeitadas}"
                 + (f" ({visible(reasons)})" if reasons else ""))
    if totals.duplicadas:
        parts.append(f"pedidos repetidos ignorados: {totals.duplicadas}")
    return "; ".join(parts)


class TotalsPrinter:
    """Prints the totals after each batch that changed them (with --available-now, only
    once at the end: vendas.consumer.app prints the final table)."""

    def __init__(self, print_each_batch: bool, rows: int = DEFAULT_ROWS,
                 out: Callable[[str], None] = print) -> None:
        self.print_each_batch = print_each_batch
        self.rows = rows
        self.out = out
        self.last: Totals | None = None

    def write(self, batch: BatchResult) -> None:
        totals, batch_id = batch.totals, batch.batch_id
        if totals == self.last:
            return
        self.last = totals
        if self.print_each_batch:
            self.out(f"\nTotais por produto (lote {batch_id}):\n{format_table(totals, self.rows)}")


class WindowPrinter:
    """The windows a batch of the windows query touched (update mode): each window's
    orders and value, and its `rows` products of highest value."""

    def __init__(self, rows: int = DEFAULT_ROWS, out: Callable[[str], None] = print) -> None:
        self.rows = rows
        self.out = out

    def write(self, changed: DataFrame, batch_id: int) -> None:
        start, end = (F.date_format(f"janela.{edge}", "dd/MM/yyyy HH:mm:ss")
                      for edge in ("start", "end"))
        windows = changed.where(F.col("nivel") == PER_KIND).orderBy("janela.start").select(
            start.alias("inicio_janela"), end.alias("fim_janela"), "pedidos",
            "quantidade_total", "valor_total").collect()
        products = (
            changed.where(F.col("nivel") == PER_KEY)
            .orderBy(F.col("valor_total").desc_nulls_last(), F.col("quantidade_total").desc(),
                     "produto")
            .limit(self.rows)
            .select(F.col("janela.start").alias("ordem"), start.alias("inicio_janela"),
                    end.alias("fim_janela"), "produto", "quantidade_total", "valor_total")
            .collect()
        )
        if not windows:
            return
        summary = "\n".join(
            f"{w['inicio_janela']} a {w['fim_janela']}: {w['pedidos']} "
            f"pedido{'' if w['pedidos'] == 1 else 's'}, "
            f"quantidade {w['quantidade_total']}, valor {format_money(w['valor_total'])}"
            for w in windows)
        self.out(f"\nJanelas atualizadas (lote {batch_id}):\n{summary}\n"
                 f"{format_windows(products)}")
