"""The dashboard through Streamlit's own AppTest, on databases seeded through the consumer's
write path (tests/support/painel_data.py): empty, normal, unbalanced, stopped, falling
behind, with and without windows, hostile names; and its reads on a million products."""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal

import pandas as pd
import psycopg
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from localdev.processes import free_port
from tests.support import REPO_ROOT
from tests.support.painel_data import (
    NO_PRICE,
    empty_tables,
    million_products,
    product_totals,
    seed_dashboard,
    seeded_totals,
    window_rows,
    write_batch,
)
from tests.support.painel_data import behind_figures as behind
from vendas.dashboard.app import EMPTY_DATABASE, NO_WINDOWS, _escape_markdown
from vendas.dashboard.data import (
    SEARCH_SQL,
    TOP_BY_QUANTITY_SQL,
    TOP_BY_VALUE_SQL,
    consistent_read,
    like_prefix,
)
from vendas.dashboard.status import local_time
from vendas.formatting import fmt_brl, fmt_int
from vendas.outputs.postgres import db_text
from vendas.pipeline.rules import REASONS
from vendas.pipeline.totals import ProductTotal, Totals, rank
from vendas.terminal import visible

SCRIPT = str(REPO_ROOT / "painel_vendas.py")
md = _escape_markdown


def run_page(monkeypatch: pytest.MonkeyPatch, url: str, tab: str | None = None) -> AppTest:
    monkeypatch.setenv("VENDAS_BANCO", url)
    monkeypatch.setattr(sys, "argv", ["painel_vendas.py"])  # what `streamlit run` passes
    app = AppTest.from_file(SCRIPT, default_timeout=60)
    if tab is not None:
        app.query_params["aba"] = tab  # as the URL ?aba=Operação opens it
    app.run()
    assert not app.exception, app.exception
    return app


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def table(app: AppTest, first_column: str):
    """The dataframe whose first column is `first_column`."""
    found = [d.value for d in app.dataframe if d.value.columns[0] == first_column]
    assert len(found) == 1, [list(d.value.columns) for d in app.dataframe]
    return found[0]


def charts(app: AppTest) -> list[tuple[dict, pd.DataFrame]]:
    """Each Vega-Lite chart on the page: its spec and its data (Streamlit sends it as Arrow)."""
    found = []
    for chart in app.get("vega_lite_chart"):
        (dataset,) = chart.proto.datasets
        found.append((json.loads(chart.proto.spec),
                      pa.ipc.open_stream(dataset.data.data).read_pandas()))
    return found


def written_at(url: str) -> object:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT atualizado_em FROM resumo_vendas").fetchone()[0]


@pytest.mark.parametrize("tables", [False, True], ids=["sem-tabelas", "tabelas-vazias"])
def test_empty_database_shows_a_friendly_state(database_url, monkeypatch, tables):
    if tables:
        empty_tables(database_url)
    app = run_page(monkeypatch, database_url)
    assert texts(app.info) == [EMPTY_DATABASE]
    assert not app.error and not app.warning and not app.metric and not app.tabs


def test_only_rejected_messages_so_far(database_url, monkeypatch):
    """A first batch of nothing but rejected messages: totals, but no product yet."""
    write_batch(database_url, 0, Totals(), product_totals([], 0, duplicates=0), None)
    app = run_page(monkeypatch, database_url)
    assert metrics(app)["Pedidos contados"] == "0"
    assert texts(app.info) == ["Nenhum produto com preço unitário ainda.",
                               "Nenhum produto vendido ainda.", NO_WINDOWS]
    assert table(app, "#").empty
    app = run_page(monkeypatch, database_url, tab="Operação")
    assert texts(app.info) == [
        md("Ainda sem as medidas do Spark (atraso, taxas) dos últimos lotes."),
        "O Spark ainda não informou essas medidas.",
        "O Spark ainda não informou essas medidas.",
        "O Spark ainda não informou essas medidas.",
        "O Spark ainda não informou o atraso por partição.",
    ]
    assert md("lidas = contadas + repetidas + rejeitadas: 20 = 0 + 0 + 20") in texts(app.markdown)
    assert not app.error and not app.warning


