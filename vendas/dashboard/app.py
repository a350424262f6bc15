"""The live dashboard: a Streamlit page over the tables the consumer keeps in PostgreSQL.

`python painel_vendas.py` checks the database and the port, then hands over to
`streamlit run` on the same script (the URL travels in VENDAS_BANCO, never on argv);
under Streamlit the same script renders `page()`, which re-reads the database every few
seconds in a fragment: one consistent read per refresh, of only what the open tab shows
(vendas.dashboard.data), so that a million products cost what fifty do.

Two tabs: the sales (totals, the top products, sales per window, a search by name) and the
operations (lag, rates, batch duration, rejections over time, the reconciliation). Product
names come from the topic, so they are untrusted: they only ever reach the page as data
(charts, tables) with their control characters made visible, or Markdown-escaped where
Streamlit reads Markdown (metric values, captions), never as Markdown or HTML.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from datetime import datetime, timedelta
from pathlib import Path

from vendas.cli import PortugueseArgumentParser, positive_float, positive_int, report_user_error
from vendas.dashboard import charts
from vendas.dashboard.data import Batch, Overview, Reader, Window, consistent_read
from vendas.dashboard.status import (
    BEHIND,
    KEEPING_UP,
    STOPPED,
    ConsumerState,
    age,
    consumer_state,
    lag_seconds_text,
    local_naive,
    local_time,
    plural,
    reconciliation,
    span,
)
from vendas.errors import UserError
from vendas.formatting import fmt_brl, fmt_float, fmt_int, fmt_rate
from vendas.logs import setup_logging
from vendas.outputs.postgres import connect, describe
from vendas.pipeline.rules import REASONS
from vendas.pipeline.totals import ProductTotal
from vendas.terminal import visible

DEFAULT_PORT = 8501
DEFAULT_HOST = "127.0.0.1"
DEFAULT_REFRESH_S = 3.0
TOP_CHOICES = (5, 10, 15, 20, 30, 50)
DEFAULT_TOP = 10
TABLE_ROWS = 100  # the products table: the first ones by value (the rest: search by name)
SEARCH_ROWS = 50
SEARCH_MAX_CHARS = 100
HISTORY_SPAN = timedelta(hours=1)  # the operations charts
WINDOWS_SPAN = timedelta(hours=6)  # sales over time: the hours before the newest window
assert TABLE_ROWS >= max(TOP_CHOICES)
SALES_TAB, OPERATIONS_TAB = "Vendas", "Operação"
UNKNOWN = "n/d"  # value not known: only orders without unit prices sold the product
EMPTY_DATABASE = (
    "Ainda não há totais no banco. Inicie o consumidor com --banco (ou VENDAS_BANCO) "
    "e os números aparecem aqui sozinhos."
)
NO_WINDOWS = (
    "Sem vendas por janela de tempo: o consumidor roda sem `--window`. Inicie-o com "
    '`--window "1 minute"` (por exemplo) para ver aqui a receita e os pedidos por janela.'
)


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
    script = str(Path(__file__).resolve().parents[2] / "painel_vendas.py")  # the entry script
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
        # as the server binds (Tornado sets SO_REUSEADDR): the closed connections of a
        # previous run (TIME_WAIT) do not make the port busy, a listener still does
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise UserError(
                f"A porta {port} do painel já está em uso: escolha outra com --porta "
                f"ou PAINEL_PORT=... (make painel)."
            ) from None


# --- The page --------------------------------------------------------------------------------


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
    st.title("Vendas por produto, ao vivo")
    if not url:
        st.error("Informe o banco com --banco URL ou na variável VENDAS_BANCO.")
        st.stop()

    @st.fragment(run_every=args.atualizar)
    def live() -> None:
        try:
            with connect(url, "vendas-painel") as conn, consistent_read(conn) as reader:
                render(reader, args.atualizar, describe(url))
        except UserError as error:
            st.error(str(error))
        except psycopg.Error as error:  # a dropped connection mid-read: say so, retry next refresh
            st.error(f"Erro ao ler o banco ({type(error).__name__}); nova tentativa em instantes.")

    live()


def render(reader: Reader, refresh_s: float = DEFAULT_REFRESH_S, where: str = "") -> None:
    """The header, the consumer's state and the open tab, from one consistent read."""
    import streamlit as st

    md = _escape_markdown
    every = fmt_float(refresh_s, 0 if refresh_s == int(refresh_s) else 1)
    refresh = f"atualiza a cada {every} s"
    overview = reader.overview()
    summary = overview.resumo
    if summary is None:
        st.info(EMPTY_DATABASE)
        st.caption(md(f"Banco: {where}; {refresh}."))
        return
    st.caption(
        md(
            f"Último lote: {fmt_int(summary.lote)}, gravado em "
            f"{local_time(summary.atualizado_em)} ({age(summary.atualizado_em, overview.agora)}); "
            f"{refresh}. Banco: {where}."
        )
    )
    state = consumer_state(overview)
    if state.kind in (STOPPED, BEHIND):
        st.warning(md(state.sentence), icon="⚠️")
    # Only the open tab runs (and reads): switching tabs reruns the page; ?aba=... opens one.
    sales, operations = st.tabs(
        [SALES_TAB, OPERATIONS_TAB], key="aba", on_change="rerun", bind="query-params"
    )
    if operations.open:
        with operations:
            render_operations(reader, overview, state)
    else:
        with sales:
            render_sales(reader, overview)


