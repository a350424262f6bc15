"""Benchmark do consumidor: vazão lendo do Kafka contra as mesmas consultas lendo arquivos.

Uso: python bench/consumer.py [--bootstrap-servers localhost:9092] [--orders 1000000]
                              [--repeat 2] [--partitions 2] [--compression lz4]
                              [--max-offsets-per-trigger N] [--min-partitions N]
                              [--kafka-option CHAVE=VALOR] [--conf CHAVE=VALOR]
                              [--scaling] [--out bench/results]

N seeded orders (fixed clock, so every run has the very same orders) are generated once:
sent to a fresh topic with the project's producer and written, byte for byte, as JSON
lines. Then, in one Spark session, the real consumer (vendas.consumer.start, both
queries: totals and dead letters, --available-now, fresh checkpoints) drains:
  kafka    Spark's Kafka source over the topic;
  arquivo  the baseline: Spark's file source over the JSON lines, mapped to Kafka's
           columns, with the same number of orders per micro-batch.
The two sides alternate (K F, F K, ...) after an unmeasured warm-up of both. Every run
must end with the totals computed from the generated orders, to the cent, or the
benchmark fails. Prints orders/s, the ratio kafka/arquivo per repetition and the peak
resident memory of the driver (JVM and Python); writes consumer.csv and consumer.png.

--scaling instead measures the Kafka path against topic partitions (1, 2, 4) and order
counts (100k, 1M, 3M), with the state each run keeps (rows and memory per operator);
writes scaling.csv and scaling.png.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.common import (  # noqa: E402
    BenchmarkError,
    RESULTS_DIR,
    STATE_LABELS,
    LoadResult,
    PeakMemory,
    drop_topics,
    fmt_float,
    fmt_int,
    fmt_mib,
    load_average,
    load_orders,
    machine_line,
    median,
    new_topic_name,
    pyplot,
    remove_tree,
    run_with_spark,
    save_chart,
    state_figures,
    thousands_axis,
    totals_table,
    write_csv,
)
from vendas.cli import PortugueseArgumentParser, key_value, positive_int  # noqa: E402
from vendas.consumer import ConsumerOptions, start  # noqa: E402

SOURCES = ("kafka", "arquivo")
LABELS = {"kafka": "Kafka", "arquivo": "arquivos (referência)"}
FILE_TOPIC = "arquivos"


@dataclass
class Drain:
    source: str
    orders: int
    seconds: float
    batches: int
    jvm_peak: int
    python_peak: int
    state: dict[str, dict[str, int]] = field(default_factory=dict)
    load: float = 0.0  # the machine's 1-minute load average at the end

    @property
    def rate(self) -> float:
        return self.orders / self.seconds


def file_records(spark: Any, directory: Path, max_files: int | None) -> Any:
    """JSON lines as a stream with the Kafka source's columns (value as binary, the rest
    synthesized), so that vendas.consumer.start runs the very same queries over it."""
    from pyspark.sql import functions as F

    reader = spark.readStream.format("text")
    if max_files:
        reader = reader.option("maxFilesPerTrigger", str(max_files))
    lines = reader.load(str(directory))
    return lines.select(
        F.lit(None).cast("binary").alias("key"),
        F.col("value").cast("binary").alias("value"),
        F.lit(FILE_TOPIC).alias("topic"),
        F.lit(0).alias("partition"),
        # unique per distinct line, which is all the dead-letter dedup key needs
        F.xxhash64("value").alias("offset"),
        F.current_timestamp().alias("timestamp"),
    )


def consumer_options(args: argparse.Namespace, topic: str, checkpoint: Path) -> ConsumerOptions:
    defaults = ConsumerOptions()
    kafka_options = {**defaults.kafka_options, **dict(args.kafka_option)}
    if args.min_partitions:
        kafka_options["minPartitions"] = str(args.min_partitions)
    return ConsumerOptions(
        bootstrap_servers=args.bootstrap_servers,
        topic=topic,
        dlq_topic=f"{topic}-dlq",
        checkpoint=str(checkpoint),
        available_now=True,
        max_offsets_per_trigger=args.max_offsets_per_trigger,
        kafka_options=kafka_options,
    )


def files_per_trigger(max_offsets: int | None, lines_per_file: int) -> int | None:
    """As many files per micro-batch as Kafka reads orders per micro-batch."""
    return max(1, max_offsets // lines_per_file) if max_offsets else None


def drain(spark: Any, source: str, load: LoadResult, files_dir: Path, work: Path,
          args: argparse.Namespace) -> Drain:
    """Run the consumer's queries until the source is drained; check the totals."""
    checkpoint = work / f"checkpoint-{source}-{uuid.uuid4().hex[:8]}"
    options = consumer_options(args, load.topic, checkpoint)
    records = None
    if source == "arquivo":
        max_files = files_per_trigger(options.max_offsets_per_trigger, args.lines_per_file)
        records = file_records(spark, files_dir, max_files)
    with PeakMemory(spark) as memory:
        started = time.perf_counter()
        running = start(spark, options, records)
        for query in running.queries:
            query.awaitTermination()
        seconds = time.perf_counter() - started
    try:
        failures = [q.exception() for q in running.queries if q.exception() is not None]
        if failures:
            raise BenchmarkError(f"{LABELS[source]}: a consulta falhou: {failures[0]}")
        totals = running.printer.final()
        if totals.pedidos != load.orders or totals.total_rejeitadas:
            raise BenchmarkError(
                f"{LABELS[source]}: contou {totals.pedidos} pedidos e rejeitou "
                f"{totals.total_rejeitadas}; esperava {load.orders} e 0")
        if totals_table(totals) != load.expected.as_table():
            raise BenchmarkError(
                f"{LABELS[source]}: os totais por produto diferem dos pedidos gerados")
        progress = running.queries[0].recentProgress
        batches = sum(1 for p in progress if p.get("numInputRows"))
        return Drain(source, load.orders, seconds, batches, memory.jvm, memory.python,
                     state_figures(progress), load_average())
    finally:
        remove_tree(checkpoint)


