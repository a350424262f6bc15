"""The project's Java classes (jvm/src/vendas/), on their own: built by `make jvm`.

CanonicalOrder, called from SQL on message bytes: it vouches for plain canonical orders
only, with exact cents. SingleJsonValue: one JSON value, nothing after it but blanks.
OrderDeduplicator, in a streaming query over files (one micro-batch per file): duplicates
flagged within and across batches and across a restart, rejected records never stored,
ids forgotten once the window has passed.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import BooleanType

from tests.support.corpus import CANONICAL, variant
from tests.support.kafka_records import as_bytes
from tests.support.waiting import wait_until
from vendas.pipeline import fast_path
from vendas.pipeline.rules import SINGLE_JSON_VALUE
from vendas.pipeline.transforms import deduplicate_orders, parse_orders
from vendas.spark import jvm


def canonical_text(**changes) -> bytes:
    """CANONICAL as the producer writes it: no spaces, two decimals, the fields in order."""
    message = variant(CANONICAL, **changes)
    parts = []
    for key, value in message.items():
        if isinstance(value, dict):
            inner = ",".join(f'"{k}":{v:.2f}' if isinstance(v, Decimal) else f'"{k}":{v}'
                             for k, v in value.items())
            parts.append(f'"{key}":{{{inner}}}')
        elif isinstance(value, list):
            parts.append(f'"{key}":[' + ",".join(f'"{v}"' for v in value) + "]")
        elif isinstance(value, Decimal):
            parts.append(f'"{key}":{value:.2f}')
        else:
            parts.append(f'"{key}":"{value}"')
    return ("{" + ",".join(parts) + "}").encode()


def vouch(spark: SparkSession, *values: bytes | None) -> list:
    fast_path.register(spark)
    frame = spark.createDataFrame([(v,) for v in values], "value binary")
    return [r[0] for r in frame.selectExpr(
        f"{fast_path.FUNCTION}(value, '{fast_path.SETTINGS}')").collect()]


def test_the_jar_is_built_and_holds_both_classes():
    import zipfile

    with zipfile.ZipFile(jvm.require_jar()) as jar:
        names = set(jar.namelist())
    assert {"vendas/CanonicalOrder.class", "vendas/OrderDeduplicator.class",
            "vendas/SingleJsonValue.class"} <= names


@pytest.mark.parametrize(("text", "single"), [
    ('{"a": [1, {"b": 2}]}', True), ("  42 \r\n\t", True), ('"x"', True), ("null", True),
    ('{"a": 1} lixo', False), ('{"a": 1}{"a": 2}', False), ('{"a": 1}] [', False),
    ("[1] ]", False), ("", False), ("   ", False), ('{"a": ', False), ("isto", False),
    (None, None),
])
def test_single_json_value_refuses_anything_after_the_first_value(spark, text, single):
    jvm.register_function(spark, SINGLE_JSON_VALUE, "SingleJsonValue", BooleanType())
    frame = spark.createDataFrame([(text,)], "t string")
    assert frame.selectExpr(f"{SINGLE_JSON_VALUE}(t)").first()[0] is single


def test_canonical_order_is_read_with_exact_cents(spark):
    [row] = vouch(spark, canonical_text())
    assert row["id"] == CANONICAL["id_ordem"]
    assert list(row["produtos"]) == ["Mouse", "Teclado"]
    assert list(row["quantidades"]) == [2, 1]
    assert list(row["valores"]) == [Decimal("179.80"), Decimal("149.90")]
    assert row["data"] == CANONICAL["data_hora"]


@pytest.mark.parametrize("value", [
    None, b"", b"{", b"[]", b"\xff{}",
    canonical_text() + b"x",  # anything after the object
    canonical_text().replace(b'"Mouse":2', b'"Mouse":2.0'),  # a quantity that is not an int
    canonical_text().replace(b"329.70", b"329.71"),  # a total that is not the items' sum
    canonical_text().replace(b'"cpf_cliente"', b'"outro"'),  # an unknown field
    canonical_text().replace(b'{"id_ordem"', b'{"id_ordem":"x","id_ordem"'),  # repeated
    canonical_text(produtos_comprados=["Mouse", "Mouse"]),  # a repeated product
    canonical_text().replace(b"89.90", b"89.905"),  # fractions of a cent
    canonical_text().replace(b"Mouse", b"Mo\\u0000use"),  # a control character
], ids=["null", "vazio", "truncado", "lista", "utf8", "sobra", "quantidade", "total",
        "campo", "repetido", "produto", "centavo", "controle"])
def test_anything_not_plainly_canonical_is_left_to_the_rules(spark, value):
    assert vouch(spark, value) == [None]


def _stream(spark: SparkSession, source: Path) -> DataFrame:
    return (spark.readStream.schema("key binary, value binary, topic string, partition int, "
                                    "offset long, timestamp timestamp")
            .option("maxFilesPerTrigger", 1).parquet(str(source)))


def _run(spark: SparkSession, tmp_path: Path, batches: list[list], window: str,
         offset: int = 0) -> list[tuple[int, str | None, bool]]:
    """Append each list of messages as one file, drain the deduplicated stream from its
    checkpoint, return (offset, motivo, duplicada) of every row it emitted."""
    source = tmp_path / "in"
    for messages in batches:
        rows = [(None, as_bytes(m), "t", 0, offset + i, None) for i, m in enumerate(messages)]
        offset += len(messages)
        spark.createDataFrame(rows, "key binary, value binary, topic string, partition int, "
                                    "offset long, timestamp timestamp"
                              ).coalesce(1).write.mode("append").parquet(str(source))
    orders = parse_orders(_stream(spark, source))
    keyed = orders.select("offset", "motivo", "id_ordem", "itens", "valor_nao_atribuido",
                          "topic", "partition")
    flagged = deduplicate_orders(keyed, window)
    seen: list = []
    query = (flagged.writeStream.foreachBatch(lambda df, _: seen.extend(df.collect()))
             .option("checkpointLocation", str(tmp_path / "ck")).trigger(availableNow=True)
             .start())
    query.awaitTermination(180)
    assert query.exception() is None
    return seen


def test_duplicates_are_flagged_within_and_across_batches_and_restarts(spark, tmp_path):
    a, b = canonical_text(id_ordem="a"), canonical_text(id_ordem="b")
    first = _run(spark, tmp_path, [[a, b, a], [a, "lixo", canonical_text(id_ordem="c")]],
                 "24 hours")
    second = _run(spark, tmp_path, [[b, canonical_text(id_ordem="d"), "lixo"]], "24 hours",
                  offset=6)
    flags = sorted((r["motivo"], r["duplicada"]) for r in first + second
                   if r["motivo"] is not None)
    assert flags == [("json_invalido", False), ("json_invalido", False)]
    valid = [r["duplicada"] for r in first + second if r["motivo"] is None]
    assert sorted(valid) == [False] * 4 + [True] * 3  # a, b, c, d once; a twice, b once more


def test_an_id_is_forgotten_once_the_window_has_passed(spark, tmp_path):
    a = canonical_text(id_ordem="a")
    first = _run(spark, tmp_path, [[a], [a]], "3 seconds")
    started = time.monotonic()
    wait_until(lambda: time.monotonic() - started > 4, 10, "the window to pass")
    again = _run(spark, tmp_path, [[a]], "3 seconds", offset=2)
    assert [r["duplicada"] for r in first] == [False, True]
    assert [r["duplicada"] for r in again] == [False]  # counted again: its id had expired


def _stored_ids(spark: SparkSession, checkpoint: Path) -> list[str]:
    """The ids the de-duplication keeps, read from its checkpoint by Spark's state reader."""
    state = (spark.read.format("statestore").option("stateVarName", "ids")
             .load(str(checkpoint)))
    return sorted(r[0] for r in state.select("user_map_key.value").collect())


def test_expired_ids_are_swept_from_the_state(spark, tmp_path):
    window = "2 seconds"  # swept every second, each bucket at its own moment
    _run(spark, tmp_path, [[canonical_text(id_ordem=i) for i in ("a", "b", "c")]], window)
    assert _stored_ids(spark, tmp_path / "ck") == ["a", "b", "c"]
    started = time.monotonic()
    wait_until(lambda: time.monotonic() - started > 3.5, 10, "every bucket's sweep to be due")
    # a and d twice each in one batch: buckets left empty by the sweep (a's) or never used
    # (d's, as likely as not) flag the second of each all the same
    again = _run(spark, tmp_path, [[canonical_text(id_ordem=i) for i in ("a", "d", "a", "d")]],
                 window, offset=3)
    assert sorted(r["duplicada"] for r in again) == [False, False, True, True]
    assert _stored_ids(spark, tmp_path / "ck") == ["a", "d"]  # b and c swept, unread
