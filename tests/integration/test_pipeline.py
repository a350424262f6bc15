"""End to end on a real Kafka: the producer's orders, the consumer's totals, to the cent."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

from tests.support import REPO_ROOT
from tests.support.corpus import WINDOWED, WINDOWED_TOTALS, expected_totals
from tests.support.kafka_io import (
    cli_env,
    parse_table,
    produce,
    read_topic,
    run_consumer,
    send_all,
)
from tests.support.kafka_records import as_bytes
from vendas.spark.session import KAFKA_CONNECTOR


def decoded(records) -> list[dict]:
    return [json.loads(r.value, parse_float=Decimal) for r in records]


def table_as_totals(table):
    return {name: (quantity, value) for name, quantity, value in table}


def test_10000_orders_totals_match_the_topic_to_the_cent(kafka_bootstrap, new_topic, tmp_path):
    topic = new_topic("vendas")
    produce(kafka_bootstrap, topic, 10000, seed=20261124)

    records = read_topic(kafka_bootstrap, topic)
    assert len(records) == 10000
    messages = decoded(records)
    assert all(r.key.decode() == m["id_ordem"] for r, m in zip(records, messages))
    expected = expected_totals(messages)

    consumed = run_consumer(kafka_bootstrap, topic, tmp_path / "ckpt")
    assert consumed.returncode == 0, consumed.stderr
    table = parse_table(consumed.stdout)
    assert table_as_totals(table) == expected
    values = [value for _, _, value in table]
    assert values == sorted(values, reverse=True)  # sorted by valor_total, descending
    assert "pedidos contados: 10000;" in consumed.stdout
    assert "mensagens rejeitadas: 0" in consumed.stdout


def test_spark_submit_with_packages_gives_the_same_totals(kafka_bootstrap, new_topic, tmp_path):
    topic = new_topic("vendas")
    produce(kafka_bootstrap, topic, 300, seed=7)
    expected = expected_totals(decoded(read_topic(kafka_bootstrap, topic)))
    import subprocess

    submit = Path(sys.executable).with_name("spark-submit")
    result = subprocess.run(
        [str(submit), "--master", "local[2]", "--packages", KAFKA_CONNECTOR,
         str(REPO_ROOT / "consumidor_vendas.py"), "-b", kafka_bootstrap, "--topic", topic,
         "--dlq-topic", f"{topic}-dlq", "--checkpoint", str(tmp_path / "ckpt"), "--available-now"],
        capture_output=True, text=True, timeout=300, env=cli_env(), check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert table_as_totals(parse_table(result.stdout)) == expected


def test_second_run_without_new_data_prints_the_same_totals(kafka_bootstrap, new_topic, tmp_path):
    topic = new_topic("vendas")
    produce(kafka_bootstrap, topic, 200, seed=3)
    first = run_consumer(kafka_bootstrap, topic, tmp_path / "ckpt")
    second = run_consumer(kafka_bootstrap, topic, tmp_path / "ckpt")
    assert first.returncode == second.returncode == 0
    assert parse_table(second.stdout) == parse_table(first.stdout)
    assert "pedidos contados: 200;" in second.stdout


def window_rows(output: str) -> dict[tuple[str, str], tuple[int, Decimal]]:
    """Every row of the window tables the consumer printed: (start, produto) -> sums."""
    rows = {}
    in_windows = False
    for line in output.splitlines():
        if line.startswith("Janelas atualizadas"):
            in_windows = True
        elif not line.strip():
            in_windows = False
        elif in_windows and line.startswith("|") and not line.startswith("|inicio_janela"):
            start, _end, product, quantity, value = (c.strip() for c in line.strip("|").split("|"))
            rows[(start, product)] = (int(quantity), Decimal(value))
    return rows


def test_window_option_prints_totals_per_minute(kafka_bootstrap, new_topic, tmp_path):
    topic = new_topic("vendas")
    send_all(kafka_bootstrap, topic, [(m["id_ordem"].encode(), as_bytes(m)) for m in WINDOWED])
    result = run_consumer(kafka_bootstrap, topic, tmp_path / "ckpt", "--window", "1 minute")
    assert result.returncode == 0, result.stderr[-3000:]
    assert window_rows(result.stdout) == {
        (f"23/11/2026 {start}:00", product): sums
        for (start, product), sums in WINDOWED_TOTALS.items()
    }
    assert sorted(parse_table(result.stdout)) == [
        ("Mouse", 7, Decimal("629.30")), ("Teclado", 2, Decimal("299.80"))]
    # and each window's own totals: orders, quantity, value
    assert ("23/11/2026 14:05:00 a 23/11/2026 14:06:00: 2 pedidos, quantidade 6, valor 659.40"
            in result.stdout)
    assert ("23/11/2026 14:06:00 a 23/11/2026 14:07:00: 1 pedido, quantidade 3, valor 269.70"
            in result.stdout)
