"""The console table and consumer options, without Spark."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from wcwidth import wcswidth

from vendas.consumer.app import ConsumerOptions
from vendas.outputs.console import format_table
from vendas.pipeline.totals import Totals, totals_from_ledger


def ledger_row(tipo, chave, quantidade, valor=None, pedidos=0, nao_atribuido="0.00"):
    return {"tipo": tipo, "chave": chave, "quantidade_total": quantidade,
            "valor_total": None if valor is None else Decimal(valor),
            "pedidos": pedidos, "valor_nao_atribuido": Decimal(nao_atribuido)}


ROWS = [
    ledger_row("produto", "Mouse", 3, "269.70", pedidos=2),
    ledger_row("produto", "Torradeira Oster", 2, None, pedidos=1, nao_atribuido="4187.33"),
    ledger_row("produto", 'Smart TV LG 50" 4K UHD', 1, "2399.90", pedidos=1),
    ledger_row("produto", "Teclado", 5, None),
    ledger_row("rejeicao", "json_invalido", 2),
    ledger_row("rejeicao", "data_invalida", 1),
]


def test_products_sorted_by_value_with_unknown_values_last():
    totals = totals_from_ledger(ROWS)
    assert [p.produto for p in totals.produtos] == [
        'Smart TV LG 50" 4K UHD', "Mouse", "Teclado", "Torradeira Oster"]
    assert totals.pedidos == 4
    assert totals.valor_nao_atribuido == Decimal("4187.33")
    assert totals.rejeitadas == {"data_invalida": 1, "json_invalido": 2}


def test_table_has_the_three_columns_every_row_untruncated_and_two_decimals():
    assert format_table(totals_from_ledger(ROWS)).splitlines() == [
        "+----------------------+----------------+-----------+",
        "|produto               |quantidade_total|valor_total|",
        "+----------------------+----------------+-----------+",
        '|Smart TV LG 50" 4K UHD|               1|    2399.90|',
        "|Mouse                 |               3|     269.70|",
        "|Teclado               |               5|        n/d|",
        "|Torradeira Oster      |               2|        n/d|",
        "+----------------------+----------------+-----------+",
        ("pedidos contados: 4; valor de pedidos sem preço unitário, não atribuído a produtos: "
         "4187.33; mensagens rejeitadas: 3 (data_invalida: 1, json_invalido: 2)"),
    ]


def test_empty_table_says_so():
    text = format_table(totals_from_ledger([]))
    assert "(nenhum pedido válido ainda)" in text
    assert text.endswith("pedidos contados: 0; mensagens rejeitadas: 0")


def test_saved_totals_round_trip_exactly():
    totals = totals_from_ledger(ROWS)
    assert Totals.from_json(totals.to_json(7)) == (totals, 7)


def test_checkpoint_location_local_or_shared_storage(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    default = ConsumerOptions(topic="vendas-x")
    assert default.checkpoint_location == str(tmp_path / ".checkpoints" / "vendas-x")
    assert default.local_checkpoint_dir == Path(tmp_path / ".checkpoints" / "vendas-x")
    shared = ConsumerOptions(checkpoint="hdfs:///checkpoints/vendas/")
    assert shared.checkpoint_location == "hdfs:///checkpoints/vendas"
    assert shared.local_checkpoint_dir is None


def test_names_from_messages_cannot_write_to_the_terminal():
    hostile = "\u001b[2J\u001b[31mVermelho\u001b[0m\nlinha\x00\r\u202efim"
    table = format_table(totals_from_ledger([ledger_row("produto", hostile, 1, "1.00", pedidos=1)]))
    assert not any(ch in table for ch in "\x1b\x00\r\u202e")
    assert table.count("\n") == 5  # rule, header, rule, one row, rule, summary: no split row
    assert "\\x1b[2J\\x1b[31mVermelho\\x1b[0m\\nlinha\\x00\\r\\u202efim" in table


def test_columns_stay_aligned_with_wide_and_combining_characters():
    names = ["Fogão", "日本の炊飯器", "Café com e\u0301", "Bola ⚽"]
    table = format_table(totals_from_ledger(
        [ledger_row("produto", n, 1, "1.00", pedidos=1) for n in names]))
    widths = {wcswidth(line) for line in table.splitlines()[:-1]}
    assert len(widths) == 1, table
