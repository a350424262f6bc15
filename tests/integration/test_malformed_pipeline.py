"""Malformed messages and replays through a real Kafka and the consumer CLI: each valid order
counted once, each malformed record dead-lettered once with its reason, bytes untouched."""

from __future__ import annotations

from collections import Counter

from tests.support.corpus import MALFORMED, SEED_A, SEED_B, expected_totals, valid_messages, variant
from tests.support.kafka_io import parse_table, produce, read_topic, run_consumer, send_all
from tests.support.kafka_records import as_bytes


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
