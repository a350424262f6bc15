"""Canonical orders made by Spark itself, for the benchmark of cost against history
(bench.scaling): a stream with the Kafka source's columns that the consumer's own query
(vendas.consumer.start, records=) reads, and the totals those orders must add up to.

Why not the project's producer and Kafka: a simulated day at 1,000 orders/s is 86.4 million
orders, far more than a Python producer sends in reasonable time or a scratch disk holds
as a topic; and the small batches measured after the pre-fill must come from the very
source the pre-fill came from, since a checkpoint cannot change its source. Spark's
`rate-micro-batch` source gives a fixed number of rows per micro-batch, numbered on from
the checkpoint's offsets, and SQL turns each number into the bytes vendas/producer/orders.py
would write for such an order (the Java fast path vouches for them, as for the producer's).

What each number becomes is a fixed function of the number alone (a table of segments,
`OrderPlan`), never of the run that reads it: a batch that a stop interrupted is read
again by the next run with the same content, so the totals stay exact however the runs
are cut. Product names come from a synthetic catalog ("Produto 0000123"), each with a
fixed price: a pre-fill segment brings products the state has not seen yet, in order, so
a store of a million products takes a million divided by items per order orders; a
measured segment draws its items from a catalog range with a fixed pattern, so that a
batch on a fresh checkpoint and a batch behind a big state hold the same orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from vendas import contract as c
from vendas.pipeline.fast_path import MAX_FAST_ITEMS

TOPIC = "sintetico"
NAME_PREFIX, NAME_DIGITS = "Produto ", 7  # "Produto 0000123"
CPF = "529.982.247-25"
DATE = "2026-11-23T14:05:09"
# Prices from R$ 1,00 to R$ 999,00, spread over the catalog by a multiplier prime to the modulus.
PRICE_BASE_CENTS, PRICE_SPREAD, PRICE_STEP = 100, 99_800, 7_919
MAX_QUANTITY = 4


@dataclass(frozen=True)
class Segment:
    """Orders number `start` to `end` - 1 (the source's row numbers), all of one kind.

    fill: order n brings products first_product + (n * items + j) modulo products, j < items
        (new products, in order, `items` per order; past the range they are touched again).
    draw: order n has 1 + n mod max_items items, products first_product + ((n * stride + j)
        modulo products): the same orders for the same n, whatever came before.
    """

    start: int
    end: int
    kind: str  # "fill" | "draw"
    first_product: int
    products: int
    items: int  # fill: items per order; draw: at most this many
    stride: int = 1

    def __post_init__(self) -> None:
        if self.kind not in ("fill", "draw") or not 1 <= self.items <= MAX_FAST_ITEMS:
            raise ValueError(f"segmento inválido: {self}")
        if self.products < self.items or self.end < self.start:
            raise ValueError(f"segmento inválido: {self}")

    @property
    def orders(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class OrderPlan:
    """Consecutive segments from order 0; numbers past the last one repeat its kind."""

    segments: tuple[Segment, ...]

    def __post_init__(self) -> None:
        position = 0
        for segment in self.segments:
            if segment.start != position:
                raise ValueError("os segmentos precisam ser consecutivos desde 0")
            position = segment.end

    @property
    def end(self) -> int:
        return self.segments[-1].end if self.segments else 0


class PlanBuilder:
    """Builds an OrderPlan segment by segment."""

    def __init__(self) -> None:
        self.segments: list[Segment] = []

    @property
    def position(self) -> int:
        return self.segments[-1].end if self.segments else 0

    def add(self, orders: int, kind: str, first_product: int, products: int, items: int,
            stride: int = 1) -> Segment:
        segment = Segment(self.position, self.position + orders, kind, first_product,
                          products, items, stride)
        self.segments.append(segment)
        return segment

    def build(self) -> OrderPlan:
        return OrderPlan(tuple(self.segments))


# --- the orders, as columns -------------------------------------------------------------
# In steps of columns, each computed once per row: written as one expression, every use of
# a segment's field repeats its whole CASE over the segments, and a plan with many segments
# made the optimizer and each row slower than one with a single segment, which would have
# charged the pre-filled checkpoint for the generator instead of for its state.

def _with_items(frame: DataFrame, number: str, plan: OrderPlan) -> DataFrame:
    """`frame` plus, for j < MAX_FAST_ITEMS, _p{j} (order `number` has an item j), _i{j}
    (its product number) and _q{j} (its quantity)."""
    segments = plan.segments
    index = F.lit(len(segments) - 1)
    for i, segment in reversed(list(enumerate(segments[:-1]))):
        index = F.when(F.col(number) < segment.end, F.lit(i)).otherwise(index)
    frame = frame.select("*", index.alias("_seg"))

    def pick(name: str) -> Column:
        values = F.array(*(F.lit(getattr(segment, name)) for segment in segments))
        return F.element_at(values, F.col("_seg") + 1)

    frame = frame.select(
        "*", (F.col(number) - pick("start")).alias("_n"), (pick("kind") == "fill").alias("_fill"),
        pick("first_product").alias("_first"), pick("products").alias("_products"),
        pick("items").alias("_items"), pick("stride").alias("_stride"))
    frame = frame.select(
        "*", F.when(F.col("_fill"), F.col("_items")).otherwise(F.pmod("_n", "_items") + 1)
        .alias("_count"),
        F.when(F.col("_fill"), F.col("_n") * F.col("_items"))
        .otherwise(F.col("_n") * F.col("_stride")).alias("_base"))
    columns = []
    for j in range(MAX_FAST_ITEMS):
        columns += [(F.lit(j) < F.col("_count")).alias(f"_p{j}"),
                    (F.col("_first") + F.pmod(F.col("_base") + j, F.col("_products")))
                    .alias(f"_i{j}"),
                    (F.pmod(F.col("_n") + 2 * j, MAX_QUANTITY) + 1).alias(f"_q{j}")]
    return frame.select("*", *columns)


def _slots() -> range:
    return range(MAX_FAST_ITEMS)


def price_cents(product: Column) -> Column:
    return F.pmod(product * PRICE_STEP, PRICE_SPREAD) + PRICE_BASE_CENTS


# Plain string functions rather than format_string (a java.util.Formatter per call): the
# pre-fill makes tens of millions of these.

def _money(cents: Column) -> Column:
    return F.concat(F.floor(cents / 100).cast("string"), F.lit("."),
                    F.lpad(F.pmod(cents, 100).cast("string"), 2, "0"))


def _quoted_name(product: Column) -> Column:
    return F.concat(F.lit(f'"{NAME_PREFIX}'), F.lpad(product.cast("string"), NAME_DIGITS, "0"),
                    F.lit('"'))


def order_id(number: Column) -> Column:
    """A UUID-shaped id, unique per number (its last 12 hex digits), whose leading digits
    look random: keys arrive in the state store in no particular order, as the producer's
    uuid4 ids do."""
    mixed = F.lower(F.lpad(F.hex(F.xxhash64(number)), 16, "0"))
    return F.concat(F.substring(mixed, 1, 8), F.lit("-"), F.substring(mixed, 9, 4),
                    F.lit("-4"), F.substring(mixed, 13, 3), F.lit("-8"),
                    F.substring(mixed, 16, 1), F.lit("00-"),
                    F.lower(F.lpad(F.hex(number), 12, "0")))


def with_order_json(frame: DataFrame, number: str, plan: OrderPlan) -> DataFrame:
    """`frame` plus `_json`: the canonical message of order `number`, as vendas.producer.
    orders.Order.encode writes it (field order, compact separators, money with two places)."""
    frame = _with_items(frame, number, plan)
    frame = frame.select("*", *(
        c for j in _slots()
        for c in (F.when(F.col(f"_p{j}"), _quoted_name(F.col(f"_i{j}"))).alias(f"_nm{j}"),
                  F.when(F.col(f"_p{j}"), price_cents(F.col(f"_i{j}"))).alias(f"_pc{j}"))))
    names = F.concat_ws(",", *(F.col(f"_nm{j}") for j in _slots()))
    quantities = F.concat_ws(",", *(
        F.when(F.col(f"_p{j}"), F.concat(F.col(f"_nm{j}"), F.lit(":"),
                                         F.col(f"_q{j}").cast("string")))
        for j in _slots()))
    prices = F.concat_ws(",", *(
        F.when(F.col(f"_p{j}"), F.concat(F.col(f"_nm{j}"), F.lit(":"), _money(F.col(f"_pc{j}"))))
        for j in _slots()))
    total = sum((F.coalesce(F.col(f"_q{j}") * F.col(f"_pc{j}"), F.lit(0)) for j in _slots()),
                F.lit(0))
    return frame.select("*", F.concat(
        F.lit(f'{{"{c.ID_ORDEM}":"'), order_id(F.col(number)),
        F.lit(f'","{c.CPF_CLIENTE}":"{CPF}","{c.PRODUTOS_COMPRADOS}":['), names,
        F.lit(f'],"{c.QUANTIDADE_POR_PRODUTO}":{{'), quantities,
        F.lit(f'}},"{c.PRECO_UNITARIO_POR_PRODUTO}":{{'), prices,
        F.lit(f'}},"{c.VALOR_TOTAL}":'), _money(total),
        F.lit(f',"{c.DATA_HORA}":"{DATE}"}}'),
    ).alias("_json"))


def records(spark: SparkSession, plan: OrderPlan, rows_per_batch: int,
            partitions: int = 2) -> DataFrame:
    """A stream with the Kafka source's columns: `rows_per_batch` orders per micro-batch,
    numbered on from where the checkpoint left off."""
    numbers = (spark.readStream.format("rate-micro-batch")
               .option("rowsPerBatch", str(rows_per_batch))
               .option("numPartitions", str(partitions))
               .load())
    orders = with_order_json(numbers.select(F.col("value").alias("_num"), "timestamp"),
                             "_num", plan)
    number = F.col("_num")
    return orders.select(
        order_id(number).cast("binary").alias("key"),
        F.col("_json").cast("binary").alias("value"),
        F.lit(TOPIC).alias("topic"),
        F.pmod(number, partitions).cast("int").alias("partition"),
        number.alias("offset"),
        F.col("timestamp"),
    )


# --- what they add up to -----------------------------------------------------------------

@dataclass(frozen=True)
class PlanTotals:
    """What orders 0 to `orders` - 1 add up to, computed from the plan's columns (before
    any JSON), not through the consumer's parsing, de-duplication or aggregation."""

    orders: int
    quantity: int
    value: Decimal
    products: int


