"""The consumer's transforms, as pure functions of DataFrames (batch or streaming).

parse_orders: Kafka records -> one row per record, either valid (motivo null) with its
    items normalised, or rejected with a reason code; nothing is dropped.
deduplicate_orders: the same id_ordem counts once within a processing-time window.
ledger_entries / aggregate_ledger: items per product plus rejection counts, summed.

Validation has two paths with one verdict: the fast path for canonical orders (Java,
vendas/pipeline/fast_path.py) and, for every record it cannot vouch for, the VARIANT facts
and the ordered rule table (vendas/pipeline/rules.py).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    IntegerType,
    LongType,
    StringType,
    TimestampType,
)

from vendas import contract as c
from vendas.cli import duration_ms
from vendas.contract import LEDGER_DUPLICATE, LEDGER_PRODUCT, LEDGER_REJECTION, NUL_STAND_IN
from vendas.pipeline import fast_path
from vendas.pipeline.rules import (
    ITEM_TYPE,
    LINE_VALUE,
    MONEY,
    REASONS,
    SINGLE_JSON_VALUE,
    fact_stages,
    reason_expr,
    variant_text,
)
from vendas.pipeline.totals import NEW_PRODUCTS
from vendas.spark import jvm

__all__ = [
    "LEDGER_DUPLICATE", "LEDGER_PRODUCT", "LEDGER_REJECTION", "MONEY", "REASONS",
    "dead_letters", "deduplicate_orders", "ledger_entries", "parse_orders",
    "running_totals", "windowed_totals",
]

SOURCE_COLUMNS = ("key", "value", "topic", "partition", "offset", "timestamp")
BIGINT = LongType()


def _slow_items() -> Column:
    """The VARIANT path's items, names as every output keeps them (product_name). try_cast:
    a rejected order's quantity or price may be out of bounds, and its line with it (its
    items are never counted)."""
    return F.transform("_items", lambda i: F.struct(
        product_name(i["produto"]).alias("produto"), i["quantidade"].alias("quantidade"),
        (i["quantidade"] * i["preco"]).alias("valor")).try_cast(ITEM_TYPE))


def product_name(name: Column) -> Column:
    """A product's name as every output keeps it (NUL_STAND_IN in place of NUL). Only the
    VARIANT path needs it: the fast path vouches for no name with a control character.

    replace, not translate: it returns a name without NUL as it is, where translate copies
    every name (bench/consumer.py)."""
    return F.replace(name, F.lit("\x00"), F.lit(NUL_STAND_IN))


def _stage(frame: DataFrame, columns: dict[str, Column]) -> DataFrame:
    return frame.select("*", *(column.alias(name) for name, column in columns.items()))


def parse_orders(records: DataFrame, fast: bool = True) -> DataFrame:
    """Kafka records (key, value, topic, partition, offset, timestamp) -> validated orders.

    Output keeps the source columns and adds: motivo (null when valid), id_ordem,
    itens (array of produto, named as every output keeps it, quantidade, valor; valor null
    when the message has no unit prices), valor_nao_atribuido (the order value no product
    could be credited with), data_hora (timestamp in the session time zone).

    Canonical orders go through the fast path (vendas/pipeline/fast_path.py); the VARIANT
    facts and rules (vendas/pipeline/rules.py) are only computed for the records it cannot
    vouch for. `fast=False` sends every record through the VARIANT path (tests compare both).
    """
    frame = _with_facts(records, fast)
    valid_fast = F.col("_fast")
    return frame.select(
        *SOURCE_COLUMNS,
        F.when(~valid_fast, reason_expr()).alias("motivo"),
        F.when(valid_fast, F.col("_fast_id"))
        .otherwise(variant_text(F.col("_id"))).alias(c.ID_ORDEM),
        F.when(valid_fast, F.col("_fast_items"))
        .otherwise(_slow_items()).alias("itens"),
        F.when(valid_fast | F.col("_priced"), F.lit(0).cast(MONEY))
        .otherwise(F.col("_total_cents").cast(MONEY)).alias("valor_nao_atribuido"),
        F.when(valid_fast, F.col("_fast_date")).otherwise(F.col("data_hora")).alias("data_hora"),
    )


def vouched_by_fast_path(records: DataFrame) -> DataFrame:
    """offset and _fast (the fast path vouched for the record): for tests and benchmarks."""
    return _with_facts(records, True).select("offset", "_fast")


def _with_facts(records: DataFrame, fast: bool) -> DataFrame:
    """The source columns plus the fast path's columns and the VARIANT facts."""
    frame = records.select(*SOURCE_COLUMNS)
    jvm.register_function(records.sparkSession, SINGLE_JSON_VALUE, "SingleJsonValue", BooleanType())
    if fast:
        fast_path.register(records.sparkSession)
        for stage in fast_path.fast_stages("value"):
            frame = _stage(frame, stage)
        # named so that it needs no cast to the slow path's item type
        frame = frame.select("*", F.arrays_zip(*(
            column.alias(name) for name, column in fast_path.fast_item_fields().items()
        )).alias("_fast_items"))
    else:
        frame = frame.select(
            "*", F.lit(False).alias("_fast"), F.lit(None).cast(StringType()).alias("_fast_id"),
            F.lit(None).cast(ArrayType(ITEM_TYPE)).alias("_fast_items"),
            F.lit(None).cast(TimestampType()).alias("_fast_date"))
    # only the records the fast path did not vouch for need the VARIANT facts (and _text)
    slow = ~F.col("_fast")
    frame = frame.select("*", slow.alias("_slow"),
                         F.when(slow, F.col("value").cast(StringType())).alias("_text"))
    for stage in fact_stages():
        frame = _stage(frame, stage)
    return frame


