"""The producer CLI against a real Kafka: every order sent once, keyed by its id, in order per
partition; dates, topic creation, signals and the rate held. Its accounting and pacing with
fakes: tests/unit/test_producer_sender.py; a broker killed under it: tests/e2e/."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime

import pytest

from tests.support import REPO_ROOT
from tests.support.kafka_io import message_count, producer_summary, read_topic
from tests.support.waiting import wait_until
from vendas import contract as c
from vendas.producer.generator import OrderGenerator, SimulatedClock

CLI = str(REPO_ROOT / "produtor_vendas.py")


def cli(*args: str, timeout_s: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, CLI, *args], capture_output=True, text=True, check=False,
                          timeout=timeout_s, cwd=REPO_ROOT)


def test_cli_sends_every_order_keyed_by_id(kafka_bootstrap, new_topic):
    topic = new_topic("produtor")
    result = cli("-b", kafka_bootstrap, "--topic", topic, "--count", "5000", "--rate", "0",
                 "--seed", "11", "--start-time", "2026-11-23T14:05:09")
    assert result.returncode == 0, result.stderr
    assert producer_summary(result.stderr) == (5000, 5000, 0)

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


def test_cli_creates_a_missing_topic(kafka_bootstrap):
    topic = f"produtor-novo-{os.getpid()}-{time.monotonic_ns()}"
    result = cli("-b", kafka_bootstrap, "--topic", topic, "--count", "20", "--rate", "0")
    assert result.returncode == 0, result.stderr
    assert f"Tópico {topic} criado" in result.stderr
    assert message_count(kafka_bootstrap, topic) == 20


def test_refused_topic_name_is_one_sentence(kafka_bootstrap):
    result = cli("-b", kafka_bootstrap, "--topic", "tópico inválido!", "--count", "5",
                 timeout_s=60)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "recusou o nome de tópico 'tópico inválido!'" in errors[0]
    assert "Traceback" not in result.stderr


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
    sent, acked, failed = producer_summary(output)
    assert sent == acked >= 1000 and failed == 0
    assert message_count(kafka_bootstrap, topic) == sent  # flushed: all of them arrived


@pytest.mark.slow
def test_rate_2000_per_second_held_within_2_percent_over_30_s(kafka_bootstrap, new_topic):
    topic = new_topic("produtor-taxa")
    n = 60_000
    result = cli("-b", kafka_bootstrap, "--topic", topic, "--count", str(n), "--rate", "2000",
                 "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert producer_summary(result.stderr) == (n, n, 0)
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
