"""Order generation: the data contract, exact money, realism and reproducibility."""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from vendas import contract as c
from vendas.producer.catalog import (
    CATEGORIES,
    MODEL_PRICE_BAND,
    PRODUCTS,
    Product,
    by_name,
    catalog,
)
from vendas.producer.cpf import is_valid
from vendas.producer.generator import (
    OrderGenerator,
    SimulatedClock,
    SpreadClock,
    WallClock,
    customer_pool,
    make_clock,
    parse_start_time,
    uuid4_text,
)
from vendas.producer.orders import Order, cents_json

FIELDS = [c.ID_ORDEM, c.CPF_CLIENTE, c.PRODUTOS_COMPRADOS, c.QUANTIDADE_POR_PRODUTO,
          c.PRECO_UNITARIO_POR_PRODUTO, c.VALOR_TOTAL, c.DATA_HORA]
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
BR = re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}")
START = datetime(2026, 11, 23, 14, 5, 9)


@pytest.fixture(scope="module")
def orders() -> list[Order]:
    return OrderGenerator(20261124, clock=SimulatedClock(START, 100)).take(20_000)


def decode(value: bytes) -> dict:
    return json.loads(value, parse_float=Decimal)


# --- catalog -----------------------------------------------------------------------------

def test_catalog_is_big_varied_and_priced_in_reais():
    assert len(PRODUCTS) >= 40
    assert {"eletrônicos", "eletrodomésticos", "informática", "casa", "esporte"} <= set(CATEGORIES)
    per_category = Counter(p.category for p in PRODUCTS)
    assert all(n >= 4 for n in per_category.values()), per_category
    assert len(by_name()) == len(PRODUCTS)  # unique names
    for product in PRODUCTS:
        assert Decimal("10.00") <= product.price <= Decimal("10000.00"), product
        assert product.price == Decimal(product.price_cents) / 100
        assert product.weight > 0
    # everyday items are cheap, big appliances expensive
    assert by_name()["Pen Drive SanDisk 64GB"].price < 100
    assert by_name()["Geladeira Brastemp Frost Free 375L"].price > 2000


def test_a_larger_catalog_adds_numbered_models_of_the_real_products():
    assert catalog() is PRODUCTS
    assert catalog(10) == PRODUCTS[:10]
    big = catalog(10_000)
    assert len(big) == 10_000 and big[:len(PRODUCTS)] == PRODUCTS
    assert len({p.name for p in big}) == 10_000
    first_model, last_model = big[len(PRODUCTS)], big[-1]
    assert first_model.name == f"{PRODUCTS[0].name} (modelo 2)"
    real_of_last = PRODUCTS[(10_000 - len(PRODUCTS) - 1) % len(PRODUCTS)]
    assert last_model.name == f"{real_of_last.name} (modelo {(10_000 - 1) // len(PRODUCTS) + 1})"
    reals = by_name()
    for model in big[len(PRODUCTS):]:
        real = reals[model.name.rsplit(" (modelo ", 1)[0]]
        assert (model.category, model.weight) == (real.category, real.weight)
        low, high = MODEL_PRICE_BAND[0], MODEL_PRICE_BAND[-1]
        assert real.price_cents * low // 100 <= model.price_cents <= real.price_cents * high // 100
    assert len({p.price_cents for p in big[len(PRODUCTS):2 * len(PRODUCTS)]}) > len(PRODUCTS) // 2
    assert [(p.name, p.price_cents) for p in catalog(10_000)] == [
        (p.name, p.price_cents) for p in big]  # the same catalog every time
    with pytest.raises(ValueError):
        catalog(0)


def test_orders_draw_from_the_whole_of_a_large_catalog():
    big = catalog(200_000)
    orders = OrderGenerator(7, clock=SimulatedClock(START, 100), products=big).take(20_000)
    names = {p.name for order in orders for p, _ in order.items}
    assert len(names) > 20_000  # most lines hit a product not seen before
    assert sum(" (modelo " in name for name in names) > 0.99 * len(names)
    prices = {p.name: p for p in big}
    for order in orders[:500]:  # each line at its product's price, to the cent
        for product, _ in order.items:
            assert prices[product.name] is product
    again = OrderGenerator(7, clock=SimulatedClock(START, 100), products=catalog(200_000))
    assert [o.encode() for o in again.take(100)] == [o.encode() for o in orders[:100]]


# --- the data contract -------------------------------------------------------------------

