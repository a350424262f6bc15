"""What a checkpoint says about where the consumer stopped, checked against the topic.

A checkpoint holds Kafka offsets. Kept for another topic, or kept after the broker's data
was wiped, it points at records that are not there: Spark then fails with hundreds of lines
of stack trace (or, told not to fail, would skip data silently). We read the offsets
first and say in one sentence what happened and what to do.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from pyspark.sql import SparkSession

from vendas.errors import UserError
from vendas.spark.checkpoint_files import checkpoint_files

log = logging.getLogger(__name__)

Offsets = dict[str, dict[int, int]]  # topic -> partition -> next offset to read


def last_source_offsets(query_checkpoint: Path) -> Offsets | None:
    """The Kafka offsets of the latest batch a query planned; None without a checkpoint."""
    offsets_dir = query_checkpoint / "offsets"
    batches = sorted((int(p.name) for p in offsets_dir.glob("[0-9]*") if p.name.isdigit()),
                     reverse=True)
    for batch in batches:
        found = _offsets_log_entry((offsets_dir / str(batch)).read_text(errors="replace"))
        if found:
            return found
    return None


def batch_offset_range(query_checkpoint: str, batch_id: int,
                       spark: SparkSession | None = None) -> tuple[Offsets, Offsets]:
    """Where micro-batch `batch_id` started and ended reading, from the query's checkpoint.

    Its end is its own entry in the offsets log; its start, the end of the batch before, or
    for the first batch the initial offsets the Kafka source keeps beside it.
    """
    log_files = checkpoint_files(f"{query_checkpoint}/offsets", spark)
    end = _offsets_log_entry(log_files.read(str(batch_id)))
    if batch_id > 0:
        start = _offsets_log_entry(log_files.read(str(batch_id - 1)))
    else:
        initial = checkpoint_files(f"{query_checkpoint}/sources/0", spark).read("0")
        start = _source_json(initial.lstrip("\x00").split("\n", 1)[1])
    return start, end


def records_between(start: Offsets, end: Offsets) -> int:
    """How many offsets lie between `start` and `end`, over every partition (one record
    each, except where a compacted or transactional topic leaves gaps); a partition absent
    from `start` is counted from offset 0."""
    return sum(offset - start.get(topic, {}).get(partition, 0)
               for topic, partitions in end.items() for partition, offset in partitions.items())


def _offsets_log_entry(text: str) -> Offsets:
    """An entry of Spark's offsets log: a version line, a metadata line, then one JSON line
    per source ({"topic": {"partition": offset}})."""
    found: Offsets = {}
    for line in text.splitlines()[2:]:
        found.update(_source_json(line))
    return found


def _source_json(line: str) -> Offsets:
    try:
        source = json.loads(line)
    except ValueError:
        return {}
    if not isinstance(source, dict):
        return {}
    return {topic: {int(p): int(o) for p, o in partitions.items()}
            for topic, partitions in source.items() if isinstance(partitions, dict)}


def check_offsets(checkpoint: str, saved: Offsets, topic: str,
                  end_offsets: Callable[[], Mapping[int, int]]) -> None:
    """Raise UserError when `saved` cannot belong to `topic` as the broker holds it now."""
    if topic not in saved:
        others = ", ".join(sorted(saved))
        raise UserError(
            f"O checkpoint {checkpoint} foi criado para o tópico {others}, não para {topic}: "
            "use outro --checkpoint para este tópico (ou apague este para recomeçar)."
        )
    ends = end_offsets()
    ahead = {p: o for p, o in saved[topic].items() if o > ends.get(p, 0)}
    if ahead:
        partition, offset = min(ahead.items())
        raise UserError(
            f"Os offsets do checkpoint {checkpoint} não existem neste Kafka (partição "
            f"{partition} do tópico {topic}: o checkpoint leu até {offset}, o tópico tem "
            f"{ends.get(partition, 0)}): os dados do broker foram apagados ou o tópico foi "
            "recriado. Apague o checkpoint para contar o tópico desde o início, ou use outro "
            "--checkpoint; nada foi pulado."
        )


DATA_LOSS_MARKERS = ("some data may have been missed", "offset was changed from",
                     "data loss", "failOnDataLoss")


def is_data_loss(error_text: str) -> bool:
    """Whether Spark's Kafka source failed because the checkpoint's offsets are gone."""
    return any(marker in error_text for marker in DATA_LOSS_MARKERS)


def topic_end_offsets(bootstrap_servers: str, topic: str,
                      client_config: Mapping[str, object] | None = None) -> dict[int, int]:
    """The next offset to be written in each partition of `topic`, as the broker says now."""
    from kafka import KafkaConsumer, TopicPartition  # only when there is a checkpoint to check
    from kafka.errors import KafkaError

    try:
        consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, request_timeout_ms=15_000,
                                 **(client_config or {}))
    except KafkaError as error:
        raise UserError(f"O Kafka em {bootstrap_servers} não respondeu: {error}.") from None
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:  # no metadata: never mistake that for offsets that are gone
            raise UserError(f"O Kafka em {bootstrap_servers} não informou as partições do "
                            f"tópico {topic}; tente de novo quando ele responder.")
        ends = consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        consumer.close()
