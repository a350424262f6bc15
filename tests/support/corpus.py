"""Messages the consumer must handle: valid ones in all three shapes, and malformed ones.

Each malformed kind names the reason code the consumer must give it. The Spark tests run
them through the transforms; the integration tests send them through a real Kafka.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from tests.support.kafka_records import as_bytes
from vendas.contract import NUL_STAND_IN

CANONICAL: dict[str, Any] = {
    "id_ordem": "3f2b8c9e-1d4a-4e6b-9a7c-5b2d1e0f9a8b",
    "cpf_cliente": "529.982.247-25",
    "produtos_comprados": ["Mouse", "Teclado"],
    "quantidade_por_produto": {"Mouse": 2, "Teclado": 1},
    "preco_unitario_por_produto": {"Mouse": Decimal("89.90"), "Teclado": Decimal("149.90")},
    "valor_total": Decimal("329.70"),
    "data_hora": "2026-11-23T14:05:09",
}

# What seed A's producer really sends: no prices, integer total, Brazilian date.
SEED_A: dict[str, Any] = {
    "id_ordem": "0b6f3c1e-5a7d-4c1b-9d4e-2f3a4b5c6d7e",
    "cpf_cliente": "123.456.789-09",
    "produtos_comprados": ["Teclado", "Mouse"],
    "quantidade_por_produto": {"Teclado": 2, "Mouse": 1},
    "valor_total": 5230,
    "data_hora": "10/06/2025 12:34:56",
}

# Seed B: a list of items (the same product may repeat), another client and date field.
SEED_B: dict[str, Any] = {
    "id_ordem": "5f1d2c3b-0000-4000-8000-000000000001",
    "documento_cliente": "987.654.321-00",
    "produtos_comprados": [
        {"nome_produto": "Mouse Logitech MX Master 3", "quantidade": 2},
        {"nome_produto": "Torradeira Oster", "quantidade": 1},
        {"nome_produto": "Mouse Logitech MX Master 3", "quantidade": 1},
    ],
    "valor_total": Decimal("4187.33"),
    "data_hora_venda": "23/11/2025 08:15:02",
}

# Seed B as its repository sends today: a unit price on each item, no valor_total; the same
# product twice counts both lines.
SEED_B_PRICED: dict[str, Any] = {
    "id_ordem": "9c2e4f6a-0000-4000-8000-000000000002",
    "documento_cliente": "987.654.321-00",
    "produtos_comprados": [
        {"nome_produto": "Playstation 5", "quantidade": 2, "preco_unitario": Decimal("4999.99")},
        {"nome_produto": "Caixa de Som JBL Flip 6", "quantidade": 1,
         "preco_unitario": Decimal("699.99")},
        {"nome_produto": "Playstation 5", "quantidade": 1, "preco_unitario": Decimal("4999.99")},
    ],
    "data_hora_venda": "23/11/2025 08:15:02",
}

_ABSENT = object()


def variant(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of `base` with fields changed (or removed, with _ABSENT)."""
    message = copy.deepcopy(base)
    for key, value in changes.items():
        if value is _ABSENT:
            message.pop(key, None)
        else:
            message[key] = value
    return message