def load(args: argparse.Namespace, n: int, files_dir: Path | None, partitions: int,
         topics: list[str]) -> LoadResult:
    topic = new_topic_name("bench-consumidor")
    topics += [topic, f"{topic}-dlq"]
    result = load_orders(args.bootstrap_servers, topic, n, args.seed, partitions=partitions,
                         compression=None if args.compression == "none" else args.compression,
                         jsonl_dir=files_dir, lines_per_file=args.lines_per_file)
    print(f"  {fmt_int(n)} pedidos enviados ao tópico {topic} ({partitions} partições, "
          f"compressão {args.compression}) em {fmt_float(result.send_seconds)} s"
          + (f"; {result.files} arquivos JSON lines, {fmt_mib(result.json_bytes)}"
             if files_dir else ""), flush=True)
    return result


def print_drain(d: Drain, repeat: int | str) -> None:
    print(f"  {LABELS[d.source]:<22} execução {repeat}: {fmt_int(d.rate):>8} pedidos/s "
          f"({fmt_float(d.seconds)} s, {d.batches} lotes; pico JVM {fmt_mib(d.jvm_peak)}, "
          f"Python {fmt_mib(d.python_peak)}; carga {fmt_float(d.load, 1)})", flush=True)


def state_text(state: dict[str, dict[str, int]]) -> str:
    return "; ".join(f"{STATE_LABELS.get(name, name)}: {fmt_int(s['linhas'])} linhas, "
                     f"{fmt_mib(s['memoria'])}" for name, s in state.items())


# --- throughput: Kafka against files ------------------------------------------------------

