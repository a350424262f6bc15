"""Benchmark de latência: do envio de um pedido ao lote que o contou, por intervalo de lote.

Uso: python -m bench.latency [-b localhost:9092] [--rate 1000] [--seconds 60]
                             [--triggers 0.5,1,5] [--warmup-seconds 10]
                             [--jvm-warmup-seconds 60] [--partitions 2] [--quick]
                             [--conf CHAVE=VALOR] [--out bench/results]

For each trigger interval: a fresh topic, the real consumer started in-process
(vendas.consumer.start, continuous, both queries) and waiting, then the project's producer
(produtor_vendas.py, a separate process) sending --rate orders per second for --seconds.
When everything was counted the consumer stops, and:
  - each micro-batch of the totals query gives, from its progress, the wall time it
    completed (timestamp + durationMs.triggerExecution) and the offsets it read per
    partition (sources[0].startOffset / endOffset);
  - the topic is read back with kafka-python for each record's Kafka timestamp (the
    producer's CreateTime);
  - latency of an order = completion of the batch that read it - its Kafka timestamp.
Before the first trigger, an unmeasured run of --jvm-warmup-seconds at the same rate warms
the JVM up (the first minute of a JVM is markedly slower); within each measured run, orders
sent in the first --warmup-seconds are discarded too (the consumer's first batches).
Prints p50, p95, p99 and max per trigger, and the target at a 1 s trigger (p50 <= 1 s,
p99 <= 2 s); writes latency.csv, latency.json and latency.png.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition
from matplotlib.figure import Figure
from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from bench.errors import BenchmarkError
from bench.machine import MachineInfo, load_average, machine_line
from bench.metrics import Progress, median, offsets_of, percentile
from bench.results import REPO_ROOT, Row, write_results
from bench.runner import bench_parser, mute_console, parse_sized, run_with_spark
from bench.topics import create_topic, drop_topics, new_topic_name
from vendas.cli import non_negative_float, positive_float, positive_int
from vendas.consumer.app import ConsumerOptions, start
from vendas.formatting import fmt_float, fmt_int

PERCENTILES = (50, 95, 99)
# issue 13: at a 1 s trigger and 1,000 orders/s, p50 <= 1 s and p99 <= 2 s
TARGET_TRIGGER_S, TARGET_RATE, TARGET_P50_S, TARGET_P99_S = 1.0, 1000.0, 1.0, 2.0
QUICK = {"rate": 200.0, "seconds": 8.0, "warmup_seconds": 2.0, "jvm_warmup_seconds": 0.0,
         "triggers": [1.0]}
FULL = {"rate": 1000.0, "seconds": 60.0, "warmup_seconds": 10.0, "jvm_warmup_seconds": 60.0,
        "triggers": [0.5, 1.0, 5.0]}


@dataclass
class Batch:
    batch_id: int
    completed_ms: float
    duration_ms: int
    rows: int
    start: dict[int, int]
    end: dict[int, int]


@dataclass
class Result:
    trigger: float
    latencies_s: list[float]  # sorted, warm-up excluded
    sent: int
    batches: list[Batch]
    progress: list[Progress]  # the totals query's progress, every batch
    load: float = 0.0  # the machine's 1-minute load average at the end

    def p(self, q: float) -> float:
        return percentile(self.latencies_s, q)


def _epoch_ms(timestamp: str) -> float:
    """Progress timestamps look like 2026-11-24T03:10:01.123Z (UTC)."""
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000


def batches_from_progress(progress: list[Progress]) -> list[Batch]:
    batches: list[Batch] = []
    for item in progress:
        if not item.get("numInputRows"):
            continue
        source = item["sources"][0]
        batches.append(Batch(
            int(item["batchId"]),
            _epoch_ms(item["timestamp"]) + int(item["durationMs"]["triggerExecution"]),
            int(item["durationMs"]["triggerExecution"]),
            int(item["numInputRows"]),
            offsets_of(source.get("startOffset")),
            offsets_of(source.get("endOffset")),
        ))
    batches.sort(key=lambda b: b.batch_id)
    return batches


def read_timestamps(bootstrap: str, topic: str,
                    timeout_s: float = 120.0) -> list[tuple[int, int, int]]:
    """(partition, offset, timestamp_ms) of every record the topic holds."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             max_partition_fetch_bytes=8 * 2**20)
    try:
        partitions = sorted(consumer.partitions_for_topic(topic) or ())
        assignment = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(assignment)
        consumer.seek_to_beginning(*assignment)
        end = consumer.end_offsets(assignment)
        records: list[tuple[int, int, int]] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in assignment):
            if time.monotonic() > deadline:
                raise BenchmarkError(f"leitura de {topic} não terminou em {timeout_s:.0f} s")
            for batch in consumer.poll(timeout_ms=1000).values():
                records.extend((r.partition, r.offset, r.timestamp) for r in batch)
        return records
    finally:
        consumer.close()


