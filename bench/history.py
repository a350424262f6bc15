"""The cost of a batch against history, measured on the consumer's own query and state
(bench.scaling runs it): a checkpoint is pre-filled with big batches of synthetic orders
(bench.synthetic), then the consumer runs small batches of a fixed size on it; the same
small batches on a fresh checkpoint, measured just before, are the reference.

One run is the consumer's streaming query (vendas.consumer.start) with a processing-time
trigger of zero: batches back to back, as when a consumer drains a backlog, so background
work of the state store (compaction, snapshots) competes with them instead of hiding in
idle time. A run ends by stopping the query once it has done what it came for; the batch
the stop interrupts is done again, whole, by the next run on that checkpoint (its orders
are the same: bench.synthetic), so every run's first batch is that replay, never measured.
Per batch, Spark's query progress says how long it took and where the time went;
a sampler notes the memory of the driver's Python and of its JVM meanwhile.
"""

from __future__ import annotations

import math
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from bench import synthetic
from bench.errors import BenchmarkError
from bench.metrics import jvm_pid, median, percentile, proc_status_bytes
from bench.runner import mute_console
from bench.synthetic import OrderPlan, PlanTotals, Segment
from vendas.consumer.app import ConsumerOptions, start
from vendas.pipeline.totals import Totals
from vendas.pipeline.totals_log import TOTALS_DIR

# Every progress event of a run stays readable at its end (Spark keeps the last 100).
SESSION_CONF = {"spark.sql.streaming.numRecentProgressUpdates": "100000"}
POLL_S = 0.05
# the state operators of the consumer's totals query, as progress names them
DEDUP, TOTALS = "transformWithStateExec", "stateStoreSave"


# --- memory ------------------------------------------------------------------------------

@dataclass(frozen=True)
class MemorySample:
    at: float  # time.monotonic()
    python_rss: int
    jvm_rss: int
    jvm_heap: int  # bytes of the JVM heap in use (live and not yet collected)


@dataclass(frozen=True)
class MemoryPeaks:
    python_rss: int = 0
    jvm_rss: int = 0
    jvm_heap: int = 0