def compare(spark: Any, args: argparse.Namespace, work: Path, machine: dict[str, str],
            topics: list[str]) -> int:
    files_dir = work / "jsonl"
    warm_dir = work / "jsonl-aquecimento"
    print(f"Preparando {fmt_int(args.orders)} pedidos (semente {args.seed})...", flush=True)
    data = load(args, args.orders, files_dir, args.partitions, topics)
    if args.warmup_orders:
        warm = load(args, args.warmup_orders, warm_dir, args.partitions, topics)
        print("Aquecimento (não medido)...", flush=True)
        for source in SOURCES:
            drain(spark, source, warm, warm_dir, work, args)

    rows: list[dict[str, Any]] = []
    ratios: list[float] = []
    for repeat in range(1, args.repeat + 1):
        order = SOURCES if repeat % 2 else tuple(reversed(SOURCES))
        results = {}
        for source in order:
            d = drain(spark, source, data, files_dir, work, args)
            results[source] = d
            print_drain(d, repeat)
        ratio = results["kafka"].rate / results["arquivo"].rate
        ratios.append(ratio)
        print(f"  razão Kafka/arquivos na execução {repeat}: {fmt_float(ratio, 2)}", flush=True)
        for source in SOURCES:
            d = results[source]
            rows.append({
                "fonte": source, "repeticao": repeat, "pedidos": d.orders,
                "segundos": f"{d.seconds:.3f}", "pedidos_por_s": f"{d.rate:.1f}",
                "razao_kafka_arquivo": f"{ratio:.4f}", "lotes": d.batches,
                "particoes": args.partitions, "compressao": args.compression,
                "max_offsets_por_lote": args.max_offsets_per_trigger or "",
                "pico_jvm_bytes": d.jvm_peak, "pico_python_bytes": d.python_peak,
                "carga_1min": f"{d.load:.2f}",
                **{f"estado_{name}_linhas": s["linhas"] for name, s in d.state.items()},
                **{f"estado_{name}_bytes": s["memoria"] for name, s in d.state.items()},
            })

    rates = {s: [float(r["pedidos_por_s"]) for r in rows if r["fonte"] == s] for s in SOURCES}
    jvm_peak = max(int(r["pico_jvm_bytes"]) for r in rows)
    python_peak = max(int(r["pico_python_bytes"]) for r in rows)
    print(f"\n{'fonte':<22} {'mediana':>10} {'mínimo':>10} {'máximo':>10}  (pedidos/s)")
    for source in SOURCES:
        values = rates[source]
        print(f"{LABELS[source]:<22} {fmt_int(median(values)):>10} {fmt_int(min(values)):>10} "
              f"{fmt_int(max(values)):>10}")
    print(f"razão Kafka/arquivos: mediana {fmt_float(median(ratios), 2)}, mínima "
          f"{fmt_float(min(ratios), 2)} (por execução: "
          f"{', '.join(fmt_float(r, 2) for r in ratios)})")
    print(f"pico de memória do driver: JVM {fmt_mib(jvm_peak)}, Python {fmt_mib(python_peak)}")
    last_state = next((r for r in reversed(rows) if r["fonte"] == "kafka"), None)
    print(f"estado ao final ({fmt_int(args.orders)} pedidos): "
          f"{state_text(_state_from_row(last_state)) if last_state else '-'}")
    print(f"máquina: {machine_line(machine)}")

    args.out.mkdir(parents=True, exist_ok=True)
    csv_path, png_path = args.out / "consumer.csv", args.out / "consumer.png"
    write_csv(csv_path, rows, machine)
    plot_compare(rates, ratios, args.orders, machine, png_path)
    print(f"\nresultados: {csv_path} e {png_path}")
    return 0


def _state_from_row(row: dict[str, Any]) -> dict[str, dict[str, int]]:
    state: dict[str, dict[str, int]] = {}
    for key, value in row.items():
        if key.startswith("estado_") and key.endswith("_linhas"):
            name = key[len("estado_"):-len("_linhas")]
            state[name] = {"linhas": int(value), "memoria": int(row[f"estado_{name}_bytes"])}
    return state


