"""Hostile messages: what anyone who can write to the topic may send, and what each gets.

Each case is the exact bytes to send (value and key) and the reason code the consumer must
give it, or None when it is a valid order that must count. The unit tests send them
through parse_orders in batch; an integration test can send HOSTILE through Kafka as it is
(`[(case.key, case.value) for case in HOSTILE]`). Valid cases have ids of their own, so
they all count.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tests.support.corpus import CANONICAL, SEED_A, SEED_B_PRICED, variant
from vendas.pipeline.rules import MAX_NAME_LENGTH, MAX_ORDER_VALUE, MAX_PRICE, MAX_QUANTITY


class Raw:
    """A JSON value written exactly as given (1e400, NaN, a 400-digit number...)."""

    def __init__(self, text: str):
        self.text = text


def encode(message: Any) -> bytes:
    """JSON bytes with Decimals written digit for digit and Raw values as given."""
    raws: dict[str, str] = {}

    def mark(text: str) -> str:
        marker = f"@@raw-{uuid.uuid4().hex}@@"
        raws[f'"{marker}"'] = text
        return marker

    def prepare(value: Any) -> Any:
        if isinstance(value, Raw):
            return mark(value.text)
        if isinstance(value, Decimal):
            return mark(str(value))
        if isinstance(value, dict):
            return {k: prepare(v) for k, v in value.items()}
        if isinstance(value, list):
            return [prepare(v) for v in value]
        return value

    text = json.dumps(prepare(message), ensure_ascii=False)
    for marker, raw in raws.items():
        text = text.replace(marker, raw)
    return text.encode()


def decode(value: bytes) -> dict[str, Any]:
    """A valid case's message as the consumer reads it (a leading BOM ignored)."""
    return json.loads(value.decode("utf-8-sig"), parse_float=Decimal)


@dataclass(frozen=True)
class Hostile:
    kind: str
    value: bytes
    reason: str | None  # None: a valid order, counted
    key: bytes | None = None


def _case(kind: str, message: Any, reason: str | None, key: bytes | None | str = "id") -> Hostile:
    value = message if isinstance(message, bytes) else encode(message)
    if key == "id":
        key = f"hostil-{kind}".encode()
    return Hostile(kind, value, reason, key)


def _order(kind: str, base: dict[str, Any] = CANONICAL, **changes: Any) -> dict[str, Any]:
    return variant(base, id_ordem=f"hostil-{kind}", **changes)


def _one_item(name: str, quantity: Any, price: Any, total: Any) -> dict[str, Any]:
    return {"produtos_comprados": [name], "quantidade_por_produto": {name: quantity},
            "preco_unitario_por_produto": {name: price}, "valor_total": total}


def _many_items(n: int) -> dict[str, Any]:
    names = [f"Produto {i:05d}" for i in range(n)]
    return {"produtos_comprados": names,
            "quantidade_por_produto": {name: 1 + i % 3 for i, name in enumerate(names)},
            "preco_unitario_por_produto": {name: Decimal("0.99") for name in names},
            "valor_total": sum((1 + i % 3) * Decimal("0.99") for i in range(n))}


LONG_NAME = "Produto " + "x" * (MAX_NAME_LENGTH - 8)  # exactly the limit
TOO_LONG_NAME = LONG_NAME + "y"
# "nul\u2400byte" is the name the consumer keeps for "nul\u0000byte": one product, not two
CONTROL_NAMES = ["\u001b[2J\u001b[31mVermelho\u001b[0m", "linha\nquebrada", "nul\u0000byte",
                 "volta\rcarro", "nul\u2400byte"]
DEPTH = 300_000


def _deep(kind: str) -> bytes:
    head = encode(_order(kind))[:-1]
    return head + b', "extra": ' + b"[" * DEPTH + b"]" * DEPTH + b"}"


