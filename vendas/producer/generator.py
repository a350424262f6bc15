"""Realistic, reproducible, fast order generation.

Realistic: products weighted by popularity, 1 to 5 distinct products per order (small
orders more common), quantities skewed to 1-2 (expensive items almost always 1), and a
pool of returning customers with valid CPFs in which a few buy very often (Zipf-like).

Reproducible: everything but `data_hora` comes from one `random.Random(seed)`, including
the uuid4 ids, so the same seed gives the same orders in the same order. `data_hora` comes
from a clock: the wall clock by default, or a seeded one (see `make_clock`).

Fast: Faker (pt_BR) is used once, to build the customer pool; per order there are only
a handful of `random.Random` calls on precomputed cumulative weights.
"""

from __future__ import annotations

import bisect
import itertools
import random
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from faker import Faker

from vendas.contract import DATE_FORMATS, DEFAULT_TIME_ZONE
from vendas.producer import cpf as cpf_digits
from vendas.producer.catalog import PRODUCTS, Product
from vendas.producer.orders import Order

MAX_PRODUCTS_PER_ORDER = 5
# How many distinct products an order has: 1..5, small orders more common.
ITEMS_PER_ORDER_WEIGHTS = (45, 27, 15, 8, 5)
# Quantity of one product: 1..6, skewed to 1-2; items from R$ 1.000 up: 1..3, nearly always 1.
QUANTITY_WEIGHTS = (60, 24, 8, 4, 2, 2)
EXPENSIVE_QUANTITY_WEIGHTS = (90, 9, 1)
EXPENSIVE_CENTS = 100_000

DEFAULT_CUSTOMERS = 20_000
# Customer k (1-based) buys with weight 1/k**s: the most loyal customer makes ~3% of orders.
CUSTOMER_ZIPF_EXPONENT = 0.8


def new_seed() -> int:
    """A fresh seed for runs without --seed (logged, so the run can be repeated)."""
    return random.SystemRandom().randrange(2**32)


