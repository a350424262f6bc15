"""The benchmarks' own Kafka topics: a fresh, uniquely named topic per measurement, ready
for clients before it is used, and dropped afterwards whatever happened."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence

from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic
from kafka.errors import KafkaError

from bench.errors import BenchmarkError

log = logging.getLogger("bench")


def new_topic_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_topic(bootstrap: str, name: str, partitions: int, timeout_s: float = 30.0) -> None:
    """Create `name` and wait until clients see all its partitions (a producer that starts
    before would wait for metadata inside the measurement)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    try:
        admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()
    deadline = time.monotonic() + timeout_s
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        while len(consumer.partitions_for_topic(name) or ()) < partitions:
            if time.monotonic() > deadline:
                raise BenchmarkError(f"o tópico {name} não ficou pronto em {timeout_s:.0f} s")
            time.sleep(0.2)
    finally:
        consumer.close()


def drop_topics(bootstrap: str, names: Sequence[str]) -> None:
    """Delete those of `names` that exist; a failure is only logged (clean-up)."""
    if not names:
        return
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    except KafkaError as error:
        log.warning("Não foi possível apagar os tópicos %s: %s", ", ".join(names), error)
        return
    try:
        existing = set(admin.list_topics())
        doomed = [n for n in names if n in existing]
        if doomed:
            admin.delete_topics(doomed)
    except KafkaError as error:
        log.warning("Não foi possível apagar os tópicos %s: %s", ", ".join(names), error)
    finally:
        admin.close()
