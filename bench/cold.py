"""Whole-process strategies: each run a cold `spark-submit` (or `python`) of a real script,
timed from the command to its exit, as a user sees it:

  nosso             consumidor_vendas.py --available-now on the topic (the README's user
                    path: spark-submit --packages <the connector> consumidor_vendas.py ...);
  simples           bench/plain_query.py on the same topic, launched the same way (same
                    launcher, same connector, same Spark settings and Kafka source options:
                    only the job differs);
  simples-arquivos  bench/plain_query.py over the same orders as JSON lines (optional).

Every run must print the generated orders' totals, to the cent, or the benchmark fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from bench import plain_query
from bench.errors import BenchmarkError
from bench.machine import load_average
from bench.metrics import Timing, stopwatch
from bench.orders import LoadedOrders, ShownTotals, check_shown, check_totals
from bench.results import REPO_ROOT
from vendas.outputs.console import DEFAULT_ROWS, MAX_ROWS, UNKNOWN_VALUE
from vendas.pipeline.totals import ProductTotal
from vendas.spark.session import KAFKA_CONNECTOR, LOCAL_DEFAULTS

OURS, PLAIN, PLAIN_FILES = "nosso", "simples", "simples-arquivos"
LABELS = {OURS: "nosso consumidor", PLAIN: "consulta simples",
          PLAIN_FILES: "simples, arquivos"}
LAUNCHERS = ("spark-submit", "python")
CONSUMER_SCRIPT = REPO_ROOT / "consumidor_vendas.py"
PLAIN_SCRIPT = REPO_ROOT / "bench" / "plain_query.py"
# The shuffle settings our consumer applies by itself on a local master, given to the plain
# query too, so that both shuffle alike (not with Spark's 200 partitions on 2 cores).
PLAIN_CONF = {key: LOCAL_DEFAULTS[key]
              for key in ("spark.sql.shuffle.partitions", "spark.shuffle.compress")}


@dataclass(frozen=True)
class ColdSettings:
    launcher: str = "spark-submit"
    bootstrap: str = ""
    max_offsets_per_trigger: int | None = None
    files_per_trigger: int | None = None
    # extra options of our Kafka source (--kafka-option; the consumer has its own defaults)
    kafka_options: tuple[tuple[str, str], ...] = ()
    # every option of the plain query's Kafka source
    plain_kafka_options: tuple[tuple[str, str], ...] = ()
    timeout_s: float = 1800.0


@dataclass
class ColdRun:
    strategy: str
    timing: Timing
    load: float  # the machine's 1-minute load average at the end


def launcher_prefix(launcher: str) -> list[str]:
    """The command before the script: the venv's spark-submit with the connector, or the
    venv's python (the consumer then asks Spark for the connector itself)."""
    if launcher == "python":
        return [sys.executable]
    # the venv's bin/ as it is: resolving it would leave the venv
    spark_submit = Path(sys.executable).parent / "spark-submit"
    return [str(spark_submit), "--packages", KAFKA_CONNECTOR]


def consumer_command(loaded: LoadedOrders, checkpoint: Path, settings: ColdSettings) -> list[str]:
    if loaded.topic is None:
        raise BenchmarkError("os pedidos não foram enviados a um tópico")
    # every product in the table when the driver keeps them all, so it checks them all
    rows = min(MAX_ROWS, max(DEFAULT_ROWS, len(loaded.expected.quantities)))
    command = [*launcher_prefix(settings.launcher), str(CONSUMER_SCRIPT),
               "-b", settings.bootstrap, "--topic", loaded.topic,
               "--dlq-topic", f"{loaded.topic}-dlq", "--checkpoint", str(checkpoint),
               "--available-now", "--linhas", str(rows)]
    if settings.max_offsets_per_trigger:
        command += ["--max-offsets-per-trigger", str(settings.max_offsets_per_trigger)]
    for key, value in settings.kafka_options:
        command += ["--kafka-option", f"{key}={value}"]
    return command


def plain_command(loaded: LoadedOrders, checkpoint: Path, settings: ColdSettings) -> list[str]:
    if loaded.topic is None:
        raise BenchmarkError("os pedidos não foram enviados a um tópico")
    command = [*launcher_prefix(settings.launcher), str(PLAIN_SCRIPT),
               "--bootstrap-servers", settings.bootstrap, "--topic", loaded.topic,
               "--checkpoint", str(checkpoint)]
    if settings.max_offsets_per_trigger:
        command += ["--max-offsets-per-trigger", str(settings.max_offsets_per_trigger)]
    for key, value in settings.plain_kafka_options:
        command += ["--kafka-option", f"{key}={value}"]
    return command + _conf_args()


