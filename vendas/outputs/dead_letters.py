"""The dead-letter topic: every rejected record, untouched, with its reason in the headers.

The streaming query only keeps counts (per reason, in Spark's state store); the records
themselves are read again for the micro-batches whose counts say they had any. A batch's
offset range is in the query's checkpoint, so the records are read back from Kafka exactly
as the batch read them and validated by the same function: the dead letters are the
records the totals counted as rejected. At least once: a batch replayed after a crash
writes its dead letters again, and none is ever lost.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession

from vendas.kafka.checkpoint_offsets import Offsets, batch_offset_range
from vendas.pipeline.transforms import dead_letters, parse_orders
from vendas.terminal import visible

log = logging.getLogger(__name__)

# Kafka source options that only make sense for a consumer: the producer behind the sink
# would warn about each of them.
_CONSUMER_ONLY = ("kafka.max.poll.records", "kafka.max.partition.fetch.bytes",
                  "kafka.fetch.", "kafka.group.", "kafka.auto.offset.reset")

# Reads the Kafka records of one micro-batch, given its query checkpoint and batch id.
BatchRecords = Callable[[int], DataFrame]


def producer_options(kafka_options: dict[str, str]) -> dict[str, str]:
    """The client settings (security, timeouts...) of the source that also apply to a sink."""
    return {k: v for k, v in kafka_options.items()
            if k.startswith("kafka.") and not k.startswith(_CONSUMER_ONLY)}


def kafka_batch_reader(spark: SparkSession, query_checkpoint: str, bootstrap_servers: str,
                       topic: str, kafka_options: dict[str, str]) -> BatchRecords:
    """A BatchRecords reading the topic between the offsets a micro-batch started and ended."""
    def read(batch_id: int) -> DataFrame:
        start, end = batch_offset_range(query_checkpoint, batch_id, spark)
        return (
            spark.read.format("kafka")
            .options(**kafka_options)
            .option("kafka.bootstrap.servers", bootstrap_servers)
            .option("subscribe", topic)
            .option("startingOffsets", _offsets_json(start, end, topic))
            .option("endingOffsets", _offsets_json(end, end, topic))
            .load()
        )
    return read


def _offsets_json(offsets: Offsets, end: Offsets, topic: str) -> str:
    """Offsets as the Kafka source takes them, for every partition the batch ended in; a
    partition the batch found new (absent from `offsets`) is read from its start (-2)."""
    mine = offsets.get(topic, {})
    return json.dumps({topic: {str(p): mine.get(p, -2) for p in sorted(end.get(topic, {}))}})


class DeadLetterWriter:
    """Writes a micro-batch's rejected records to the dead-letter topic."""

    def __init__(self, read_batch: BatchRecords, bootstrap_servers: str, dlq_topic: str,
                 kafka_options: dict[str, str]) -> None:
        self.read_batch = read_batch
        self.bootstrap_servers = bootstrap_servers
        self.dlq_topic = dlq_topic
        self.client_options = producer_options(kafka_options)

    def write(self, batch_id: int, counts: dict[str, int]) -> None:
        """Write batch `batch_id`'s rejected records (`counts`: how many per reason)."""
        (
            dead_letters(parse_orders(self.read_batch(batch_id)))
            .select("key", "value", "headers")
            .write.format("kafka")
            .options(**self.client_options)
            .option("kafka.bootstrap.servers", self.bootstrap_servers)
            .option("topic", self.dlq_topic)
            .save()
        )
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
        log.info("Lote %d: %d mensagens rejeitadas enviadas a %s (%s).",
                 batch_id, sum(counts.values()), self.dlq_topic, visible(reasons))
