"""Helpers shared by the benchmarks: the machine, loading orders, peak memory, CSV, charts.

Not a script: `from bench.common import ...` (or `from common import ...` when the benchmark
runs as `python bench/<name>.py`, which puts bench/ first on sys.path).
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"
# A fixed clock: with a fixed seed every order, data_hora included, is the same on each run.
START_TIME = datetime(2026, 11, 23, 14, 0, 0)

log = logging.getLogger("bench")


# --- number formatting (Brazilian) ------------------------------------------------------

def fmt_int(n: float) -> str:
    """15000 -> '15.000'."""
    return f"{n:,.0f}".replace(",", ".")


def fmt_float(x: float, decimals: int = 1) -> str:
    """1234.5 -> '1.234,5'."""
    return f"{x:,.{decimals}f}".replace(",", "\0").replace(".", ",").replace("\0", ".")


def fmt_mib(n_bytes: float) -> str:
    return f"{fmt_int(n_bytes / 2**20)} MiB"


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


# --- the machine ------------------------------------------------------------------------

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _java_version() -> str:
    from vendas.java import java_executable

    try:
        out = subprocess.run([str(java_executable()), "-version"], capture_output=True,
                             text=True, timeout=30).stderr
    except Exception:  # noqa: BLE001 - only a label
        return "?"
    match = re.search(r'version "([^"]+)"', out)
    return match.group(1) if match else "?"


def _kafka_version(bootstrap: str) -> str:
    """The broker's version as far as the client can tell (API versions give major.minor)."""
    from kafka import KafkaAdminClient

    from vendas.local_kafka import KAFKA_VERSION

    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
        try:
            major_minor = ".".join(str(v) for v in admin._client.check_version()[:2])
        finally:
            admin.close()
    except Exception:  # noqa: BLE001 - only a label
        return "?"
    # the project's local broker: the exact pinned version
    return KAFKA_VERSION if KAFKA_VERSION.startswith(major_minor + ".") else major_minor


def machine_info(bootstrap: str) -> dict[str, str]:
    import kafka
    import pyspark

    return {
        "nucleos": str(os.cpu_count()),
        "ram_gib": fmt_float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "cpu": _cpu_model(),
        "java": _java_version(),
        "pyspark": pyspark.__version__,
        "kafka": _kafka_version(bootstrap),
        "kafka_python": kafka.__version__,
        "python": platform.python_version(),
        "data": datetime.now().strftime("%Y-%m-%d %H:%M"),
    }