def test_sales_view_shows_the_top_and_finds_products_by_name(database_url, monkeypatch):
    totals = seed_dashboard(database_url)
    ranked = sorted(totals.produtos, key=rank)
    best = ranked[0]

    app = run_page(monkeypatch, database_url)

    assert [t.label for t in app.tabs] == ["Vendas", "Operação"]
    assert not app.warning and not app.error
    assert metrics(app) == {
        "Pedidos contados": md(fmt_int(totals.pedidos)),
        "Valor vendido": md(fmt_brl(totals.valor_total)),
        "Valor sem preço unitário": md("R$ 5.230,00"),
        "Produtos vendidos": "55",
        "Produto que mais vendeu (valor)": md(best.produto),
        "Valor vendido dele": md(fmt_brl(best.valor_total)),
    }
    assert totals.pedidos == 1381 and best.produto == "iPhone 15 128GB"
    assert app.caption[0].value.startswith(md("Último lote: 59, gravado em "))

    products = table(app, "#")
    assert list(products.columns) == ["#", "Produto", "Quantidade", "Valor vendido"]
    assert products["Produto"].tolist() == [p.produto for p in ranked]
    assert products["Produto"].iloc[-1] == NO_PRICE
    assert products["Valor vendido"].iloc[-1] == "n/d"
    assert products["Quantidade"].tolist() == [fmt_int(p.quantidade_total) for p in ranked]
    assert "Todos os produtos (55)" in texts(app.subheader)

    # the charts: top 10 by value and by quantity, then revenue and orders per window
    shown = charts(app)
    assert len(shown) == 4
    assert shown[0][1]["produto"].tolist() == [p.produto for p in ranked[:10]]
    assert shown[0][1]["rotulo_valor"].tolist() == [fmt_brl(p.valor_total) for p in ranked[:10]]
    by_quantity = sorted(totals.produtos, key=lambda p: (-p.quantidade_total, p.produto))
    assert shown[1][1]["produto"].tolist() == [p.produto for p in by_quantity[:10]]
    assert shown[2][1]["rotulo_pedidos"].tolist() == [fmt_int(r[2]) for r in window_rows()]
    assert texts(app.markdown)[:2] == ["**Valor vendido: 10 primeiros**",
                                       "**Quantidade vendida: 10 primeiros**"]
    app.select_slider(key="top").set_value(5).run()
    assert texts(app.markdown)[:2] == ["**Valor vendido: 5 primeiros**",
                                       "**Quantidade vendida: 5 primeiros**"]

    # sales over time: 36 windows of 5 minutes
    rows = window_rows()
    orders = sum(r[2] for r in rows)
    value = sum(r[4] for r in rows)
    window_caption = next(c.value for c in app.caption if c.value.startswith("Janelas"))
    assert window_caption.startswith(md("Janelas de 5 min pela hora do pedido (data_hora), de "))
    assert window_caption.endswith(
        md(f"(hora de Brasília): {fmt_int(orders)} pedidos, {fmt_brl(value)} nessas janelas."))
    assert NO_WINDOWS not in texts(app.info)

    # the search: any case, the start of the name, alphabetical
    app.text_input(key="busca").input("SMART").run()
    found = table(app, "Produto")
    assert found["Produto"].tolist() == [
        'Smart TV LG 50" 4K UHD',
        'Smart TV Samsung 43" Crystal UHD',
        "Smartphone Motorola Moto G54 256GB",
        "Smartphone Samsung Galaxy A15 128GB",
        "Smartwatch Xiaomi Redmi Watch 4",
    ]
    by_name = {p.produto: p for p in totals.produtos}
    assert found["Valor vendido"].tolist() == [
        fmt_brl(by_name[name].valor_total) for name in found["Produto"]
    ]
    assert md("5 produtos começam com “SMART”, em ordem alfabética.") in texts(app.caption)

    app.text_input(key="busca").input("mouse sem").run()
    assert table(app, "Produto")["Produto"].tolist() == ["Mouse sem Fio Logitech M170"]
    assert md("1 produto começa com “mouse sem”.") in texts(app.caption)

    # LIKE's metacharacters are the user's text: "%" is not "anything"
    for term in ("%", "_ouse", "\\"):
        app.text_input(key="busca").input(term).run()
        assert md(f"Nenhum produto começa com “{term}”.") in texts(app.info)


