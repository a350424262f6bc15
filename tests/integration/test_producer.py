"""The producer: delivery accounting and pacing (with fakes), then the real CLI on a real Kafka."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError, KafkaTimeoutError
from kafka.future import Future

from localdev.processes import free_port
from tests.kafka_io import message_count, read_topic
from tests.waiting import wait_until
from vendas import contract as c
from vendas.producer.generator import OrderGenerator, SimulatedClock
from vendas.producer.partitioning import key_partitions
from vendas.producer.sender import (
    DeliveryTracker,
    Pacer,
    send_orders,
)
from vendas.signals import StopSignals

REPO_ROOT = Path(__file__).resolve().parent.parent
CLI = str(REPO_ROOT / "produtor_vendas.py")
SUMMARY = re.compile(r"Resumo: ([\d.]+) enviados, ([\d.]+) confirmados, ([\d.]+) falhas")


def cli(*args: str, timeout_s: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, CLI, *args], capture_output=True, text=True, check=False,
                          timeout=timeout_s, cwd=REPO_ROOT)


def summary_of(stderr: str) -> tuple[int, int, int]:
    match = SUMMARY.search(stderr)
    assert match, stderr
    return tuple(int(n.replace(".", "")) for n in match.groups())


def expected_ids(seed: int, n: int) -> list[str]:
    generator = OrderGenerator(seed, clock=SimulatedClock(datetime(2026, 1, 1), 1))
    return [generator.next_order().id_ordem for _ in range(n)]


# --- unit: accounting, pacing ----------------------------------------------

class _FakeProducer:
    """Resolves each send at once, failing every `fail_every`-th one."""

    def __init__(self, fail_every: int = 0, partitions: int = 3) -> None:
        self.fail_every = fail_every
        self.partitions = set(range(partitions))
        self.keys: list[bytes] = []
        self.sent_to: list[int] = []
        self.flushed = False

    def partitions_for(self, topic):
        if not self.partitions:
            raise KafkaTimeoutError("sem metadados do tópico")
        return set(self.partitions)

    def send(self, topic, value=None, key=None, partition=None):
        assert partition in self.partitions
        self.keys.append(key)
        self.sent_to.append(partition)
        json.loads(value)
        future = Future()
        if self.fail_every and len(self.keys) % self.fail_every == 0:
            return future.failure(RuntimeError("recusado"))
        return future.success(None)

    def flush(self, timeout=None):
        self.flushed = True


def test_send_orders_counts_every_acknowledgement():
    producer = _FakeProducer()
    generator = OrderGenerator(5, customers=50)
    summary = send_orders(producer, "t", iter(generator), count=2500, rate=0)
    assert (summary.sent, summary.acked, summary.failed, summary.ok) == (2500, 2500, 0, True)
    assert producer.flushed
    expected = OrderGenerator(5, customers=50).take(2500)
    assert producer.keys == [o.id_ordem.encode() for o in expected]
    assert producer.sent_to == key_partitions(producer.keys, {0, 1, 2})


def test_orders_without_topic_metadata_count_as_failures():
    summary = send_orders(_FakeProducer(partitions=0), "t",
                          iter(OrderGenerator(5, customers=50)), count=1500, rate=0)
    assert (summary.sent, summary.acked, summary.failed, summary.ok) == (1500, 0, 1500, False)
    assert "sem metadados do tópico" in summary.first_error


def test_send_orders_reports_failures():
    summary = send_orders(_FakeProducer(fail_every=100), "t",
                          iter(OrderGenerator(5, customers=50)), count=1000, rate=0)
    assert (summary.sent, summary.acked, summary.failed, summary.ok) == (1000, 990, 10, False)
    assert "recusado" in summary.first_error


def test_a_finite_stream_of_orders_ends_the_run():
    orders = OrderGenerator(5, customers=50).take(1500)
    producer = _FakeProducer()
    summary = send_orders(producer, "t", orders, count=None, rate=0)
    assert (summary.sent, summary.acked, summary.ok) == (1500, 1500, True)
    assert producer.keys == [o.key for o in orders]


def test_a_broker_that_acknowledges_nothing_for_the_delivery_timeout_ends_the_run():
    # every order fails at once and none is ever acknowledged: a broker gone for good
    summary = send_orders(_FakeProducer(fail_every=1), "t", iter(OrderGenerator(5, customers=50)),
                          count=None, rate=1000, delivery_timeout_s=0.3)
    assert 0 < summary.sent < 1000 and summary.acked == 0 and summary.failed == summary.sent
    assert not summary.ok


def test_failures_while_the_broker_still_acknowledges_do_not_end_the_run():
    summary = send_orders(_FakeProducer(fail_every=2), "t", iter(OrderGenerator(5, customers=50)),
                          count=3000, rate=0, delivery_timeout_s=1)
    assert (summary.sent, summary.acked, summary.failed) == (3000, 1500, 1500)


def test_tracker_counts_unfinished_futures_as_not_acknowledged():
    tracker = DeliveryTracker()
    done, pending = Future().success(None), Future()
    tracker.track(done)
    tracker.track(pending)
    tracker.collect()
    assert (tracker.acked, tracker.pending) == (1, 1)
    tracker.finish()
    assert (tracker.acked, tracker.failed, tracker.pending) == (1, 1, 0)


def test_stop_request_ends_an_unbounded_run():
    stop = StopSignals()
    generator = iter(OrderGenerator(5, customers=50))

    def orders():
        for i, order in enumerate(generator):
            if i == 1234:
                stop.request("SIGINT")
            yield order

    summary = send_orders(_FakeProducer(), "t", orders(), count=None, rate=0, stop=stop)
    assert summary.ok and 1234 < summary.sent <= 1234 + 1000


def test_pacer_schedules_against_the_clock():
    pacer = Pacer(1000, burst_interval_s=0.005)
    start = pacer.start
    assert pacer.due(0, start) == 1  # the first order goes at once
    assert pacer.due(1, start + 0.0105) == 10
    assert pacer.due(50, start + 0.0105) == -39  # ahead of schedule: nothing due
    assert pacer.next_burst_at(50) == pytest.approx(start + 0.054)


def test_rate_is_held_without_busy_spinning():
    generator = iter(OrderGenerator(5, customers=50))
    cpu_started, started = time.process_time(), time.monotonic()
    summary = send_orders(_FakeProducer(), "t", generator, count=1500, rate=1000)
    wall, cpu = time.monotonic() - started, time.process_time() - cpu_started
    assert summary.ok
    assert 1.45 < wall < 1.7  # order 1500 is due 1.499 s after the first
    assert cpu < 0.5 * wall, f"cpu {cpu:.2f} s of {wall:.2f} s: spinning?"


# --- CLI without a broker ------------------------------------------------------------------

@pytest.mark.parametrize("args, expected", [
    (["--count", "x"], "argumento -n/--count: número inteiro inválido: 'x'"),
    (["--count", "0"], "argumento -n/--count: deve ser maior que zero: 0"),
    (["--rate", "-5"], "argumento -r/--rate: deve ser um número maior ou igual a zero"),
    (["--date-format", "us"],
     "argumento --date-format: escolha inválida: 'us' (opções: 'iso', 'br')"),
    (["--start-time", "ontem"], "argumento --start-time: data/hora inválida: 'ontem'"),
    (["--nao-existe"], "argumentos não reconhecidos: --nao-existe"),
])
def test_bad_arguments_are_explained_in_portuguese(args, expected):
    result = cli(*args, timeout_s=30)
    assert result.returncode == 2
    assert "uso: produtor_vendas.py" in result.stderr
    assert f"produtor_vendas.py: erro: {expected}" in result.stderr, result.stderr


def test_help_is_in_portuguese():
    result = cli("--help", timeout_s=30)
    assert result.returncode == 0
    for text in ("uso:", "opções:", "mostra esta ajuda e sai", "--bootstrap-servers",
                 "--date-format", "--spread-days", "--start-time", "(padrão:"):
        assert text in result.stdout
    assert "usage" not in result.stdout and "show this help" not in result.stdout


def test_no_broker_is_a_clear_error_within_seconds():
    port = free_port()
    started = time.monotonic()
    result = cli("-b", f"localhost:{port}", "--count", "10", timeout_s=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 2
    assert f"Não foi possível conectar ao Kafka em localhost:{port}" in result.stderr
    assert "Traceback" not in result.stderr
    assert elapsed < 15


# --- integration: the real CLI against a real broker ---------------------------------------

@pytest.mark.integration
def test_cli_sends_every_order_keyed_by_id(kafka_bootstrap, new_topic):
    topic = new_topic("produtor")
    result = cli("-b", kafka_bootstrap, "--topic", topic, "--count", "5000", "--rate", "0",
                 "--seed", "11", "--start-time", "2026-11-23T14:05:09")
    assert result.returncode == 0, result.stderr
    assert summary_of(result.stderr) == (5000, 5000, 0)

    records = read_topic(kafka_bootstrap, topic)
    assert len(records) == 5000
    messages = [json.loads(r.value) for r in records]
    assert all(r.key == m[c.ID_ORDEM].encode("utf-8") for r, m in zip(records, messages))
    # exactly the orders that the seed generates, nothing else, nothing twice
    generator = OrderGenerator(11, clock=SimulatedClock(datetime(2026, 11, 23, 14, 5, 9), 100))
    expected = {o.id_ordem: o.encode() for o in generator.take(5000)}
    assert {r.key.decode(): r.value for r in records} == expected
    # Kafka's ordering per partition keeps the generation order within each partition
    for partition in {r.partition for r in records}:
        ids = [r.key.decode() for r in records if r.partition == partition]
        order = list(expected)
        assert ids == sorted(ids, key=order.index)


@pytest.mark.integration
def test_cli_brazilian_dates_spread_over_the_past(kafka_bootstrap, new_topic):
    topic = new_topic("produtor-br")
    result = cli("-b", kafka_bootstrap, "--topic", topic, "--count", "300", "--rate", "0",
                 "--date-format", "br", "--spread-days", "7", "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # --quiet: nothing but errors
    stamps = [datetime.strptime(json.loads(r.value)[c.DATA_HORA], "%d/%m/%Y %H:%M:%S")
              for r in read_topic(kafka_bootstrap, topic)]
    assert len(stamps) == 300
    span = max(stamps) - min(stamps)
    assert 5 < span.total_seconds() / 86400 <= 7


@pytest.mark.integration
def test_cli_creates_a_missing_topic(kafka_bootstrap):
    topic = f"produtor-novo-{os.getpid()}-{time.monotonic_ns()}"
    result = cli("-b", kafka_bootstrap, "--topic", topic, "--count", "20", "--rate", "0")
    assert result.returncode == 0, result.stderr
    assert f"Tópico {topic} criado" in result.stderr
    assert message_count(kafka_bootstrap, topic) == 20


@pytest.mark.integration
def test_refused_topic_name_is_one_sentence(kafka_bootstrap):
    result = cli("-b", kafka_bootstrap, "--topic", "tópico inválido!", "--count", "5",
                 timeout_s=60)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "recusou o nome de tópico 'tópico inválido!'" in errors[0]
    assert "Traceback" not in result.stderr


@pytest.mark.integration
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_flushes_and_summarises(kafka_bootstrap, new_topic, tmp_path, signum):
    topic = new_topic("produtor-sinal")
    log_path = tmp_path / "produtor.log"
    with open(log_path, "w") as log_file:
        process = subprocess.Popen([sys.executable, CLI, "-b", kafka_bootstrap, "--topic", topic,
                                    "--rate", "2000"], stdout=log_file, stderr=subprocess.STDOUT,
                                   cwd=REPO_ROOT)
        try:
            wait_until(lambda: message_count(kafka_bootstrap, topic) >= 1000, 60,
                       "the first 1000 orders")
            process.send_signal(signum)
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                process.kill()
    output = log_path.read_text()
    assert f"Sinal {signum.name} recebido" in output
    sent, acked, failed = summary_of(output)
    assert sent == acked >= 1000 and failed == 0
    assert message_count(kafka_bootstrap, topic) == sent  # flushed: all of them arrived


@pytest.mark.integration
@pytest.mark.slow
def test_rate_2000_per_second_held_within_2_percent_over_30_s(kafka_bootstrap, new_topic):
    topic = new_topic("produtor-taxa")
    n = 60_000
    result = cli("-b", kafka_bootstrap, "--topic", topic, "--count", str(n), "--rate", "2000",
                 "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert summary_of(result.stderr) == (n, n, 0)
    # record timestamps are taken by the producer at send time
    stamps = sorted(r.timestamp for r in read_topic(kafka_bootstrap, topic))
    assert len(stamps) == n
    rate = (n - 1) / ((stamps[-1] - stamps[0]) / 1000)
    print(f"measured rate: {rate:.1f} orders/s over {(stamps[-1] - stamps[0]) / 1000:.1f} s")
    assert rate == pytest.approx(2000, rel=0.02)
    # and steady: every full 5-second window holds close to 10,000 orders too
    span_ms = stamps[-1] - stamps[0]
    windows = Counter((s - stamps[0]) // 5000 for s in stamps)
    full = [windows[w] for w in sorted(windows) if (w + 1) * 5000 <= span_ms + 1]
    assert len(full) >= 5 and all(abs(count - 10_000) <= 1000 for count in full), full


@pytest.mark.integration
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
    sent, acked, failed = summary_of(log_path.read_text())
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


@pytest.mark.integration
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
    sent, acked, failed = summary_of(output)
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