class MemorySampler:
    """Samples, on a thread of its own, the resident memory of this Python process (the
    consumer's driver) and of its JVM (Spark's driver and, on a local master, its executor
    and RocksDB's native memory), and the JVM's heap in use."""

    def __init__(self, spark: SparkSession, interval_s: float = 0.5) -> None:
        self.pid = jvm_pid(spark)
        # pyspark has no public way to the JVM's memory bean: py4j, here and nowhere else
        self._bean = spark.sparkContext._jvm.java.lang.management.ManagementFactory \
            .getMemoryMXBean()
        self.interval_s = interval_s
        self.samples: list[MemorySample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="amostras-memoria",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> MemorySample:
        try:
            heap = int(self._bean.getHeapMemoryUsage().getUsed())
        except Exception:  # noqa: BLE001 - the JVM is going away: no heap figure then
            heap = 0
        sample = MemorySample(time.monotonic(), proc_status_bytes("VmRSS"),
                              proc_status_bytes("VmRSS", self.pid), heap)
        self.samples.append(sample)
        return sample

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def peaks(self, since: float, until: float) -> MemoryPeaks:
        chosen = [s for s in list(self.samples) if since <= s.at <= until]
        if not chosen:
            return MemoryPeaks()
        return MemoryPeaks(max(s.python_rss for s in chosen), max(s.jvm_rss for s in chosen),
                           max(s.jvm_heap for s in chosen))


@contextmanager
def sampling(spark: SparkSession) -> Iterator[MemorySampler]:
    sampler = MemorySampler(spark)
    sampler.start()
    try:
        yield sampler
    finally:
        sampler.stop()


# --- batches, from query progress --------------------------------------------------------

@dataclass(frozen=True)
class Batch:
    """One micro-batch of the consumer's totals query, from its progress event."""

    batch_id: int
    orders: int
    start: int  # first order number (bench.synthetic)
    end: int  # one past the last
    duration_ms: int  # durationMs.triggerExecution
    durations: dict[str, int]
    operators: dict[str, dict[str, Any]]  # state operator -> its progress figures
    finished: float  # epoch seconds at which it ended
    progress: dict[str, Any] = field(default_factory=dict, repr=False)  # as Spark gave it

    @classmethod
    def of(cls, progress: dict[str, Any]) -> Batch:
        source = (progress.get("sources") or [{}])[0]
        durations = {k: int(v) for k, v in (progress.get("durationMs") or {}).items()}
        operators = {op.get("operatorName", f"op{i}"): op
                     for i, op in enumerate(progress.get("stateOperators") or [])}
        started = datetime.fromisoformat(progress["timestamp"].replace("Z", "+00:00"))
        duration = durations.get("triggerExecution", 0)
        return cls(int(progress["batchId"]), int(progress.get("numInputRows") or 0),
                   synthetic.offset_of(source.get("startOffset")),
                   synthetic.offset_of(source.get("endOffset")), duration, durations,
                   operators, started.timestamp() + duration / 1000, progress)

    def operator(self, name: str, figure: str) -> int:
        value = self.operators.get(name, {}).get(figure)
        if value is None:
            value = (self.operators.get(name, {}).get("customMetrics") or {}).get(figure)
        return int(value or 0)


@dataclass
class Run:
    """One start of the consumer's query on a checkpoint, until it was stopped."""

    kind: str  # "carga" (pre-fill) | "medida" (measured)
    rows_per_batch: int
    batches: list[Batch]
    seconds: float
    memory: MemoryPeaks


Done = Callable[[list[Batch]], bool]


def drive(spark: SparkSession, checkpoint: Path, plan: OrderPlan, rows_per_batch: int,
          kind: str, done: Done, sampler: MemorySampler, timeout_s: float) -> Run:
    """Start the consumer's query on `checkpoint` over the plan's orders, `rows_per_batch`
    a batch, back to back; stop it once `done(batches so far)` holds."""
    options = ConsumerOptions(topic=synthetic.TOPIC, dlq_topic=f"{synthetic.TOPIC}-dlq",
                              checkpoint=str(checkpoint), trigger_seconds=0,
                              max_offsets_per_trigger=None)
    started = time.monotonic()
    running = start(spark, options, synthetic.records(spark, plan, rows_per_batch))
    mute_console(running)
    query = running.queries[0]
    seen: dict[int, Batch] = {}
    stopped_by_us = False
    try:
        deadline = started + timeout_s
        while query.isActive:
            last = query.lastProgress
            if last is not None and int(last["batchId"]) not in seen:
                seen[int(last["batchId"])] = Batch.of(last)
                if done(sorted(seen.values(), key=lambda b: b.batch_id)):
                    break
            if time.monotonic() > deadline:
                raise BenchmarkError(f"a execução não terminou em {timeout_s:.0f} s")
            time.sleep(POLL_S)
        stopped_by_us = True
    finally:
        running.stop(batch_timeout_s=0)
    failure = query.exception()
    if failure is not None or not stopped_by_us:
        raise BenchmarkError(f"a consulta do consumidor parou: {failure}")
    ended = time.monotonic()
    # polling may miss a batch that ended right after another: progress has them all
    batches = [Batch.of(p) for p in query.recentProgress if p.get("numInputRows")]
    return Run(kind, rows_per_batch, batches, ended - started, sampler.peaks(started, ended))


def committed_end(runs: Sequence[Run]) -> tuple[int, int]:
    """(last committed batch id, the order number it ended at) over a checkpoint's runs."""
    last = max((b for run in runs for b in run.batches), key=lambda b: b.batch_id)
    return last.batch_id, last.end


def saved_totals(checkpoint: Path, batch_id: int) -> Totals:
    """The driver's totals after `batch_id`, as the consumer saved them (vendas.pipeline.
    totals_log): a batch the stop interrupted may have saved its own file after it."""
    path = checkpoint / TOTALS_DIR / f"lote-{batch_id}.json"
    try:
        return Totals.from_json(path.read_text())[0]
    except (OSError, ValueError, KeyError) as error:
        raise BenchmarkError(f"totais do lote {batch_id} ilegíveis em {path}: {error}") from None


def check_totals(label: str, spark: SparkSession, checkpoint: Path, plan: OrderPlan,
                 runs: Sequence[Run]) -> PlanTotals:
    """The consumer's totals after its last committed batch are the plan's orders' totals
    up to there, to the cent, with every order counted once and none rejected."""
    batch_id, end = committed_end(runs)
    totals = saved_totals(checkpoint, batch_id)
    expected = synthetic.plan_totals(spark, plan, end)
    got = (totals.pedidos, totals.quantidade_total, totals.valor_total, totals.total_produtos,
           totals.total_rejeitadas, totals.duplicadas)
    wanted = (expected.orders, expected.quantity, expected.value, expected.products, 0, 0)
    if got != wanted:
        raise BenchmarkError(
            f"{label}: pedidos, quantidade, valor, produtos, rejeitadas e repetidas {got}; "
            f"esperava {wanted}")
    return expected


# --- one checkpoint ----------------------------------------------------------------------

@dataclass
class Checkpoint:
    """A checkpoint of the consumer and the plan of orders its source numbers."""

    path: Path
    plan: OrderPlan
    runs: list[Run] = field(default_factory=list)

    @classmethod
    def new(cls, parent: Path, name: str, plan: OrderPlan) -> Checkpoint:
        return cls(parent / f"{name}-{uuid.uuid4().hex[:8]}", plan)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    @property
    def position(self) -> int:
        return committed_end(self.runs)[1] if self.runs else 0

    def disk_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())


