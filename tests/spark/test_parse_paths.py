"""The fast path and the VARIANT path give the same verdict on every message.

parse_orders(fast=True) lets the Java fast path (vendas/pipeline/fast_path.py) vouch for
canonical orders; with fast=False every record goes through the VARIANT facts and rules. On
the corpus, the hostile corpus, generated orders and generated tricky variants of them,
both must give the same rows: the same reason, or valid with the same id, items, values and
date.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal

import pytest

from tests.support.corpus import (
    CANONICAL,
    MALFORMED,
    SEED_A,
    SEED_B,
    SEED_B_PRICED,
    VALID_ODDITIES,
    WINDOWED,
)
from tests.support.hostile_corpus import HOSTILE
from tests.support.kafka_records import as_bytes, kafka_frame
from vendas.pipeline.fast_path import MAX_FAST_ITEMS
from vendas.pipeline.rules import MAX_ORDER_VALUE, MAX_PRICE, MAX_QUANTITY
from vendas.pipeline.transforms import parse_orders, vouched_by_fast_path
from vendas.producer.generator import MAX_PRODUCTS_PER_ORDER, OrderGenerator, make_clock

SEED = 20261201
GENERATED = 200  # untouched orders from the producer's own generator, first in the frame


def generated_orders(n: int, date_format: str = "iso") -> list[bytes]:
    clock = make_clock(date_format, seed=SEED, start_time=datetime(2026, 11, 23, 14, 0), rate=10)
    generator = OrderGenerator(SEED, clock=clock, customers=50)
    return [order.encode() for order in generator.take(n)]


def _sub(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    return lambda text: text.replace(old, new, count)


def _map_entry(field: str, transform: Callable[[str, str], str],
               position: int = 0) -> Callable[[str], str]:
    """Rewrite the entry of one of the two maps for the product at `position` of the list
    (-1: the last): transform(name_json, value_text)."""
    def mutate(text: str) -> str:
        message = json.loads(text)
        name = message["produtos_comprados"][position]
        key = json.dumps(name, ensure_ascii=False) + ":"
        start = text.index(f'"{field}":{{') + len(field) + 4
        end = start + len(key)
        value_end = min(i for i in (text.find(",", end), text.find("}", end)) if i >= 0)
        return text[:start] + transform(key, text[end:value_end]) + text[value_end:]
    return mutate


def _rename_first(new_name: str) -> Callable[[str], str]:
    """The first product renamed everywhere it appears (new_name is JSON text)."""
    def mutate(text: str) -> str:
        name = json.dumps(json.loads(text)["produtos_comprados"][0], ensure_ascii=False)
        return text.replace(name, new_name)
    return mutate


def _drop(field: str) -> Callable[[str], str]:
    def mutate(text: str) -> str:
        message = json.loads(text)
        del message[field]
        return json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    return mutate


def _set(field: str, raw: str) -> Callable[[str], str]:
    """Replace a top-level field's value by the raw JSON text `raw`."""
    def mutate(text: str) -> str:
        message = json.loads(text)
        message[field] = f"@@{field}@@"
        return json.dumps(message, ensure_ascii=False, separators=(",", ":")).replace(
            f'"@@{field}@@"', raw)
    return mutate


def _total(new: Callable[[Decimal], str]) -> Callable[[str], str]:
    """valor_total replaced by new(current total) as raw JSON text."""
    def mutate(text: str) -> str:
        return _set("valor_total", new(json.loads(text, parse_float=Decimal)["valor_total"]))(text)
    return mutate


FIELDS = ("id_ordem", "cpf_cliente", "produtos_comprados", "quantidade_por_produto",
          "preco_unitario_por_produto", "valor_total", "data_hora")

