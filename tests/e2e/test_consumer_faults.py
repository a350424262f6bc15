"""Nothing lost, nothing counted twice: bad input, replays, kill -9 and a broker outage."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from tests.corpus import MALFORMED, SEED_A, SEED_B, expected_totals, variant
from tests.kafka_io import (
    cli_env,
    consumer_command,
    parse_table,
    produce,
    read_topic,
    run_consumer,
    send_all,
)
from tests.kafka_records import as_bytes
from tests.waiting import wait_until
from vendas.consumer.app import ORDERS_QUERY

pytestmark = pytest.mark.integration


def valid_messages(records) -> list[dict]:
    """Decoded messages the consumer must count (the test's own independent reading)."""
    malformed_values = {as_bytes(m) for _, m, _ in MALFORMED}
    return [json.loads(r.value, parse_float=Decimal) for r in records
            if r.value is not None and r.value not in malformed_values]


def test_malformed_originals_and_replays_all_accounted_for(kafka_bootstrap, new_topic, tmp_path):
    topic = new_topic("vendas")
    produce(kafka_bootstrap, topic, 2000, seed=11)
    produced = read_topic(kafka_bootstrap, topic)
    replays = [(r.key, r.value) for r in produced[:50]]  # a producer retry / a replay
    seeds = [variant(SEED_A, id_ordem=f"a-{i}", valor_total=100 + i) for i in range(5)] + [
        variant(SEED_B, id_ordem=f"b-{i}") for i in range(5)]
    malformed = [(f"ruim-{kind}".encode(), as_bytes(message)) for kind, message, _ in MALFORMED]
    malformed.append((b"tombstone", None))
    assert len({v for _, v in malformed}) == len(malformed)  # each source record is recognisable
    send_all(kafka_bootstrap, topic, [
        *replays,
        *((m["id_ordem"].encode(), as_bytes(m)) for m in seeds),
        (b"a-0", as_bytes(seeds[0])),  # seed A replayed too
        *malformed,
    ])

    consumed = run_consumer(kafka_bootstrap, topic, tmp_path / "ckpt")
    assert consumed.returncode == 0, consumed.stderr[-3000:]

    records = read_topic(kafka_bootstrap, topic)
    messages = valid_messages(records)
    distinct_ids = {m["id_ordem"] for m in messages}
    assert len(distinct_ids) == 2000 + 10
    table = {name: (q, v) for name, q, v in parse_table(consumed.stdout)}
    assert table == expected_totals(messages)
    unattributed = sum(100 + i for i in range(5)) + 5 * SEED_B["valor_total"]
    assert f"pedidos contados: {len(distinct_ids)};" in consumed.stdout
    assert f"não atribuído a produtos: {unattributed:.2f}" in consumed.stdout
    reasons = Counter(reason for _, _, reason in MALFORMED) + Counter({"mensagem_vazia": 1})
    expected_summary = ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items()))
    assert f"mensagens rejeitadas: {len(malformed)} ({expected_summary})" in consumed.stdout

    # Each malformed record is in the dead-letter topic exactly once, bytes untouched.
    sources = {(r.partition, r.offset): r for r in records
               if r.key and r.key.startswith((b"ruim-", b"tombstone"))}
    letters = read_topic(kafka_bootstrap, f"{topic}-dlq")
    by_source = Counter()
    for letter in letters:
        headers = {k: v.decode() for k, v in letter.headers}
        assert headers["topico"] == topic
        source = sources[(int(headers["particao"]), int(headers["offset"]))]
        by_source[(source.partition, source.offset)] += 1
        assert (letter.key, letter.value) == (source.key, source.value)
        kind = source.key.decode().removeprefix("ruim-")
        expected_reason = {k: r for k, _, r in MALFORMED}.get(kind, "mensagem_vazia")
        assert headers["motivo"] == expected_reason, kind
    assert set(by_source) == set(sources)
    assert set(by_source.values()) == {1}


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