def plot_compare(rates: dict[str, list[float]], ratios: list[float], orders: int,
                 machine: dict[str, str], path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    medians = [median(rates[s]) for s in SOURCES]
    bars = ax.bar([LABELS[s] for s in SOURCES], medians, color=["#4c72b0", "#8c8c8c"])
    for i, source in enumerate(SOURCES):
        ax.scatter([i] * len(rates[source]), rates[source], color="black", s=12, zorder=3)
    for bar, value in zip(bars, medians):
        ax.annotate(f"{fmt_int(value)}/s", (bar.get_x() + bar.get_width() / 2, value / 2),
                    ha="center", va="center", fontsize=10, color="white", fontweight="bold")
    thousands_axis(ax)
    ax.set_ylabel("pedidos por segundo (mediana; pontos: cada execução)")
    ax.set_title(f"Consumidor: {fmt_int(orders)} pedidos, razão Kafka/arquivos "
                 f"{fmt_float(median(ratios), 2)}")
    ax.set_ylim(0, max(max(v) for v in rates.values()) * 1.2)
    save_chart(fig, machine, path, bottom=0.04)


# --- scaling: partitions and order counts --------------------------------------------------

def scaling(spark: Any, args: argparse.Namespace, work: Path, machine: dict[str, str],
            topics: list[str]) -> int:
    rows: list[dict[str, Any]] = []

    def measure(kind: str, n: int, partitions: int, data: LoadResult) -> None:
        for repeat in range(1, args.repeat + 1):
            d = drain(spark, "kafka", data, work, work, args)
            print_drain(d, repeat)
            print(f"    estado: {state_text(d.state)}", flush=True)
            rows.append({
                "serie": kind, "particoes": partitions, "pedidos": n, "repeticao": repeat,
                "segundos": f"{d.seconds:.3f}", "pedidos_por_s": f"{d.rate:.1f}",
                "lotes": d.batches, "pico_jvm_bytes": d.jvm_peak, "carga_1min": f"{d.load:.2f}",
                **{f"estado_{name}_linhas": s["linhas"] for name, s in d.state.items()},
                **{f"estado_{name}_bytes": s["memoria"] for name, s in d.state.items()},
            })

    if args.warmup_orders:
        print("Aquecimento (não medido)...", flush=True)
        warm = load(args, args.warmup_orders, None, args.partitions, topics)
        drain(spark, "kafka", warm, work, work, args)
    for partitions in args.scaling_partitions:
        print(f"\nPartições do tópico: {partitions}", flush=True)
        data = load(args, args.scaling_fixed_orders, None, partitions, topics)
        measure("particoes", args.scaling_fixed_orders, partitions, data)
        drop_topics(args.bootstrap_servers, [data.topic])
    for n in args.scaling_orders:
        print(f"\nPedidos: {fmt_int(n)}", flush=True)
        data = load(args, n, None, args.partitions, topics)
        measure("pedidos", n, args.partitions, data)
        drop_topics(args.bootstrap_servers, [data.topic])

    def med(kind: str, key: str, value: int) -> tuple[float, float]:
        chosen = [r for r in rows if r["serie"] == kind and r[key] == value]
        return (median(float(r["pedidos_por_s"]) for r in chosen),
                median(float(r["segundos"]) for r in chosen))

    print(f"\n{'partições':>9} {'pedidos/s':>10} {'segundos':>9}")
    for p in args.scaling_partitions:
        rate, seconds = med("particoes", "particoes", p)
        print(f"{p:>9} {fmt_int(rate):>10} {fmt_float(seconds):>9}")
    print(f"\n{'pedidos':>10} {'pedidos/s':>10} {'segundos':>9} {'µs/pedido':>10}  estado ao final")
    for n in args.scaling_orders:
        rate, seconds = med("pedidos", "pedidos", n)
        last = next(r for r in reversed(rows) if r["serie"] == "pedidos" and r["pedidos"] == n)
        print(f"{fmt_int(n):>10} {fmt_int(rate):>10} {fmt_float(seconds):>9} "
              f"{fmt_float(seconds / n * 1e6, 1):>10}  {state_text(_state_from_row(last))}")
    print(f"máquina: {machine_line(machine)}")

    args.out.mkdir(parents=True, exist_ok=True)
    csv_path, png_path = args.out / "scaling.csv", args.out / "scaling.png"
    write_csv(csv_path, rows, machine)
    plot_scaling(rows, args, machine, png_path)
    print(f"\nresultados: {csv_path} e {png_path}")
    return 0


def plot_scaling(rows: list[dict[str, Any]], args: argparse.Namespace, machine: dict[str, str],
                 path: Path) -> None:
    plt = pyplot()
    from matplotlib.ticker import FuncFormatter

    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 4.3))

    parts = args.scaling_partitions
    rates = [median(float(r["pedidos_por_s"]) for r in rows
                    if r["serie"] == "particoes" and r["particoes"] == p) for p in parts]
    left.bar([str(p) for p in parts], rates, color="#4c72b0")
    for i, value in enumerate(rates):
        left.annotate(fmt_int(value), (i, value), ha="center", va="bottom", fontsize=8)
    thousands_axis(left)
    left.set_xlabel("partições do tópico")
    left.set_ylabel("pedidos por segundo (mediana)")
    left.set_title(f"{fmt_int(args.scaling_fixed_orders)} pedidos")

    ns = args.scaling_orders
    chosen = [r for r in rows if r["serie"] == "pedidos"]
    millions = FuncFormatter(lambda v, _: fmt_float(v / 1e6, 1).replace(",0", ""))
    middle.scatter([r["pedidos"] for r in chosen], [float(r["segundos"]) for r in chosen],
                   color="#4c72b0", zorder=3, label="execuções")
    seconds = [median(float(r["segundos"]) for r in chosen if r["pedidos"] == n) for n in ns]
    slope = sum(s * n for s, n in zip(seconds, ns)) / sum(n * n for n in ns)  # fit through 0
    middle.plot([0, max(ns)], [0, slope * max(ns)], "--", color="#c44e52",
                label=f"linear: {fmt_float(slope * 1e6, 1)} µs/pedido")
    middle.xaxis.set_major_formatter(millions)
    middle.set_xlabel("milhões de pedidos")
    middle.set_ylabel("segundos")
    middle.set_title("Tempo para consumir o tópico")
    middle.legend(fontsize=8)

    names = sorted({k[len("estado_"):-len("_linhas")] for r in chosen for k in r
                    if k.startswith("estado_") and k.endswith("_linhas")})
    for name, color in zip(names, ["#55a868", "#8172b2", "#ccb974"]):
        last = [next(r for r in reversed(chosen) if r["pedidos"] == n) for n in ns]
        values = [int(r.get(f"estado_{name}_bytes", 0)) / 2**20 for r in last]
        right.plot(ns, values, "o-", color=color, label=STATE_LABELS.get(name, name))
        for n, value, r in zip(ns, values, last):
            right.annotate(f"{fmt_int(int(r.get(f'estado_{name}_linhas', 0)))} linhas",
                           (n, value), fontsize=7, xytext=(4, 4), textcoords="offset points")
    right.set_xlim(-0.05 * max(ns), 1.3 * max(ns))
    right.xaxis.set_major_formatter(millions)
    right.set_xlabel("milhões de pedidos")
    right.set_ylabel("memória do estado (MiB, RocksDB)")
    right.set_title("Estado ao final (linhas e memória)")
    right.legend(fontsize=8)

    save_chart(fig, machine, path)