def _priced_b(kind: str, items: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    return _order(kind, SEED_B_PRICED, produtos_comprados=items, **changes)


HOSTILE: list[Hostile] = [
    # Structure
    _case("aninhamento_profundo", _deep("aninhamento_profundo"), "json_invalido"),
    _case("chave_repetida_aninhada",
          encode(_order("chave_repetida_aninhada"))[:-1] + b', "cupom": {"a": 1, "a": 2}}',
          "json_invalido"),
    _case("chave_repetida_no_mapa",
          encode(_order("chave_repetida_no_mapa")).replace(b'{"Mouse": 2',
                                                           b'{"Mouse": 2, "Mouse": 2'),
          "json_invalido"),
    # try_parse_json reads the first value and ignores the rest: SingleJsonValue refuses it
    _case("texto_depois_do_json", encode(_order("texto_depois_do_json")) + b" lixo",
          "json_invalido"),
    _case("dois_pedidos_numa_mensagem",
          encode(_order("dois_pedidos_numa_mensagem")) + b"\n"
          + encode(_order("dois_pedidos_numa_mensagem_2")), "json_invalido"),
    _case("lista_fechada_e_texto", encode(_order("lista_fechada_e_texto")) + b"] [",
          "json_invalido"),
    _case("espacos_depois_do_json", encode(_order("espacos_depois_do_json")) + b" \r\n\t ",
          None),
    _case("bom_antes_do_json", "\ufeff".encode() + encode(_order("bom_antes_do_json")), None),
    _case("sem_chave_kafka", _order("sem_chave_kafka"), None, key=None),
    _case("mensagem_900kb", _order("mensagem_900kb", observacao="x" * 900_000), None),
    _case("milhares_de_itens", _order("milhares_de_itens", **_many_items(3000)), None),
    _case("milhares_de_itens_b", _priced_b("milhares_de_itens_b", [
        {"nome_produto": f"Item {i % 50}", "quantidade": 1, "preco_unitario": Decimal("1.50")}
        for i in range(3000)]), None),
    # Numbers JSON allows but doubles and decimals do not hold
    _case("total_1e400", _order("total_1e400", valor_total=Raw("1e400")), "valor_total_invalido"),
    _case("total_menos_1e400", _order("total_menos_1e400", valor_total=Raw("-1e400")),
          "valor_total_invalido"),
    _case("total_400_digitos", _order("total_400_digitos", valor_total=Raw("9" * 400)),
          "valor_total_invalido"),
    _case("quantidade_1e400", _order("quantidade_1e400", quantidade_por_produto={
        "Mouse": Raw("1e400"), "Teclado": 1}), "quantidade_invalida"),
    _case("quantidade_400_digitos", _order("quantidade_400_digitos", quantidade_por_produto={
        "Mouse": Raw("1" * 400), "Teclado": 1}), "quantidade_invalida"),
    _case("quantidade_estoura_bigint", _order("quantidade_estoura_bigint", quantidade_por_produto={
        "Mouse": Raw(str(2**63)), "Teclado": 1}), "quantidade_invalida"),
    _case("preco_400_digitos", _order("preco_400_digitos", preco_unitario_por_produto={
        "Mouse": Raw("8" * 400), "Teclado": Decimal("149.90")}), "preco_invalido"),
    _case("total_nan", _order("total_nan", valor_total=Raw("NaN")), "json_invalido"),
    _case("total_infinity", _order("total_infinity", valor_total=Raw("Infinity")), "json_invalido"),
    _case("quantidade_menos_infinity", _order("quantidade_menos_infinity", quantidade_por_produto={
        "Mouse": Raw("-Infinity"), "Teclado": 1}), "json_invalido"),
    # Totals near DECIMAL(38,2)'s limit: bounded per order, so no sum can overflow
    _case("total_perto_do_limite_decimal", _order("total_perto_do_limite_decimal", SEED_A,
          valor_total=Decimal("999999999999999999999999999999999999.99")), "valor_total_invalido"),
    _case("total_acima_do_limite", _order("total_acima_do_limite", SEED_A,
          valor_total=MAX_ORDER_VALUE + Decimal("0.01")), "valor_total_invalido"),
    _case("total_no_limite", _order("total_no_limite", SEED_A, valor_total=MAX_ORDER_VALUE), None),
    _case("item_no_limite", _order("item_no_limite", **_one_item(
        "Jato", MAX_QUANTITY, MAX_PRICE, MAX_QUANTITY * MAX_PRICE)), None),
    _case("quantidade_acima_do_limite", _order("quantidade_acima_do_limite", **_one_item(
        "Jato", MAX_QUANTITY + 1, Decimal("1.00"), Decimal(MAX_QUANTITY + 1))),
        "quantidade_invalida"),
    _case("preco_acima_do_limite", _order("preco_acima_do_limite", **_one_item(
        "Jato", 1, MAX_PRICE + Decimal("0.01"), MAX_PRICE + Decimal("0.01"))), "preco_invalido"),
    # Dates
    _case("data_com_fuso_e_fracao", _order("data_com_fuso_e_fracao",
          data_hora="2026-11-23T14:05:09.123456-03:00"), None),
    _case("data_z", _order("data_z", data_hora="2026-11-23T17:05:09Z"), None),
    _case("data_fuso_sem_dois_pontos", _order("data_fuso_sem_dois_pontos",
          data_hora="2026-11-23T17:05:09+0000"), None),
    _case("data_com_espaco", _order("data_com_espaco", data_hora="2026-11-23 14:05:09.5"), None),
    _case("data_31_de_fevereiro", _order("data_31_de_fevereiro", SEED_A,
          data_hora="31/02/2026 10:00:00"), "data_invalida"),
    _case("data_mes_13", _order("data_mes_13", data_hora="2026-13-01T10:00:00"), "data_invalida"),
    _case("data_25_horas", _order("data_25_horas", SEED_A, data_hora="23/11/2026 25:00:00"),
          "data_invalida"),
    # Names
    _case("nome_no_limite", _order("nome_no_limite", **_one_item(
        LONG_NAME, 1, Decimal("1.00"), Decimal("1.00"))), None),
    _case("nome_longo", _order("nome_longo", **_one_item(
        TOO_LONG_NAME, 1, Decimal("1.00"), Decimal("1.00"))), "nome_produto_longo"),
    _case("nome_longo_b", _priced_b("nome_longo_b", [
        {"nome_produto": "x" * 100_000, "quantidade": 1, "preco_unitario": Decimal("1.00")}]),
        "nome_produto_longo"),
    *(_case(f"nome_com_controle_{i}", _order(f"nome_com_controle_{i}", **_one_item(
        name, 1, Decimal("1.00"), Decimal("1.00"))), None) for i, name in enumerate(CONTROL_NAMES)),
    _case("nomes_unicode", _order("nomes_unicode", **_one_item(
        "Fogão 🔥 电饭煲 Ñandú", 2, Decimal("10.00"), Decimal("20.00"))), None),
    # Seed B as its repository sends today (unit prices on the items, no total)
    _case("b_com_precos", _order("b_com_precos", SEED_B_PRICED), None),
    _case("b_precos_e_total_certo", _order("b_precos_e_total_certo", SEED_B_PRICED,
          valor_total=Decimal("15699.96")), None),
    _case("b_precos_e_total_errado", _order("b_precos_e_total_errado", SEED_B_PRICED,
          valor_total=Decimal("15699.95")), "valor_total_inconsistente"),
    _case("b_precos_misturados", _priced_b("b_precos_misturados", [
        {"nome_produto": "Playstation 5", "quantidade": 1, "preco_unitario": Decimal("4999.99")},
        {"nome_produto": "Mouse", "quantidade": 1}]), "preco_ausente"),
    _case("b_preco_negativo", _priced_b("b_preco_negativo", [
        {"nome_produto": "Mouse", "quantidade": 1, "preco_unitario": Decimal("-1.00")}]),
        "preco_negativo"),
    _case("b_preco_texto", _priced_b("b_preco_texto", [
        {"nome_produto": "Mouse", "quantidade": 1, "preco_unitario": "1.00"}]), "preco_invalido"),
    _case("b_total_1e400", _order("b_total_1e400", SEED_B_PRICED, valor_total=Raw("1e400")),
          "valor_total_invalido"),
]

assert len({case.kind for case in HOSTILE}) == len(HOSTILE)
