"""What the benchmarks measure, kept apart from what they run: elapsed time, rates and their
ratio, medians and percentiles, peak memory, and figures read from streaming progress."""

from __future__ import annotations

import json
import math
import resource
import statistics
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

# Names of the stateful operators in streaming progress, as the output calls them.
STATE_LABELS = {
    "transformWithStateExec": "deduplicação (ids e a marca de cada balde)",
    "dedupeWithinWatermark": "deduplicação por janela (id_ordem)",
    "stateStoreSave": "totais por produto",
}

Progress = Mapping[str, Any]  # one StreamingQueryProgress, as JSON
StateFigures = dict[str, dict[str, int]]  # operator -> {"linhas": n, "memoria": bytes}


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Elapsed:
    """Filled in when the `stopwatch()` block ends."""

    seconds: float = 0.0


@contextmanager
def stopwatch() -> Iterator[Elapsed]:
    """Wall time of a `with` block (perf_counter)."""
    elapsed = Elapsed()
    started = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed.seconds = time.perf_counter() - started


@dataclass(frozen=True)
class Timing:
    """One measured run: how many orders in how many seconds."""

    orders: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.orders / self.seconds


def relative_rate(ours: Timing | float, reference: Timing | float) -> float:
    """Ours relative to a reference: rate ours / rate reference, i.e. time reference / time
    ours for the same orders (1.0: as fast; 0.5: takes twice as long)."""
    ours_rate = ours.rate if isinstance(ours, Timing) else ours
    reference_rate = reference.rate if isinstance(reference, Timing) else reference
    return ours_rate / reference_rate


# --- peak memory ---------------------------------------------------------------------------

def jvm_pid(spark: SparkSession) -> int:
    """The driver JVM's process id. pyspark has no public way to it, so this asks the JVM
    itself through the py4j gateway (SparkContext._jvm), here and nowhere else."""
    return int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())


def reset_peak_rss(pid: int | None = None) -> None:
    """Reset a process's VmHWM (Linux: write 5 to clear_refs); no-op where unsupported."""
    try:
        Path(f"/proc/{pid or 'self'}/clear_refs").write_text("5")
    except OSError:
        pass


def proc_status_bytes(field: str, pid: int | None = None) -> int:
    """A size field of /proc/<pid>/status (VmRSS, VmHWM...) in bytes; 0 where not readable."""
    try:
        for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def peak_rss(pid: int | None = None) -> int:
    """Peak resident set size in bytes since start or the last reset (VmHWM)."""
    peak = proc_status_bytes("VmHWM", pid)
    if not peak and pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return peak


@dataclass
class MemoryPeaks:
    """Filled in when the `peak_memory()` block ends: peak RSS in bytes."""

    jvm: int = 0
    python: int = 0


@contextmanager
def peak_memory(spark: SparkSession) -> Iterator[MemoryPeaks]:
    """Peak RSS of the driver's JVM and of this Python process over a `with` block."""
    pid = jvm_pid(spark)
    peaks = MemoryPeaks()
    reset_peak_rss(pid)
    reset_peak_rss()
    try:
        yield peaks
    finally:
        peaks.jvm = peak_rss(pid)
        peaks.python = peak_rss()


# --- streaming progress --------------------------------------------------------------------

def state_figures(progress: Sequence[Progress]) -> StateFigures:
    """Rows kept and memory per stateful operator at the end of a run.

    Rows are summed from each batch's updates and removals: the consumer turns RocksDB's
    running row count off (it costs a read per write), so numRowsTotal stays 0."""
    figures: StateFigures = {}
    for item in progress:
        names: set[str] = set()
        for index, op in enumerate(item.get("stateOperators") or []):
            name = op.get("operatorName") or f"op{index}"
            name = f"{name}_{index}" if name in names else name
            names.add(name)
            entry = figures.setdefault(name, {"linhas": 0, "memoria": 0})
            entry["linhas"] += int(op.get("numRowsUpdated") or 0) - int(
                op.get("numRowsRemoved") or 0)
            entry["memoria"] = int(op.get("memoryUsedBytes") or 0)
    return figures


def batches_with_input(progress: Sequence[Progress]) -> int:
    return sum(1 for p in progress if p.get("numInputRows"))


def offsets_of(value: str | Mapping[str, Mapping[str, int]] | None) -> dict[int, int]:
    """A source offset from progress ({topic: {partition: offset}}, or its JSON text) ->
    {partition: offset}."""
    if not value:
        return {}
    if isinstance(value, str):
        value = json.loads(value)
    result: dict[int, int] = {}
    for partitions in value.values():
        for partition, offset in partitions.items():
            result[int(partition)] = int(offset)
    return result
