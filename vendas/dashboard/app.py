"""The live dashboard: a Streamlit page over the tables the consumer keeps in PostgreSQL.

`python painel_vendas.py` checks the database and the port, then hands over to
`streamlit run` on the same script (the URL travels in VENDAS_BANCO, never on argv);
under Streamlit the same script renders `page()`, which re-reads the tables every few
seconds in a fragment. Product names come from the topic, so they are untrusted: they
only ever reach the page as data (charts, tables, metric values), never as Markdown or HTML.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from vendas import contract as c
from vendas.cli import PortugueseArgumentParser, positive_float, positive_int, report_user_error
from vendas.errors import UserError
from vendas.formatting import fmt_brl, fmt_float, fmt_int
from vendas.logs import setup_logging
from vendas.outputs.postgres import Snapshot, connect, describe, read_snapshot
from vendas.terminal import visible

DEFAULT_PORT = 8501
DEFAULT_HOST = "127.0.0.1"
DEFAULT_REFRESH_S = 3.0
TOP_CHOICES = (5, 10, 15, 20, 30, 50)
DEFAULT_TOP = 10
BAR_COLOR = "#1f6feb"
QUANTITY_COLOR = "#2da44e"
UNKNOWN = "n/d"  # value not known: only orders without unit prices sold the product


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = PortugueseArgumentParser(
        prog="painel_vendas.py",
        description="Painel ao vivo (Streamlit) dos totais que o consumidor grava no PostgreSQL.",
        epilog="Exemplo:\n  export VENDAS_BANCO=postgresql://usuario:senha@host:5432/vendas\n"
        "  python painel_vendas.py --porta 8501",
    )
    parser.add_argument(
        "--banco",
        default=None,
        metavar="URL",
        help="URL do PostgreSQL (padrão: a variável VENDAS_BANCO, que evita a "
        "senha na linha de comando)",
    )
    parser.add_argument(
        "--porta",
        type=positive_int,
        default=int(os.environ.get("PAINEL_PORT") or DEFAULT_PORT),
        help="porta HTTP do painel (padrão: $PAINEL_PORT ou %(default)s)",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("PAINEL_HOST") or DEFAULT_HOST,
        help="endereço em que o painel escuta; 0.0.0.0 abre para a rede "
        "(padrão: $PAINEL_HOST ou %(default)s)",
    )
    parser.add_argument(
        "--atualizar",
        type=positive_float,
        default=DEFAULT_REFRESH_S,
        metavar="SEGUNDOS",
        help="intervalo entre atualizações da página (padrão: %(default)s)",
    )
    return parser.parse_args(argv)


def database_url(args: argparse.Namespace) -> str:
    url = args.banco or os.environ.get("VENDAS_BANCO")
    if not url:
        raise UserError(
            "Informe o banco com --banco URL ou na variável VENDAS_BANCO (make db-up mostra como)."
        )
    return url


def serve(argv: list[str] | None = None) -> int:
    """Check what the user can get wrong, then become `streamlit run` on the entry script."""
    setup_logging()
    args = parse_args(argv)
    try:
        url = database_url(args)
        connect(url, "vendas-painel").close()
        ensure_port_free(args.host, args.porta)
    except UserError as error:
        return report_user_error(error)
    script = str(Path(__file__).resolve().parent.parent / "painel_vendas.py")
    env = dict(os.environ, VENDAS_BANCO=url)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.address",
        args.host,
        "--server.port",
        str(args.porta),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
        "--theme.base",
        "light",
        "--",
        "--atualizar",
        str(args.atualizar),
    ]
    host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
    print(
        f"Painel em http://{host}:{args.porta} (banco: {describe(url)}); Ctrl-C para parar.",
        flush=True,
    )
    os.execve(sys.executable, command, env)
    return 0  # not reached


def ensure_port_free(host: str, port: int) -> None:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            raise UserError(
                f"A porta {port} do painel já está em uso: escolha outra com --porta "
                f"ou PAINEL_PORT=... (make painel)."
            ) from None


# --- The page --------------------------------------------------------------------------------


def local_time(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(c.DEFAULT_TIME_ZONE)).strftime("%d/%m/%Y %H:%M:%S")


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """'há 4 s', 'há 3 min', 'há 2 h': how old the last written batch is."""
    if moment is None:
        return ""
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - moment).total_seconds()))
    if seconds < 60:
        return f"há {seconds} s"
    if seconds < 3600:
        return f"há {seconds // 60} min"
    return f"há {seconds // 3600} h"


def product_rows(snapshot: Snapshot) -> list[dict[str, object]]:
    """The products table as the page shows it: rank, name, quantity and value in reais."""
    return [
        {
            "#": rank,
            "Produto": p.produto,
            "Quantidade": fmt_int(p.quantidade_total),
            "Valor vendido": UNKNOWN if p.valor_total is None else fmt_brl(p.valor_total),
        }
        for rank, p in enumerate(snapshot.produtos, start=1)
    ]


def chart_rows(snapshot: Snapshot, top: int, by_value: bool) -> list[dict[str, object]]:
    """The top products by value (or by quantity), with their labels already in pt-BR."""
    if by_value:
        chosen = [p for p in snapshot.produtos if p.valor_total is not None][:top]
    else:
        chosen = sorted(snapshot.produtos, key=lambda p: (-p.quantidade_total, p.produto))[:top]
    return [
        {
            "produto": p.produto,
            "valor": float(p.valor_total or 0),
            "rotulo_valor": fmt_brl(p.valor_total or 0),
            "quantidade": p.quantidade_total,
            "rotulo_quantidade": fmt_int(p.quantidade_total),
        }
        for p in chosen
    ]


def bar_chart(rows: list[dict[str, object]], measure: str, label: str, color: str):
    """Horizontal bars, biggest on top, each labelled with its formatted number."""
    import altair as alt
    import pandas as pd

    data = pd.DataFrame(rows)
    height = max(120, 28 * len(rows))
    biggest = max((float(r[measure]) for r in rows), default=0) or 1
    base = alt.Chart(data).encode(
        y=alt.Y(
            "produto:N",
            sort=alt.SortField(measure, order="descending"),
            title=None,
            axis=alt.Axis(
                labelLimit=280, labelFontSize=13, labelColor="#1f2328", ticks=False, domain=False
            ),
        ),
        # room on the right for the labels
        x=alt.X(f"{measure}:Q", axis=None, scale=alt.Scale(domain=[0, biggest * 1.5], nice=False)),
    )
    bars = base.mark_bar(color=color, cornerRadiusEnd=3, height=20).encode(
        tooltip=[
            alt.Tooltip("produto:N", title="Produto"),
            alt.Tooltip(f"{label}:N", title="Total"),
        ]
    )
    text = base.mark_text(align="left", dx=4, fontSize=12, color="#1f2328").encode(
        text=f"{label}:N"
    )
    return (bars + text).properties(height=height).configure_view(stroke=None)


def page() -> None:
    """Render the dashboard (runs inside Streamlit)."""
    import psycopg
    import streamlit as st

    st.set_page_config(
        page_title="Vendas ao vivo",
        page_icon="📊",
        layout="wide",
        initial_sidebar_state="collapsed",
        menu_items={},
    )
    args = parse_args(sys.argv[1:])
    url = args.banco or os.environ.get("VENDAS_BANCO")
    title, choice = st.columns([4, 1], vertical_alignment="bottom")
    title.title("Vendas por produto, ao vivo")
    if not url:
        st.error("Informe o banco com --banco URL ou na variável VENDAS_BANCO.")
        st.stop()
    top = choice.select_slider("Produtos nos gráficos", options=TOP_CHOICES, value=DEFAULT_TOP)

    @st.fragment(run_every=args.atualizar)
    def live() -> None:
        try:
            with connect(url, "vendas-painel") as conn:
                snapshot = read_snapshot(conn)
        except UserError as error:
            st.error(str(error))
            return
        except psycopg.Error as error:  # a dropped connection mid-read: say so, retry next refresh
            st.error(f"Erro ao ler o banco ({type(error).__name__}); nova tentativa em instantes.")
            return
        render(snapshot, top, args.atualizar, describe(url))

    live()


def render(
    snapshot: Snapshot, top: int, refresh_s: float = DEFAULT_REFRESH_S, where: str = ""
) -> None:
    import streamlit as st

    md = _escape_markdown
    every = fmt_float(refresh_s, 0 if refresh_s == int(refresh_s) else 1)
    refresh = f"atualiza a cada {every} s"
    if snapshot.empty:
        st.info(
            "Ainda não há totais no banco. Inicie o consumidor com --banco (ou VENDAS_BANCO) "
            "e os números aparecem aqui sozinhos."
        )
        st.caption(md(f"Banco: {where}; {refresh}."))
        return
    st.caption(
        md(
            f"Último lote: {fmt_int(snapshot.lote)}, gravado em "
            f"{local_time(snapshot.atualizado_em)} ({age(snapshot.atualizado_em)}); "
            f"{refresh}. Banco: {where}."
        )
    )
    cols = st.columns(3)
    cols[0].metric("Pedidos contados", md(fmt_int(snapshot.pedidos)), border=True)
    cols[1].metric(
        "Valor vendido",
        md(fmt_brl(snapshot.valor_total)),
        border=True,
        help="Soma de quantidade × preço unitário, ao centavo.",
    )
    cols[2].metric(
        "Valor sem preço unitário",
        md(fmt_brl(snapshot.valor_nao_atribuido)),
        border=True,
        help="Valor de pedidos sem preço por produto (formatos antigos): "
        "contado nos pedidos, não atribuído a produtos.",
    )
    best = next((p for p in snapshot.produtos if p.valor_total is not None), None)
    if best is not None:
        cols = st.columns([2, 1])
        cols[0].metric("Produto que mais vendeu (valor)", md(best.produto), border=True)
        cols[1].metric(
            "Valor vendido dele",
            md(fmt_brl(best.valor_total)),
            border=True,
            help=md(f"{fmt_int(best.quantidade_total)} unidades"),
        )

    shown = min(top, len(snapshot.produtos))
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(f"Valor vendido: {shown} primeiros")
        rows = chart_rows(snapshot, top, by_value=True)
        if rows:
            st.altair_chart(bar_chart(rows, "valor", "rotulo_valor", BAR_COLOR), width="stretch")
        else:
            st.info("Nenhum produto com preço unitário ainda.")
    with right:
        st.subheader(f"Quantidade vendida: {shown} primeiros")
        st.altair_chart(
            bar_chart(
                chart_rows(snapshot, top, by_value=False),
                "quantidade",
                "rotulo_quantidade",
                QUANTITY_COLOR,
            ),
            width="stretch",
        )

    left, right = st.columns([2, 1], gap="large")
    with left:
        st.subheader(f"Todos os produtos ({fmt_int(len(snapshot.produtos))})")
        st.dataframe(
            product_rows(snapshot),
            hide_index=True,
            width="stretch",
            column_config={
                "#": st.column_config.NumberColumn(width="small"),
                "Quantidade": st.column_config.TextColumn(alignment="right"),
                "Valor vendido": st.column_config.TextColumn(alignment="right"),
            },
        )
    with right:
        st.subheader(
            f"Rejeitadas por motivo ({fmt_int(snapshot.total_rejeitadas)})",
            help="Mensagens inválidas, enviadas intactas ao tópico de rejeitadas.",
        )
        if snapshot.rejeitadas:
            reasons = [
                {"Motivo": k, "Mensagens": fmt_int(v)} for k, v in snapshot.rejeitadas.items()
            ]
            st.dataframe(
                reasons,
                hide_index=True,
                width="stretch",
                column_config={"Mensagens": st.column_config.TextColumn(alignment="right")},
            )
        else:
            st.success("Nenhuma mensagem rejeitada.")


_MARKDOWN_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _escape_markdown(text: object) -> str:
    """Text for a place where Streamlit reads Markdown (metric values, captions): control
    characters made visible, every ASCII punctuation character backslash-escaped, so that a
    product name is shown as written and never becomes a link, an image, a formula or HTML."""
    return "".join("\\" + ch if ch in _MARKDOWN_PUNCTUATION else ch for ch in visible(text))


def main(argv: list[str] | None = None) -> None:
    """The entry script: the page under Streamlit (the script must not exit there), else the
    launcher, which exits with its code."""
    if _inside_streamlit():
        page()
    else:
        sys.exit(serve(argv))


def _inside_streamlit() -> bool:
    """True while Streamlit (a server or AppTest) is running the script.

    `get_script_run_ctx` lives in streamlit.runtime.scriptrunner: the documented way to ask
    whether code runs inside a Streamlit script run.
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    return get_script_run_ctx(suppress_warning=True) is not None