MUTATIONS: dict[str, Callable[[str], str]] = {
    "intacta": lambda t: t,
    "espacos_json": lambda t: json.dumps(json.loads(t), ensure_ascii=False),
    "ascii_escapado": lambda t: json.dumps(json.loads(t)),
    "quebras_de_linha": lambda t: json.dumps(json.loads(t), indent=2),
    "espaco_no_fim": lambda t: t + " \n",
    "lixo_no_fim": lambda t: t + " lixo",
    "bom": lambda t: "\ufeff" + t,
    "espaco_no_inicio": lambda t: "\n " + t,
    "chave_repetida_topo": lambda t: t[:-1] + ',"valor_total":1}',
    "id_repetido": lambda t: t[:-1] + ',"id_ordem":"outro"}',
    "campo_extra": lambda t: t[:-1] + ',"cupom":{"codigo":"X"}}',
    "extra_com_chave_repetida": lambda t: t[:-1] + ',"cupom":{"a":1,"a":1}}',
    "ordem_dos_campos": lambda t: json.dumps(dict(reversed(json.loads(t).items())),
                                             ensure_ascii=False),
    "quantidade_repetida": _map_entry("quantidade_por_produto", lambda k, v: f"{k}{v},{k}{v}"),
    "preco_repetido": _map_entry("preco_unitario_por_produto", lambda k, v: f"{k}{v},{k}{v}"),
    "quantidade_2_5": _map_entry("quantidade_por_produto", lambda k, v: f"{k}2.5"),
    "quantidade_texto": _map_entry("quantidade_por_produto", lambda k, v: f'{k}"{v}"'),
    "quantidade_true": _map_entry("quantidade_por_produto", lambda k, v: f"{k}true"),
    "quantidade_nula": _map_entry("quantidade_por_produto", lambda k, v: f"{k}null"),
    "quantidade_nula_no_fim": _map_entry("quantidade_por_produto", lambda k, v: f"{k}null", -1),
    "preco_nulo_no_fim": _map_entry("preco_unitario_por_produto", lambda k, v: f"{k}null", -1),
    "preco_texto_no_fim": _map_entry("preco_unitario_por_produto", lambda k, v: f'{k}"{v}"', -1),
    "quantidade_zero": _map_entry("quantidade_por_produto", lambda k, v: f"{k}0"),
    "quantidade_2_0": _map_entry("quantidade_por_produto", lambda k, v: f"{k}{v}.0"),
    "quantidade_1e0": _map_entry("quantidade_por_produto", lambda k, v: f"{k}1e0"),
    "quantidade_zero_a_esquerda": _map_entry("quantidade_por_produto", lambda k, v: f"{k}0{v}"),
    "quantidade_999999": _map_entry("quantidade_por_produto", lambda k, v: f"{k}999999"),
    "quantidade_1000001": _map_entry("quantidade_por_produto", lambda k, v: f"{k}1000001"),
    "quantidade_estoura_int": _map_entry("quantidade_por_produto", lambda k, v: f"{k}{2**31}"),
    "quantidade_estoura_long": _map_entry("quantidade_por_produto", lambda k, v: f"{k}{2**64}"),
    "preco_milesimo": _map_entry("preco_unitario_por_produto", lambda k, v: f"{k}0.001"),
    "preco_tres_casas_zero": _map_entry("preco_unitario_por_produto", lambda k, v: f"{k}{v}0"),
    "preco_texto": _map_entry("preco_unitario_por_produto", lambda k, v: f'{k}"{v}"'),
    "preco_expoente": _map_entry("preco_unitario_por_produto", lambda k, v: f"{k}{v}e0"),
    "preco_negativo": _map_entry("preco_unitario_por_produto", lambda k, v: f"{k}-{v}"),
    "preco_nulo": _map_entry("preco_unitario_por_produto", lambda k, v: f"{k}null"),
    "preco_enorme": _map_entry("preco_unitario_por_produto", lambda k, v: f"{k}{'9' * 40}"),
    "preco_1e400": _map_entry("preco_unitario_por_produto", lambda k, v: f"{k}1e400"),
    "total_mais_um_centavo": _total(lambda v: str(v + Decimal("0.01"))),
    "total_tres_casas": _total(lambda v: f"{v}0"),
    "total_float": _total(lambda v: repr(float(v) + 1e-11)),
    "total_texto": _total(lambda v: f'"{v}"'),
    "total_1e400": _set("valor_total", "1e400"),
    "total_400_digitos": _set("valor_total", "9" * 400),
    "total_estoura_long": _set("valor_total", str(2**63)),
    "total_nulo": _set("valor_total", "null"),
    "total_nan": _set("valor_total", "NaN"),
    **{f"sem_{f}": _drop(f) for f in FIELDS},
    **{f"{f}_nulo": _set(f, "null") for f in FIELDS},
    "id_vazio": _set("id_ordem", '""'),
    "id_espaco": _set("id_ordem", '" "'),
    "id_espaco_escapado": _set("id_ordem", '"\\u0020"'),
    "id_numero": _set("id_ordem", "7"),
    "nome_unicode": _rename_first('"Fogão 🔥 电饭煲"'),
    "nome_escapado": _rename_first('"Fog\\u00e3o"'),
    "nome_surrogates": _rename_first('"Fogo \\ud83d\\udd25"'),
    "nome_surrogate_solto": _rename_first('"Fogo \\ud800"'),
    "nome_barra_invertida": _rename_first('"Fogo \\\\ 2"'),
    "nome_aspas": _rename_first('"TV 50\\" 4K"'),
    "nome_controle_escapado": _rename_first('"\\u001b[31mVermelho"'),
    "nome_controle_cru": _rename_first('"linha\nquebrada"'),
    "nome_espaco_inicial": _rename_first('" Mouse"'),
    "nome_vazio": _rename_first('""'),
    "nome_200": _rename_first(json.dumps("n" * 200)),
    "nome_201": _rename_first(json.dumps("n" * 201)),
    "nome_200_emoji": _rename_first(json.dumps("🔥" * 200, ensure_ascii=False)),
    "nome_201_emoji": _rename_first(json.dumps("🔥" * 201, ensure_ascii=False)),
    "nome_igual_a_chave": _rename_first('"valor_total"'),
    "data_br": _set("data_hora", '"23/11/2026 14:05:09"'),
    "data_impossivel": _set("data_hora", '"2026-02-30T10:00:00"'),
    "data_br_impossivel": _set("data_hora", '"31/02/2026 10:00:00"'),
    "data_com_fuso": _set("data_hora", '"2026-11-23T17:05:09Z"'),
    "data_numero": _set("data_hora", "1732370709"),
}


