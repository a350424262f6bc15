"""Test-side Kafka I/O: send known messages, read a whole topic back, run the two CLIs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from tests.support import REPO_ROOT
from tests.support.waiting import wait_until


def send_all(bootstrap: str, topic: str,
             records: Iterable[tuple[bytes | None, bytes | None]]) -> int:
    """Send (key, value) records in order, wait for every acknowledgement."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    futures = [producer.send(topic, key=key, value=value) for key, value in records]
    producer.flush()
    for future in futures:
        future.get(timeout=30)  # raises if any record was not acknowledged
    producer.close()
    return len(futures)


def topic_partitions(consumer: KafkaConsumer, topic: str, timeout_s: float = 30.0
                     ) -> list[TopicPartition]:
    """The topic's partitions, once the client has its metadata."""
    found = wait_until(lambda: consumer.partitions_for_topic(topic), timeout_s,
                       f"the partitions of {topic}")
    return [TopicPartition(topic, p) for p in sorted(found)]


def message_count(bootstrap: str, topic: str, client: Mapping[str, Any] | None = None) -> int:
    """How many records the topic holds now (the sum of its end offsets); `client`: extra
    kafka-python settings (a secured Kafka)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, **(client or {}))
    try:
        return sum(consumer.end_offsets(topic_partitions(consumer, topic)).values())
    finally:
        consumer.close()


def read_topic(bootstrap: str, topic: str, timeout_s: float = 120.0,
               client: Mapping[str, Any] | None = None) -> list[ConsumerRecord]:
    """Every record the topic holds now, partition by partition, in offset order."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             max_poll_records=5000, **(client or {}))
    try:
        deadline = time.monotonic() + timeout_s
        assignment = topic_partitions(consumer, topic, timeout_s)
        consumer.assign(assignment)
        consumer.seek_to_beginning(*assignment)
        end = consumer.end_offsets(assignment)
        records: list[ConsumerRecord] = []
        while any(consumer.position(tp) < end[tp] for tp in assignment):
            if time.monotonic() > deadline:
                raise TimeoutError(f"read {len(records)} of {sum(end.values())} records of "
                                   f"{topic} before the timeout")
            for batch in consumer.poll(timeout_ms=1000).values():
                records.extend(batch)
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        consumer.close()


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYSPARK_PYTHON", sys.executable)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_cli(script: str, *args: str, env: dict | None = None,
            timeout_s: float = 120) -> tuple[subprocess.CompletedProcess, float]:
    """Run one of the repository's scripts; (its result, how many seconds it took)."""
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(REPO_ROOT / script), *args], capture_output=True,
                            text=True, timeout=timeout_s, env=env or cli_env(), check=False)
    return result, time.monotonic() - started


def run_producer(bootstrap: str, topic: str, *args: str,
                 timeout_s: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "produtor_vendas.py"), "-b", bootstrap,
         "--topic", topic, *args],
        capture_output=True, text=True, timeout=timeout_s, env=cli_env(), check=False,
    )


def produce(bootstrap: str, topic: str, count: int, seed: int | None = None,
            *args: str) -> subprocess.CompletedProcess:
    """Send `count` orders flat out through the producer CLI; every one acknowledged."""
    seed_args = ("--seed", str(seed)) if seed is not None else ()
    result = run_producer(bootstrap, topic, "--count", str(count), "--rate", "0", *seed_args,
                          *args)
    assert result.returncode == 0, result.stderr
    return result


PRODUCER_SUMMARY = re.compile(r"Resumo: ([\d.]+) enviados, ([\d.]+) confirmados, ([\d.]+) falhas")


def producer_summary(output: str) -> tuple[int, int, int]:
    """(sent, acknowledged, failed): the producer CLI's closing line."""
    match = PRODUCER_SUMMARY.search(output)
    assert match, output
    return tuple(int(n.replace(".", "")) for n in match.groups())


def consumer_command(bootstrap: str, topic: str, checkpoint: Path, *args: str) -> list[str]:
    return [
        sys.executable, str(REPO_ROOT / "consumidor_vendas.py"), "-b", bootstrap, "--topic", topic,
        "--dlq-topic", f"{topic}-dlq", "--checkpoint", str(checkpoint), *args,
    ]


def run_consumer(bootstrap: str, topic: str, checkpoint: Path, *args: str,
                 timeout_s: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        consumer_command(bootstrap, topic, checkpoint, "--available-now", *args),
        capture_output=True, text=True, timeout=timeout_s, env=cli_env(), check=False,
    )


def parse_table(output: str) -> list[tuple[str, int, Decimal | None]]:
    """The last table the consumer printed: (produto, quantidade_total, valor_total)."""
    tables: list[list[tuple[str, int, Decimal | None]]] = []
    for line in output.splitlines():
        if line.startswith("|produto"):
            tables.append([])
        elif line.startswith("|") and tables:
            name, quantity, value = (cell.strip() for cell in line.strip("|").split("|"))
            tables[-1].append((name, int(quantity), None if value == "n/d" else Decimal(value)))
    assert tables, f"no table in the consumer's output:\n{output}"
    return tables[-1]
