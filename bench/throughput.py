"""Benchmark de vazão do consumidor: por partições do tópico e por número de pedidos.

Uso: python -m bench.throughput [-b localhost:9092] [--partitions 1,2,4]
                             [--partition-orders 1000000] [--orders 100000,1000000,3000000]
                             [--repeat 2] [--quick] [--conf CHAVE=VALOR] [--out bench/results]

The consumer's own queries over Kafka (bench.inprocess, in one Spark session, after an
unmeasured warm-up), first against the topic's partition count at a fixed number of
orders, then against the number of orders on a 2-partition topic, with the state each run
keeps (rows and memory per stateful operator). Every run must end with the generated
orders' totals to the cent. Writes throughput.csv, throughput.json and throughput.png.
(The cost of each batch against history -- products and ids in the state -- is
bench.scaling.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from matplotlib.figure import Figure
from pyspark.sql import SparkSession

from bench.inprocess import KAFKA, Drain, DrainSettings, drain
from bench.machine import MachineInfo, machine_line
from bench.metrics import STATE_LABELS, median
from bench.orders import LoadedOrders, load_orders
from bench.results import Row, millions_axis, state_text, thousands_axis, write_results
from bench.runner import bench_parser, int_list, parse_sized, run_with_spark
from bench.topics import drop_topics, new_topic_name
from vendas.cli import positive_int
from vendas.formatting import fmt_float, fmt_int

DEFAULT_PARTITIONS = 2
QUICK = {"partitions": [1], "partition_orders": 500, "orders": [1_000], "warmup_orders": 0,
         "repeat": 1}
FULL = {"partitions": [1, 2, 4], "partition_orders": 1_000_000,
        "orders": [100_000, 1_000_000, 3_000_000], "warmup_orders": 50_000, "repeat": 2}


def load(args: argparse.Namespace, n: int, partitions: int, topics: list[str]) -> LoadedOrders:
    topic = new_topic_name("bench-vazao")
    topics += [topic, f"{topic}-dlq"]
    loaded = load_orders(args.bootstrap_servers, topic, n, args.seed, partitions=partitions)
    print(f"  {fmt_int(n)} pedidos enviados ao tópico {topic} ({partitions} partições) em "
          f"{fmt_float(loaded.send_seconds)} s", flush=True)
    return loaded


def row(series: str, partitions: int, repeat: int, d: Drain) -> Row:
    return {
        "serie": series, "particoes": partitions, "pedidos": d.timing.orders,
        "repeticao": repeat, "segundos": f"{d.timing.seconds:.3f}",
        "pedidos_por_s": f"{d.timing.rate:.1f}", "lotes": d.batches,
        "pico_jvm_bytes": d.jvm_peak, "carga_1min": f"{d.load:.2f}",
        **{f"estado_{name}_linhas": s["linhas"] for name, s in d.state.items()},
        **{f"estado_{name}_bytes": s["memoria"] for name, s in d.state.items()},
    }


def measure(spark: SparkSession, args: argparse.Namespace, machine: MachineInfo, work: Path,
            topics: list[str]) -> int:
    settings = DrainSettings()
    rows: list[Row] = []
    drains: dict[tuple[str, int], list[Drain]] = {}

    def series(kind: str, n: int, partitions: int, key: int) -> None:
        data = load(args, n, partitions, topics)
        for repeat in range(1, args.repeat + 1):
            d = drain(spark, KAFKA, data, work, args.bootstrap_servers, settings)
            drains.setdefault((kind, key), []).append(d)
            rows.append(row(kind, partitions, repeat, d))
            print(f"  execução {repeat}: {fmt_int(d.timing.rate):>8} pedidos/s "
                  f"({fmt_float(d.timing.seconds)} s, {d.batches} lotes; carga "
                  f"{fmt_float(d.load, 1)}); estado: {state_text(d.state)}", flush=True)
        drop_topics(args.bootstrap_servers, [data.topic, f"{data.topic}-dlq"])

    if args.warmup_orders:
        print("Aquecimento (não medido)...", flush=True)
        warm = load(args, args.warmup_orders, DEFAULT_PARTITIONS, topics)
        drain(spark, KAFKA, warm, work, args.bootstrap_servers, settings)
    for partitions in args.partitions:
        print(f"\nPartições do tópico: {partitions}", flush=True)
        series("particoes", args.partition_orders, partitions, partitions)
    for n in args.orders:
        print(f"\nPedidos: {fmt_int(n)}", flush=True)
        series("pedidos", n, DEFAULT_PARTITIONS, n)

    def med(kind: str, key: int) -> tuple[float, float]:
        chosen = drains[(kind, key)]
        return median(d.timing.rate for d in chosen), median(d.timing.seconds for d in chosen)

    print(f"\n{'partições':>9} {'pedidos/s':>10} {'segundos':>9}  "
          f"({fmt_int(args.partition_orders)} pedidos)")
    for p in args.partitions:
        rate, seconds = med("particoes", p)
        print(f"{p:>9} {fmt_int(rate):>10} {fmt_float(seconds):>9}")
    print(f"\n{'pedidos':>10} {'pedidos/s':>10} {'segundos':>9} {'µs/pedido':>10}  estado ao final")
    for n in args.orders:
        rate, seconds = med("pedidos", n)
        print(f"{fmt_int(n):>10} {fmt_int(rate):>10} {fmt_float(seconds):>9} "
              f"{fmt_float(seconds / n * 1e6, 1):>10}  "
              f"{state_text(drains[('pedidos', n)][-1].state)}")
    print(f"máquina: {machine_line(machine)}")
    summary = {f"particoes_{p}_pedidos_por_s": round(med("particoes", p)[0], 1)
               for p in args.partitions}
    summary.update({f"pedidos_{n}_pedidos_por_s": round(med("pedidos", n)[0], 1)
                    for n in args.orders})
    write_results(args.out, "throughput", rows, machine, summary, chart(drains, args))
    return 0


def chart(drains: dict[tuple[str, int], list[Drain]], args: argparse.Namespace) -> Figure:
    figure = Figure(figsize=(13, 4.3))
    left, middle, right = figure.subplots(1, 3)

    parts = args.partitions
    rates = [median(d.timing.rate for d in drains[("particoes", p)]) for p in parts]
    left.bar([str(p) for p in parts], rates, color="#4c72b0")
    for i, value in enumerate(rates):
        left.annotate(fmt_int(value), (i, value), ha="center", va="bottom", fontsize=8)
    thousands_axis(left)
    left.set_xlabel("partições do tópico")
    left.set_ylabel("pedidos por segundo (mediana)")
    left.set_title(f"{fmt_int(args.partition_orders)} pedidos")

    ns = args.orders
    runs = [(n, d) for n in ns for d in drains[("pedidos", n)]]
    middle.scatter([n for n, _ in runs], [d.timing.seconds for _, d in runs], color="#4c72b0",
                   zorder=3, label="execuções")
    seconds = [median(d.timing.seconds for d in drains[("pedidos", n)]) for n in ns]
    slope = sum(s * n for s, n in zip(seconds, ns)) / sum(n * n for n in ns)  # fit through 0
    middle.plot([0, max(ns)], [0, slope * max(ns)], "--", color="#c44e52",
                label=f"linear: {fmt_float(slope * 1e6, 1)} µs/pedido")
    millions_axis(middle)
    middle.set_xlabel("milhões de pedidos")
    middle.set_ylabel("segundos")
    middle.set_title("Tempo para consumir o tópico")
    middle.legend(fontsize=8)

    last = [drains[("pedidos", n)][-1].state for n in ns]
    names = sorted({name for state in last for name in state})
    for name, color in zip(names, ["#55a868", "#8172b2", "#ccb974"]):
        values = [state.get(name, {}).get("memoria", 0) / 2**20 for state in last]
        right.plot(ns, values, "o-", color=color, label=STATE_LABELS.get(name, name))
        for n, value, state in zip(ns, values, last):
            right.annotate(f"{fmt_int(state.get(name, {}).get('linhas', 0))} linhas",
                           (n, value), fontsize=7, xytext=(4, 4), textcoords="offset points")
    right.set_xlim(-0.05 * max(ns), 1.3 * max(ns))
    millions_axis(right)
    right.set_xlabel("milhões de pedidos")
    right.set_ylabel("memória do estado (MiB, RocksDB)")
    right.set_title("Estado ao final (linhas e memória)")
    right.legend(fontsize=8)
    return figure


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = bench_parser("python -m bench.throughput", __doc__,
                          "poucos pedidos, um ponto de cada série")
    parser.add_argument("--partitions", type=int_list, default=None,
                        help="partições na série de partições (padrão: 1,2,4)")
    parser.add_argument("--partition-orders", type=positive_int, default=None,
                        help="pedidos da série de partições "
                             f"(padrão: {FULL['partition_orders']})")
    parser.add_argument("--orders", type=int_list, default=None,
                        help="pedidos na série de pedidos (padrão: 100000,1000000,3000000)")
    parser.add_argument("--repeat", type=positive_int, default=None,
                        help=f"execuções de cada ponto (padrão: {FULL['repeat']}; --quick: 1)")
    parser.add_argument("--warmup-orders", type=int, default=None,
                        help="pedidos do aquecimento não medido (0: sem; padrão: "
                             f"{FULL['warmup_orders']})")
    args = parse_sized(parser, argv, QUICK, FULL)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_with_spark(
        args, "vendas-bench-vazao", {}, "bench-vazao-",
        lambda spark, machine, work, topics: measure(spark, args, machine, work, topics))


if __name__ == "__main__":
    sys.exit(main())
