"""The producer while its broker dies: killed and restarted mid-run (nothing lost, nothing
written twice), or gone for good (the run ends with one sentence)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from tests.support import REPO_ROOT
from tests.support.kafka_io import producer_summary, read_topic
from tests.support.waiting import wait_until
from vendas import contract as c
from vendas.producer.generator import OrderGenerator, SimulatedClock

CLI = str(REPO_ROOT / "produtor_vendas.py")


def expected_ids(seed: int, n: int) -> list[str]:
    generator = OrderGenerator(seed, clock=SimulatedClock(datetime(2026, 1, 1), 1))
    return [generator.next_order().id_ordem for _ in range(n)]


@pytest.mark.slow
def test_broker_restart_mid_run_loses_nothing(own_kafka, tmp_path, record_property):
    bootstrap, topic, n, seed = own_kafka.bootstrap_servers, "vendas-reinicio", 50_000, 77
    log_path = tmp_path / "produtor.log"
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, CLI, "-b", bootstrap, "--topic", topic, "--count", str(n),
             "--rate", "3500", "--seed", str(seed)],
            stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        try:
            wait_until(lambda: kafka_count(bootstrap, topic) >= 10_000, 90,
                       "10,000 orders before the restart")
            own_kafka.kill()  # kill -9: no clean shutdown
            down_at = time.monotonic()
            own_kafka.up()
            downtime = time.monotonic() - down_at
            assert process.wait(timeout=300) == 0, log_path.read_text()
        finally:
            if process.poll() is None:
                process.kill()
    sent, acked, failed = producer_summary(log_path.read_text())
    assert (sent, acked, failed) == (n, n, 0)

    records = read_topic(bootstrap, topic)
    ids = [json.loads(r.value)[c.ID_ORDEM] for r in records]
    assert all(r.key.decode() == i for r, i in zip(records, ids))
    assert set(ids) == set(expected_ids(seed, n))  # every order arrived
    duplicates = len(ids) - len(set(ids))
    record_property("broker_downtime_s", round(downtime, 1))
    record_property("duplicates", duplicates)
    print(f"broker down {downtime:.1f} s; {len(ids)} records, {duplicates} duplicates")
    assert duplicates == 0  # idempotent producer: retries are not written twice


@pytest.mark.slow
def test_broker_gone_for_good_stops_an_endless_run(own_kafka, tmp_path):
    bootstrap, topic = own_kafka.bootstrap_servers, "vendas-sem-broker"
    log_path = tmp_path / "produtor.log"
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, CLI, "-b", bootstrap, "--topic", topic, "--rate", "200",
             "--delivery-timeout", "5"],
            stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        try:
            wait_until(lambda: kafka_count(bootstrap, topic) >= 500, 90, "500 orders")
            own_kafka.kill()  # and it never comes back
            rc = process.wait(timeout=90)
        finally:
            if process.poll() is None:
                process.kill()
    output = log_path.read_text()
    assert rc == 1, output
    assert "O Kafka não confirmou nenhum pedido em 5 s e" in output
    sent, acked, failed = producer_summary(output)
    assert acked >= 500 and failed > 0 and sent == acked + failed, output
    assert "Traceback" not in output


def kafka_count(bootstrap: str, topic: str) -> int:
    """Messages in `topic` so far; 0 while it does not exist yet or the broker is away."""
    try:
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    except KafkaError:  # the broker is away
        return 0
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            return 0
        return sum(consumer.end_offsets([TopicPartition(topic, p) for p in partitions]).values())
    finally:
        consumer.close()