def deduplicate_orders(orders: DataFrame, window: str) -> DataFrame:
    """Flag each order whose id_ordem was already counted within `window` of processing time
    (column `duplicada`), keeping only what the totals need: items and value, the reason.

    The window runs on the micro-batch's own time, not on data_hora: state stays bounded
    (ids are forgotten `window` after they were first seen) and no order is ever "late",
    so legitimately old-dated orders are never dropped. The state lives in a Java
    transformWithState (jvm/src/vendas/OrderDeduplicator.java) whose eviction sweeps a few
    hash buckets per batch, never the whole state. Rejected records are keyed by their
    source position and never stored. Every row crosses a shuffle here, so it carries its
    key once and no message bytes.
    """
    rejected = F.col("motivo").isNotNull()
    dedup_key = F.coalesce(
        F.when(~rejected, F.col(c.ID_ORDEM)),
        F.concat_ws("/", F.lit("rejeitada"), "topic", "partition", "offset"),
    )
    unattributed = F.col("valor_nao_atribuido")
    keyed = orders.select(
        "motivo", "itens",
        # Null unless counted and not zero, and in a long: a MONEY value is a BigInteger in
        # every row the de-duplication reads and writes back. A counted order's fits
        # (MAX_ORDER_VALUE); a rejected one's is never counted.
        F.when(~rejected & (unattributed != 0), unattributed.cast(LINE_VALUE))
        .alias("valor_nao_atribuido"),
        dedup_key.alias("_dedup_key"), rejected.alias("_sem_estado"))
    spark = orders.sparkSession
    deduplicator = jvm.jvm_class(spark, "OrderDeduplicator")
    flagged = jvm.wrap(deduplicator.deduplicate(
        jvm.java_dataframe(keyed), "_dedup_key", "_sem_estado", duration_ms(window)), spark)
    return flagged.select(
        "motivo", "itens",
        F.coalesce("valor_nao_atribuido", F.lit(0)).cast(MONEY).alias("valor_nao_atribuido"),
        "duplicada")


def ledger_entries(orders: DataFrame) -> DataFrame:
    """One row per sold item (tipo=produto), per rejected record (tipo=rejeicao, chave=the
    reason) and per duplicate (tipo=duplicada), with the micro-batch's time (_lote_em).

    `orders` are de-duplicated orders (deduplicate_orders: a `duplicada` flag). The order's
    unattributed value and the order count ride on its first item, so that summing them
    over products counts each order once. Built with posexplode and plain columns, not a
    lambda per item: this runs on every item of every order.
    """
    valid = F.col("motivo").isNull() & ~F.col("duplicada")
    lines = F.when(valid, F.col("itens")).otherwise(F.array(F.lit(None).cast(ITEM_TYPE)))
    exploded = orders.select(valid.alias("_valid"), "motivo", "duplicada",
                             "valor_nao_atribuido", F.posexplode(lines).alias("_pos", "i"))
    product = F.col("_valid")
    first = product & (F.col("_pos") == 0)
    kind = (F.when(product, F.lit(LEDGER_PRODUCT))
            .when(F.col("motivo").isNotNull(), F.lit(LEDGER_REJECTION))
            .otherwise(F.lit(LEDGER_DUPLICATE)))
    return exploded.select(
        kind.alias("tipo"),
        F.when(product, F.col("i.produto"))
        .otherwise(F.coalesce("motivo", F.lit("")))
        .alias("chave"),
        F.when(product, F.col("i.quantidade").cast(BIGINT)).otherwise(F.lit(1).cast(BIGINT))
        .alias("quantidade"),
        F.when(product, F.col("i.valor")).alias("valor"),
        F.when(first, F.lit(1).cast(BIGINT)).otherwise(F.lit(0).cast(BIGINT)).alias("pedidos"),
        # null, not 0, off the first item: a sum skips nulls for free, not zeros
        F.when(first & (F.col("valor_nao_atribuido") != 0), F.col("valor_nao_atribuido"))
        .alias("valor_nao_atribuido"),
        F.current_timestamp().alias("_lote_em"),
    )