def latencies(records: list[tuple[int, int, int]], batches: list[Batch],
              warmup_s: float) -> list[float]:
    """Seconds from each record's timestamp to the completion of the batch that read it,
    for the records sent after the first `warmup_s` seconds of the run."""
    discard_before_ms = min(t for _, _, t in records) + warmup_s * 1000
    by_partition: dict[int, tuple[list[int], list[Batch]]] = {}
    for partition in {p for p, _, _ in records}:
        chosen = [b for b in batches if b.end.get(partition, 0) > b.start.get(partition, 0)]
        by_partition[partition] = ([b.end[partition] for b in chosen], chosen)
    result = []
    for partition, offset, timestamp in records:
        if timestamp < discard_before_ms:
            continue
        ends, chosen = by_partition[partition]
        index = bisect_right(ends, offset)  # first batch whose end offset is past this one
        if index == len(chosen) or chosen[index].start.get(partition, 0) > offset:
            raise BenchmarkError(f"o registro {partition}/{offset} não está em nenhum lote")
        result.append((chosen[index].completed_ms - timestamp) / 1000)
    return sorted(result)


def wait_until_waiting(query: StreamingQuery, timeout_s: float = 120.0) -> None:
    """Until the query started and waits for data (so that startup is not measured)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if query.exception() is not None:
            raise BenchmarkError(f"o consumidor falhou: {query.exception()}")
        status = query.status
        if query.isActive and not status["isTriggerActive"] and "Waiting" in status["message"]:
            return
        time.sleep(0.2)
    raise BenchmarkError("o consumidor não começou a esperar dados a tempo")


def consumed(query: StreamingQuery) -> int:
    """Records the totals query has read so far."""
    progress = query.lastProgress
    if not progress:
        return 0
    return sum(offsets_of(progress["sources"][0].get("endOffset")).values())


def run_trigger(spark: SparkSession, args: argparse.Namespace, trigger: float, work: Path,
                topics: list[str], seconds: float | None = None) -> Result:
    topic = new_topic_name("bench-latencia")
    topics += [topic, f"{topic}-dlq"]
    create_topic(args.bootstrap_servers, topic, args.partitions)
    seconds = args.seconds if seconds is None else seconds
    count = int(args.rate * seconds)
    options = ConsumerOptions(
        bootstrap_servers=args.bootstrap_servers, topic=topic, dlq_topic=f"{topic}-dlq",
        checkpoint=str(work / f"checkpoint-{topic}"), trigger_seconds=trigger,
        starting_offsets="earliest",
    )
    running = start(spark, options)
    mute_console(running)
    totals_query = running.queries[0]
    try:
        for query in running.queries:
            wait_until_waiting(query)
        producer = subprocess.run(
            [sys.executable, str(REPO_ROOT / "produtor_vendas.py"), "-b", args.bootstrap_servers,
             "--topic", topic, "--count", str(count), "--rate", f"{args.rate:g}",
             "--seed", str(args.seed), "--quiet"],
            capture_output=True, text=True, timeout=seconds * 3 + 120, check=False,
        )
        if producer.returncode != 0:
            raise BenchmarkError(f"o produtor falhou ({producer.returncode}): "
                                 f"{producer.stderr.strip()[-500:]}")
        deadline = time.monotonic() + max(60.0, 5 * trigger)
        while consumed(totals_query) < count:
            if totals_query.exception() is not None:
                raise BenchmarkError(f"o consumidor falhou: {totals_query.exception()}")
            if time.monotonic() > deadline:
                raise BenchmarkError(f"o consumidor leu só {consumed(totals_query)} de {count}")
            time.sleep(0.2)
    finally:
        running.stop()
    failures = [q.exception() for q in running.queries if q.exception() is not None]
    if failures:
        raise BenchmarkError(f"o consumidor falhou: {failures[0]}")
    totals = running.batches.totals
    if totals.pedidos != count or totals.total_rejeitadas:
        raise BenchmarkError(f"o consumidor contou {totals.pedidos} pedidos "
                             f"({totals.total_rejeitadas} rejeitados); esperava {count}")
    progress = [dict(p) for p in totals_query.recentProgress]
    batches = batches_from_progress(progress)
    if sum(b.rows for b in batches) != count:
        raise BenchmarkError("o progresso guardado não cobre todos os lotes; aumente "
                             "spark.sql.streaming.numRecentProgressUpdates")
    records = read_timestamps(args.bootstrap_servers, topic)
    values = latencies(records, batches, min(args.warmup_seconds, seconds / 2))
    drop_topics(args.bootstrap_servers, [topic, f"{topic}-dlq"])
    shutil.rmtree(work / f"checkpoint-{topic}", ignore_errors=True)
    return Result(trigger, values, count, batches, progress, load_average())


def chart(results: list[Result], args: argparse.Namespace) -> Figure:
    figure = Figure(figsize=(12, 4.5))
    left, right = figure.subplots(1, 2)
    colors = ["#4c72b0", "#55a868", "#c44e52", "#8172b2", "#ccb974"]
    for result, color in zip(results, colors):
        n = len(result.latencies_s)
        left.plot(result.latencies_s, [(i + 1) / n * 100 for i in range(n)], color=color,
                  label=f"lote a cada {fmt_float(result.trigger, 1)} s")
    left.set_xlabel("latência (s)")
    left.set_ylabel("pedidos com latência até x (%)")
    left.set_title("Distribuição da latência")
    left.grid(alpha=0.3)
    left.legend(fontsize=8)

    width = 0.8 / (len(PERCENTILES) + 1)
    labels = [f"{fmt_float(r.trigger, 1)} s" for r in results]
    bar_colors = ["#4c72b0", "#dd8452", "#c44e52", "#8c8c8c"]
    for i, (q, color) in enumerate(zip((*PERCENTILES, 100), bar_colors)):
        values = [r.p(q) for r in results]
        xs = [x + (i - 1.5) * width for x in range(len(results))]
        right.bar(xs, values, width, color=color, label="máx." if q == 100 else f"p{q}")
        for x, v in zip(xs, values):
            right.annotate(fmt_float(v, 2), (x, v), ha="center", va="bottom", fontsize=7)
    right.set_xticks(range(len(results)), labels)
    right.set_xlabel("intervalo entre lotes (trigger)")
    right.set_ylabel("latência (s)")
    right.set_title(f"{fmt_int(args.rate)} pedidos/s por {fmt_int(args.seconds)} s "
                    f"(sem os {fmt_int(args.warmup_seconds)} s iniciais)")
    right.legend(fontsize=8)
    return figure


def float_list(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"lista de números inválida: {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"use números positivos separados por vírgula: {text!r}")
    return values


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = bench_parser("python -m bench.latency", __doc__,
                          "200 pedidos/s por 8 s, só o trigger de 1 s, sem aquecimento")
    parser.add_argument("--rate", type=positive_float, default=None,
                        help=f"pedidos por segundo do produtor (padrão: {FULL['rate']:g})")
    parser.add_argument("--seconds", type=positive_float, default=None,
                        help="duração do envio em segundos, por trigger "
                             f"(padrão: {FULL['seconds']:g})")
    parser.add_argument("--triggers", type=float_list, default=None,
                        help="intervalos entre lotes em segundos, separados por vírgula "
                             "(padrão: 0.5,1,5)")
    parser.add_argument("--warmup-seconds", type=non_negative_float, default=None,
                        help="descarta os pedidos enviados nestes primeiros segundos "
                             f"(padrão: {FULL['warmup_seconds']:g})")
    parser.add_argument("--jvm-warmup-seconds", type=non_negative_float, default=None,
                        help="execução não medida antes da primeira, para aquecer a JVM "
                             f"(0: sem; padrão: {FULL['jvm_warmup_seconds']:g})")
    parser.add_argument("--partitions", type=positive_int, default=2,
                        help="partições do tópico (padrão: %(default)s)")
    args = parse_sized(parser, argv, QUICK, FULL)
    if args.warmup_seconds >= args.seconds:
        parser.error("--warmup-seconds deve ser menor que --seconds")
    return args


def target_line(results: list[Result], rate: float) -> str:
    """The issue's target where this run measured it: a 1 s trigger at 1,000 orders/s."""
    at_target = [r for r in results if r.trigger == TARGET_TRIGGER_S]
    if not at_target:
        return "meta (trigger de 1 s): não medida nesta execução"
    r = at_target[0]
    target = (f"meta a {fmt_int(TARGET_RATE)} pedidos/s: p50 <= {fmt_float(TARGET_P50_S, 1)} s "
              f"e p99 <= {fmt_float(TARGET_P99_S, 1)} s")
    if rate != TARGET_RATE:
        verdict = "não se aplica a esta taxa"
    elif r.p(50) <= TARGET_P50_S and r.p(99) <= TARGET_P99_S:
        verdict = "atingida"
    else:
        verdict = "NÃO atingida"
    return (f"trigger de 1 s a {fmt_int(rate)} pedidos/s: p50 {fmt_float(r.p(50), 2)} s, "
            f"p99 {fmt_float(r.p(99), 2)} s ({target}: {verdict})")