def load_average() -> float:
    """The machine's 1-minute load average: on a shared machine, context for a figure."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def machine_line(info: dict[str, str]) -> str:
    return (f"{info['nucleos']} núcleos, {info['ram_gib']} GiB de RAM, {info['cpu']}; "
            f"Java {info['java']}, pyspark {info['pyspark']}, Kafka {info['kafka']}, "
            f"Python {info['python']}")


# --- Kafka topics -----------------------------------------------------------------------

def new_topic_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    try:
        admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()
    # wait until the topic's metadata is there for clients
    deadline = time.monotonic() + 30
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        while len(consumer.partitions_for_topic(name) or ()) < partitions:
            if time.monotonic() > deadline:
                raise RuntimeError(f"o tópico {name} não ficou pronto")
            time.sleep(0.2)
    finally:
        consumer.close()


def drop_topics(bootstrap: str, names: Sequence[str]) -> None:
    from kafka import KafkaAdminClient

    if not names:
        return
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        existing = set(admin.list_topics())
        doomed = [n for n in names if n in existing]
        if doomed:
            admin.delete_topics(doomed)
    except Exception as error:  # noqa: BLE001 - cleanup only
        log.warning("Não foi possível apagar os tópicos %s: %s", ", ".join(names), error)
    finally:
        admin.close()


# --- orders: generate once, send to Kafka and/or write JSON lines -----------------------

@dataclass
class ExpectedTotals:
    """Per product quantity and value (in cents) computed from the generated orders."""

    quantities: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    cents: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    orders: int = 0

    def add(self, order: Any) -> None:
        self.orders += 1
        quantities, cents = self.quantities, self.cents
        for product, quantity in order.items:
            quantities[product.name] += quantity
            cents[product.name] += product.price_cents * quantity

    def as_table(self) -> dict[str, tuple[int, Decimal]]:
        return {name: (q, Decimal(self.cents[name]).scaleb(-2))
                for name, q in self.quantities.items()}


def totals_table(totals: Any) -> dict[str, tuple[int, Decimal | None]]:
    """vendas.report.Totals -> {produto: (quantidade_total, valor_total)}."""
    return {p.produto: (p.quantidade_total, p.valor_total) for p in totals.produtos}


def order_stream(n: int, seed: int, rate_for_clock: float = 1000.0) -> Iterator[Any]:
    """n seeded orders with a fixed, simulated clock: identical on every run."""
    from vendas.generator import OrderGenerator, make_clock

    clock = make_clock("iso", seed=seed, start_time=START_TIME, rate=rate_for_clock)
    generator = OrderGenerator(seed, clock=clock)
    next_order = generator.next_order
    for _ in range(n):
        yield next_order()


class JsonLinesWriter:
    """Writes encoded orders as JSON lines, `lines_per_file` per file (part-00000.jsonl...)."""

    def __init__(self, directory: Path, lines_per_file: int):
        self.directory = directory
        self.lines_per_file = lines_per_file
        directory.mkdir(parents=True, exist_ok=True)
        self.files = 0
        self._in_file = 0
        self._out = None

    def write(self, value: bytes) -> None:
        if self._out is None or self._in_file >= self.lines_per_file:
            self._roll()
        self._out.write(value)
        self._out.write(b"\n")
        self._in_file += 1

    def _roll(self) -> None:
        if self._out is not None:
            self._out.close()
        self._out = open(self.directory / f"part-{self.files:05d}.jsonl", "wb", buffering=1 << 20)
        self.files += 1
        self._in_file = 0

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


@dataclass
class LoadResult:
    topic: str | None
    orders: int
    expected: ExpectedTotals
    send_seconds: float
    files: int = 0
    json_bytes: int = 0


def load_orders(bootstrap: str | None, topic: str | None, n: int, seed: int, *,
                partitions: int = 2, compression: str | None = "lz4",
                jsonl_dir: Path | None = None, lines_per_file: int = 10_000,
                rate: float = 0.0) -> LoadResult:
    """Generate n seeded orders once; send them to a new `topic` (if given) with the
    project's producer and write the same bytes as JSON lines to `jsonl_dir` (if given)."""
    from vendas.producer import create_producer, send_orders

    expected = ExpectedTotals()
    writer = JsonLinesWriter(jsonl_dir, lines_per_file) if jsonl_dir is not None else None
    json_bytes = 0

    def tee(orders: Iterable[Any]) -> Iterator[Any]:
        nonlocal json_bytes
        add = expected.add
        for order in orders:
            add(order)
            if writer is not None:
                value = order.encode()
                json_bytes += len(value) + 1
                writer.write(value)
            yield order

    started = time.perf_counter()
    try:
        if topic is None:
            for _ in tee(order_stream(n, seed)):
                pass
        else:
            create_topic(bootstrap, topic, partitions)
            producer = create_producer(bootstrap, compression_type=compression)
            try:
                producer.partitions_for(topic)
                summary = send_orders(producer, topic, tee(order_stream(n, seed)), count=n,
                                      rate=rate, progress_interval_s=3600)
            finally:
                producer.close()
            if not summary.ok:
                raise RuntimeError(f"só {summary.acked} de {n} pedidos confirmados pelo Kafka "
                                   f"({summary.first_error})")
    finally:
        if writer is not None:
            writer.close()
    return LoadResult(topic, n, expected, time.perf_counter() - started,
                      writer.files if writer else 0, json_bytes)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


# --- peak memory --------------------------------------------------------------------------

def jvm_pid(spark: Any) -> int:
    return int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())


def reset_peak_rss(pid: int | None = None) -> None:
    """Reset a process's VmHWM (Linux: writing 5 to clear_refs); no-op where unsupported."""
    try:
        Path(f"/proc/{pid or 'self'}/clear_refs").write_text("5")
    except OSError:
        pass


def peak_rss(pid: int | None = None) -> int:
    """Peak resident set size in bytes since start or the last reset (VmHWM)."""
    try:
        for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return 0


class PeakMemory:
    """Peak RSS of the driver's JVM and of this Python process over a `with` block."""

    def __init__(self, spark: Any):
        self.pid = jvm_pid(spark)
        self.jvm = 0
        self.python = 0

    def __enter__(self) -> "PeakMemory":
        reset_peak_rss(self.pid)
        reset_peak_rss()
        return self

    def __exit__(self, *exc: object) -> None:
        self.jvm = peak_rss(self.pid)
        self.python = peak_rss()


