"""The dashboard's pure helpers: names escaped for Markdown, chart rows, ages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from vendas.dashboard.app import _escape_markdown, age, chart_rows
from vendas.outputs.postgres import Snapshot
from vendas.pipeline.totals import ProductTotal, Totals


def test_hostile_names_are_escaped_markdown_and_charts_take_data_only():
    name = "**negrito** [link](http://exemplo) $x$ <b>oi</b>\x1b[2J"
    escaped = _escape_markdown(name)
    assert "\x1b" not in escaped and "\\x1b" in escaped
    assert escaped.startswith(r"\*\*negrito\*\* \[link\]\(http\:\/\/exemplo\) \$x\$ \<b\>oi\<\/b\>")
    totals = Totals([ProductTotal(name, 3, Decimal("9.99")), ProductTotal("Cabo", 1, None)])
    snapshot = Snapshot(totals.produtos, lote=0)
    assert chart_rows(snapshot, 10, by_value=True) == [
        {
            "produto": name,
            "valor": 9.99,
            "rotulo_valor": "R$ 9,99",
            "quantidade": 3,
            "rotulo_quantidade": "3",
        }
    ]
    now = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    assert age(now - timedelta(seconds=4), now) == "há 4 s"
    assert age(now - timedelta(minutes=3, seconds=5), now) == "há 3 min"
