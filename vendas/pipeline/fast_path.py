"""The fast path: a Java function (jvm/src/vendas/CanonicalOrder.java) that vouches for
canonical orders in one strict pass over the message bytes, called from SQL.

It only ever says "valid, with these items", and only for messages it can read without
doubt; every other record goes to the VARIANT facts and the rule table (vendas/pipeline/
rules.py), which give the verdict. The field names and the limits are passed to it from
vendas/contract.py and vendas/pipeline/rules.py, never written in Java.
tests/spark/test_parse_paths.py checks that both paths give the same rows on every message.
"""

from __future__ import annotations

from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    DecimalType,
    IntegerType,
    StringType,
    StructField,
    StructType,
)

from vendas import contract as c
from vendas.pipeline.rules import (
    MAX_NAME_LENGTH,
    MAX_ORDER_VALUE,
    MAX_PRICE,
    MAX_QUANTITY,
    date_expr,
)
from vendas.spark import jvm

FUNCTION = "vendas_pedido_canonico"
RESULT_TYPE = StructType([
    StructField("id", StringType()),
    StructField("produtos", ArrayType(StringType())),
    StructField("quantidades", ArrayType(IntegerType())),
    StructField("valores", ArrayType(DecimalType(18, 2))),
    StructField("data", StringType()),
])
# Orders with more items than this go to the VARIANT path: the producer's largest order
# (vendas.producer.generator.MAX_PRODUCTS_PER_ORDER) fits.
MAX_FAST_ITEMS = 5
# The Java function's second argument: the canonical field names (in the order of its field
# numbers) and the limits.
SETTINGS = ",".join(map(str, (
    c.ID_ORDEM, c.CPF_CLIENTE, c.PRODUTOS_COMPRADOS, c.QUANTIDADE_POR_PRODUTO,
    c.PRECO_UNITARIO_POR_PRODUTO, c.VALOR_TOTAL, c.DATA_HORA,
    MAX_FAST_ITEMS, MAX_QUANTITY, MAX_NAME_LENGTH, MAX_PRICE, MAX_ORDER_VALUE)))


def fast_stages(value: str) -> list[dict[str, Column]]:
    """Stages over the message bytes `value`: _fast (vouched valid), the valid order's id
    and date (its items: fast_item_fields)."""
    order = F.col("_jvm")
    return [
        {"_jvm": F.call_function(FUNCTION, F.col(value), F.lit(SETTINGS))},
        {"_fast_date": date_expr(order["data"])},
        {"_fast": F.coalesce(order.isNotNull() & F.col("_fast_date").isNotNull(), F.lit(False)),
         "_fast_id": order["id"]},
    ]


def fast_item_fields() -> dict[str, Column]:
    """The valid order's items, field by field, as arrays to zip into the item type."""
    order = F.col("_jvm")
    return {"produto": order["produtos"], "quantidade": order["quantidades"],
            "valor": order["valores"]}


def register(spark: SparkSession) -> None:
    """Make the Java function callable from SQL in this session."""
    jvm.register_function(spark, FUNCTION, "CanonicalOrder", RESULT_TYPE)
