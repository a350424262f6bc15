"""Smoke tests of the benchmarks: a tiny (--quick) run of each, so that they do not rot.

They check that each benchmark runs end to end against a real Kafka as a module
(`python -m bench.X`), exits 0, prints its figures and writes its CSV, JSON and PNG; never
how fast anything was (a shared machine).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.metrics import STATE_LABELS
from tests.support import REPO_ROOT
from tests.support.kafka_io import cli_env


def run_bench(module: str, bootstrap: str, *args: str,
              timeout_s: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", f"bench.{module}", "--bootstrap-servers", bootstrap, *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout_s, env=cli_env(),
        check=False,
    )


def assert_results(out: Path, name: str) -> dict:
    csv_file, json_file, png_file = (out / f"{name}.{ext}" for ext in ("csv", "json", "png"))
    assert csv_file.stat().st_size > 0 and png_file.stat().st_size > 0
    lines = csv_file.read_text().splitlines()
    assert lines[0].startswith("# nucleos: ")  # the machine comes first
    assert any(line.startswith("# pyspark: ") for line in lines)
    document = json.loads(json_file.read_text())
    assert document["maquina"]["nucleos"] == lines[0].split(": ", 1)[1]
    assert len(document["execucoes"]) == len([x for x in lines if not x.startswith("#")]) - 1
    return document


def dedup_rows(output: str) -> list[int]:
    """The de-duplication's state rows each run of a benchmark printed: one per distinct id,
    plus the sweep mark of each hash bucket those ids fell in (at least one, at most one per
    id)."""
    label = re.escape(STATE_LABELS["transformWithStateExec"])
    found = re.findall(rf"{label}: ([\d.]+) linhas", output)
    assert found, output[-2000:]
    return [int(rows.replace(".", "")) for rows in found]


def test_producer_benchmark_compares_with_the_original_loop(kafka_bootstrap, tmp_path):
    result = run_bench("producer", kafka_bootstrap, "--quick", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    for label in ("geração", "geração + envio", "original", "original, nosso venv"):
        assert re.search(rf"^{re.escape(label)} +[\d.]+ +[\d,]+x$", result.stdout,
                         re.MULTILINE), label
    assert re.search(r"geração \+ envio: [\d,]+x o laço original, [\d,]+x o mesmo laço",
                     result.stdout)
    assert_results(tmp_path, "producer")
    runs = [line.split(",") for line in (tmp_path / "producer.csv").read_text().splitlines()
            if not line.startswith("#")]
    assert runs[0] == ["cenario", "repeticao", "pedidos", "segundos", "pedidos_por_s"]
    assert sorted((row[0], row[2]) for row in runs[1:]) == [
        ("geracao", "3000"), ("geracao+envio", "3000"), ("original", "300"),
        ("original-nosso", "300")]


@pytest.mark.timeout(1200)  # two cold Spark processes and a session, on a busy machine
def test_consumer_benchmark_compares_with_the_plain_query(kafka_bootstrap, tmp_path):
    result = run_bench("consumer", kafka_bootstrap, "--quick", "--orders", "2000",
                       "--max-offsets-per-trigger", "1000", "--out", str(tmp_path),
                       timeout_s=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    out = result.stdout
    # whole process: one cold run of each on the same topic, both checked to the cent
    assert re.search(r"nosso consumidor +execução 1: +[\d,]+ s", out)
    assert re.search(r"consulta simples +execução 1: +[\d,]+ s", out)
    assert re.search(r"^  nosso relativo à consulta simples \(mesmo tópico, mediana dos pares\): "
                     r"[\d,]+ \(meta >= 0,8", out, re.MULTILINE)
    # in process: the four strategies, and the ratios
    for label in ("nosso, Kafka", "nosso, arquivos", "simples, Kafka", "simples, arquivos"):
        assert re.search(rf"^  {label} +execução 1: +[\d.]+ pedidos/s \(", out, re.MULTILINE), label
    assert re.search(r"nosso \(Kafka\) relativo à consulta simples \(Kafka\): [\d,]+ "
                     r"\(meta >= 0,5", out)
    assert "Kafka relativo a arquivos:" in out
    assert all(rows in range(2001, 4001) for rows in dedup_rows(out))
    assert re.search(r"^NOSSO RELATIVO À CONSULTA SIMPLES: processo inteiro [\d,]+ .*; "
                     r"no processo [\d,]+ ", out, re.MULTILINE)
    document = assert_results(tmp_path, "consumer")
    assert document["resumo"]["pedidos"] == 2000
    assert document["resumo"]["razao_processo_inteiro"] > 0
    assert document["resumo"]["razao_no_processo"] > 0
    assert sorted((r["fase"], r["estrategia"]) for r in document["execucoes"]) == [
        ("interno", "arquivo"), ("interno", "kafka"), ("interno", "simples"),
        ("interno", "simples-arquivos"), ("processo", "nosso"), ("processo", "simples")]


def test_throughput_benchmark(kafka_bootstrap, tmp_path):
    result = run_bench("throughput", kafka_bootstrap, "--quick", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "µs/pedido" in result.stdout
    # 500 orders, then 1,000 (and 1,000 again in the closing table)
    partitions_run, *orders_runs = dedup_rows(result.stdout)
    assert partitions_run in range(501, 1001)
    assert orders_runs and all(rows in range(1001, 2001) for rows in orders_runs)
    assert_results(tmp_path, "throughput")


def test_scaling_benchmark_compares_each_batch_with_a_fresh_checkpoint(tmp_path):
    # the consumer's own query fed by Spark's rate source: no Kafka
    result = subprocess.run(
        [sys.executable, "-m", "bench.scaling", "--quick", "--out", str(tmp_path),
         "--work-dir", str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=540, env=cli_env(), check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    out = result.stdout
    assert re.search(r"^  2\.000 produtos no estado: lote de 500 pedidos [\d,]+x \(meta <= 1,25",
                     out, re.MULTILINE)
    assert re.search(r"^  [\d.]+ ids no estado: lote de 200 pedidos [\d,]+x \(meta <= 1,25",
                     out, re.MULTILINE)
    # every checkpoint ends with the totals of the orders it read, to the cent
    assert out.count("totais conferidos ao centavo") == 2
    document = assert_results(tmp_path, "scaling")
    assert document["resumo"]["produtos_2000_razao"] > 0
    phases = {(r["serie"], r["estado"], r["fase"]) for r in document["execucoes"]}
    assert {("produtos", "novo", "medido"), ("produtos", "cheio", "medido"),
            ("produtos", "cheio", "carga"), ("ids", "novo", "medido"),
            ("ids", "cheio", "medido")} <= phases


def test_latency_benchmark_prints_percentiles(kafka_bootstrap, tmp_path):
    result = run_bench("latency", kafka_bootstrap, "--quick", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    for label in ("p50", "p95", "p99", "máx."):
        assert label in result.stdout
    assert re.search(r"trigger de 1 s a 200 pedidos/s: p50 [\d,]+ s, p99 [\d,]+ s \(meta",
                     result.stdout)
    assert_results(tmp_path, "latency")
