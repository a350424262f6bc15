"""Benchmark de escala do consumidor: o custo de cada lote contra o histórico no estado.

Uso: python -m bench.scaling [--products 10000,100000,1000000]
                             [--ids 1000000,10000000,30000000,86400000]
                             [--products-batch 30000] [--ids-batch 5000] [--batches 30]
                             [--warmup-batches 3] [--fill-batch 1000000] [--only products|ids]
                             [--no-wide] [--settle-seconds 0] [--quick] [--work-dir DIR]
                             [--out bench/results]

The consumer's own streaming query (vendas.consumer.start: parse, de-duplication, totals
per product in Spark's state store, the driver's bounded totals), in one Spark session,
over canonical orders made by Spark (bench.synthetic), batches back to back
(bench.history). Two series, each level measured against a fresh checkpoint just before:

  products  batches of --products-batch orders drawn from the same 100 products, on a
            fresh checkpoint (100 products in the state) and on one pre-filled with each
            of --products distinct products (a checkpoint per level); then, at the
            largest, batches drawn from the whole catalog (every product the batch touches
            is in the state) against the same on a fresh checkpoint (every product it
            touches is new);
  ids       batches of --ids-batch orders (a 5 s trigger at 1,000 orders/s) on a fresh
            checkpoint and on one checkpoint pre-filled, level after level, up to each of
            --ids orders (each a new id in the de-duplication state, remembered for its
            24 h window; 86,400,000 is a day at 1,000 orders/s).

Per level: median and p99 of the per-batch duration (Spark's query progress,
triggerExecution), their ratio to the fresh checkpoint's (target: at most 1.25), where
the time went (progress durations and state operator figures), and the peak memory of
the driver's Python and of its JVM (resident, and heap in use) during the measured
batches. Every checkpoint ends with the totals of the orders it read, to the cent, or the
benchmark fails. Prints the ratios and the machine; writes scaling.csv (one row per
batch), scaling.json, scaling.png and scaling-progresso.jsonl (every batch's query
progress, as Spark reported it).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure
from pyspark.sql import SparkSession

from bench import history
from bench.errors import BenchmarkError
from bench.history import Batch, Checkpoint, Measured, MemorySampler, Run
from bench.machine import MachineInfo, machine_info, machine_line
from bench.metrics import median
from bench.results import Row, fmt_mib, write_results
from bench.runner import (
    bench_parser,
    int_list,
    parse_sized,
    quiet_logs,
    run_guarded,
    scratch_dir,
    spark_session,
)
from bench.synthetic import PlanBuilder, Segment
from vendas.cli import positive_int
from vendas.formatting import fmt_float, fmt_int

TARGET = 1.25
# The catalog of the measured batches, and how their orders walk it: 37 is prime to 100,
# so every stretch of 100 orders touches each product as often.
NARROW, NARROW_STRIDE = 100, 37
# Whole-catalog batches: a stride prime to the catalog's size scatters the products a
# batch touches over the whole state.
WIDE_STRIDE = 7_919
MAX_ITEMS = 3  # measured orders: 1 to 3 items
FILL_PRODUCT_ITEMS = 4  # a pre-fill order brings this many new products
QUICK = {"products": [2_000], "ids": [20_000], "products_batch": 500, "ids_batch": 200,
         "batches": 3, "warmup_batches": 1, "fill_batch": 10_000}
FULL = {"products": [10_000, 100_000, 1_000_000],
        "ids": [1_000_000, 10_000_000, 30_000_000, 86_400_000],
        "products_batch": 30_000, "ids_batch": 5_000, "batches": 30, "warmup_batches": 3,
        "fill_batch": 1_000_000}
SERIES = {"produtos": "produtos no estado", "ids": "ids no estado"}


@dataclass
class Level:
    """One level of a series: the fresh checkpoint's batches and the loaded one's."""

    series: str
    level: int  # products, or ids, in the state
    fresh: Measured
    loaded: Measured
    disk_bytes: int = 0  # the loaded checkpoint's size on disk
    label: str = ""

    @property
    def ratio(self) -> float:
        return self.loaded.median_s / self.fresh.median_s

    @property
    def ratio_p99(self) -> float:
        return self.loaded.p99_s / self.fresh.p99_s


@dataclass
class Series:
    name: str
    batch_size: int
    levels: list[Level] = field(default_factory=list)
    extra: list[Level] = field(default_factory=list)  # whole-catalog batches
    fills: list[Run] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)


@dataclass
class Context:
    spark: SparkSession
    args: argparse.Namespace
    work: Path
    sampler: MemorySampler
    machine: MachineInfo
    done: list[Series] = field(default_factory=list)

    def save(self, current: Series) -> None:
        save_so_far(self.args, self.machine, [*self.done, current])

    def warm_up(self, batch_size: int) -> None:
        """The same batches on a throwaway checkpoint, unmeasured: the JVM's first queries
        run slower (JIT), which would flatter whatever is compared with them."""
        print(f"  aquecimento da JVM (lotes de {fmt_int(batch_size)} pedidos, não medido)...",
              flush=True)
        self.fresh("aquecimento", long_draw(NARROW, NARROW_STRIDE, batch_size, self.args),
                   batch_size)

    def fresh(self, name: str, segment_of: Callable[[PlanBuilder], Segment],
              batch_size: int) -> Measured:
        """The measured batches on a new checkpoint, its totals checked, then removed."""
        builder = PlanBuilder()
        segment = segment_of(builder)
        checkpoint = Checkpoint.new(self.work, name, builder.build())
        try:
            measured = history.measure(self.spark, checkpoint, segment, batch_size,
                                       self.args.warmup_batches, self.args.batches,
                                       self.sampler, self.args.timeout)
            history.check_totals(f"{name} (checkpoint novo)", self.spark, checkpoint.path,
                                 checkpoint.plan, checkpoint.runs)
        finally:
            checkpoint.remove()
        return measured


def long_draw(products: int, stride: int, batch_size: int, args: argparse.Namespace
              ) -> Callable[[PlanBuilder], Segment]:
    orders = history.measure_segment_length(0, batch_size, args.warmup_batches, args.batches)
    return lambda b: b.add(orders, "draw", 0, products, MAX_ITEMS, stride)


# --- the series ----------------------------------------------------------------------------

def products_series(ctx: Context) -> Series:
    """Each level on a checkpoint of its own: pre-filled with the level's products (and so
    with the ids of the orders that brought them), then measured. Chained on one
    checkpoint, the measured batches of the lower levels would have left their ids in the
    de-duplication state as well, and this series would have measured both."""
    args = ctx.args
    size, warmup, count = args.products_batch, args.warmup_batches, args.batches
    levels = sorted(p for p in set(args.products) if p > NARROW)
    series = Series("produtos", size)
    ctx.warm_up(size)
    for level in levels:
        new_orders = math.ceil((level - NARROW) / FILL_PRODUCT_ITEMS)
        batch = min(args.fill_batch, new_orders)
        builder = PlanBuilder()
        fill = builder.add(history.fill_length(new_orders, batch), "fill", NARROW,
                           level - NARROW, FILL_PRODUCT_ITEMS)
        draw = builder.add(history.measure_segment_length(batch, size, warmup, count), "draw",
                           0, NARROW, MAX_ITEMS, NARROW_STRIDE)
        wide = (builder.add(history.measure_segment_length(size, size, warmup, count), "draw",
                            0, level, MAX_ITEMS, WIDE_STRIDE)
                if args.wide and level == levels[-1] else None)
        loaded = Checkpoint.new(ctx.work, "produtos-cheio", builder.build())
        try:
            print(f"\n{fmt_int(level)} produtos: lotes de {fmt_int(size)} pedidos "
                  f"(de {NARROW} produtos)", flush=True)
            fresh = ctx.fresh("produtos-novo",
                              long_draw(NARROW, NARROW_STRIDE, size, args), size)
            _print_measured(f"checkpoint novo ({NARROW} produtos)", fresh)
            series.fills.append(_fill(ctx, loaded, fill, batch,
                                      f"{fmt_int(level)} produtos no estado"))
            measured = history.measure(ctx.spark, loaded, draw, size, warmup, count,
                                       ctx.sampler, args.timeout)
            result = Level("produtos", level, fresh, measured, loaded.disk_bytes())
            _print_measured(f"{fmt_int(level)} produtos no estado", measured, result)
            series.levels.append(result)
            ctx.save(series)
            if wide is not None:
                print(f"\nLotes de {fmt_int(size)} pedidos de todo o catálogo de "
                      f"{fmt_int(level)} produtos", flush=True)
                fresh = ctx.fresh("produtos-largo-novo",
                                  long_draw(level, WIDE_STRIDE, size, args), size)
                _print_measured("checkpoint novo (cada produto do lote é novo)", fresh)
                measured = history.measure(ctx.spark, loaded, wide, size, warmup, count,
                                           ctx.sampler, args.timeout)
                result = Level("produtos-largo", level, fresh, measured, loaded.disk_bytes(),
                               "catálogo inteiro")
                _print_measured(f"{fmt_int(level)} produtos no estado", measured, result)
                series.extra.append(result)
                ctx.save(series)
            expected = history.check_totals(f"produtos ({fmt_int(level)}, checkpoint cheio)",
                                            ctx.spark, loaded.path, loaded.plan, loaded.runs)
            series.checked.append(_checked_text(expected))
        finally:
            loaded.remove()
    return series


def ids_series(ctx: Context) -> Series:
    args = ctx.args
    size, warmup, count = args.ids_batch, args.warmup_batches, args.batches
    builder = PlanBuilder()
    steps = []
    for level in sorted(set(args.ids)):
        needed = level - builder.position
        if needed <= 0:
            continue
        batch = min(args.fill_batch, needed)
        fill = builder.add(history.fill_length(needed, batch), "fill", 0, NARROW, 1)
        # room for a second measurement after the pause (--settle-seconds)
        room = (history.measure_segment_length(batch, size, warmup, count)
                + (history.measure_segment_length(0, size, warmup, count)
                   if args.settle_seconds else 0))
        draw = builder.add(room, "draw", 0, NARROW, MAX_ITEMS, NARROW_STRIDE)
        steps.append((level, fill, batch, draw))
    series = Series("ids", size)
    loaded = Checkpoint.new(ctx.work, "ids-cheio", builder.build())
    ctx.warm_up(size)
    try:
        for level, fill, batch, draw in steps:
            print(f"\n{fmt_int(level)} ids: lotes de {fmt_int(size)} pedidos", flush=True)
            fresh = ctx.fresh("ids-novo", long_draw(NARROW, NARROW_STRIDE, size, args), size)
            _print_measured("checkpoint novo", fresh)
            series.fills.append(_fill(ctx, loaded, fill, batch, f"{fmt_int(level)} ids"))
            measured = history.measure(ctx.spark, loaded, draw, size, warmup, count,
                                       ctx.sampler, args.timeout)
            result = Level("ids", measured.state_ids, fresh, measured, loaded.disk_bytes())
            _print_measured(f"{fmt_int(measured.state_ids)} ids no estado", measured, result)
            series.levels.append(result)
            ctx.save(series)
            if args.settle_seconds:
                # the pre-fill writes the ids far faster than orders arrive in a day, and
                # RocksDB compacts them in the background afterwards: a real day spreads that
                # work over the day, so the batches are measured again once it has settled
                print(f"  pausa de {args.settle_seconds} s (o RocksDB compacta a carga)...",
                      flush=True)
                time.sleep(args.settle_seconds)
                settled = history.measure(ctx.spark, loaded, draw, size, warmup, count,
                                          ctx.sampler, args.timeout)
                later = Level("ids-apos-pausa", settled.state_ids, fresh, settled,
                              loaded.disk_bytes(), f"após pausa de {args.settle_seconds} s")
                _print_measured(f"{fmt_int(settled.state_ids)} ids no estado, após a pausa",
                                settled, later)
                series.extra.append(later)
                ctx.save(series)
        if loaded.runs:
            expected = history.check_totals("ids (checkpoint cheio)", ctx.spark, loaded.path,
                                            loaded.plan, loaded.runs)
            series.checked.append(_checked_text(expected))
    finally:
        loaded.remove()
    return series


def _fill(ctx: Context, checkpoint: Checkpoint, segment: Segment, batch: int,
          label: str) -> Run:
    print(f"  carga até {label} (lotes de {fmt_int(batch)} pedidos)...", flush=True)
    run = history.fill(ctx.spark, checkpoint, segment, batch, ctx.sampler, ctx.args.timeout)
    orders = sum(b.orders for b in run.batches)
    print(f"  carga: {fmt_int(orders)} pedidos em {fmt_float(run.seconds)} s "
          f"({fmt_int(orders / run.seconds)} pedidos/s, {len(run.batches)} lotes; "
          f"pico JVM {fmt_mib(run.memory.jvm_rss)})", flush=True)
    return run


def _checked_text(expected: history.PlanTotals) -> str:
    return (f"{fmt_int(expected.orders)} pedidos, {fmt_int(expected.products)} produtos, "
            f"quantidade {fmt_int(expected.quantity)}, valor {expected.value}")


def _print_measured(label: str, m: Measured, level: Level | None = None) -> None:
    text = (f"  {label}: mediana {fmt_float(m.median_s, 2)} s, p99 {fmt_float(m.p99_s, 2)} s "
            f"({len(m.batches)} lotes); pico JVM {fmt_mib(m.memory.jvm_rss)} (heap "
            f"{fmt_mib(m.memory.jvm_heap)}), Python {fmt_mib(m.memory.python_rss)}")
    if level is not None:
        text += (f"; relativo ao checkpoint novo: {fmt_float(level.ratio, 2)}x "
                 f"(p99 {fmt_float(level.ratio_p99, 2)}x)")
    print(text, flush=True)


# --- report ------------------------------------------------------------------------------

def verdict(ratio: float) -> str:
    return f"{fmt_float(ratio, 2)}x (meta <= {fmt_float(TARGET, 2)}: " \
           f"{'atingida' if ratio <= TARGET else 'NÃO atingida'})"


BREAKDOWN = (("addBatch", "addBatch"), ("queryPlanning", "planejamento"),
             ("walCommit", "log de offsets"), ("commitOffsets", "commit"))
OPERATOR_FIGURES = (("allUpdatesTimeMs", "atualizações"), ("allRemovalsTimeMs", "remoções"),
                    ("commitTimeMs", "commit do estado"))


def breakdown(m: Measured) -> dict[str, float]:
    """Median milliseconds per batch of each part Spark's progress reports."""
    parts = {label: median(b.durations.get(key, 0) for b in m.batches)
             for key, label in BREAKDOWN}
    for operator, name in ((history.DEDUP, "deduplicação"), (history.TOTALS, "totais")):
        for figure, label in OPERATOR_FIGURES:
            parts[f"{name}: {label}"] = median(b.operator(operator, figure) for b in m.batches)
    return parts