def test_operations_view_of_a_consumer_keeping_up(database_url, monkeypatch):
    totals = seed_dashboard(database_url)

    app = run_page(monkeypatch, database_url, tab="Operação")

    assert metrics(app) == {
        "Atraso (mensagens)": "9",
        "Atraso estimado": md("< 0,1 s"),
        "Taxa de entrada": md("200/s"),
        "Taxa de processamento": md("900/s"),
        "Duração do lote": md("1,25 s"),
    }
    assert texts(app.success)[0] == md(
        "O consumidor está em dia: 9 mensagens de atraso (< 0,1 s no ritmo atual) no último lote."
    )
    assert not app.warning and not app.error
    # the last batch: 28 messages read, 24 counted, 1 duplicate, 3 rejected
    last = next(t for t in texts(app.markdown) if t.startswith(md("Lote 59,")))
    assert last.startswith(md(f"Lote 59, gravado em {local_time(written_at(database_url))} (há "))
    assert last.endswith(md(
        "): 28 mensagens lidas; 24 contadas, 1 repetida, 3 rejeitadas; processado em 1,25 s."))
    assert totals.mensagens_lidas == 1441
    assert md("lidas = contadas + repetidas + rejeitadas: 1.441 = 1.381 + 40 + 20") in texts(
        app.markdown)
    assert md(
        "Fecha: cada uma das 1.441 mensagens lidas do tópico foi contada como pedido, "
        "descartada como repetida ou rejeitada."
    ) in texts(app.success)

    (_, rates), (_, lag), (_, durations), (_, rejected) = charts(app)
    # the 60 batches of the last hour, the last one with its round numbers
    assert rates["serie"].value_counts().to_dict() == {"Entrada": 60, "Processamento": 60}
    assert rates["rotulo"].tolist()[-2:] == ["200 mensagens/s", "900 mensagens/s"]
    assert lag["rotulo"].tolist()[-1] == "9 mensagens"
    assert durations["rotulo"].tolist()[0] == "6,00 s"  # the first batch: a cold JVM
    assert durations["rotulo"].tolist()[-1] == "1,25 s"
    assert rejected.groupby("motivo")["mensagens"].sum().to_dict() == {
        "json_invalido": 12, "produtos_ausentes": 5, "valor_total_inconsistente": 3}

    lag = table(app, "Tópico/partição")
    assert lag.values.tolist() == [["vendas-ecommerce/0", "4"], ["vendas-ecommerce/1", "5"]]
    reasons = table(app, "Motivo")
    assert reasons.values.tolist() == [
        ["json_invalido", "12", REASONS["json_invalido"]],
        ["produtos_ausentes", "5", "lista de produtos ausente ou vazia"],
        ["valor_total_inconsistente", "3", "valor_total diferente da soma de quantidade x preço"],
    ]
    assert "Rejeitadas por motivo (20)" in texts(app.subheader)


def test_unbalanced_reconciliation_is_said_plainly(database_url, monkeypatch):
    seed_dashboard(database_url, seeded_totals(unread=7), windows=False)
    app = run_page(monkeypatch, database_url, tab="Operação")
    assert md("lidas = contadas + repetidas + rejeitadas: 1.448 ≠ 1.381 + 40 + 20") in texts(
        app.markdown)
    assert texts(app.error) == [md(
        "Não fecha: 7 mensagens lidas não foram contadas, nem descartadas como repetidas, nem "
        "rejeitadas."
    )]