def render_sales(reader: Reader, overview: Overview) -> None:
    import streamlit as st

    md = _escape_markdown
    summary = overview.resumo
    cols = st.columns(4)
    cols[0].metric("Pedidos contados", md(fmt_int(summary.pedidos)), border=True)
    cols[1].metric(
        "Valor vendido",
        md(fmt_brl(summary.valor_total)),
        border=True,
        help="Soma de quantidade × preço unitário, ao centavo.",
    )
    cols[2].metric(
        "Valor sem preço unitário",
        md(fmt_brl(summary.valor_nao_atribuido)),
        border=True,
        help="Valor de pedidos sem preço por produto (formatos antigos): "
        "contado nos pedidos, não atribuído a produtos.",
    )
    cols[3].metric(
        "Produtos vendidos",
        md(fmt_int(summary.produtos)),
        border=True,
        help="Produtos diferentes com ao menos uma unidade vendida.",
    )

    by_value = reader.top_by_value(TABLE_ROWS)  # the table's rows hold the chart's too
    best = next((p for p in by_value if p.valor_total is not None), None)
    if best is not None:
        cols = st.columns([3, 1])
        cols[0].metric("Produto que mais vendeu (valor)", md(best.produto), border=True)
        cols[1].metric(
            "Valor vendido dele",
            md(fmt_brl(best.valor_total)),
            border=True,
            help=md(f"{fmt_int(best.quantidade_total)} unidades"),
        )

    head, choice = st.columns([3, 1], vertical_alignment="bottom")
    head.subheader("Os produtos que mais venderam")
    top = choice.select_slider(
        "Produtos nos gráficos", options=TOP_CHOICES, value=DEFAULT_TOP, key="top"
    )
    value_rows = charts.product_rows(by_value, top, by_value=True)
    quantity_rows = charts.product_rows(reader.top_by_quantity(top), top, by_value=False)
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown(f"**Valor vendido: {len(value_rows)} primeiros**")
        if value_rows:
            st.altair_chart(
                charts.bar_chart(value_rows, "valor", "rotulo_valor", charts.VALUE_COLOR),
                width="stretch",
            )
        else:
            st.info("Nenhum produto com preço unitário ainda.")
    with right:
        st.markdown(f"**Quantidade vendida: {len(quantity_rows)} primeiros**")
        if quantity_rows:
            st.altair_chart(
                charts.bar_chart(
                    quantity_rows, "quantidade", "rotulo_quantidade", charts.QUANTITY_COLOR
                ),
                width="stretch",
            )
        else:
            st.info("Nenhum produto vendido ainda.")

    render_windows(reader.windows(WINDOWS_SPAN))

    left, right = st.columns([3, 2], gap="large")
    with left:
        shown = by_value[:TABLE_ROWS]
        if summary.produtos <= len(shown):
            st.subheader(f"Todos os produtos ({fmt_int(len(shown))})")
        else:
            st.subheader(
                f"Os {fmt_int(len(shown))} primeiros em valor, de {fmt_int(summary.produtos)}",
                help="Os demais estão no banco: busque pelo nome ao lado.",
            )
        st.dataframe(
            _frame(product_table(shown, ranked=True), PRODUCT_COLUMNS),
            hide_index=True,
            width="stretch",
            height=420,
            column_config=_table_columns(),
        )
    with right:
        st.subheader("Buscar produto")
        term = st.text_input(
            "Começo do nome (maiúsculas ou minúsculas)",
            key="busca",
            max_chars=SEARCH_MAX_CHARS,
            placeholder="ex.: mouse",
        ).strip()
        if term:
            render_search(reader, term)


