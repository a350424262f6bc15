"""The dashboard through Streamlit's own AppTest, on a seeded database (or none)."""

from __future__ import annotations

import sys

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from localdev.processes import free_port
from tests.support import REPO_ROOT
from tests.support.painel_data import seed, seeded_totals
from vendas.dashboard.app import _escape_markdown
from vendas.formatting import fmt_brl, fmt_int
from vendas.outputs.postgres import read_snapshot

SCRIPT = str(REPO_ROOT / "painel_vendas.py")


def run_page(monkeypatch: pytest.MonkeyPatch, url: str) -> AppTest:
    monkeypatch.setenv("VENDAS_BANCO", url)
    monkeypatch.setattr(sys, "argv", ["painel_vendas.py"])  # what `streamlit run` passes
    app = AppTest.from_file(SCRIPT, default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    return app


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def test_page_numbers_equal_the_table(database_url, monkeypatch):
    totals = seeded_totals()
    seed(database_url, totals, 4)
    with psycopg.connect(database_url) as conn:
        snapshot = read_snapshot(conn)
        rows = conn.execute(
            "SELECT produto, quantidade_total, valor_total FROM totais_por_produto "
            "ORDER BY valor_total DESC NULLS LAST, quantidade_total DESC, produto"
        ).fetchall()
        orders, value = conn.execute("SELECT pedidos, valor_total FROM resumo_vendas").fetchone()

    app = run_page(monkeypatch, database_url)

    shown = metrics(app)
    best_name, _, best_value = rows[0]
    assert shown["Pedidos contados"] == _escape_markdown(fmt_int(orders))
    assert shown["Valor vendido"] == _escape_markdown(fmt_brl(value))
    assert value == sum(v for _, _, v in rows if v is not None)
    assert shown["Valor sem preço unitário"] == _escape_markdown("R$ 5.230,00")
    assert shown["Produto que mais vendeu (valor)"] == _escape_markdown(best_name)
    assert shown["Valor vendido dele"] == _escape_markdown(fmt_brl(best_value))

    table = app.dataframe[0].value
    assert list(table.columns) == ["#", "Produto", "Quantidade", "Valor vendido"]
    assert table["Produto"].tolist() == [name for name, _, _ in rows]
    assert table["Quantidade"].tolist() == [fmt_int(q) for _, q, _ in rows]
    assert table["Valor vendido"].tolist() == [
        "n/d" if v is None else fmt_brl(v) for _, _, v in rows
    ]
    reasons = app.dataframe[1].value
    assert dict(zip(reasons["Motivo"], reasons["Mensagens"])) == {
        "json_invalido": "3",
        "sem_produtos": "1",
    }
    assert any(_escape_markdown("Último lote: 4, gravado em") in c.value for c in app.caption)
    assert snapshot.produtos[0].produto == best_name
    assert app.select_slider[0].value == 10
    assert [s.value for s in app.subheader][:2] == [
        "Valor vendido: 10 primeiros",
        "Quantidade vendida: 10 primeiros",
    ]
    assert len(app.get("vega_lite_chart")) == 2

    app.select_slider[0].set_value(5).run()  # the selector: top 5 in both charts
    assert [s.value for s in app.subheader][:2] == [
        "Valor vendido: 5 primeiros",
        "Quantidade vendida: 5 primeiros",
    ]


def test_empty_database_shows_a_friendly_state(database_url, monkeypatch):
    app = run_page(monkeypatch, database_url)  # no tables at all yet
    friendly = (
        "Ainda não há totais no banco. Inicie o consumidor com --banco (ou VENDAS_BANCO) "
        "e os números aparecem aqui sozinhos."
    )
    assert [i.value for i in app.info] == [friendly]
    assert not app.error and not app.metric


def test_database_down_is_a_sentence_on_the_page(monkeypatch):
    url = f"postgresql://vendas:segredo@127.0.0.1:{free_port()}/vendas"
    app = run_page(monkeypatch, url)
    assert len(app.error) == 1
    assert "Não foi possível conectar ao PostgreSQL em vendas@127.0.0.1" in app.error[0].value
    assert "segredo" not in app.error[0].value
