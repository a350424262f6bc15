"""The hostile corpus and the originals' shapes through a real Kafka and the consumer CLI.

Every record is counted or dead-lettered exactly once, the totals are exact (value exact
wherever unit prices exist: every product in PostgreSQL, the top ones and a line for the
rest on the console), and nothing a message holds reaches the terminal raw.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from tests.support.corpus import SEED_A, SEED_B, SEED_B_PRICED, expected_totals, variant
from tests.support.database import table_totals
from tests.support.hostile_corpus import HOSTILE, decode
from tests.support.kafka_io import parse_table, produce, read_topic, run_consumer, send_all
from tests.support.kafka_records import as_bytes
from vendas.outputs.postgres import db_text
from vendas.terminal import visible

RAW_CONTROL = ("\x1b", "\x00", "\r", "\u202e", "\x07", "\x08")


def test_hostile_input_counted_or_dead_lettered_once_and_terminal_clean(
        kafka_bootstrap, new_topic, database_url, tmp_path, monkeypatch):
    topic = new_topic("hostil")
    produce(kafka_bootstrap, topic, 300, seed=14)
    originals = [variant(SEED_A, id_ordem=f"orig-a-{i}") for i in range(3)] + [
        variant(SEED_B, id_ordem=f"orig-b-{i}") for i in range(3)] + [
        variant(SEED_B_PRICED, id_ordem=f"orig-b-hoje-{i}") for i in range(3)]
    send_all(kafka_bootstrap, topic, [
        *((case.key, case.value) for case in HOSTILE),
        *((m["id_ordem"].encode(), as_bytes(m)) for m in originals),
        (b"orig-b-hoje-0", as_bytes(originals[-3])),  # a replay counts once
    ])

    monkeypatch.setenv("VENDAS_BANCO", database_url)
    result = run_consumer(kafka_bootstrap, topic, tmp_path / "ckpt", "--linhas", "20")
    assert result.returncode == 0, result.stderr[-3000:]
    for char in RAW_CONTROL:
        assert char not in result.stdout + result.stderr, repr(char)

    records = read_topic(kafka_bootstrap, topic)
    hostile = {(case.key, case.value): case for case in HOSTILE}
    valid = [decode(r.value) for r in records if hostile.get((r.key, r.value)) is None
             or hostile[(r.key, r.value)].reason is None]
    exact = expected_totals(valid)
    assert table_totals(database_url) == {db_text(name): t for name, t in exact.items()}
    shown = parse_table(result.stdout)
    ranked = sorted(exact.items(), key=lambda item: (item[1][1] is None, -(item[1][1] or 0),
                                                      -item[1][0], item[0]))
    assert shown == [(visible(name), q, v) for name, (q, v) in ranked[:20]]
    rest_quantity = sum(q for _, (q, _) in ranked[20:])
    rest_value = sum((v for _, (_, v) in ranked[20:] if v is not None), Decimal("0.00"))
    assert (f"... e mais {len(ranked) - 20} produtos: quantidade_total {rest_quantity}, "
            f"valor_total {rest_value}") in result.stdout

    rejected = Counter(case.reason for case in HOSTILE if case.reason is not None)
    summary = ", ".join(f"{reason}: {n}" for reason, n in sorted(rejected.items()))
    assert f"mensagens rejeitadas: {sum(rejected.values())} ({summary})" in result.stdout
    assert f"pedidos contados: {len({m['id_ordem'] for m in valid})};" in result.stdout

    letters = read_topic(kafka_bootstrap, f"{topic}-dlq")
    assert len(letters) == sum(rejected.values())
    sources = Counter()
    for letter in letters:
        headers = {k: v.decode() for k, v in letter.headers}
        case = hostile[(letter.key, letter.value)]  # the bytes came back untouched
        assert headers["motivo"] == case.reason, case.kind
        sources[(headers["particao"], headers["offset"])] += 1
    assert set(sources.values()) == {1}  # each rejected record once