def print_series(series: Series) -> None:
    unit = SERIES[series.name]
    print(f"\n{unit:>22} {'lote':>7} {'mediana':>8} {'p99':>7} {'novo: med.':>10} "
          f"{'p99':>7} {'razão':>6} {'r. p99':>6} {'JVM RSS':>9} {'heap':>9} {'Python':>8} "
          f"{'disco':>9}")
    for level in [*series.levels, *series.extra]:
        name = fmt_int(level.level) + (f" ({level.label})" if level.label else "")
        print(f"{name:>22} {fmt_int(series.batch_size):>7} "
              f"{fmt_float(level.loaded.median_s, 2):>7}s {fmt_float(level.loaded.p99_s, 2):>6}s "
              f"{fmt_float(level.fresh.median_s, 2):>9}s {fmt_float(level.fresh.p99_s, 2):>6}s "
              f"{fmt_float(level.ratio, 2):>6} {fmt_float(level.ratio_p99, 2):>6} "
              f"{fmt_mib(level.loaded.memory.jvm_rss):>9} "
              f"{fmt_mib(level.loaded.memory.jvm_heap):>9} "
              f"{fmt_mib(level.loaded.memory.python_rss):>8} {fmt_mib(level.disk_bytes):>9}")
    if series.levels:
        top = series.levels[-1]
        fresh, loaded = breakdown(top.fresh), breakdown(top.loaded)
        print(f"  onde foi o tempo (mediana por lote, ms), checkpoint novo -> "
              f"{fmt_int(top.level)} {unit}:")
        print("   " + "; ".join(f"{k} {fmt_int(fresh[k])} -> {fmt_int(loaded[k])}"
                                for k in fresh))
    for text in series.checked:
        print(f"  totais conferidos ao centavo (checkpoint cheio): {text}")


