"""The driver's bounded totals: built from the rows a batch touched, never from history."""

from __future__ import annotations

import random
from decimal import Decimal

from vendas.pipeline.totals import (
    NEW_PRODUCTS,
    PER_KEY,
    PER_KIND,
    TOP_KEPT,
    BatchChanges,
    ProductTotal,
    Totals,
    rank,
)


def row(tipo, chave, nivel, quantidade, valor=None, pedidos=0, nao_atribuido="0.00"):
    return {"tipo": tipo, "chave": chave, "nivel": nivel, "quantidade_total": quantidade,
            "valor_total": None if valor is None else Decimal(valor), "pedidos": pedidos,
            "valor_nao_atribuido": Decimal(nao_atribuido)}


def test_batch_changes_read_every_kind_of_row():
    changes = BatchChanges.from_rows([
        row("produto", "Mouse", PER_KEY, 3, "269.70"),
        row("produto", "Teclado", PER_KEY, 5),
        row("produto", None, PER_KIND, 8, "269.70", pedidos=4, nao_atribuido="4187.33"),
        row("rejeicao", "json_invalido", PER_KEY, 2),
        row("rejeicao", None, PER_KIND, 2),
        row("duplicada", "", PER_KEY, 1),
        row("duplicada", None, PER_KIND, 1),
        row(NEW_PRODUCTS, None, -1, 1),
    ])
    assert changes.top == [ProductTotal("Mouse", 3, Decimal("269.70")),
                           ProductTotal("Teclado", 5, None)]
    assert changes.products == (8, Decimal("269.70"), 4, Decimal("4187.33"))
    assert changes.rejeitadas == {"json_invalido": 2}
    assert (changes.duplicadas, changes.new_products, changes.mensagens) == (1, 1, None)


def test_a_batch_without_products_keeps_the_product_totals():
    before = Totals([ProductTotal("Mouse", 3, Decimal("269.70"))], total_produtos=1,
                    quantidade_total=3, valor_total=Decimal("269.70"), pedidos=2,
                    mensagens_lidas=2)
    after = before.advance(BatchChanges(rejeitadas={"json_invalido": 1}, mensagens=1))
    assert after.produtos == before.produtos
    assert (after.pedidos, after.total_rejeitadas, after.mensagens_lidas) == (2, 1, 3)
    assert after.diferenca == 0


def test_messages_read_default_to_the_ones_accounted_for_without_offsets():
    after = Totals().advance(BatchChanges(products=(1, Decimal("1.00"), 1, Decimal(0)),
                                          duplicadas=2, rejeitadas={"data_invalida": 1}))
    assert after.mensagens_lidas == 4 and after.diferenca == 0


def test_the_kept_top_is_the_true_top_whatever_the_history():
    """Products only grow: the top of (old top + touched) is the top of every product."""
    rng = random.Random(20261207)
    truth: dict[str, ProductTotal] = {}
    totals = Totals()
    names = [f"Produto {i:05d}" for i in range(3 * TOP_KEPT)]
    for _ in range(40):
        touched = {}
        for name in rng.sample(names, rng.randint(1, 400)):
            old = truth.get(name, ProductTotal(name, 0, None))
            quantity = rng.randint(1, 5)
            price = Decimal(rng.randint(0, 9999)) / 100 if rng.random() < 0.9 else None
            value = old.valor_total if price is None else (
                (old.valor_total or Decimal(0)) + price * quantity)
            touched[name] = ProductTotal(name, old.quantidade_total + quantity, value)
        new = sum(1 for name in touched if name not in truth)
        truth.update(touched)
        ranked = sorted(touched.values(), key=rank)[:TOP_KEPT]  # what batch_overview sends
        totals = totals.advance(BatchChanges(top=ranked, new_products=new))
        assert totals.produtos == sorted(truth.values(), key=rank)[:TOP_KEPT]
        assert totals.total_produtos == len(truth)


def test_the_rest_line_counts_what_is_not_shown():
    totals = Totals([ProductTotal("A", 2, Decimal("10.00")), ProductTotal("B", 1, None)],
                    total_produtos=5, quantidade_total=9, valor_total=Decimal("25.50"))
    assert totals.rest(1) == (4, 7, Decimal("15.50"))
    assert totals.rest(10) == (3, 6, Decimal("15.50"))


def test_saved_totals_round_trip_exactly():
    totals = Totals([ProductTotal("Fogão", 2, Decimal("1999.80")), ProductTotal("X", 1, None)],
                    2, 3, Decimal("1999.80"), 2, Decimal("4187.33"), {"json_invalido": 2}, 1, 5)
    assert Totals.from_json(totals.to_json(7)) == (totals, 7)