def tricky_variants(bases: list[bytes]) -> Iterator[bytes]:
    rng = random.Random(SEED)
    for base in bases:
        text = base.decode()
        for mutate in MUTATIONS.values():
            yield mutate(text).encode()
        # two mutations at once, chosen at random
        first, second = rng.sample(sorted(MUTATIONS), 2)
        try:
            yield MUTATIONS[second](MUTATIONS[first](text)).encode()
        except (ValueError, KeyError, TypeError):  # the first one made the text unreadable
            pass


def _many(n: int) -> dict:
    names = [f"P{i}" for i in range(n)]
    return {**CANONICAL, "produtos_comprados": names,
            "quantidade_por_produto": {p: 1 for p in names},
            "preco_unitario_por_produto": {p: 1 for p in names}, "valor_total": n}


def _canonical_order(order_id: str, lines: list[tuple[int | str, Decimal]],
                     total: Decimal) -> bytes:
    """A canonical order as the producer writes it (so the fast path may take it), of items
    P0, P1... with these (quantity, unit price) lines."""
    names = [f"P{i}" for i in range(len(lines))]
    listed = ",".join(f'"{p}"' for p in names)
    quantities = ",".join(f'"{p}":{q}' for p, (q, _) in zip(names, lines))
    prices = ",".join(f'"{p}":{price}' for p, (_, price) in zip(names, lines))
    return (f'{{"id_ordem":"{order_id}","cpf_cliente":"529.982.247-25",'
            f'"produtos_comprados":[{listed}],"quantidade_por_produto":{{{quantities}}},'
            f'"preco_unitario_por_produto":{{{prices}}},"valor_total":{total},'
            '"data_hora":"2026-11-23T14:05:09"}').encode()


def _canonical_many(n: int, null_last: bool = False) -> bytes:
    """A canonical order of n items: around MAX_FAST_ITEMS, the last position the fast path
    checks item by item."""
    price = Decimal("1.50")
    lines: list[tuple[int | str, Decimal]] = [(1, price)] * n
    if null_last:
        lines[-1] = ("null", price)
    return _canonical_order(f"itens-{n}", lines, price * (n - 1 if null_last else n))


def _canonical_lines(lines: list[tuple[int | str, Decimal]], total: Decimal) -> bytes:
    return _canonical_order(f"limite-{total}", lines, total)