def batch_rows(series: Series) -> list[Row]:
    rows: list[Row] = []

    def add(batch: Batch, level: int, state: str, phase: str) -> None:
        rows.append({
            "serie": series.name, "nivel": level, "estado": state, "fase": phase,
            "lote": batch.batch_id, "pedidos": batch.orders, "primeiro_pedido": batch.start,
            "duracao_ms": batch.duration_ms,
            **{f"ms_{key}": batch.durations.get(key, 0) for key, _ in BREAKDOWN},
            **{f"{op}_{figure}": batch.operator(op_name, figure)
               for op, op_name in (("dedup", history.DEDUP), ("totais", history.TOTALS))
               for figure in ("allUpdatesTimeMs", "allRemovalsTimeMs", "commitTimeMs",
                              "numRowsUpdated", "numRowsRemoved", "memoryUsedBytes",
                              "rocksdbSstFileSize", "rocksdbGetLatency", "rocksdbPutLatency",
                              "rocksdbReadBlockCacheMissCount",
                              "rocksdbTotalCompactionLatencyMs", "rocksdbWriterStallLatencyMs",
                              "rocksdbCommitFlushLatency", "rocksdbCommitCheckpointLatency")},
        })

    for level in [*series.levels, *series.extra]:
        suffix = {"produtos-largo": "-largo", "ids-apos-pausa": "-apos-pausa"}.get(
            level.series, "")
        for state, measured in (("novo", level.fresh), ("cheio", level.loaded)):
            for batch in measured.warmup:
                add(batch, level.level, state + suffix, "aquecimento")
            for batch in measured.batches:
                add(batch, level.level, state + suffix, "medido")
    for run in series.fills:
        for batch in run.batches:
            add(batch, 0, "cheio", "carga")
    return rows


