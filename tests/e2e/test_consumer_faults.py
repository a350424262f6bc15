"""Nothing lost, nothing counted twice: kill -9 of the consumer mid-run (totals on the console
and in PostgreSQL), and a broker outage."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.corpus import expected_totals, valid_messages
from tests.support.database import (
    expected_from_topic,
    has_tables,
    progress,
    summary,
    table_totals,
)
from tests.support.kafka_io import (
    cli_env,
    consumer_command,
    parse_table,
    produce,
    read_topic,
    run_consumer,
    run_producer,
)
from tests.support.waiting import wait_until
from vendas.consumer.app import ORDERS_QUERY


def _commits(checkpoint: Path) -> list[int]:
    commits = checkpoint / ORDERS_QUERY / "commits"
    if not commits.exists():
        return []
    return sorted(int(p.name) for p in commits.iterdir() if p.name.isdigit())


@pytest.mark.slow
def test_kill_9_mid_stream_then_restart_gives_the_same_totals(kafka_bootstrap, new_topic, tmp_path):
    topic = new_topic("vendas")
    produce(kafka_bootstrap, topic, 20000, seed=99)
    expected = expected_totals(valid_messages(read_topic(kafka_bootstrap, topic)))
    checkpoint = tmp_path / "ckpt"
    # 1,000 offsets per batch: about 20 batches, so the kill lands mid-stream.
    process = subprocess.Popen(
        consumer_command(kafka_bootstrap, topic, checkpoint, "--trigger", "0",
                         "--max-offsets-per-trigger", "1000"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_env(), start_new_session=True,
    )
    try:
        wait_until(lambda: len(_commits(checkpoint)) >= 3, 240, "three committed batches")
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the Python driver and its JVM, no clean-up
        process.wait(30)
    assert process.returncode == -signal.SIGKILL
    assert len(_commits(checkpoint)) < 20, "the consumer finished before the kill"

    restarted = run_consumer(kafka_bootstrap, topic, checkpoint)
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    assert {name: (q, v) for name, q, v in parse_table(restarted.stdout)} == expected
    assert "pedidos contados: 20000;" in restarted.stdout


@pytest.mark.slow
def test_broker_outage_consumer_waits_then_continues(own_kafka, tmp_path):
    bootstrap, topic = own_kafka.bootstrap_servers, "vendas-queda"
    log_path = tmp_path / "consumidor.log"
    process = None
    try:
        produce(bootstrap, topic, 1000, seed=1)
        with open(log_path, "w") as log_file:
            process = subprocess.Popen(
                consumer_command(bootstrap, topic, tmp_path / "ckpt", "--trigger", "1"),
                stdout=log_file, stderr=subprocess.STDOUT, env=cli_env(), start_new_session=True,
            )
        output = lambda: log_path.read_text(errors="replace")
        wait_until(lambda: "pedidos contados: 1000;" in output(), 180, "the first 1000 orders")

        own_kafka.kill()  # a crash, not a clean shutdown
        wait_until(lambda: "não responde" in output(), 60, "the outage to be reported")
        time.sleep(5)  # let the consumer try (and fail) to fetch for a while
        assert process.poll() is None, output()[-3000:]

        own_kafka.up()
        wait_until(lambda: "voltou a responder" in output(), 60, "the recovery to be reported")
        produce(bootstrap, topic, 500, seed=2)
        wait_until(lambda: "pedidos contados: 1500;" in output(), 180,
                   "the 500 orders sent after the outage")
        assert process.poll() is None

        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
        expected = expected_totals(valid_messages(read_topic(bootstrap, topic)))
        assert {name: (q, v) for name, q, v in parse_table(output())} == expected
        assert "Traceback" not in output()
    finally:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.slow
def test_kill_9_mid_run_then_restart_leaves_the_table_exact(
    kafka_bootstrap, new_topic, database_url, tmp_path, monkeypatch
):
    topic = new_topic("vendas-banco")
    produced = run_producer(
        kafka_bootstrap, topic, "--count", "20000", "--rate", "0", "--seed", "51"
    )
    assert produced.returncode == 0, produced.stderr[-2000:]
    expected = expected_from_topic(kafka_bootstrap, topic)
    monkeypatch.setenv("VENDAS_BANCO", database_url)
    checkpoint = tmp_path / "ckpt"

    def last_batch() -> int:
        return max(progress(database_url).values(), default=-1) if has_tables(database_url) else -1

    # 1,000 offsets per batch: about 20 batches, so the kill lands mid-run.
    process = subprocess.Popen(
        consumer_command(
            kafka_bootstrap,
            topic,
            checkpoint,
            "--trigger",
            "0",
            "--max-offsets-per-trigger",
            "1000",
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=cli_env(),
        start_new_session=True,
    )
    try:
        wait_until(lambda: last_batch() >= 3, 240, "three batches in the database")
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # driver and JVM, no clean-up
        process.wait(30)
    killed_at = last_batch()
    assert killed_at < 19, "the consumer finished before the kill: not a mid-run crash"
    assert summary(database_url)[0] < 20000

    restarted = run_consumer(kafka_bootstrap, topic, checkpoint)
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    assert table_totals(database_url) == expected
    assert summary(database_url) == (20000, 0)
    assert last_batch() > killed_at