# --- main ----------------------------------------------------------------------------------

def int_list(text: str) -> list[int]:
    try:
        values = [int(float(v)) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"lista de inteiros inválida: {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"use inteiros positivos separados por vírgula: {text!r}")
    return values


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = ConsumerOptions()
    parser = PortugueseArgumentParser(prog="bench/consumer.py",
                                      description=__doc__.split("\n")[0])
    parser.add_argument("-b", "--bootstrap-servers", default="localhost:9092",
                        help="endereço do Kafka (padrão: %(default)s)")
    parser.add_argument("--orders", type=positive_int, default=1_000_000,
                        help="pedidos no tópico e nos arquivos (padrão: %(default)s)")
    parser.add_argument("--repeat", type=positive_int, default=2,
                        help="repetições de cada fonte (padrão: %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="semente (padrão: %(default)s)")
    parser.add_argument("--partitions", type=positive_int, default=2,
                        help="partições do tópico (padrão: %(default)s)")
    parser.add_argument("--compression", choices=["lz4", "none", "gzip", "zstd", "snappy"],
                        default="lz4", help="compressão do produtor (padrão: %(default)s, a do "
                                            "produtor do projeto)")
    parser.add_argument("--max-offsets-per-trigger", type=positive_int,
                        default=defaults.max_offsets_per_trigger,
                        help="pedidos por lote, nas duas fontes (padrão: o do consumidor, "
                             "%(default)s)")
    parser.add_argument("--min-partitions", type=positive_int, default=None,
                        help="opção minPartitions da fonte Kafka (padrão: a do consumidor)")
    parser.add_argument("--kafka-option", type=key_value, action="append", default=[],
                        metavar="CHAVE=VALOR", help="opção extra da fonte Kafka (pode repetir)")
    parser.add_argument("--conf", type=key_value, action="append", default=[],
                        metavar="CHAVE=VALOR", help="configuração extra do Spark (pode repetir)")
    parser.add_argument("--lines-per-file", type=positive_int, default=10_000,
                        help="pedidos por arquivo JSON lines (padrão: %(default)s)")
    parser.add_argument("--warmup-orders", type=int, default=50_000,
                        help="pedidos do aquecimento não medido (0: sem; padrão: %(default)s)")
    parser.add_argument("--scaling", action="store_true",
                        help="mede a escala: partições do tópico e número de pedidos")
    parser.add_argument("--scaling-partitions", type=int_list, default=[1, 2, 4],
                        help="partições na série de escala (padrão: 1,2,4)")
    parser.add_argument("--scaling-orders", type=int_list, default=[100_000, 1_000_000, 3_000_000],
                        help="pedidos na série de escala (padrão: 100000,1000000,3000000)")
    parser.add_argument("--scaling-fixed-orders", type=positive_int, default=1_000_000,
                        help="pedidos da série de partições (padrão: %(default)s)")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="onde pôr arquivos e checkpoints temporários "
                             "(padrão: um diretório temporário)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR,
                        help="diretório do CSV e do PNG (padrão: bench/results)")
    parser.add_argument("-v", "--verbose", action="store_true", help="mostra os avisos do Spark")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def measure(spark: Any, machine: dict[str, str], work: Path, topics: list[str]) -> int:
        return (scaling if args.scaling else compare)(spark, args, work, machine, topics)

    return run_with_spark(args, "vendas-bench-consumidor", {}, "bench-consumidor-", measure,
                          work_dir=args.work_dir)

if __name__ == "__main__":
    sys.exit(main())