def _cumulative(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def customer_pool(seed: int | str, size: int = DEFAULT_CUSTOMERS) -> list[str]:
    """`size` distinct valid CPFs, built once with Faker pt_BR seeded from `seed`."""
    fake = Faker("pt_BR", use_weighting=False)
    fake.seed_instance(f"{seed}:clientes")
    pool: dict[str, None] = {}
    while len(pool) < size:
        candidate = fake.cpf()
        if cpf_digits.is_valid(candidate):  # Faker may draw e.g. 000.000.000-00
            pool[candidate] = None
    return list(pool)


# --- clocks: what `data_hora` says -------------------------------------------------------

class Clock:
    """Gives each order's `data_hora` text; naive local time in DEFAULT_TIME_ZONE."""

    def __init__(self, date_format: str = "iso") -> None:
        self.pattern = DATE_FORMATS[date_format]

    def next(self) -> str:
        raise NotImplementedError


_EPOCH = datetime(1970, 1, 1)

# The version (4) and variant (RFC 4122) bits of a random UUID, as uuid.UUID(version=4)
# sets them.
_UUID4_KEEP = ((1 << 128) - 1) & ~((0xC000 << 48) | (0xF000 << 64))
_UUID4_SET = (0x8000 << 48) | (4 << 76)


def uuid4_text(bits: int) -> str:
    """str(uuid.UUID(int=bits, version=4)) without building a UUID object (the hot path)."""
    h = f"{(bits & _UUID4_KEEP) | _UUID4_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _wall_seconds(moment: datetime) -> int:
    """Seconds of naive wall time since 1970-01-01T00:00:00.

    Formatting these through gmtime is cheap and has no time zone or DST to apply.
    """
    return int((moment - _EPOCH).total_seconds())


class WallClock(Clock):
    """Now, in the São Paulo wall time the consumer assumes for naive dates."""

    def __init__(self, date_format: str = "iso", time_zone: str = DEFAULT_TIME_ZONE) -> None:
        super().__init__(date_format)
        self._zone = ZoneInfo(time_zone)
        self._last_epoch = -1
        self._text = ""

    def next(self) -> str:
        epoch = int(time.time())
        if epoch != self._last_epoch:
            self._last_epoch = epoch
            local = datetime.fromtimestamp(epoch, self._zone).replace(tzinfo=None)
            self._text = local.strftime(self.pattern)
        return self._text


class SimulatedClock(Clock):
    """Starts at a fixed time and advances as if `rate` orders arrived per second."""

    def __init__(self, start: datetime, rate: float, date_format: str = "iso") -> None:
        super().__init__(date_format)
        if rate <= 0:
            raise ValueError("a simulated clock needs a positive rate")
        self._start = _wall_seconds(start)
        self._rate = rate
        self._index = 0
        self._second: int | None = None
        self._text = ""

    def next(self) -> str:
        second = self._start + int(self._index / self._rate)
        self._index += 1
        if second != self._second:  # many orders share a second: format it once
            self._second = second
            self._text = time.strftime(self.pattern, time.gmtime(second))
        return self._text


class SpreadClock(Clock):
    """Random times over the `days` before `end` (the originals' past dates), seeded."""

    def __init__(self, rng: random.Random, days: float, end: datetime | None = None,
                 date_format: str = "iso", time_zone: str = DEFAULT_TIME_ZONE) -> None:
        super().__init__(date_format)
        if end is None:
            end = datetime.now(ZoneInfo(time_zone)).replace(tzinfo=None)
        self._end = _wall_seconds(end)
        self._span = max(1, int(days * 86_400))
        self._randrange = rng.randrange

    def next(self) -> str:
        second = self._end - self._randrange(self._span)
        return time.strftime(self.pattern, time.gmtime(second))


def make_clock(date_format: str = "iso", *, seed: int | str | None = None,
               start_time: datetime | None = None, spread_days: float | None = None,
               rate: float = 100.0) -> Clock:
    """The clock the CLI's date options ask for.

    - neither option: the wall clock (now);
    - `spread_days`: uniform over the `spread_days` days up to now, or up to `start_time`;
    - `start_time` alone: starts there and advances at `rate` orders per second.
    With `start_time`, every `data_hora` depends only on the seed: fully reproducible.
    """
    if spread_days is not None:
        return SpreadClock(random.Random(f"{seed}:datas"), spread_days, start_time, date_format)
    if start_time is not None:
        return SimulatedClock(start_time, rate, date_format)
    return WallClock(date_format)


# --- the generator ----------------------------------------------------------------------

class OrderGenerator:
    """An endless, seeded stream of orders; iterate it or call `next_order()`."""

    def __init__(self, seed: int | str | None = None, *, clock: Clock | None = None,
                 products: Sequence[Product] = PRODUCTS,
                 customers: int = DEFAULT_CUSTOMERS) -> None:
        if seed is None:
            seed = new_seed()
        self.seed = seed
        self.clock = clock or WallClock()
        rng = random.Random(seed)
        self._random = rng.random
        self._getrandbits = rng.getrandbits

        self._products = tuple(products)
        if len(self._products) < MAX_PRODUCTS_PER_ORDER:
            raise ValueError(f"the catalog needs at least {MAX_PRODUCTS_PER_ORDER} products")
        self._product_cw = _cumulative([p.weight for p in self._products])
        # two shared tables, not one per product: a catalog may hold a million
        expensive, usual = (_cumulative(EXPENSIVE_QUANTITY_WEIGHTS),
                            _cumulative(QUANTITY_WEIGHTS))
        self._quantity_cw = [
            expensive if p.price_cents >= EXPENSIVE_CENTS else usual for p in self._products
        ]
        self._items_cw = _cumulative(ITEMS_PER_ORDER_WEIGHTS)

        self.customers = customer_pool(seed, customers)
        self._customer_cw = _cumulative(
            [1 / k**CUSTOMER_ZIPF_EXPONENT for k in range(1, len(self.customers) + 1)]
        )

    def next_order(self) -> Order:
        rand = self._random
        order_id = uuid4_text(self._getrandbits(128))

        cw = self._customer_cw
        customer = self.customers[bisect.bisect(cw, rand() * cw[-1])]

        cw = self._items_cw
        n_items = bisect.bisect(cw, rand() * cw[-1]) + 1

        cw = self._product_cw
        total = cw[-1]
        chosen: list[int] = []
        while len(chosen) < n_items:  # weighted draw without replacement
            index = bisect.bisect(cw, rand() * total)
            if index not in chosen:
                chosen.append(index)

        products = self._products
        quantity_cw = self._quantity_cw
        items = []
        for index in chosen:
            cw = quantity_cw[index]
            items.append((products[index], bisect.bisect(cw, rand() * cw[-1]) + 1))

        return Order(order_id, customer, tuple(items), self.clock.next())

    def __iter__(self) -> Iterator[Order]:
        next_order = self.next_order
        while True:
            yield next_order()

    def take(self, n: int) -> list[Order]:
        """The next `n` orders."""
        next_order = self.next_order
        return [next_order() for _ in range(n)]


def parse_start_time(text: str, time_zone: str = DEFAULT_TIME_ZONE) -> datetime:
    """ISO-8601 or `dd/mm/aaaa HH:MM:SS`; an offset is converted to São Paulo wall time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = datetime.strptime(text, DATE_FORMATS["br"])
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(time_zone)).replace(tzinfo=None)
    return moment