def test_a_stopped_consumer_is_a_clear_state(database_url, monkeypatch):
    seed_dashboard(database_url, last_ago_s=630, windows=False)  # 10 min 30 s ago
    expected = md(
        "O consumidor parou de gravar há 10 min: o último lote (59) foi gravado em "
        f"{local_time(written_at(database_url))}. Se o tópico ainda recebe mensagens, confira se "
        "o consumidor está rodando."
    )
    for tab in (None, "Operação"):
        app = run_page(monkeypatch, database_url, tab)
        assert texts(app.warning) == [expected]
        assert not app.error
    assert not any("em dia" in s for s in texts(app.success))


def test_a_consumer_falling_behind_is_a_clear_state(database_url, monkeypatch):
    seed_dashboard(database_url, figures=behind, windows=False)
    app = run_page(monkeypatch, database_url, tab="Operação")
    assert texts(app.warning) == [md(
        "O consumidor está ficando para trás: 18.000 mensagens de atraso (~2 min no ritmo "
        "atual); o atraso cresceu em cada um dos últimos 5 lotes e mais de 60 s para alcançar "
        "o tópico. Ele processa menos mensagens por segundo do que chegam ao tópico."
    )]
    shown = metrics(app)
    assert shown["Atraso (mensagens)"] == md("18.000")
    assert shown["Atraso estimado"] == md("~2 min")
    assert shown["Taxa de processamento"] == md("150/s")
    assert not app.error


def test_without_windows_the_sales_view_says_why(database_url, monkeypatch):
    seed_dashboard(database_url, windows=False)
    app = run_page(monkeypatch, database_url)
    assert NO_WINDOWS in texts(app.info)
    assert "Vendas ao longo do tempo" in texts(app.subheader)
    assert len(charts(app)) == 2  # only the two top-N charts


HOSTILE = [
    "**x** <script>alert(1)</script> [a](javascript:alert(1))",
    "Cabo\x1b[2J\x1b[31mVERMELHO\nlinha 2\x00fim\u202eoculto",
    "$x^2$ <b>negrito</b> ![img](http://exemplo/x.png)",
]


def test_hostile_product_names_are_shown_as_plain_text(database_url, monkeypatch):
    extra = [ProductTotal(name, 3, Decimal(f"99999{i}.99")) for i, name in enumerate(HOSTILE)]
    seed_dashboard(database_url, seeded_totals(extra=extra), windows=False)
    stored = [db_text(name) for name in HOSTILE]  # NUL cannot be stored: shown as U+2400
    assert "\u2400" in stored[1]

    app = run_page(monkeypatch, database_url)

    best = metrics(app)["Produto que mais vendeu (valor)"]
    assert best == md(stored[2])  # the largest value: 999992.99
    assert best.startswith(r"\$x\^2\$ \<b\>negrito\<\/b\> \!\[img\]\(http\:\/\/exemplo")
    names = table(app, "#")["Produto"].tolist()
    assert names[:3] == [visible(stored[2]), visible(stored[1]), visible(stored[0])]
    assert names[1] == "Cabo\\x1b[2J\\x1b[31mVERMELHO\\nlinha 2\u2400fim\\u202eoculto"
    value_chart, quantity_chart = charts(app)
    assert value_chart[1]["produto"].tolist()[:3] == names[:3]  # the same escapes, as data
    for _, data in (value_chart, quantity_chart):
        assert not any(ch in name for name in data["produto"] for ch in "\x1b\n\x00\u202e")

    app.text_input(key="busca").input("**X** <SCRIPT>").run()
    assert table(app, "Produto")["Produto"].tolist() == [stored[0]]
    assert md("1 produto começa com “**X** <SCRIPT>”.") in texts(app.caption)
    app.text_input(key="busca").input("cabo\x1b").run()
    assert table(app, "Produto")["Produto"].tolist() == [visible(stored[1])]


def test_database_down_is_a_sentence_on_the_page(monkeypatch):
    url = f"postgresql://vendas:segredo@127.0.0.1:{free_port()}/vendas"
    app = run_page(monkeypatch, url)
    assert len(app.error) == 1
    assert "Não foi possível conectar ao PostgreSQL em vendas@127.0.0.1" in app.error[0].value
    assert "segredo" not in app.error[0].value


