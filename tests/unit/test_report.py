"""The console table and consumer options, without Spark."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from wcwidth import wcswidth

from vendas.consumer.app import ConsumerOptions
from vendas.outputs.console import format_table
from vendas.pipeline.totals import ProductTotal, Totals


def totals(*products: tuple[str, int, str | None], **counts) -> Totals:
    kept = [ProductTotal(n, q, None if v is None else Decimal(v)) for n, q, v in products]
    counts.setdefault("total_produtos", len(kept))
    counts.setdefault("quantidade_total", sum(p.quantidade_total for p in kept))
    counts.setdefault("valor_total", sum((p.valor_total or Decimal(0) for p in kept),
                                         Decimal("0.00")))
    return Totals(kept, **counts)


SOLD = totals(('Smart TV LG 50" 4K UHD', 1, "2399.90"), ("Mouse", 3, "269.70"),
              ("Teclado", 5, None), ("Torradeira Oster", 2, None), pedidos=4,
              valor_nao_atribuido=Decimal("4187.33"),
              rejeitadas={"data_invalida": 1, "json_invalido": 2})


def test_table_has_the_three_columns_two_decimals_and_the_counts():
    assert format_table(SOLD).splitlines() == [
        "+----------------------+----------------+-----------+",
        "|produto               |quantidade_total|valor_total|",
        "+----------------------+----------------+-----------+",
        '|Smart TV LG 50" 4K UHD|               1|    2399.90|',
        "|Mouse                 |               3|     269.70|",
        "|Teclado               |               5|        n/d|",
        "|Torradeira Oster      |               2|        n/d|",
        "+----------------------+----------------+-----------+",
        ("produtos: 4; pedidos contados: 4; valor de pedidos sem preço unitário, não atribuído "
         "a produtos: 4187.33; mensagens rejeitadas: 3 (data_invalida: 1, json_invalido: 2)"),
    ]


def test_table_shows_the_top_rows_and_one_line_for_the_rest():
    many = totals(("A", 5, "50.00"), ("B", 4, "40.00"), total_produtos=1_000_000,
                  quantidade_total=3_000_000, valor_total=Decimal("123456789.01"), pedidos=7,
                  duplicadas=2)
    lines = format_table(many, rows=1).splitlines()
    assert lines[3] == "|A      |               5|      50.00|"
    assert lines[5] == ("... e mais 999999 produtos: quantidade_total 2999995, valor_total "
                        "123456739.01 (todos no banco, com --banco)")
    assert lines[6].endswith("pedidos repetidos ignorados: 2")


def test_empty_table_says_so():
    text = format_table(Totals())
    assert "(nenhum pedido válido ainda)" in text
    assert text.endswith("produtos: 0; pedidos contados: 0; mensagens rejeitadas: 0")


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
    table = format_table(totals((hostile, 1, "1.00"), pedidos=1))
    assert not any(ch in table for ch in "\x1b\x00\r\u202e")
    assert table.count("\n") == 5  # rule, header, rule, one row, rule, summary: no split row
    assert "\\x1b[2J\\x1b[31mVermelho\\x1b[0m\\nlinha\\x00\\r\\u202efim" in table


def test_columns_stay_aligned_with_wide_and_combining_characters():
    names = ["Fogão", "日本の炊飯器", "Café com e\u0301", "Bola ⚽"]
    table = format_table(totals(*((n, 1, "1.00") for n in names), pedidos=4))
    widths = {wcswidth(line) for line in table.splitlines()[:-1]}
    assert len(widths) == 1, table