def running_totals(entries: DataFrame) -> DataFrame:
    """The ledger summed per (tipo, chave) and per tipo (nivel 0 and 1), money as DECIMAL.

    Meant for a streaming aggregation in update mode: Spark keeps the sums in its state
    store and each micro-batch emits only the keys it touched, with their totals so far.
    primeiro_lote_em and ultimo_lote_em (the first and the last micro-batch that touched a
    key) are equal exactly when the key is new in the batch that emits it.
    """
    return entries.groupingSets([["tipo", "chave"], ["tipo"]], "tipo", "chave").agg(
        F.grouping_id().cast(IntegerType()).alias("nivel"),
        F.sum("quantidade").alias("quantidade_total"),
        F.sum("valor").cast(MONEY).alias("valor_total"),
        F.sum("pedidos").alias("pedidos"),
        F.coalesce(F.sum("valor_nao_atribuido"), F.lit(0)).cast(MONEY).alias("valor_nao_atribuido"),
        F.min("_lote_em").alias("primeiro_lote_em"),
        F.max("_lote_em").alias("ultimo_lote_em"),
    )


def batch_overview(changed: DataFrame, top: int) -> DataFrame:
    """The few rows of a micro-batch of running_totals the driver needs: the `top` touched
    products by value, every row that is not a product's (per-tipo totals, reasons,
    duplicates), and one row (tipo='novos') counting the products new in the batch. The
    rest of the batch (every touched product) stays on the executors."""
    per_product = (F.col("nivel") == 0) & (F.col("tipo") == LEDGER_PRODUCT)
    columns = ("tipo", "chave", "nivel", "quantidade_total", "valor_total", "pedidos",
               "valor_nao_atribuido")
    ranked = changed.where(per_product).orderBy(
        F.col("valor_total").desc_nulls_last(), F.col("quantidade_total").desc(),
        F.col("chave").asc()).limit(top)
    new = changed.where(per_product & (F.col("primeiro_lote_em") == F.col("ultimo_lote_em")))
    return (
        ranked.select(*columns)
        .unionByName(changed.where(~per_product).select(*columns))
        .unionByName(new.agg(F.count(F.lit(1)).alias("quantidade_total")).select(
            F.lit(NEW_PRODUCTS).alias("tipo"), F.lit(None).cast(StringType()).alias("chave"),
            F.lit(-1).alias("nivel"), "quantidade_total",
            F.lit(None).cast(MONEY).alias("valor_total"),
            F.lit(None).cast(BIGINT).alias("pedidos"),
            F.lit(None).cast(MONEY).alias("valor_nao_atribuido")))
    )


def dead_letters(orders: DataFrame) -> DataFrame:
    """The rejected records of parse_orders' output as Kafka sink rows: original key and
    value bytes, reason headers."""
    header = lambda name, value: F.struct(
        F.lit(name).alias("key"), value.cast(StringType()).cast(BinaryType()).alias("value")
    )
    return orders.where(F.col("motivo").isNotNull()).select(
        "key",
        "value",
        F.array(
            header(c.HEADER_REASON, F.col("motivo")),
            header(c.HEADER_TOPIC, F.col("topic")),
            header(c.HEADER_PARTITION, F.col("partition")),
            header(c.HEADER_OFFSET, F.col("offset")),
        ).alias("headers"),
        "motivo",
    )


def windowed_totals(orders: DataFrame, window: str, watermark: str) -> DataFrame:
    """Per event-time window (of data_hora) and product (nivel 0), and per window (nivel 1):
    orders, quantity and value sold.

    Meant for update mode: the watermark bounds the state, so orders older than it are
    left out of the windows; they still count in the running totals, a separate query.
    """
    items = (
        orders.where(F.col("motivo").isNull())
        .withWatermark("data_hora", watermark)
        .dropDuplicatesWithinWatermark([c.ID_ORDEM])
        .select("data_hora", F.posexplode("itens").alias("_pos", "i"))
        .select(F.window("data_hora", window).alias("janela"),
                F.col("i.produto").alias("produto"), "i.quantidade", "i.valor",
                F.when(F.col("_pos") == 0, F.lit(1)).otherwise(F.lit(0)).alias("pedidos"))
    )
    return items.groupingSets([["janela", "produto"], ["janela"]], "janela", "produto").agg(
        F.grouping_id().cast(IntegerType()).alias("nivel"),
        F.sum("pedidos").alias("pedidos"),
        F.sum("quantidade").alias("quantidade_total"),
        F.sum("valor").cast(MONEY).alias("valor_total"),
    )