def level_summary(level: Level) -> dict[str, float | int]:
    prefix = f"{level.series}_{level.level}"
    return {
        f"{prefix}_mediana_s": round(level.loaded.median_s, 4),
        f"{prefix}_p99_s": round(level.loaded.p99_s, 4),
        f"{prefix}_novo_mediana_s": round(level.fresh.median_s, 4),
        f"{prefix}_novo_p99_s": round(level.fresh.p99_s, 4),
        f"{prefix}_razao": round(level.ratio, 4),
        f"{prefix}_razao_p99": round(level.ratio_p99, 4),
        f"{prefix}_jvm_rss_bytes": level.loaded.memory.jvm_rss,
        f"{prefix}_jvm_heap_bytes": level.loaded.memory.jvm_heap,
        f"{prefix}_python_rss_bytes": level.loaded.memory.python_rss,
        f"{prefix}_disco_bytes": level.disk_bytes,
    }


def collect(args: argparse.Namespace, all_series: list[Series]
            ) -> tuple[list[Row], dict[str, str | int | float]]:
    rows: list[Row] = []
    summary: dict[str, str | int | float] = {
        "lotes_medidos": args.batches, "lotes_aquecimento": args.warmup_batches,
        "lote_produtos": args.products_batch, "lote_ids": args.ids_batch,
        "lote_carga": args.fill_batch}
    for series in all_series:
        rows += batch_rows(series)
        for level in [*series.levels, *series.extra]:
            summary.update(level_summary(level))
    return rows, summary