def render_search(reader: Reader, term: str) -> None:
    import streamlit as st

    md = _escape_markdown
    found = reader.search(term, SEARCH_ROWS)
    quoted = f"“{visible(term)}”"
    if not found.produtos:
        st.info(md(f"Nenhum produto começa com {quoted}."))
        return
    n = len(found.produtos)
    if found.mais:
        text = (f"Mais de {fmt_int(n)} produtos começam com {quoted}: os {fmt_int(n)} "
                "primeiros em ordem alfabética; continue digitando para achar o seu.")
    elif n == 1:
        text = f"1 produto começa com {quoted}."
    else:
        text = f"{fmt_int(n)} produtos começam com {quoted}, em ordem alfabética."
    st.caption(md(text))
    st.dataframe(
        _frame(product_table(found.produtos, ranked=False), PRODUCT_COLUMNS[1:]),
        hide_index=True,
        width="stretch",
        column_config=_table_columns(),
    )


def render_windows(windows: list[Window] | None) -> None:
    import streamlit as st

    md = _escape_markdown
    st.subheader("Vendas ao longo do tempo")
    if not windows:
        st.info(NO_WINDOWS)
        return
    first, last = windows[0], windows[-1]
    length = span((last.fim - last.inicio).total_seconds())
    start, end = local_naive(first.inicio), local_naive(last.fim)
    orders = sum(w.pedidos for w in windows)
    value = sum(w.valor_total for w in windows)
    st.caption(
        md(
            f"Janelas de {length} pela hora do pedido (data_hora), de {start:%d/%m %H:%M} a "
            f"{end:%d/%m %H:%M} (hora de Brasília): {fmt_int(orders)} pedidos, "
            f"{fmt_brl(value)} nessas janelas."
        )
    )
    rows = charts.window_rows(windows)
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**Receita por janela**")
        st.altair_chart(
            charts.window_chart(rows, "receita", "rotulo_receita", "receita (R$)",
                                charts.VALUE_COLOR, ",.0f"),
            width="stretch",
        )
    with right:
        st.markdown("**Pedidos por janela**")
        st.altair_chart(
            charts.window_chart(rows, "pedidos", "rotulo_pedidos", "pedidos",
                                charts.QUANTITY_COLOR, ",.0f"),
            width="stretch",
        )


def render_operations(reader: Reader, overview: Overview, state: ConsumerState) -> None:
    import streamlit as st

    md = _escape_markdown
    summary = overview.resumo
    history = reader.history(HISTORY_SPAN)
    measured = [b for b in overview.recentes if b.medido]
    last = measured[-1] if measured else None

    if state.kind == KEEPING_UP:
        st.success(md(state.sentence))
    elif state.kind not in (STOPPED, BEHIND):  # those two are above the tabs already
        st.info(md(state.sentence))
    cols = st.columns(5)
    lag = None if last is None else last.atraso_mensagens
    cols[0].metric("Atraso (mensagens)", md(UNKNOWN if lag is None else fmt_int(lag)),
                   border=True, help="Mensagens no tópico depois das que o último lote leu, "
                   "somadas as partições.")
    cols[1].metric("Atraso estimado",
                   md(lag_seconds_text(None if last is None else last.atraso_segundos)),
                   border=True, help="Atraso ÷ taxa de processamento do último lote.")
    cols[2].metric("Taxa de entrada", md(_rate(None if last is None else last.taxa_entrada)),
                   border=True, help="Mensagens por segundo chegando ao tópico.")
    cols[3].metric("Taxa de processamento",
                   md(_rate(None if last is None else last.taxa_processamento)), border=True,
                   help="Mensagens por segundo que o consumidor processa.")
    cols[4].metric("Duração do lote",
                   md(UNKNOWN if last is None else f"{fmt_float(last.duracao_ms / 1000, 2)} s"),
                   border=True)

    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Último lote")
        newest = overview.recentes[-1] if overview.recentes else None
        st.markdown(md(last_batch_text(summary.lote, summary.atualizado_em, newest, overview)))
    with right:
        st.subheader(
            "Conciliação",
            help="Mensagens lidas do tópico (pelos offsets do Kafka) = pedidos contados + "
            "repetidas descartadas + rejeitadas (enviadas ao tópico de rejeitadas).",
        )
        balance = reconciliation(summary)
        st.markdown(md(f"lidas = contadas + repetidas + rejeitadas: {balance.equation}"))
        if balance.balanced:
            st.success(md(balance.sentence))
        else:
            st.error(md(balance.sentence))

    if not history:
        st.info("Nenhum lote gravado na última hora: sem gráficos de taxas, atraso e duração.")
    else:
        domain = charts.history_domain(history)  # one time axis for the four charts
        left, right = st.columns(2, gap="large")
        with left:
            st.markdown("**Entrada e processamento na última hora (mensagens/s)**")
            _chart_or_note(charts.rate_rows(history),
                           lambda rows: charts.rate_chart(rows, domain))
        with right:
            st.markdown("**Atraso na última hora (mensagens)**")
            _chart_or_note(charts.lag_rows(history), lambda rows: charts.series_chart(
                rows, "atraso", "mensagens", charts.LAG_COLOR, ",.0f", True, domain))
        left, right = st.columns(2, gap="large")
        with left:
            st.markdown("**Duração dos lotes na última hora (s)**")
            _chart_or_note(charts.duration_rows(history), lambda rows: charts.series_chart(
                rows, "segundos", "segundos", charts.DURATION_COLOR, ",.1f", False, domain))
        with right:
            st.markdown("**Rejeitadas por minuto e motivo, na última hora**")
            rows = charts.rejection_rows(history)
            if rows:
                st.altair_chart(charts.rejection_chart(rows, domain), width="stretch")
            else:
                st.success("Nenhuma mensagem rejeitada na última hora.")

    left, right = st.columns([2, 3], gap="large")
    with left:
        st.subheader("Atraso por partição")
        if last is None or not last.atraso_por_particao:
            st.info("O Spark ainda não informou o atraso por partição.")
        else:
            st.dataframe(
                [{"Tópico/partição": visible(k), "Atraso": fmt_int(v)}
                 for k, v in sorted(last.atraso_por_particao.items())],
                hide_index=True,
                width="stretch",
                column_config={"Atraso": st.column_config.TextColumn(alignment="right")},
            )
    with right:
        rejected = reader.rejections()
        st.subheader(
            f"Rejeitadas por motivo ({fmt_int(sum(rejected.values()))})",
            help="Mensagens inválidas, enviadas intactas ao tópico de rejeitadas.",
        )
        if rejected:
            st.dataframe(
                [{"Motivo": visible(k), "Mensagens": fmt_int(v), "O que é": REASONS.get(k, "")}
                 for k, v in rejected.items()],
                hide_index=True,
                width="stretch",
                column_config={"Mensagens": st.column_config.TextColumn(alignment="right")},
            )
        else:
            st.success("Nenhuma mensagem rejeitada.")


