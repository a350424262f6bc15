"""The dashboard's charts (Altair/Vega-Lite) and the rows they are drawn from.

Every label is computed here in pt-BR (reais with two decimals, thousands with dots) and
every name from a message goes through `visible` first: Vega draws text as text, never as
Markdown or HTML, and control characters are shown as escapes. Times are São Paulo's wall
clock, handed to Vega without a zone so that it prints them as they are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from vendas.dashboard.data import Batch, Window
from vendas.dashboard.status import local_naive
from vendas.formatting import fmt_brl, fmt_float, fmt_int, fmt_rate
from vendas.pipeline.totals import ProductTotal
from vendas.terminal import visible

VALUE_COLOR = "#1f6feb"
QUANTITY_COLOR = "#2da44e"
INPUT_COLOR = "#8250df"
PROCESSING_COLOR = "#1f6feb"
LAG_COLOR = "#cf222e"
DURATION_COLOR = "#bf8700"
TEXT_COLOR = "#1f2328"
TIME_HEIGHT = 220
INPUT, PROCESSING = "Entrada", "Processamento"

# d3's number and time formats in pt-BR, for the axes Vega draws itself.
PT_BR = {
    "number": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["R$ ", ""]},
    "time": {
        "dateTime": "%A, %e de %B de %Y, %X",
        "date": "%d/%m/%Y",
        "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": ["domingo", "segunda", "terça", "quarta", "quinta", "sexta", "sábado"],
        "shortDays": ["dom", "seg", "ter", "qua", "qui", "sex", "sáb"],
        "months": ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho",
                   "agosto", "setembro", "outubro", "novembro", "dezembro"],
        "shortMonths": ["jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out",
                        "nov", "dez"],
    },
}


# --- Rows ------------------------------------------------------------------------------------


def product_rows(products: Sequence[ProductTotal], top: int, by_value: bool) -> list[dict]:
    """The first `top` products by value (those with a known value) or by quantity, as
    already read in that order."""
    chosen = [p for p in products if p.valor_total is not None] if by_value else list(products)
    return [
        {
            "produto": visible(p.produto),
            "valor": float(p.valor_total or 0),
            "rotulo_valor": fmt_brl(p.valor_total or 0),
            "quantidade": p.quantidade_total,
            "rotulo_quantidade": fmt_int(p.quantidade_total),
        }
        for p in chosen[:top]
    ]


def _moment(batch: Batch) -> dict:
    return {"hora": local_naive(batch.gravado_em), "quando": local_naive(batch.gravado_em)
            .strftime("%H:%M:%S"), "lote": fmt_int(batch.lote)}


def rate_rows(history: Sequence[Batch]) -> list[dict]:
    """Input and processing rates (messages/s) per measured batch, one row per series."""
    rows = []
    for batch in history:
        for series, rate in ((INPUT, batch.taxa_entrada), (PROCESSING, batch.taxa_processamento)):
            if rate is not None:
                rows.append({**_moment(batch), "serie": series, "taxa": rate,
                             "rotulo": f"{fmt_rate(rate)} mensagens/s"})
    return rows


def lag_rows(history: Sequence[Batch]) -> list[dict]:
    return [{**_moment(b), "atraso": b.atraso_mensagens,
             "rotulo": f"{fmt_int(b.atraso_mensagens)} mensagens"}
            for b in history if b.atraso_mensagens is not None]


def duration_rows(history: Sequence[Batch]) -> list[dict]:
    return [{**_moment(b), "segundos": b.duracao_ms / 1000,
             "rotulo": f"{fmt_float(b.duracao_ms / 1000, 2)} s"}
            for b in history if b.duracao_ms is not None]


def rejection_rows(history: Sequence[Batch]) -> list[dict]:
    """Rejected messages per minute and reason (only the minutes that had some)."""
    per_minute: dict[tuple, int] = defaultdict(int)
    for batch in history:
        minute = local_naive(batch.gravado_em).replace(second=0, microsecond=0)
        for reason, n in batch.rejeitadas_por_motivo.items():
            if n:
                per_minute[(minute, visible(reason))] += n
    return [
        {"inicio": minute, "fim": minute + timedelta(minutes=1), "motivo": reason,
         "mensagens": n, "quando": minute.strftime("%H:%M"), "rotulo": fmt_int(n)}
        for (minute, reason), n in sorted(per_minute.items())
    ]


def window_rows(windows: Sequence[Window]) -> list[dict]:
    rows = []
    for w in windows:
        start, end = local_naive(w.inicio), local_naive(w.fim)
        rows.append({
            "inicio": start, "fim": end,
            "quando": f"{start:%d/%m %H:%M}–{end:%H:%M}",
            "receita": float(w.valor_total), "rotulo_receita": fmt_brl(w.valor_total),
            "pedidos": w.pedidos, "rotulo_pedidos": fmt_int(w.pedidos),
        })
    return rows


# --- Charts ----------------------------------------------------------------------------------


def _finish(chart, height: int):
    return chart.properties(height=height).configure(locale=PT_BR).configure_view(stroke=None)


def bar_chart(rows: list[dict], measure: str, label: str, color: str):
    """Horizontal bars, biggest on top, each labelled with its formatted number."""
    import altair as alt
    import pandas as pd

    data = pd.DataFrame(rows)
    biggest = max((float(r[measure]) for r in rows), default=0) or 1
    base = alt.Chart(data).encode(
        y=alt.Y(
            "produto:N",
            sort=alt.SortField(measure, order="descending"),
            title=None,
            axis=alt.Axis(
                labelLimit=280, labelFontSize=13, labelColor=TEXT_COLOR, ticks=False, domain=False
            ),
        ),
        # room on the right for the labels
        x=alt.X(f"{measure}:Q", axis=None, scale=alt.Scale(domain=[0, biggest * 1.5], nice=False)),
    )
    bars = base.mark_bar(color=color, cornerRadiusEnd=3, height=20).encode(
        tooltip=[alt.Tooltip("produto:N", title="Produto"),
                 alt.Tooltip(f"{label}:N", title="Total")]
    )
    text = base.mark_text(align="left", dx=4, fontSize=12, color=TEXT_COLOR).encode(
        text=f"{label}:N"
    )
    return _finish(bars + text, max(120, 28 * len(rows)))


Domain = tuple[datetime, datetime]


def history_domain(history: Sequence[Batch]) -> Domain | None:
    """The minutes the history covers, so that the operations charts share one time axis."""
    if not history:
        return None
    start = local_naive(history[0].gravado_em).replace(second=0, microsecond=0)
    end = local_naive(history[-1].gravado_em).replace(second=0, microsecond=0)
    return start, end + timedelta(minutes=1)


def _time_axis(field: str = "hora", domain: Domain | None = None):
    import altair as alt

    scale = alt.Undefined
    if domain is not None:
        scale = alt.Scale(domain=[_vega_time(domain[0]), _vega_time(domain[1])])
    return alt.X(f"{field}:T", title=None, scale=scale,
                 axis=alt.Axis(format="%H:%M", labelColor=TEXT_COLOR, grid=False))


def _vega_time(moment: datetime):
    """A wall-clock time as Vega reads the data's (no zone: printed as it is)."""
    import altair as alt

    return alt.DateTime(year=moment.year, month=moment.month, date=moment.day,
                        hours=moment.hour, minutes=moment.minute, seconds=moment.second)