def save_so_far(args: argparse.Namespace, machine: MachineInfo,
                all_series: list[Series]) -> None:
    """CSV and JSON of what is measured so far: a long run stopped halfway keeps them."""
    rows, summary = collect(args, all_series)
    write_results(args.out, "scaling", rows, machine, {**summary, "parcial": 1}, quiet=True)
    save_progress(args.out, all_series)


def save_progress(out: Path, all_series: list[Series]) -> Path:
    """Every batch's query progress as Spark reported it (state operators' RocksDB figures
    included), one JSON per line, for a closer look than the CSV's columns."""
    records: list[dict[str, object]] = []
    for series in all_series:
        for level in [*series.levels, *series.extra]:
            for state, measured in (("novo", level.fresh), ("cheio", level.loaded)):
                for phase, batches in (("aquecimento", measured.warmup),
                                       ("medido", measured.batches)):
                    records += [{"serie": level.series, "nivel": level.level, "estado": state,
                                 "fase": phase, "progresso": b.progress} for b in batches]
        records += [{"serie": series.name, "fase": "carga", "progresso": b.progress}
                    for run in series.fills for b in run.batches]
    out.mkdir(parents=True, exist_ok=True)
    path = out / "scaling-progresso.jsonl"
    with open(path, "w") as stream:
        stream.writelines(json.dumps(record, default=str) + "\n" for record in records)
    return path