def last_batch_text(lote: int, written: datetime, newest: Batch | None, overview: Overview) -> str:
    """'Lote 12, gravado em ... (há 4 s): 1.000 mensagens lidas: 950 contadas, ...'"""
    text = (f"Lote {fmt_int(lote)}, gravado em {local_time(written)} "
            f"({age(written, overview.agora)})")
    if newest is None or newest.lote != lote:
        return text + "."
    text += (f": {plural(newest.mensagens, 'mensagem lida', 'mensagens lidas')}; "
             f"{plural(newest.pedidos, 'contada', 'contadas')}, "
             f"{plural(newest.duplicadas, 'repetida', 'repetidas')}, "
             f"{plural(newest.rejeitadas, 'rejeitada', 'rejeitadas')}")
    if newest.duracao_ms is not None:
        text += f"; processado em {fmt_float(newest.duracao_ms / 1000, 2)} s"
    return text + "."


def _rate(rate: float | None) -> str:
    return UNKNOWN if rate is None else f"{fmt_rate(rate)}/s"


def _chart_or_note(rows: list[dict], chart) -> None:
    import streamlit as st

    if rows:
        st.altair_chart(chart(rows), width="stretch")
    else:
        st.info("O Spark ainda não informou essas medidas.")


def product_table(products: list[ProductTotal], ranked: bool) -> list[dict[str, object]]:
    """Products as the tables show them: name made visible, numbers in pt-BR."""
    return [
        {
            **({"#": rank} if ranked else {}),
            "Produto": visible(p.produto),
            "Quantidade": fmt_int(p.quantidade_total),
            "Valor vendido": UNKNOWN if p.valor_total is None else fmt_brl(p.valor_total),
        }
        for rank, p in enumerate(products, start=1)
    ]


PRODUCT_COLUMNS = ("#", "Produto", "Quantidade", "Valor vendido")


def _frame(rows: list[dict[str, object]], columns: tuple[str, ...]):
    """A table's rows with its columns named even when there is no row."""
    import pandas as pd

    return pd.DataFrame(rows, columns=list(columns))


def _table_columns() -> dict:
    import streamlit as st

    return {
        "#": st.column_config.NumberColumn(width="small"),
        "Quantidade": st.column_config.TextColumn(alignment="right"),
        "Valor vendido": st.column_config.TextColumn(alignment="right"),
    }


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
