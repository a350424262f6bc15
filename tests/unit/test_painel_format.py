"""The dashboard's pure parts: names escaped for Markdown, LIKE patterns, chart rows, and the
judgments in words (stopped, falling behind, reconciliation)."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from vendas.dashboard.app import (
    _escape_markdown,
    ensure_port_free,
    last_batch_text,
    product_table,
)
from vendas.dashboard.charts import history_domain, product_rows, rejection_rows
from vendas.dashboard.data import Batch, Overview, Summary, like_prefix
from vendas.dashboard.status import (
    BEHIND,
    EMPTY,
    KEEPING_UP,
    STOPPED,
    UNMEASURED,
    age,
    consumer_state,
    lag_seconds_text,
    reconciliation,
    stopped_after,
)
from vendas.errors import UserError
from vendas.pipeline.totals import ProductTotal

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=timezone.utc)  # 12:00 in São Paulo


def summary(ago_s: float = 4, read: int = 1_000, orders: int = 950, duplicates: int = 30,
            rejected: int = 20) -> Summary:
    return Summary(orders, 2 * orders, Decimal("1234.50"), Decimal("0.00"), 55, rejected,
                   duplicates, read, NOW - timedelta(seconds=ago_s), 41)


def batches(lags: list[int | None], rate: float = 1_000.0, every_s: float = 3.0,
            last_ago_s: float = 4.0) -> list[Batch]:
    n = len(lags)
    return [
        Batch(42 - n + k, NOW - timedelta(seconds=last_ago_s + (n - 1 - k) * every_s), 100, 90,
              5, 5, {"json_invalido": 5}, None if lag is None else 800, 200.0,
              None if lag is None else rate, lag, {} if lag is None else {"vendas/0": lag})
        for k, lag in enumerate(lags)
    ]


def test_hostile_names_are_escaped_markdown_and_charts_take_data_only():
    name = "**negrito** [link](http://exemplo) $x$ <b>oi</b>\x1b[2J\n"
    escaped = _escape_markdown(name)
    assert "\x1b" not in escaped and "\\x1b" in escaped and "\n" not in escaped
    assert escaped.startswith(r"\*\*negrito\*\* \[link\]\(http\:\/\/exemplo\) \$x\$ \<b\>oi\<\/b\>")
    products = [ProductTotal(name, 3, Decimal("9.99")), ProductTotal("Cabo", 1, None)]
    assert product_rows(products, 10, by_value=True) == [
        {
            "produto": "**negrito** [link](http://exemplo) $x$ <b>oi</b>\\x1b[2J\\n",
            "valor": 9.99,
            "rotulo_valor": "R$ 9,99",
            "quantidade": 3,
            "rotulo_quantidade": "3",
        }
    ]
    assert [r["produto"] for r in product_rows(products, 1, by_value=False)] == [
        "**negrito** [link](http://exemplo) $x$ <b>oi</b>\\x1b[2J\\n"]
    assert product_table(products, ranked=True) == [
        {"#": 1, "Produto": "**negrito** [link](http://exemplo) $x$ <b>oi</b>\\x1b[2J\\n",
         "Quantidade": "3", "Valor vendido": "R$ 9,99"},
        {"#": 2, "Produto": "Cabo", "Quantidade": "1", "Valor vendido": "n/d"},
    ]


@pytest.mark.parametrize("text, pattern", [
    ("mouse", "mouse%"),
    ("100%", "100\\%%"),
    ("a_b", "a\\_b%"),
    ("c:\\x", "c:\\\\x%"),
    ("nul\x00", "nul\u2400%"),  # as db_text stores it
])
def test_search_text_is_a_literal_prefix(text, pattern):
    assert like_prefix(text) == pattern


def test_ages_and_lag_times_in_words():
    assert age(NOW - timedelta(seconds=4), NOW) == "há 4 s"
    assert age(NOW - timedelta(minutes=3, seconds=5), NOW) == "há 3 min"
    assert age(NOW - timedelta(hours=2, minutes=5), NOW) == "há 2 h 5 min"
    assert age(NOW - timedelta(days=3, hours=1), NOW) == "há 3 dias"
    assert [lag_seconds_text(s) for s in (None, 0, 0.01, 1.54, 42, 130)] == [
        "n/d", "0 s", "< 0,1 s", "~1,5 s", "~42 s", "~2 min"]


def test_an_empty_database_and_a_consumer_keeping_up():
    assert consumer_state(Overview(NOW)).kind == EMPTY
    state = consumer_state(Overview(NOW, summary(), batches([0, 3, 0, 12])))
    assert state.kind == KEEPING_UP
    assert state.sentence == (
        "O consumidor está em dia: 12 mensagens de atraso (< 0,1 s no ritmo atual) no último "
        "lote.")
    state = consumer_state(Overview(NOW, summary(), batches([0, None])))  # figures not in yet
    assert state.kind == KEEPING_UP and state.sentence.startswith(
        "O consumidor está em dia: 0 mensagens de atraso no último lote")
    assert consumer_state(Overview(NOW, summary(), batches([None]))).kind == UNMEASURED
    assert consumer_state(Overview(NOW, summary(), [])).kind == UNMEASURED


def test_a_consumer_that_stopped_writing():
    state = consumer_state(Overview(NOW, summary(ago_s=3 * 60 + 7), batches([0, 0, 0])))
    assert state.kind == STOPPED
    assert state.sentence == (
        "O consumidor parou de gravar há 3 min: o último lote (41) foi gravado em 01/12/2026 "
        "11:56:53. Se o tópico ainda recebe mensagens, confira se o consumidor está rodando.")
    # a consumer triggered every 5 minutes is not stopped after 3 minutes, but after 25
    slow = batches([0, 0, 0], every_s=300)
    assert stopped_after(slow) == timedelta(minutes=25)
    assert consumer_state(Overview(NOW, summary(ago_s=3 * 60), slow)).kind == KEEPING_UP
    assert consumer_state(Overview(NOW, summary(ago_s=26 * 60), slow)).kind == STOPPED


def test_a_consumer_falling_behind():
    growing = consumer_state(Overview(NOW, summary(), batches([0, 100, 200, 300, 400, 500])))
    assert growing.kind == BEHIND
    assert growing.sentence == (
        "O consumidor está ficando para trás: 500 mensagens de atraso (~0,5 s no ritmo atual); "
        "o atraso cresceu em cada um dos últimos 5 lotes. Ele processa menos mensagens por "
        "segundo do que chegam ao tópico.")
    slow = consumer_state(Overview(NOW, summary(), batches([90_000, 90_000], rate=1_000)))
    assert slow.kind == BEHIND
    assert slow.sentence.startswith(
        "O consumidor está ficando para trás: 90.000 mensagens de atraso (~1 min no ritmo "
        "atual); mais de 60 s para alcançar o tópico.")
    # growing over four batches only, or not at every batch: not yet
    assert consumer_state(Overview(NOW, summary(), batches([0, 100, 200, 300]))).kind \
        == KEEPING_UP
    assert consumer_state(Overview(NOW, summary(), batches([100, 200, 200, 300, 400]))).kind \
        == KEEPING_UP


def test_reconciliation_in_words():
    balanced = reconciliation(summary())
    assert balanced.balanced and balanced.equation == "1.000 = 950 + 30 + 20"
    assert balanced.sentence == (
        "Fecha: cada uma das 1.000 mensagens lidas do tópico foi contada como pedido, "
        "descartada como repetida ou rejeitada.")
    one = reconciliation(summary(read=1_001))
    assert not one.balanced and one.equation == "1.001 ≠ 950 + 30 + 20"
    assert one.sentence == ("Não fecha: 1 mensagem lida não foi contada, nem descartada como "
                            "repetida, nem rejeitada.")
    extra = reconciliation(summary(read=990))
    assert extra.sentence == ("Não fecha: as contagens somam 10 mensagens a mais do que as "
                              "lidas do tópico.")


def test_rejections_per_minute_and_the_last_batch():
    history = batches([0, 0, 0, 0], every_s=20, last_ago_s=0)  # 14:59:00 to 15:00:00 UTC
    rows = rejection_rows(history)
    assert [(r["quando"], r["motivo"], r["mensagens"]) for r in rows] == [
        ("11:59", "json_invalido", 15), ("12:00", "json_invalido", 5)]
    assert history_domain(history) == (datetime(2026, 12, 1, 11, 59), datetime(2026, 12, 1, 12, 1))
    overview = Overview(NOW, summary(), history)
    assert last_batch_text(41, history[-1].gravado_em, history[-1], overview) == (
        "Lote 41, gravado em 01/12/2026 12:00:00 (há 0 s): 100 mensagens lidas; 90 contadas, "
        "5 repetidas, 5 rejeitadas; processado em 0,80 s.")
    assert last_batch_text(41, history[-1].gravado_em, None, overview) == (
        "Lote 41, gravado em 01/12/2026 12:00:00 (há 0 s).")


def test_a_port_in_use_is_one_sentence():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(UserError, match=f"^A porta {port} do painel já está em uso: "):
            ensure_port_free("127.0.0.1", port)
    ensure_port_free("127.0.0.1", port)  # closed: free again at once