def report(args: argparse.Namespace, machine: MachineInfo, all_series: list[Series]) -> None:
    rows, summary = collect(args, all_series)
    headline = []
    for series in all_series:
        print_series(series)
        if series.levels:
            top = series.levels[-1]
            headline.append(
                f"{fmt_int(top.level)} {SERIES[series.name]}: lote de "
                f"{fmt_int(series.batch_size)} pedidos {verdict(top.ratio)} na mediana, "
                f"{fmt_float(top.ratio_p99, 2)}x no p99 "
                f"({fmt_float(top.loaded.median_s, 2)} s contra "
                f"{fmt_float(top.fresh.median_s, 2)} s)")
    save_progress(args.out, all_series)
    print(f"\nmáquina: {machine_line(machine)}")
    print("CUSTO POR LOTE CONTRA O CHECKPOINT NOVO:")
    for line in headline:
        print(f"  {line}")
    write_results(args.out, "scaling", rows, machine, summary, chart(all_series))


def chart(all_series: list[Series]) -> Figure:
    measured = [s for s in all_series if s.levels]  # one column each (--only: one)
    figure = Figure(figsize=(5 * (len(measured) + 1), 8.5))
    axes = figure.subplots(2, len(measured) + 1, squeeze=False)
    for column, series in enumerate(measured):
        top, bottom = axes[0][column], axes[1][column]
        name = series.name
        xs = [level.level for level in series.levels]
        for attr, color, label in (("loaded", "#c44e52", "estado cheio"),
                                   ("fresh", "#4c72b0", "checkpoint novo")):
            measured = [getattr(level, attr) for level in series.levels]
            top.plot(xs, [m.median_s for m in measured], "o-", color=color,
                     label=f"{label}: mediana")
            top.plot(xs, [m.p99_s for m in measured], "^:", color=color, label=f"{label}: p99")
        top.plot(xs, [TARGET * level.fresh.median_s for level in series.levels], "--",
                 color="#999999", label=f"meta: {fmt_float(TARGET, 2)}x a mediana do novo")
        for level in series.levels:
            top.annotate(f"{fmt_float(level.ratio, 2)}x", (level.level, level.loaded.median_s),
                         fontsize=8, xytext=(4, 6), textcoords="offset points")
        top.set_xscale("log")
        top.set_ylim(bottom=0)
        top.set_xlabel(SERIES[name])
        top.set_ylabel("segundos por lote")
        top.set_title(f"Lotes de {fmt_int(series.batch_size)} pedidos", fontsize=10)
        top.legend(fontsize=7)
        for attr, color, label in (("jvm_rss", "#8172b2", "JVM (residente)"),
                                   ("jvm_heap", "#55a868", "JVM (heap em uso)"),
                                   ("python_rss", "#ccb974", "Python (residente)")):
            bottom.plot(xs, [getattr(level.loaded.memory, attr) / 2**20
                             for level in series.levels], "o-", color=color, label=label)
        bottom.set_xscale("log")
        bottom.set_ylim(bottom=0)
        bottom.set_xlabel(SERIES[name])
        bottom.set_ylabel("MiB (pico nos lotes medidos)")
        bottom.set_title("Memória do driver", fontsize=10)
        bottom.legend(fontsize=7)
    fills = [b for s in all_series if s.name == "ids" for run in s.fills for b in run.batches
             if b.orders]
    right_top, right_bottom = axes[0][-1], axes[1][-1]
    if fills:
        right_top.plot([b.end for b in fills],
                       [b.orders / max(b.duration_ms, 1) * 1000 for b in fills], ".",
                       color="#4c72b0")
        right_top.set_xscale("log")
        right_top.set_ylim(bottom=0)
        right_top.set_xlabel("ids no estado ao fim do lote")
        right_top.set_ylabel("pedidos por segundo")
        right_top.set_title("Carga (lotes grandes)", fontsize=10)
    else:
        right_top.set_axis_off()
    tops = [(s.name, s.levels[-1]) for s in all_series if s.levels]
    if tops:
        labels, parts_fresh, parts_loaded = [], [], []
        for name, level in tops:
            labels += [f"{name}\nnovo", f"{name}\n{fmt_int(level.level)}"]
            parts_fresh.append(breakdown(level.fresh))
            parts_loaded.append(breakdown(level.loaded))
        stacks = [p for pair in zip(parts_fresh, parts_loaded) for p in pair]
        keys = ["deduplicação: atualizações", "deduplicação: commit do estado",
                "totais: atualizações", "totais: commit do estado"]
        bottom_values = [0.0] * len(stacks)
        for key, color in zip(keys, ["#c44e52", "#dd8452", "#4c72b0", "#64b5cd"]):
            values = [p.get(key, 0) / 1000 for p in stacks]
            right_bottom.bar(labels, values, bottom=bottom_values, color=color, label=key)
            bottom_values = [a + b for a, b in zip(bottom_values, values)]
        rest = [max(0.0, (p.get("addBatch", 0) / 1000) - b) for p, b in zip(stacks, bottom_values)]
        right_bottom.bar(labels, rest, bottom=bottom_values, color="#bbbbbb",
                         label="resto do addBatch")
        right_bottom.set_ylabel("segundos por lote (mediana)")
        right_bottom.set_title("Onde foi o tempo (maior nível)", fontsize=10)
        right_bottom.tick_params(axis="x", labelsize=7)
        right_bottom.legend(fontsize=7)
    else:
        right_bottom.set_axis_off()
    return figure