# --- streaming progress -----------------------------------------------------------------

def state_figures(progress: Sequence[dict]) -> dict[str, dict[str, int]]:
    """From the last progress with state: rows and memory per stateful operator."""
    for item in reversed(progress):
        operators = item.get("stateOperators") or []
        if operators:
            figures = {}
            for index, op in enumerate(operators):
                name = op.get("operatorName") or f"op{index}"
                if name in figures:
                    name = f"{name}_{index}"
                figures[name] = {
                    "linhas": int(op.get("numRowsTotal") or 0),
                    "memoria": int(op.get("memoryUsedBytes") or 0),
                }
            return figures
    return {}


STATE_LABELS = {
    "dedupeWithinWatermark": "deduplicação (id_ordem)",
    "stateStoreSave": "totais por produto",
}


def offsets_of(value: Any) -> dict[int, int]:
    """A source offset from progress JSON ({topic: {partition: offset}}) -> {partition: offset}."""
    if not value:
        return {}
    if isinstance(value, str):
        value = json.loads(value)
    result: dict[int, int] = {}
    for partitions in value.values():
        for partition, offset in partitions.items():
            result[int(partition)] = int(offset)
    return result


# --- output -------------------------------------------------------------------------------

def write_csv(path: Path, rows: Sequence[dict[str, Any]], machine: dict[str, str]) -> None:
    """One row per measurement, preceded by `# chave: valor` lines describing the machine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    with open(path, "w", newline="") as out:
        for key, value in machine.items():
            out.write(f"# {key}: {value}\n")
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_chart(fig: Any, machine: dict[str, str], path: Path, bottom: float = 0.05) -> None:
    """Write the figure with the machine it was measured on as a footnote, and free it."""
    import matplotlib.pyplot as plt

    fig.text(0.01, 0.01, machine_line(machine), fontsize=6.5, color="#555555", ha="left",
             va="bottom", wrap=True)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def thousands_axis(ax: Any, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _: fmt_int(v)))


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


# --- Spark --------------------------------------------------------------------------------

def quiet_logs() -> None:
    from vendas.logs import setup_logging

    setup_logging(quiet=True)
    logging.getLogger("bench").setLevel(logging.INFO)


def spark_session(app: str, conf: dict[str, str] | None = None, verbose: bool = False) -> Any:
    from vendas.spark_session import build_session

    os.environ.setdefault("PYSPARK_PYTHON", str(Path(os.sys.executable)))
    return build_session(app, conf, verbose)


class BenchmarkError(Exception):
    """A run that must not pass silently (wrong totals, a failed query)."""


def run_guarded(bootstrap: str, measure: Callable[[list[str]], int]) -> int:
    """Run a benchmark's `measure`, which notes in the list it is given the topics it
    creates; drop those topics at the end whatever happened. Exit code: measure's, 2 for
    an error the user can fix, 1 for a failed run."""
    from vendas.errors import UserError

    topics: list[str] = []
    try:
        return measure(topics)
    except UserError as error:
        print(f"erro: {error}", file=sys.stderr)
        return 2
    except BenchmarkError as error:
        print(f"FALHOU: {error}", file=sys.stderr)
        return 1
    finally:
        drop_topics(bootstrap, topics)


def run_with_spark(args: Any, app: str, conf: dict[str, str], work_prefix: str,
                   measure: Callable[[Any, dict[str, str], Path, list[str]], int],
                   work_dir: Path | None = None) -> int:
    """What every Spark benchmark does around its measurements: check the broker, note the
    machine, start the session (with --conf on top of `conf`), and at the end drop the
    topics `measure` created and its scratch directory (see run_guarded for exit codes)."""
    from vendas.kafka_admin import wait_for_broker

    quiet_logs()
    work = Path(tempfile.mkdtemp(prefix=work_prefix, dir=work_dir))

    def with_spark(topics: list[str]) -> int:
        wait_for_broker(args.bootstrap_servers)
        machine = machine_info(args.bootstrap_servers)
        spark = spark_session(app, {"spark.ui.enabled": "false", **conf, **dict(args.conf)},
                              args.verbose)
        try:
            return measure(spark, machine, work, topics)
        finally:
            spark.stop()

    try:
        return run_guarded(args.bootstrap_servers, with_spark)
    finally:
        remove_tree(work)