def at_the_limits() -> list[bytes]:
    """Canonical orders at and just past the money limits (the Java path counts in cents)."""
    cent = Decimal("0.01")
    biggest_line = (MAX_QUANTITY, MAX_PRICE)
    rest = MAX_ORDER_VALUE - MAX_QUANTITY * MAX_PRICE  # what a second line must add
    return [
        _canonical_lines([biggest_line], MAX_QUANTITY * MAX_PRICE),
        _canonical_lines([(1, MAX_PRICE + cent)], MAX_PRICE + cent),
        _canonical_lines([biggest_line, (1, rest)], MAX_ORDER_VALUE),
        _canonical_lines([biggest_line, (1, rest + cent)], MAX_ORDER_VALUE + cent),
        _canonical_lines([biggest_line] * MAX_FAST_ITEMS,
                         MAX_FAST_ITEMS * MAX_QUANTITY * MAX_PRICE),
        _canonical_lines([(1, Decimal("0.00"))], Decimal("0.00")),
    ]


def byte_variants(bases: list[bytes]) -> Iterator[bytes]:
    """Bytes a text mutation cannot make: other encodings and ill-formed UTF-8 in a name,
    after 0 to 8 more ASCII letters (the Java check reads ASCII eight bytes at a time, so
    every alignment of the bad byte is tried)."""
    name_start = b'"produtos_comprados":["'
    for base in bases:
        yield base.decode().encode("utf-16-le")
        yield base.decode().encode("utf-16")  # with a byte-order mark
        yield base.decode().encode("utf-32-be")
        for bad in (b"\xc1\xa1", b"\xe0\x80\xa1", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                    b"\xc3", b"\x80", b"\xff", b"\x00"):
            for shift in range(9):
                yield base.replace(name_start, name_start + b"x" * shift + bad, 1)


def all_messages() -> list[bytes | None]:
    bases = generated_orders(24) + generated_orders(8, "br")
    corpus = [as_bytes(m) for _, m, _ in MALFORMED] + [as_bytes(m) for _, m in VALID_ODDITIES]
    corpus += [as_bytes(m) for m in (CANONICAL, SEED_A, SEED_B, SEED_B_PRICED, *WINDOWED)]
    corpus += [as_bytes(_many(8)), as_bytes(_many(300)), None]
    corpus += [_canonical_many(n) for n in (MAX_FAST_ITEMS - 1, MAX_FAST_ITEMS,
                                            MAX_FAST_ITEMS + 1, 40)]
    corpus += [_canonical_many(n, null_last=True) for n in (2, MAX_FAST_ITEMS)]
    hostile = [case.value for case in HOSTILE]
    return [*generated_orders(GENERATED), *corpus, *hostile, *tricky_variants(bases),
            *byte_variants(bases[:4]), *at_the_limits()]


@pytest.fixture(scope="module")
def messages() -> list[bytes | None]:
    return all_messages()


def test_both_paths_give_the_same_rows(spark, messages):
    frame = kafka_frame(spark, messages).cache()
    fast = parse_orders(frame).orderBy("offset").collect()
    slow = parse_orders(frame, fast=False).orderBy("offset").collect()
    assert len(fast) == len(slow) == len(messages)
    differences = [(messages[a.offset][:200], a, b) for a, b in zip(fast, slow) if a != b]
    assert differences == []
    frame.unpersist()


def test_fast_path_vouches_for_canonical_orders_and_only_valid_ones(spark, messages):
    assert MAX_FAST_ITEMS >= MAX_PRODUCTS_PER_ORDER  # the producer's largest order fits
    frame = kafka_frame(spark, messages)
    vouched = {r["offset"] for r in vouched_by_fast_path(frame).where("_fast").collect()}
    slow = {r["offset"]: r["motivo"] for r in parse_orders(frame, fast=False).collect()}
    assert set(range(GENERATED)) <= vouched  # every order the producer's generator makes
    assert all(slow[offset] is None for offset in vouched)
    # tricky but valid variants the fast path still reads itself (spaces, escapes, quotes)
    assert len(vouched) > GENERATED + 32 * 4
    # and the VARIANT path decided a good share of the rest, valid and invalid
    assert sum(1 for o, m in slow.items() if o not in vouched and m is None) > 100


def test_money_at_the_limits_is_read_exactly(spark):
    frame = kafka_frame(spark, at_the_limits())
    vouched = {r["offset"] for r in vouched_by_fast_path(frame).where("_fast").collect()}
    reasons = [r["motivo"] for r in parse_orders(frame).orderBy("offset").collect()]
    assert reasons == [None, "preco_invalido", None, "valor_total_invalido",
                       "valor_total_invalido", None]
    assert vouched == {0, 2, 5}  # the valid ones, by the fast path itself