# --- main ----------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = bench_parser("python -m bench.scaling", __doc__,
                          "poucos produtos e ids, lotes pequenos, poucos lotes", kafka=False)
    parser.add_argument("--products", type=int_list, default=None,
                        help="produtos no estado, por nível (padrão: 10000,100000,1000000)")
    parser.add_argument("--ids", type=int_list, default=None,
                        help="ids no estado de deduplicação, por nível (padrão: 1000000,"
                             "10000000,30000000,86400000, um dia a 1.000 pedidos/s)")
    parser.add_argument("--products-batch", type=positive_int, default=None,
                        help=f"pedidos por lote medido, série de produtos (padrão: "
                             f"{fmt_int(FULL['products_batch'])})")
    parser.add_argument("--ids-batch", type=positive_int, default=None,
                        help=f"pedidos por lote medido, série de ids (padrão: "
                             f"{fmt_int(FULL['ids_batch'])}: um trigger de 5 s a 1.000 pedidos/s)")
    parser.add_argument("--batches", type=positive_int, default=None,
                        help=f"lotes medidos por nível e checkpoint (padrão: {FULL['batches']})")
    parser.add_argument("--warmup-batches", type=int, default=None,
                        help="lotes não medidos antes deles (padrão: "
                             f"{FULL['warmup_batches']})")
    parser.add_argument("--fill-batch", type=positive_int, default=None,
                        help=f"pedidos por lote da carga (padrão: {fmt_int(FULL['fill_batch'])})")
    parser.add_argument("--settle-seconds", type=int, default=0,
                        help="na série de ids, mede de novo após esta pausa depois de cada "
                             "carga (padrão: 0, sem a segunda medida)")
    parser.add_argument("--only", choices=["products", "ids"], default=None,
                        help="só uma das séries (padrão: as duas)")
    parser.add_argument("--no-wide", dest="wide", action="store_false",
                        help="sem os lotes de todo o catálogo na série de produtos")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="onde pôr os checkpoints (padrão: um diretório temporário; o "
                             "estado de um dia ocupa alguns GiB)")
    parser.add_argument("--timeout", type=positive_int, default=4 * 3600,
                        help="limite de cada execução da consulta, em segundos "
                             "(padrão: %(default)s)")
    args = parse_sized(parser, argv, QUICK, FULL)
    if args.warmup_batches < 0:
        parser.error("--warmup-batches não pode ser negativo")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_logs()

    def measure(topics: list[str]) -> int:
        machine = machine_info(None)
        started = time.monotonic()
        with scratch_dir("bench-escala-", args.work_dir) as work, \
                spark_session("vendas-bench-escala", {**history.SESSION_CONF,
                                                      **dict(args.conf)},
                              args.verbose) as spark, \
                history.sampling(spark) as sampler:
            if not args.verbose:
                # stopping a query interrupts the batch it runs, which Spark logs as errors
                spark.sparkContext.setLogLevel("FATAL")
            ctx = Context(spark, args, work, sampler, machine)
            all_series = ctx.done
            if args.only in (None, "products"):
                print("Série de produtos", flush=True)
                all_series.append(products_series(ctx))
            if args.only in (None, "ids"):
                print("\nSérie de ids (deduplicação)", flush=True)
                all_series.append(ids_series(ctx))
        if not any(s.levels for s in all_series):
            raise BenchmarkError("nenhum nível medido: confira --products e --ids")
        report(args, machine, all_series)
        print(f"duração total: {fmt_float((time.monotonic() - started) / 60, 1)} min")
        return 0

    return run_guarded(None, measure)


if __name__ == "__main__":
    sys.exit(main())
