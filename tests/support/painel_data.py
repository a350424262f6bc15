"""Seeded totals for the dashboard tests: the real catalog, deterministic quantities."""

from __future__ import annotations

import random
from decimal import Decimal

from vendas.outputs.postgres import TotalsStore
from vendas.pipeline.totals import ProductTotal, Totals
from vendas.producer.catalog import PRODUCTS

QUERY_ID = "painel-teste"


def seeded_totals(seed: int = 7) -> Totals:
    """Every catalog product sold a few times, one seed-A product without a price, rejections."""
    rng = random.Random(seed)
    products = []
    for product in PRODUCTS:
        quantity = rng.randint(5, 120)
        products.append(ProductTotal(product.name, quantity, quantity * product.price))
    products.append(ProductTotal("Teclado (pedido sem preço)", 9, None))
    products.sort(key=lambda p: (p.valor_total is None, -(p.valor_total or 0), p.produto))
    orders = sum(p.quantidade_total for p in products) // 2
    return Totals(products, orders, Decimal("5230.00"), {"json_invalido": 3, "sem_produtos": 1})


def seed(url: str, totals: Totals, batch_id: int) -> None:
    store = TotalsStore(url).open()
    try:
        assert store.write(totals, batch_id, QUERY_ID)
    finally:
        store.close()
