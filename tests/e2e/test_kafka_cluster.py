"""Three brokers: topics get replication 3 and min.insync.replicas 2, and kill -9 of a
broker (one the producer did not bootstrap from, then the one it did) while the producer
sends and the consumer runs loses nothing and duplicates nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from decimal import Decimal

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import KafkaError

from tests.support import REPO_ROOT
from tests.support.corpus import expected_totals
from tests.support.kafka_io import (
    cli_env,
    consumer_command,
    message_count,
    parse_table,
    read_topic,
)
from tests.support.waiting import wait_until
from vendas.formatting import fmt_int

pytestmark = pytest.mark.cluster

ORDERS = 50_000
RATE = 1000  # about 50 s of sending: both kills land while the producer runs


def _topic_layout(servers: str, topic: str) -> tuple[list[list[int]], str]:
    """(in-sync replicas per partition, min.insync.replicas) of `topic`."""
    admin = KafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=10_000)
    try:
        partitions = admin.describe_topics([topic])[0]["partitions"]
        configs = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, ["min.insync.replicas"])],
            config_filter="all")
        min_isr = configs["topic"][topic]["min.insync.replicas"]["value"]
        replicas = [sorted(p["replica_nodes"]) for p in partitions]
        assert all(len(r) == 3 for r in replicas), replicas
        return [sorted(p["isr_nodes"]) for p in partitions], min_isr
    finally:
        admin.close()


def test_kill_9_of_a_broker_then_the_bootstrap_one_loses_and_duplicates_nothing(
        kafka_cluster, tmp_path):
    first, second, _ = kafka_cluster.nodes
    # The producer bootstraps from the first broker alone; Spark opens new Kafka consumers
    # as tasks move, and a new client needs one listed broker alive: the consumer gets all
    # three, as on any real cluster.
    bootstrap, everyone = first.address, kafka_cluster.all_servers
    topic = "vendas-tres"
    consumer_log = tmp_path / "consumidor.log"
    producer_log = tmp_path / "produtor.log"
    consumer = producer = None
    output = lambda: consumer_log.read_text(errors="replace")
    try:
        with open(consumer_log, "w") as out:
            consumer = subprocess.Popen(
                consumer_command(everyone, topic, tmp_path / "ckpt", "--trigger", "1"),
                stdout=out, stderr=subprocess.STDOUT, env=cli_env())
        wait_until(lambda: "Consumindo" in output() or consumer.poll() is not None, 300,
                   "the consumer to start")
        assert consumer.poll() is None, output()[-3000:]
        # created by the project with the brokers' defaults: what a cluster operator set
        isr, min_isr = _topic_layout(everyone, topic)
        assert min_isr == "2"
        assert all(nodes == [1, 2, 3] for nodes in isr)

        with open(producer_log, "w") as out:
            producer = subprocess.Popen(
                [sys.executable, str(REPO_ROOT / "produtor_vendas.py"), "-b", bootstrap,
                 "--topic", topic, "--count", str(ORDERS), "--rate", str(RATE), "--seed", "31"],
                stdout=out, stderr=subprocess.STDOUT, env=cli_env())

        def count() -> int:
            try:
                return message_count(everyone, topic)
            except KafkaError:  # kafka-python's metadata refresh picked the dead broker
                return -1

        wait_until(lambda: count() >= ORDERS // 10, 120, "the first orders")
        second.kill()  # not the bootstrap broker
        at_kill = max(count(), ORDERS // 10)
        wait_until(lambda: count() >= at_kill + ORDERS // 10, 120,
                   "orders acknowledged with one broker down")
        kafka_cluster.up()  # starts the killed node again

        def back_in_every_isr() -> bool:
            try:
                return all(n == [1, 2, 3] for n in _topic_layout(everyone, topic)[0])
            except KafkaError:
                return False

        wait_until(back_in_every_isr, 120, "the restarted broker back in every ISR")
        assert producer.poll() is None, "the producer finished before the second kill"
        first.kill()  # the one the producer bootstrapped from, first in the consumer's list
        assert producer.wait(300) == 0, producer_log.read_text()[-3000:]
        assert f"{fmt_int(ORDERS)} confirmados, 0 falhas" in producer_log.read_text()

        wait_until(lambda: f"pedidos contados: {ORDERS};" in output()
                   or consumer.poll() is not None, 300, "the consumer to count every order")
        assert consumer.poll() is None, output()[-3000:]  # it never exited
        consumer.send_signal(signal.SIGINT)
        assert consumer.wait(120) == 0, output()[-3000:]
    finally:
        for process in (producer, consumer):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(30)

    records = read_topic(f"{second.address},{kafka_cluster.nodes[2].address}", topic)
    messages = [json.loads(r.value, parse_float=Decimal) for r in records]
    assert len(messages) == ORDERS  # every order written once: no retry duplicated one
    assert len({m["id_ordem"] for m in messages}) == ORDERS
    assert {name: (q, v) for name, q, v in parse_table(output())} == expected_totals(messages)
    assert "Traceback" not in output()

