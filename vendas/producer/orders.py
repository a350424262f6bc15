"""The order model and its wire encoding (the data contract in vendas/contract.py).

Money is integer cents all the way, written as JSON numbers with exactly two decimals
(`89.90`), so `valor_total` is the exact sum of quantity x unit price. The encoder is a
hand-built JSON template: each product's JSON-escaped name and price are computed once,
which makes encoding several times cheaper than json.dumps of a dict while producing the
same document (the tests check both against each other).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, NamedTuple

from vendas.contract import (
    CPF_CLIENTE,
    DATA_HORA,
    ID_ORDEM,
    PRECO_UNITARIO_POR_PRODUTO,
    PRODUTOS_COMPRADOS,
    QUANTIDADE_POR_PRODUTO,
    VALOR_TOTAL,
)
from vendas.producer.catalog import Product


def cents_json(cents: int) -> str:
    """Cents as a JSON number with two decimals: 8990 -> '89.90'."""
    sign = "-" if cents < 0 else ""
    reais, centavos = divmod(abs(cents), 100)
    return f"{sign}{reais}.{centavos:02d}"


def _json_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


class _Fragments(NamedTuple):
    name: str  # "Mouse"
    name_colon: str  # "Mouse":
    price_entry: str  # "Mouse":89.90
    cents: int


_FRAGMENTS: dict[Product, _Fragments] = {}


def _fragments(product: Product) -> _Fragments:
    fragments = _FRAGMENTS.get(product)
    if fragments is None:
        name = _json_str(product.name)
        fragments = _Fragments(
            name, name + ":", f"{name}:{cents_json(product.price_cents)}", product.price_cents
        )
        _FRAGMENTS[product] = fragments
    return fragments


# Field names are constants; quoting them once keeps the template readable.
_K_ID, _K_CPF, _K_PRODUCTS, _K_QTY, _K_PRICE, _K_TOTAL, _K_DATE = (
    _json_str(name)
    for name in (ID_ORDEM, CPF_CLIENTE, PRODUTOS_COMPRADOS, QUANTIDADE_POR_PRODUTO,
                 PRECO_UNITARIO_POR_PRODUTO, VALOR_TOTAL, DATA_HORA)
)


class Order(NamedTuple):
    """One order: distinct products with their quantities, priced from the catalog."""

    id_ordem: str
    cpf_cliente: str
    items: tuple[tuple[Product, int], ...]
    data_hora: str  # already formatted (ISO or Brazilian), see vendas.producer.generator

    @property
    def total_cents(self) -> int:
        return sum(product.price_cents * quantity for product, quantity in self.items)

    @property
    def key(self) -> bytes:
        """The Kafka key: `id_ordem` as UTF-8, so retries and replays are recognisable."""
        return self.id_ordem.encode()

    def to_dict(self) -> dict[str, Any]:
        """The message as a dict, money as Decimal (what the wire JSON parses back to)."""
        return {
            ID_ORDEM: self.id_ordem,
            CPF_CLIENTE: self.cpf_cliente,
            PRODUTOS_COMPRADOS: [p.name for p, _ in self.items],
            QUANTIDADE_POR_PRODUTO: {p.name: q for p, q in self.items},
            PRECO_UNITARIO_POR_PRODUTO: {p.name: p.price for p, _ in self.items},
            VALOR_TOTAL: Decimal(self.total_cents).scaleb(-2),
            DATA_HORA: self.data_hora,
        }

    def encode(self) -> bytes:
        """The message value: compact UTF-8 JSON per the data contract."""
        names = []
        quantities = []
        prices = []
        total = 0
        for product, quantity in self.items:
            fragments = _FRAGMENTS.get(product) or _fragments(product)
            names.append(fragments.name)
            quantities.append(f"{fragments.name_colon}{quantity}")
            prices.append(fragments.price_entry)
            total += fragments.cents * quantity
        return (
            f'{{{_K_ID}:"{self.id_ordem}",{_K_CPF}:"{self.cpf_cliente}",'
            f'{_K_PRODUCTS}:[{",".join(names)}],{_K_QTY}:{{{",".join(quantities)}}},'
            f'{_K_PRICE}:{{{",".join(prices)}}},{_K_TOTAL}:{cents_json(total)},'
            f'{_K_DATE}:"{self.data_hora}"}}'
        ).encode()