def plain_files_command(loaded: LoadedOrders, checkpoint: Path,
                        settings: ColdSettings) -> list[str]:
    if loaded.jsonl_dir is None:
        raise BenchmarkError("os pedidos não foram gravados em arquivos")
    command = [*launcher_prefix(settings.launcher), str(PLAIN_SCRIPT),
               "--input", str(loaded.jsonl_dir), "--checkpoint", str(checkpoint)]
    if settings.files_per_trigger:
        command += ["--max-files-per-trigger", str(settings.files_per_trigger)]
    return command + _conf_args()


def _conf_args() -> list[str]:
    return [arg for key, value in PLAIN_CONF.items() for arg in ("--conf", f"{key}={value}")]


_OTHERS = re.compile(r"^\.\.\. e mais (\d+) produtos: quantidade_total (\d+), "
                     r"valor_total ([\d.]+|" + re.escape(UNKNOWN_VALUE) + ")")


def consumer_table(output: str) -> ShownTotals:
    """The consumer's last table, its line for the other products and its summary line."""
    tables: list[list[ProductTotal]] = []
    others = (0, 0, Decimal("0.00"))
    summary: dict[str, str] = {}
    for line in output.splitlines():
        if line.startswith("|produto"):
            tables.append([])
            others = (0, 0, Decimal("0.00"))
        elif line.startswith("|") and tables:
            name, quantity, value = (cell.strip() for cell in line.strip("|").split("|"))
            tables[-1].append(ProductTotal(
                name, int(quantity), None if value == UNKNOWN_VALUE else Decimal(value)))
        elif match := _OTHERS.match(line):
            others = (int(match[1]), int(match[2]),
                      Decimal(0) if match[3] == UNKNOWN_VALUE else Decimal(match[3]))
        elif line.startswith("produtos: "):
            summary = dict(part.split(": ", 1) for part in line.split("; ") if ": " in part)
    if not tables or not summary:
        raise BenchmarkError("o consumidor não imprimiu a tabela final")
    top = tables[-1]
    try:
        return ShownTotals(
            top, int(summary["produtos"]),
            sum(p.quantidade_total for p in top) + others[1],
            sum((p.valor_total or Decimal(0) for p in top), Decimal("0.00")) + others[2],
            int(summary["pedidos contados"]),
            int(summary["mensagens rejeitadas"].split()[0]),
            int(summary.get("pedidos repetidos ignorados", "0")))
    except (KeyError, ValueError) as error:
        raise BenchmarkError(f"linha de resumo do consumidor inesperada: {summary}") from error


def run_cold(strategy: str, loaded: LoadedOrders, work: Path, settings: ColdSettings) -> ColdRun:
    """One cold process of `strategy` on the orders, timed; its totals checked."""
    checkpoint = work / f"checkpoint-processo-{strategy}-{uuid.uuid4().hex[:8]}"
    build = {OURS: consumer_command, PLAIN: plain_command,
             PLAIN_FILES: plain_files_command}[strategy]
    command = build(loaded, checkpoint, settings)
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable,
           "PYSPARK_DRIVER_PYTHON": sys.executable, "PYTHONUNBUFFERED": "1"}
    try:
        with stopwatch() as clock:
            done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True,
                                  timeout=settings.timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise BenchmarkError(f"{LABELS[strategy]}: não terminou em "
                             f"{settings.timeout_s:.0f} s") from None
    finally:
        shutil.rmtree(checkpoint, ignore_errors=True)
    if done.returncode != 0:
        raise BenchmarkError(f"{LABELS[strategy]}: saiu com código {done.returncode}: "
                             f"{(done.stderr or done.stdout).strip()[-800:]}")
    if strategy == OURS:
        check_shown(LABELS[strategy], loaded, consumer_table(done.stdout))
    else:
        try:
            table = plain_query.parse_result(done.stdout)
        except ValueError as error:
            raise BenchmarkError(f"{LABELS[strategy]}: {error}") from None
        check_totals(LABELS[strategy], loaded, table)
    return ColdRun(strategy, Timing(loaded.orders, clock.seconds), load_average())