def _name(i: int) -> str:
    """million_products' name for row i."""
    words = ["Mouse", "Teclado", "Cabo", "Monitor", "Fone", "Café", "Camiseta", "Tênis"]
    return f"{words[i % 8]} modelo {i}"


def _plan_nodes(plan: dict) -> list[dict]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes.extend(_plan_nodes(child))
    return nodes


def test_reads_use_the_indexes_on_a_million_products(database_url, monkeypatch):
    """Top N by value and by quantity and the search read an index and stop at the limit:
    no sequential scan, no sort of the table, a few buffers, milliseconds."""
    n = 1_000_000
    million_products(database_url, n)
    with psycopg.connect(database_url) as conn:
        timings = {}
        for what, sql, params, index in [
            ("top 100 por valor", TOP_BY_VALUE_SQL, (100,), "totais_por_produto_por_valor"),
            ("top 50 por quantidade", TOP_BY_QUANTITY_SQL, (50,),
             "totais_por_produto_por_quantidade"),
            ("busca 'mouse'", SEARCH_SQL, (like_prefix("mouse"), 51),
             "totais_por_produto_por_nome"),
            ("busca 'CAFÉ MODELO 99'", SEARCH_SQL, (like_prefix("CAFÉ MODELO 99"), 51),
             "totais_por_produto_por_nome"),
        ]:
            (plan,) = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql,
                                   params).fetchone()[0]
            nodes = _plan_nodes(plan["Plan"])
            kinds = [node["Node Type"] for node in nodes]
            assert "Seq Scan" not in kinds and "Sort" not in kinds, (what, kinds)
            scans = [node for node in nodes if node["Node Type"] in ("Index Scan",
                                                                     "Index Only Scan")]
            assert [scan["Index Name"] for scan in scans] == [index], (what, kinds)
            assert scans[0]["Actual Rows"] <= params[-1] + 1, what  # stopped at the limit
            assert plan["Plan"]["Shared Hit Blocks"] + plan["Plan"]["Shared Read Blocks"] < 500
            timings[what] = plan["Execution Time"]
        print("\nEXPLAIN ANALYZE em 1.000.000 produtos (ms):", timings)
        assert all(ms < 100 for ms in timings.values()), timings

    with psycopg.connect(database_url) as conn, consistent_read(conn) as reader:
        top = reader.top_by_value(3)
        found = reader.search("café modelo 99", 50)
    best = sorted(range(1, n + 1), key=lambda i: (  # the database's order, computed here
        i % 50 == 0, -((i * 104729) % 10_000_000), -(1 + (i * 7919) % 5000), _name(i)))
    assert [p.produto for p in top] == [_name(i) for i in best[:3]]
    matches = sorted((_name(i) for i in range(1, n + 1)
                      if _name(i).lower().startswith("café modelo 99")), key=str.lower)
    assert [p.produto for p in found.produtos] == matches[:50] and found.mais

    # the page itself over the million products
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO resumo_vendas (pedidos, quantidade_total, valor_total, "
            "valor_nao_atribuido, produtos, mensagens_rejeitadas, duplicadas, mensagens_lidas, "
            "atualizado_em, lote) VALUES (2000000, 0, 0, 0, %s, 0, 0, 2000000, now(), 1)", (n,))
    started = time.monotonic()
    app = run_page(monkeypatch, database_url)
    took = time.monotonic() - started
    print(f"página (AppTest) sobre 1.000.000 produtos: {took:.2f} s")
    assert "Os 100 primeiros em valor, de 1.000.000" in texts(app.subheader)
    assert table(app, "#")["Produto"].tolist() == [_name(i) for i in best[:100]]
    app.text_input(key="busca").input("TÊNIS MODELO 77775").run()
    assert table(app, "Produto")["Produto"].tolist() == [
        "Tênis modelo 77775", "Tênis modelo 777751", "Tênis modelo 777759"]