def plan_totals(spark: SparkSession, plan: OrderPlan, orders: int) -> PlanTotals:
    if orders <= 0:
        return PlanTotals(0, 0, Decimal("0.00"), 0)
    items = _with_items(spark.range(0, orders), "id", plan)
    lines = items.select(F.explode(F.array(*(
        F.when(F.col(f"_p{j}"), F.struct(
            F.col(f"_i{j}").alias("produto"), F.col(f"_q{j}").alias("quantidade"),
            (F.col(f"_q{j}") * price_cents(F.col(f"_i{j}"))).alias("centavos")))
        for j in _slots()))).alias("linha")).where("linha IS NOT NULL")
    row = lines.agg(F.sum("linha.quantidade").alias("q"), F.sum("linha.centavos").alias("v"),
                    F.count_distinct("linha.produto").alias("p")).first()
    return PlanTotals(orders, int(row["q"]), Decimal(int(row["v"])).scaleb(-2), int(row["p"]))


def offset_of(source_offset: object) -> int:
    """The row number in a rate-micro-batch offset from query progress ('{"offset": N, ...}')."""
    import json

    data = json.loads(source_offset) if isinstance(source_offset, str) else source_offset
    if data is None:  # a query's first batch starts from nothing
        return 0
    if not isinstance(data, dict) or "offset" not in data:
        raise ValueError(f"offset inesperado da fonte sintética: {source_offset!r}")
    return int(data["offset"])


def describe(segments: Sequence[Segment]) -> str:
    return "; ".join(f"{s.kind} {s.start}-{s.end}" for s in segments)