def measure(spark: SparkSession, args: argparse.Namespace, machine: MachineInfo, work: Path,
            topics: list[str]) -> int:
    results: list[Result] = []
    rows: list[Row] = []
    if args.jvm_warmup_seconds:
        print(f"Aquecimento da JVM (não medido): {fmt_int(args.jvm_warmup_seconds)} s...",
              flush=True)
        run_trigger(spark, args, args.triggers[0], work, topics, args.jvm_warmup_seconds)
    for trigger in args.triggers:
        print(f"Trigger de {fmt_float(trigger, 1)} s: {fmt_int(args.rate)} pedidos/s por "
              f"{fmt_int(args.seconds)} s...", flush=True)
        result = run_trigger(spark, args, trigger, work, topics)
        results.append(result)
        durations = sorted(b.duration_ms / 1000 for b in result.batches)
        print(f"  p50 {fmt_float(result.p(50), 2)} s, p95 {fmt_float(result.p(95), 2)} s, "
              f"p99 {fmt_float(result.p(99), 2)} s, máx. {fmt_float(result.p(100), 2)} s "
              f"({fmt_int(len(result.latencies_s))} pedidos medidos; "
              f"{len(result.batches)} lotes, duração mediana "
              f"{fmt_float(median(durations), 2)} s, p99 "
              f"{fmt_float(percentile(durations, 99), 2)} s; carga "
              f"{fmt_float(result.load, 1)})", flush=True)
        rows.append({
            "trigger_s": trigger, "taxa_pedidos_s": args.rate, "segundos": args.seconds,
            "aquecimento_s": args.warmup_seconds, "pedidos_enviados": result.sent,
            "pedidos_medidos": len(result.latencies_s),
            **{f"p{q}_s": f"{result.p(q):.3f}" for q in PERCENTILES},
            "max_s": f"{result.p(100):.3f}",
            "lotes": len(result.batches),
            "duracao_lote_mediana_s": f"{median(durations):.3f}",
            "duracao_lote_p99_s": f"{percentile(durations, 99):.3f}",
            "carga_1min": f"{result.load:.2f}",
        })

    print(f"\n{'trigger':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'máx.':>7}  (segundos; sem os "
          f"{fmt_int(args.warmup_seconds)} s iniciais)")
    for r in results:
        print(f"{fmt_float(r.trigger, 1) + ' s':>8} {fmt_float(r.p(50), 2):>7} "
              f"{fmt_float(r.p(95), 2):>7} {fmt_float(r.p(99), 2):>7} {fmt_float(r.p(100), 2):>7}")
    print(target_line(results, args.rate))
    print(f"máquina: {machine_line(machine)}")
    summary = {f"trigger_{r.trigger:g}s_p{q}_s": round(r.p(q), 3)
               for r in results for q in PERCENTILES}
    summary["taxa_pedidos_s"] = args.rate
    write_results(args.out, "latency", rows, machine, summary, chart(results, args))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # keep every batch's progress of a run (the default keeps the last 100)
    conf = {"spark.sql.streaming.numRecentProgressUpdates": "100000"}
    return run_with_spark(
        args, "vendas-bench-latencia", conf, "bench-latencia-",
        lambda spark, machine, work, topics: measure(spark, args, machine, work, topics))


if __name__ == "__main__":
    sys.exit(main())