# (kind, message, expected reason). Messages are dicts (sent as JSON), str or raw bytes.
MALFORMED: list[tuple[str, Any, str]] = [
    ("vazia", b"", "mensagem_vazia"),
    ("bytes_nao_utf8", b'{"id_ordem": "\xc3\x28"}', "utf8_invalido"),
    ("texto_qualquer", "isto não é json", "json_invalido"),
    ("json_truncado", '{"id_ordem": "x", "produtos_comprados": ["Mouse"', "json_invalido"),
    ("chave_repetida", '{"id_ordem": "a", "id_ordem": "b"}', "json_invalido"),
    ("lista_json", "[1, 2, 3]", "nao_e_objeto"),
    ("numero_json", "42", "nao_e_objeto"),
    ("sem_id", variant(CANONICAL, id_ordem=_ABSENT), "id_ordem_ausente"),
    ("id_nulo", variant(CANONICAL, id_ordem=None), "id_ordem_ausente"),
    ("id_vazio", variant(CANONICAL, id_ordem="  "), "id_ordem_ausente"),
    ("id_numerico", variant(CANONICAL, id_ordem=123), "id_ordem_invalido"),
    ("sem_produtos", variant(CANONICAL, produtos_comprados=_ABSENT), "produtos_ausentes"),
    ("lista_vazia", variant(CANONICAL, produtos_comprados=[]), "produtos_ausentes"),
    ("produtos_texto", variant(CANONICAL, produtos_comprados="Mouse"), "produtos_invalidos"),
    ("produtos_numeros", variant(CANONICAL, produtos_comprados=[1, 2]), "produtos_invalidos"),
    ("nome_vazio", variant(SEED_B, produtos_comprados=[{"nome_produto": "", "quantidade": 1}]),
     "produto_sem_nome"),
    ("nome_longo", variant(CANONICAL, produtos_comprados=["M" * 201, "Teclado"],
                           quantidade_por_produto={"M" * 201: 2, "Teclado": 1},
                           preco_unitario_por_produto={"M" * 201: Decimal("89.90"),
                                                       "Teclado": Decimal("149.90")}),
     "nome_produto_longo"),
    ("produto_repetido", variant(CANONICAL, produtos_comprados=["Mouse", "Mouse", "Teclado"]),
     "produto_repetido"),
    ("produto_sem_quantidade",
     variant(CANONICAL, quantidade_por_produto={"Mouse": 2}), "quantidade_ausente"),
    ("item_b_sem_quantidade",
     variant(SEED_B, produtos_comprados=[{"nome_produto": "Mouse"}]), "quantidade_ausente"),
    ("quantidade_zero",
     variant(CANONICAL, quantidade_por_produto={"Mouse": 0, "Teclado": 1}), "quantidade_invalida"),
    ("quantidade_negativa",
     variant(SEED_B, produtos_comprados=[{"nome_produto": "Mouse", "quantidade": -1}]),
     "quantidade_invalida"),
    ("quantidade_fracionaria",
     variant(CANONICAL, quantidade_por_produto={"Mouse": 2.5, "Teclado": 1}),
     "quantidade_invalida"),
    ("quantidade_texto",
     variant(CANONICAL, quantidade_por_produto={"Mouse": "2", "Teclado": 1}),
     "quantidade_invalida"),
    ("quantidade_enorme",
     variant(CANONICAL, quantidade_por_produto={"Mouse": 10**12, "Teclado": 1}),
     "quantidade_invalida"),
    ("quantidade_de_outro_produto",
     variant(CANONICAL, quantidade_por_produto={"Mouse": 2, "Teclado": 1, "Monitor": 1}),
     "quantidade_sem_produto"),
    ("preco_faltando",
     variant(CANONICAL, preco_unitario_por_produto={"Mouse": Decimal("89.90")}), "preco_ausente"),
    ("b_preco_faltando_em_um_item", variant(SEED_B_PRICED, produtos_comprados=[
        {"nome_produto": "Playstation 5", "quantidade": 1, "preco_unitario": Decimal("4999.99")},
        {"nome_produto": "Torradeira Oster", "quantidade": 1}]), "preco_ausente"),
    ("preco_texto",
     variant(CANONICAL,
             preco_unitario_por_produto={"Mouse": "89.90", "Teclado": Decimal("149.90")}),
     "preco_invalido"),
    ("preco_fracao_de_centavo",
     variant(CANONICAL, preco_unitario_por_produto={"Mouse": Decimal("89.905"),
                                                    "Teclado": Decimal("149.90")}),
     "preco_invalido"),
    ("precos_nao_objeto", variant(CANONICAL, preco_unitario_por_produto=[1, 2]), "preco_invalido"),
    ("preco_negativo",
     variant(CANONICAL, preco_unitario_por_produto={"Mouse": Decimal("-89.90"),
                                                    "Teclado": Decimal("149.90")}),
     "preco_negativo"),
    ("sem_valor_total", variant(CANONICAL, valor_total=_ABSENT), "valor_total_ausente"),
    ("valor_total_texto", variant(CANONICAL, valor_total="329.70"), "valor_total_invalido"),
    ("valor_total_negativo", variant(SEED_A, valor_total=-1), "valor_total_invalido"),
    ("b_com_precos_valor_total_errado", variant(SEED_B_PRICED, valor_total=Decimal("15699.95")),
     "valor_total_inconsistente"),
    ("valor_total_errado", variant(CANONICAL, valor_total=Decimal("329.71")),
     "valor_total_inconsistente"),
    ("sem_data", variant(CANONICAL, data_hora=_ABSENT), "data_ausente"),
    ("data_impossivel", variant(SEED_A, data_hora="31/02/2026 10:00:00"), "data_invalida"),
    ("data_iso_impossivel", variant(CANONICAL, data_hora="2026-02-29T10:00:00"), "data_invalida"),
    ("data_texto", variant(CANONICAL, data_hora="ontem à tarde"), "data_invalida"),
    ("data_numero", variant(CANONICAL, data_hora=1732370709), "data_invalida"),
    ("data_b_ilegivel", variant(SEED_B, data_hora_venda="23-11-2025"), "data_invalida"),
]