@dataclass(frozen=True)
class Measured:
    """Fixed-size batches of one measured run, after its warm-up batches."""

    batches: list[Batch]
    memory: MemoryPeaks
    state_ids: int  # orders (hence ids) in the de-duplication state before the first one
    warmup: list[Batch] = field(default_factory=list)

    @property
    def durations_s(self) -> list[float]:
        return sorted(b.duration_ms / 1000 for b in self.batches)

    @property
    def median_s(self) -> float:
        return median(self.durations_s)

    @property
    def p99_s(self) -> float:
        return percentile(self.durations_s, 99)


def fill(spark: SparkSession, checkpoint: Checkpoint, segment: Segment, rows_per_batch: int,
         sampler: MemorySampler, timeout_s: float) -> Run:
    """Run big batches until the batch the stop interrupts (done again by the next run)
    reaches the end of `segment`."""
    def done(batches: list[Batch]) -> bool:
        return batches[-1].end >= segment.end - rows_per_batch

    run = drive(spark, checkpoint.path, checkpoint.plan, rows_per_batch, "carga", done,
                sampler, timeout_s)
    checkpoint.runs.append(run)
    return run


def measure(spark: SparkSession, checkpoint: Checkpoint, segment: Segment, batch_size: int,
            warmup: int, count: int, sampler: MemorySampler, timeout_s: float) -> Measured:
    """Run batches of `batch_size` orders of `segment`; the first `warmup` of them are not
    measured, the next `count` are."""
    def inside(batch: Batch) -> bool:
        return (batch.orders == batch_size and batch.start >= segment.start
                and batch.end <= segment.end)

    def done(batches: list[Batch]) -> bool:
        return (sum(1 for b in batches if inside(b)) >= warmup + count
                or batches[-1].end >= segment.end - batch_size)

    run = drive(spark, checkpoint.path, checkpoint.plan, batch_size, "medida", done, sampler,
                timeout_s)
    checkpoint.runs.append(run)
    chosen = [b for b in run.batches if inside(b)]
    if len(chosen) < warmup + count:
        raise BenchmarkError(f"só {len(chosen)} lotes medidos de {warmup + count} "
                             "(segmento curto demais)")
    measured = chosen[warmup:warmup + count]
    first = measured[0]
    peaks = sampler.peaks(_monotonic_of(first.finished - first.duration_ms / 1000),
                          _monotonic_of(measured[-1].finished))
    return Measured(measured, peaks, first.start, chosen[:warmup])


def _monotonic_of(epoch_s: float) -> float:
    return time.monotonic() - (time.time() - epoch_s)


def measure_segment_length(replayed: int, batch_size: int, warmup: int, count: int) -> int:
    """Orders a measured segment needs: the replayed batch that may spill into it, the
    batches, and room for a late stop."""
    return replayed + (warmup + count + 3) * batch_size


def fill_length(orders: int, rows_per_batch: int) -> int:
    """At least `orders`, a whole number of batches."""
    return max(1, math.ceil(orders / rows_per_batch)) * rows_per_batch
