"""The orders every benchmark reads: generated once from a seed and a fixed clock (so each
run has the very same orders), sent to a topic and/or written as JSON lines, with the
totals per product they must add up to, computed here in Python, independently of Spark."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from bench.errors import BenchmarkError
from bench.topics import create_topic
from vendas.pipeline.totals import ProductTotal, Totals, rank
from vendas.producer.generator import OrderGenerator, make_clock
from vendas.producer.orders import Order
from vendas.producer.sender import create_producer, send_orders

# A fixed clock: with a fixed seed every order, data_hora included, is the same on each run.
START_TIME = datetime(2026, 11, 23, 14, 0, 0)

# {produto: (quantidade_total, valor_total)}: what a correct consumer prints.
ProductTable = dict[str, tuple[int, Decimal | None]]


@dataclass
class ExpectedTotals:
    """Per product quantity and value (in cents) of the generated orders."""

    quantities: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    cents: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    orders: int = 0

    def add(self, order: Order) -> None:
        self.orders += 1
        quantities, cents = self.quantities, self.cents
        for product, quantity in order.items:
            quantities[product.name] += quantity
            cents[product.name] += product.price_cents * quantity

    def as_table(self) -> ProductTable:
        return {name: (q, Decimal(self.cents[name]).scaleb(-2))
                for name, q in self.quantities.items()}

    def ranked(self) -> list[ProductTotal]:
        """Every product, in the order the consumer ranks them (vendas.pipeline.totals)."""
        return sorted((ProductTotal(name, q, value) for name, (q, value)
                       in self.as_table().items()), key=rank)

    @property
    def quantity(self) -> int:
        return sum(self.quantities.values())

    @property
    def value(self) -> Decimal:
        return Decimal(sum(self.cents.values())).scaleb(-2)


def order_stream(n: int, seed: int, rate_for_clock: float = 1000.0) -> Iterator[Order]:
    """n seeded orders with a simulated clock: identical on every run."""
    clock = make_clock("iso", seed=seed, start_time=START_TIME, rate=rate_for_clock)
    next_order = OrderGenerator(seed, clock=clock).next_order
    for _ in range(n):
        yield next_order()


class JsonLinesWriter:
    """Encoded orders as JSON lines, `lines_per_file` per file (part-00000.jsonl, ...)."""

    def __init__(self, directory: Path, lines_per_file: int):
        self.directory = directory
        self.lines_per_file = lines_per_file
        directory.mkdir(parents=True, exist_ok=True)
        self.files = 0
        self.bytes = 0
        self._in_file = 0
        self._out: BinaryIO | None = None

    def write(self, value: bytes) -> None:
        if self._out is None or self._in_file >= self.lines_per_file:
            self._roll()
        self._out.write(value)
        self._out.write(b"\n")
        self._in_file += 1
        self.bytes += len(value) + 1

    def _roll(self) -> None:
        self.close()
        # kept open across write() calls, closed by close() (or the next _roll())
        self._out = open(self.directory / f"part-{self.files:05d}.jsonl", "wb",  # noqa: SIM115
                         buffering=1 << 20)
        self.files += 1
        self._in_file = 0

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


@dataclass
class LoadedOrders:
    """Where the orders went and what they add up to."""

    topic: str | None
    orders: int
    expected: ExpectedTotals
    send_seconds: float
    jsonl_dir: Path | None = None
    files: int = 0
    json_bytes: int = 0


def load_orders(bootstrap: str, topic: str | None, n: int, seed: int, *,
                partitions: int = 2, compression: str | None = "lz4",
                jsonl_dir: Path | None = None, lines_per_file: int = 10_000) -> LoadedOrders:
    """Generate n seeded orders once; send them to a new `topic` (if given) with the
    project's producer, and write the very same bytes as JSON lines to `jsonl_dir` (if given)."""
    expected = ExpectedTotals()
    writer = JsonLinesWriter(jsonl_dir, lines_per_file) if jsonl_dir is not None else None

    def tee(orders: Iterable[Order]) -> Iterator[Order]:
        add = expected.add
        for order in orders:
            add(order)
            if writer is not None:
                writer.write(order.encode())
            yield order

    started = time.perf_counter()
    try:
        if topic is None:
            for _ in tee(order_stream(n, seed)):
                pass
        else:
            create_topic(bootstrap, topic, partitions)
            producer = create_producer(bootstrap, compression_type=compression)
            try:
                producer.partitions_for(topic)
                summary = send_orders(producer, topic, tee(order_stream(n, seed)), count=n,
                                      rate=0, progress_interval_s=3600)
            finally:
                producer.close()
            if not summary.ok:
                raise BenchmarkError(f"só {summary.acked} de {n} pedidos confirmados pelo "
                                     f"Kafka ({summary.first_error})")
    finally:
        if writer is not None:
            writer.close()
    return LoadedOrders(topic, n, expected, time.perf_counter() - started, jsonl_dir,
                        writer.files if writer else 0, writer.bytes if writer else 0)


def check_totals(label: str, loaded: LoadedOrders, table: ProductTable,
                 counted: int | None = None, rejected: int = 0) -> None:
    """A run counts only if it printed exactly the generated orders' totals, to the cent
    (and, when it reports them, counted every order and rejected none)."""
    if counted is not None and (counted != loaded.orders or rejected):
        raise BenchmarkError(f"{label}: contou {counted} pedidos e rejeitou {rejected}; "
                             f"esperava {loaded.orders} e 0")
    expected = loaded.expected.as_table()
    if table != expected:
        wrong = sorted(set(table.items()) ^ set(expected.items()))[:3]
        raise BenchmarkError(f"{label}: os totais por produto diferem dos pedidos gerados "
                             f"(por exemplo: {wrong})")


@dataclass(frozen=True)
class ShownTotals:
    """What the consumer shows of its totals: the top products, in order, and the counts
    over all of them (the driver keeps no more: vendas.pipeline.totals)."""

    top: list[ProductTotal]
    products: int
    quantity: int
    value: Decimal
    counted: int
    rejected: int
    duplicates: int = 0

    @classmethod
    def of(cls, totals: Totals) -> ShownTotals:
        return cls(list(totals.produtos), totals.total_produtos, totals.quantidade_total,
                   totals.valor_total, totals.pedidos, totals.total_rejeitadas,
                   totals.duplicadas)


def check_shown(label: str, loaded: LoadedOrders, shown: ShownTotals) -> None:
    """A consumer's run counts only if its top products are exactly the generated orders'
    top, in order and to the cent, and its counts (products, orders, quantity and value
    over every product) are the generated orders' (nothing rejected, nothing repeated)."""
    expected = loaded.expected
    wanted = (len(expected.quantities), loaded.orders, expected.quantity, expected.value, 0, 0)
    got = (shown.products, shown.counted, shown.quantity, shown.value, shown.rejected,
           shown.duplicates)
    if got != wanted:
        raise BenchmarkError(
            f"{label}: produtos, pedidos, quantidade, valor, rejeitadas e repetidas "
            f"{got}; esperava {wanted}")
    if not shown.top:
        raise BenchmarkError(f"{label}: nenhum produto mostrado")
    top = expected.ranked()[:len(shown.top)]
    if shown.top != top:
        wrong = [(s, e) for s, e in zip(shown.top, top) if s != e][:2]
        raise BenchmarkError(f"{label}: os produtos do topo diferem dos pedidos gerados "
                             f"(por exemplo: {wrong})")
