"""Build small DataFrames shaped like Spark's Kafka source, for transform tests."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # as_bytes and to_json serve the tiers without Spark too
    from pyspark.sql import DataFrame, SparkSession

KAFKA_SCHEMA = (
    "key binary, value binary, topic string, partition int, offset long, timestamp timestamp"
)


def as_bytes(value: bytes | str | Mapping[str, Any] | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return to_json(value)


def to_json(message: Mapping[str, Any]) -> bytes:
    """JSON bytes; Decimals become JSON numbers with the same digits (e.g. 89.9 for 89.90)."""
    return json.dumps(message, ensure_ascii=False, default=float).encode()


def kafka_frame(
    spark: SparkSession, values: Iterable[bytes | str | Mapping[str, Any] | None], topic: str = "t"
) -> DataFrame:
    """One Kafka-like record per value, at offsets 0, 1, 2, ... of partition 0."""
    now = dt.datetime(2026, 11, 23, 14, 5, 9)
    rows = [(f"k{i}".encode(), as_bytes(v), topic, 0, i, now) for i, v in enumerate(values)]
    return spark.createDataFrame(rows, KAFKA_SCHEMA)