def rate_chart(rows: list[dict], domain: Domain | None = None):
    """Input against processing rate, messages per second, over time."""
    import altair as alt
    import pandas as pd

    chart = alt.Chart(pd.DataFrame(rows)).mark_line(point=alt.OverlayMarkDef(size=18)).encode(
        x=_time_axis(domain=domain),
        y=alt.Y("taxa:Q", title="mensagens/s", axis=alt.Axis(format=",.0f")),
        color=alt.Color("serie:N", title=None, sort=[INPUT, PROCESSING],
                        scale=alt.Scale(domain=[INPUT, PROCESSING],
                                        range=[INPUT_COLOR, PROCESSING_COLOR]),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("quando:N", title="Hora"), alt.Tooltip("lote:N", title="Lote"),
                 alt.Tooltip("serie:N", title="Taxa"), alt.Tooltip("rotulo:N", title="Valor")],
    )
    return _finish(chart, TIME_HEIGHT)


def series_chart(rows: list[dict], measure: str, title: str, color: str, fmt: str, area: bool,
                 domain: Domain | None = None):
    """One measure over time: an area (lag) or a line with points (duration)."""
    import altair as alt
    import pandas as pd

    base = alt.Chart(pd.DataFrame(rows))
    mark = (base.mark_area(color=color, opacity=0.25, line={"color": color}) if area
            else base.mark_line(color=color, point=alt.OverlayMarkDef(color=color, size=18)))
    chart = mark.encode(
        x=_time_axis(domain=domain),
        y=alt.Y(f"{measure}:Q", title=title, axis=alt.Axis(format=fmt)),
        tooltip=[alt.Tooltip("quando:N", title="Hora"), alt.Tooltip("lote:N", title="Lote"),
                 alt.Tooltip("rotulo:N", title=title)],
    )
    return _finish(chart, TIME_HEIGHT)


def rejection_chart(rows: list[dict], domain: Domain | None = None):
    """Rejected messages per minute, stacked by reason."""
    import altair as alt
    import pandas as pd

    chart = alt.Chart(pd.DataFrame(rows)).mark_bar(
        stroke="white", strokeWidth=1, orient="vertical"
    ).encode(
        x=_time_axis("inicio", domain),
        x2="fim:T",
        y=alt.Y("sum(mensagens):Q", title="rejeitadas por minuto", axis=alt.Axis(format=",.0f")),
        color=alt.Color("motivo:N", title=None, legend=alt.Legend(orient="top", labelLimit=240)),
        tooltip=[alt.Tooltip("quando:N", title="Minuto"), alt.Tooltip("motivo:N", title="Motivo"),
                 alt.Tooltip("rotulo:N", title="Mensagens")],
    )
    return _finish(chart, TIME_HEIGHT)


def window_chart(rows: list[dict], measure: str, label: str, title: str, color: str, fmt: str):
    """One bar per event-time window, as wide as the window."""
    import altair as alt
    import pandas as pd

    chart = alt.Chart(pd.DataFrame(rows)).mark_bar(
        color=color, stroke="white", strokeWidth=1, orient="vertical"
    ).encode(
        x=_time_axis("inicio"),
        x2="fim:T",
        y=alt.Y(f"{measure}:Q", title=title, axis=alt.Axis(format=fmt)),
        y2=alt.datum(0),
        tooltip=[alt.Tooltip("quando:N", title="Janela"), alt.Tooltip(f"{label}:N", title=title)],
    )
    return _finish(chart, TIME_HEIGHT)
