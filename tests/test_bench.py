"""Smoke tests of the benchmarks: a tiny run of each, so that they do not rot.

They check that each benchmark runs end to end against a real Kafka, exits 0, prints its
figures and writes its CSV and PNG; never how fast anything was (a shared machine).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kafka_io import REPO_ROOT, cli_env

pytestmark = pytest.mark.integration


def run_bench(script: str, bootstrap: str, *args: str,
              timeout_s: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / script), "--bootstrap-servers", bootstrap,
         *args],
        capture_output=True, text=True, timeout=timeout_s, env=cli_env(), check=False,
    )


def assert_results(out: Path, name: str) -> None:
    csv_file, png_file = out / f"{name}.csv", out / f"{name}.png"
    assert csv_file.stat().st_size > 0 and png_file.stat().st_size > 0
    lines = csv_file.read_text().splitlines()
    assert lines[0].startswith("# nucleos: ")  # the machine comes first
    assert any(line.startswith("# pyspark: ") for line in lines)


def test_producer_benchmark_compares_with_the_original_loop(kafka_bootstrap, tmp_path):
    result = run_bench("producer.py", kafka_bootstrap, "--orders", "3000", "--baseline-orders",
                       "300", "--repeat", "1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    for label in ("geração", "geração + envio", "original", "original, nosso venv"):
        assert re.search(rf"^{re.escape(label)} +[\d.]+ +[\d,]+x$", result.stdout, re.M), label
    assert re.search(r"geração \+ envio: [\d,]+x o laço original, [\d,]+x o mesmo laço",
                     result.stdout)
    assert_results(tmp_path, "producer")
    runs = [line.split(",") for line in (tmp_path / "producer.csv").read_text().splitlines()
            if not line.startswith("#")]
    assert runs[0] == ["cenario", "repeticao", "pedidos", "segundos", "pedidos_por_s"]
    assert sorted((row[0], row[2]) for row in runs[1:]) == [
        ("geracao", "3000"), ("geracao+envio", "3000"), ("original", "300"),
        ("original-nosso", "300")]


def test_consumer_benchmark_compares_kafka_with_files(kafka_bootstrap, tmp_path):
    result = run_bench("consumer.py", kafka_bootstrap, "--orders", "2000", "--repeat", "1",
                       "--warmup-orders", "0", "--lines-per-file", "500",
                       "--max-offsets-per-trigger", "1000", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "razão Kafka/arquivos na execução 1:" in result.stdout
    assert "pico de memória do driver: JVM" in result.stdout
    assert "deduplicação (id_ordem): 2.000 linhas" in result.stdout
    assert_results(tmp_path, "consumer")


def test_consumer_benchmark_scaling(kafka_bootstrap, tmp_path):
    result = run_bench("consumer.py", kafka_bootstrap, "--scaling", "--repeat", "1",
                       "--warmup-orders", "0", "--scaling-partitions", "1",
                       "--scaling-fixed-orders", "500", "--scaling-orders", "1000",
                       "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "µs/pedido" in result.stdout
    assert "deduplicação (id_ordem): 1.000 linhas" in result.stdout
    assert_results(tmp_path, "scaling")


def test_latency_benchmark_prints_percentiles(kafka_bootstrap, tmp_path):
    result = run_bench("latency.py", kafka_bootstrap, "--rate", "200", "--seconds", "8",
                       "--warmup-seconds", "2", "--jvm-warmup-seconds", "0", "--triggers", "1",
                       "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    for label in ("p50", "p95", "p99", "máx."):
        assert label in result.stdout
    assert_results(tmp_path, "latency")