def test_message_shape_follows_the_contract(orders):
    for order in orders[:2000]:
        raw = order.encode()
        message = decode(raw)
        assert list(message) == FIELDS
        assert order.key == message[c.ID_ORDEM].encode("utf-8")
        parsed_id = uuid.UUID(message[c.ID_ORDEM])
        assert parsed_id.version == 4 and str(parsed_id) == message[c.ID_ORDEM]
        assert is_valid(message[c.CPF_CLIENTE])
        names = message[c.PRODUTOS_COMPRADOS]
        assert 1 <= len(names) <= 5 and len(set(names)) == len(names)
        assert list(message[c.QUANTIDADE_POR_PRODUTO]) == names
        assert list(message[c.PRECO_UNITARIO_POR_PRODUTO]) == names
        for quantity in message[c.QUANTIDADE_POR_PRODUTO].values():
            assert type(quantity) is int and quantity >= 1
        assert ISO.fullmatch(message[c.DATA_HORA])
        # the hand-built JSON says exactly what the model says
        assert message == order.to_dict()


def test_money_is_exact_to_the_cent(orders):
    catalog = by_name()
    for order in orders:
        raw = order.encode()
        message = decode(raw)
        quantities = message[c.QUANTIDADE_POR_PRODUTO]
        prices = message[c.PRECO_UNITARIO_POR_PRODUTO]
        assert message[c.VALOR_TOTAL] == sum(quantities[n] * prices[n] for n in quantities)
        for name, price in prices.items():
            assert price == catalog[name].price
        # every money value is written with exactly two decimals (89.90, not 89.9)
        text = raw.decode()
        assert re.search(r'"valor_total":\d+\.\d\d,', text), text
        assert all(re.fullmatch(r"\d+\.\d\d", p) for p in
                   re.findall(r'":(\d+(?:\.\d+)?)', text.split('"preco_unitario_por_produto":')[1]
                              .split("}")[0]))


def test_money_formatting():
    assert cents_json(8990) == "89.90"
    assert cents_json(32970) == "329.70"
    assert cents_json(5) == "0.05"
    assert cents_json(0) == "0.00"
    assert cents_json(-150) == "-1.50"


def test_brazilian_date_format():
    order = OrderGenerator(1, clock=SimulatedClock(START, 100, "br")).next_order()
    message = decode(order.encode())
    assert message[c.DATA_HORA] == "23/11/2026 14:05:09"
    assert BR.fullmatch(message[c.DATA_HORA])
    assert list(message) == FIELDS


def test_names_are_json_escaped():
    tricky = Product('Cabo "HDMI" 2m \\ 4K\nnovo ção', "informática", 4990, 1)
    order = Order(str(uuid.uuid4()), "529.982.247-25", ((tricky, 3),), "2026-11-23T14:05:09")
    message = decode(order.encode())
    assert message[c.PRODUTOS_COMPRADOS] == [tricky.name]
    assert message[c.VALOR_TOTAL] == Decimal("149.70")
    assert 'Smart TV LG 50" 4K UHD' in by_name()  # real catalog names need escaping too


# --- realism -----------------------------------------------------------------------------

def test_products_per_order_from_1_to_5_small_orders_more_common(orders):
    sizes = Counter(len(o.items) for o in orders)
    assert set(sizes) == {1, 2, 3, 4, 5}
    assert sizes[1] > sizes[2] > sizes[3] > sizes[4] > sizes[5]


def test_quantities_skewed_to_one_or_two(orders):
    quantities = Counter(q for o in orders for _, q in o.items)
    total = sum(quantities.values())
    assert quantities[1] > quantities[2] > quantities[3]
    assert (quantities[1] + quantities[2]) / total > 0.8
    assert max(quantities) <= 6
    expensive = Counter(q for o in orders for p, q in o.items if p.price >= 1000)
    assert expensive[1] / sum(expensive.values()) > 0.85


def test_cheap_products_sell_more_often_than_expensive_ones(orders):
    sold = Counter(p.name for o in orders for p, _ in o.items)
    assert sold["Carregador Turbo USB-C 25W"] > 3 * sold["Geladeira Brastemp Frost Free 375L"]
    assert len(sold) == len(PRODUCTS)  # every product sells eventually