# Valid messages that look odd but must count.
VALID_ODDITIES: list[tuple[str, dict[str, Any]]] = [
    ("campo_extra", variant(CANONICAL, id_ordem="extra-1", cupom={"codigo": "BLACKFRIDAY"})),
    ("data_com_fuso", variant(CANONICAL, id_ordem="fuso-1", data_hora="2026-11-23T17:05:09Z")),
    ("data_br", variant(CANONICAL, id_ordem="br-1", data_hora="23/11/2026 14:05:09")),
    # A total summed in binary floating point by a naive producer is still right to the cent.
    ("total_float", variant(CANONICAL, id_ordem="float-1", valor_total=329.70000000000005)),
]


# Orders in two data_hora minutes, with a replay: what --window "1 minute" must print.
WINDOWED: list[dict[str, Any]] = [
    CANONICAL,  # 23/11/2026 14:05:09: Mouse 2 x 89.90, Teclado 1 x 149.90
    CANONICAL,  # a replay: counted once
    variant(CANONICAL, id_ordem="b", data_hora="2026-11-23T14:05:59"),
    variant(CANONICAL, id_ordem="c", data_hora="2026-11-23T14:06:00", produtos_comprados=["Mouse"],
            quantidade_por_produto={"Mouse": 3},
            preco_unitario_por_produto={"Mouse": Decimal("89.90")},
            valor_total=Decimal("269.70")),
]
# (window start HH:mm, produto) -> (quantidade_total, valor_total)
WINDOWED_TOTALS: dict[tuple[str, str], tuple[int, Decimal]] = {
    ("14:05", "Mouse"): (4, Decimal("359.60")),
    ("14:05", "Teclado"): (2, Decimal("299.80")),
    ("14:06", "Mouse"): (3, Decimal("269.70")),
}

def expected_totals(messages: list[dict[str, Any]]) -> dict[str, tuple[int, Decimal | None]]:
    """Per product, named as the consumer keeps it (NUL_STAND_IN for NUL): (quantity, value
    or None when no message gave a unit price).

    Computed here independently of the consumer: plain Python over the decoded messages,
    each id_ordem counted once.
    """
    quantity: dict[str, int] = defaultdict(int)
    value: dict[str, Decimal | None] = {}
    seen: set[str] = set()
    for message in messages:
        if message["id_ordem"] in seen:
            continue
        seen.add(message["id_ordem"])
        for raw_name, qty, price in items_of(message):
            name = raw_name.replace("\x00", NUL_STAND_IN)
            quantity[name] += qty
            if price is None:
                value.setdefault(name, None)
            else:
                value[name] = (value.get(name) or Decimal(0)) + qty * Decimal(str(price))
    return {name: (quantity[name], value[name]) for name in quantity}


def items_of(message: dict[str, Any]) -> list[tuple[str, int, Decimal | None]]:
    products = message["produtos_comprados"]
    if products and isinstance(products[0], dict):
        return [(i["nome_produto"], i["quantidade"], i.get("preco_unitario")) for i in products]
    prices = message.get("preco_unitario_por_produto")
    return [
        (name, message["quantidade_por_produto"][name], None if prices is None else prices[name])
        for name in products
    ]


def valid_messages(records: Iterable[Any]) -> list[dict[str, Any]]:
    """The decoded Kafka records the consumer must count: all but tombstones and MALFORMED
    (the test's own independent reading, exact decimals)."""
    malformed_values = {as_bytes(m) for _, m, _ in MALFORMED}
    return [json.loads(r.value, parse_float=Decimal) for r in records
            if r.value is not None and r.value not in malformed_values]