def test_returning_customers(orders):
    buyers = Counter(o.cpf_cliente for o in orders)
    assert all(is_valid(cpf) for cpf in buyers)
    assert len(buyers) < len(orders) * 0.8  # many orders come from returning customers
    top = buyers.most_common(1)[0][1]
    assert top >= 100  # a few loyal customers buy very often (Zipf-like)
    assert sum(1 for n in buyers.values() if n == 1) > 1000  # and a long tail buys once


def test_customer_pool_is_distinct_valid_and_seeded():
    pool = customer_pool(5, 3000)
    assert len(pool) == len(set(pool)) == 3000
    assert all(is_valid(n) for n in pool)
    assert customer_pool(5, 3000) == pool
    assert customer_pool(6, 3000) != pool


# --- reproducibility ---------------------------------------------------------------------

def test_ids_are_the_uuid4_of_the_seeded_bits():
    rng = random.Random(7)
    for _ in range(20_000):
        bits = rng.getrandbits(128)
        assert uuid4_text(bits) == str(uuid.UUID(int=bits, version=4))


def test_same_seed_same_orders_different_seed_different_orders():
    def run(seed):
        generator = OrderGenerator(seed, clock=SimulatedClock(START, 50))
        return [o.encode() for o in generator.take(3000)]

    first = run(42)
    assert run(42) == first  # byte for byte, dates included (fixed start time)
    other = run(43)
    assert not set(first) & set(other)
    assert len({json.loads(v)[c.ID_ORDEM] for v in first}) == 3000  # ids are unique


def test_wall_clock_only_changes_data_hora():
    def strip_date(order: Order):
        return order.id_ordem, order.cpf_cliente, [(p.name, q) for p, q in order.items]

    a = [strip_date(o) for o in OrderGenerator(9, clock=WallClock()).take(500)]
    b = [strip_date(o) for o in OrderGenerator(9, clock=make_clock("br", seed=9,
                                                                  spread_days=30)).take(500)]
    assert a == b  # the date options draw from their own random stream


def test_generator_without_seed_picks_and_exposes_one():
    generator = OrderGenerator(None, customers=100)
    assert isinstance(generator.seed, int)
    again = OrderGenerator(generator.seed, customers=100)
    assert generator.next_order()[:3] == again.next_order()[:3]


# --- clocks ------------------------------------------------------------------------------

def test_wall_clock_is_now_in_sao_paulo():
    stamp = datetime.strptime(WallClock().next(), c.DATE_FORMATS["iso"])
    now = datetime.now(ZoneInfo(c.DEFAULT_TIME_ZONE)).replace(tzinfo=None)
    assert abs((now - stamp).total_seconds()) < 2


def test_simulated_clock_starts_fixed_and_follows_the_rate():
    clock = SimulatedClock(START, rate=4)
    stamps = [clock.next() for _ in range(9)]
    assert stamps[:4] == ["2026-11-23T14:05:09"] * 4
    assert stamps[4:8] == ["2026-11-23T14:05:10"] * 4
    assert stamps[8] == "2026-11-23T14:05:11"


def test_spread_clock_stays_in_the_period_and_is_seeded():
    def stamps(seed):
        clock = make_clock("iso", seed=seed, start_time=START, spread_days=30)
        assert isinstance(clock, SpreadClock)
        return [datetime.fromisoformat(clock.next()) for _ in range(5000)]

    values = stamps(1)
    assert values == stamps(1)
    assert values != stamps(2)
    assert all(START - timedelta(days=30) <= v <= START for v in values)
    # spread over the whole period, not bunched up
    assert max(values) - min(values) > timedelta(days=29)
    assert len({v.date() for v in values}) >= 30


def test_parse_start_time():
    assert parse_start_time("2026-11-23T14:05:09") == START
    assert parse_start_time("23/11/2026 14:05:09") == START
    # an explicit offset is converted to São Paulo wall time (UTC-3)
    assert parse_start_time("2026-11-23T17:05:09+00:00") == START
    with pytest.raises(ValueError):
        parse_start_time("ontem")


# --- speed (a coarse guard; bench/producer.py measures properly) --------------------------

def test_generation_is_not_the_bottleneck():
    generator = OrderGenerator(3)
    next_order = generator.next_order
    n = 30_000
    started = time.perf_counter()
    for _ in range(n):
        order = next_order()
        order.key, order.encode()
    rate = n / (time.perf_counter() - started)
    # ~150,000/s on an idle core; Faker per field per order would be ~8,000/s
    assert rate > 25_000, f"{rate:.0f} orders/s"
