"""Benchmark do produtor: geração, geração + envio ao Kafka, e o laço do projeto original.

Uso: python -m bench.producer [-b localhost:9092] [--orders 200000]
                              [--baseline-orders 20000] [--repeat 3] [--quick]
                              [--out bench/results]

Four scenarios side by side, each repeated, medians compared with the original loop:
  geracao          OrderGenerator + encoding to key/value bytes, no broker;
  geracao+envio    the producer's own send path (vendas.producer.send_orders), --rate 0,
                   counted only when every order is acknowledged by the broker;
  original         seed A's loop (bench/original_loop.py) as its users ran it: in a venv with
                   its pinned kafka-python 2.2.11 and Faker 37.3.0, made once in
                   bench/.venv-originais;
  original-nosso   the same loop in this project's venv (kafka-python 3 with crc32c): what
                   the originals' code alone costs, without their older client.
Writes producer.csv, producer.json (one row per run) and a PNG bar chart. Not a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import venv
from collections.abc import Callable
from functools import partial
from pathlib import Path

from matplotlib.figure import Figure

from bench.errors import BenchmarkError
from bench.machine import machine_info, machine_line
from bench.metrics import median, stopwatch
from bench.results import REPO_ROOT, Row, thousands_axis, write_results
from bench.runner import bench_parser, parse_sized, quiet_logs, run_guarded
from bench.topics import new_topic_name
from vendas.cli import positive_int
from vendas.errors import UserError
from vendas.formatting import fmt_float, fmt_int
from vendas.kafka.admin import ensure_topic, wait_for_broker
from vendas.producer.generator import OrderGenerator
from vendas.producer.sender import create_producer, send_orders

SCENARIOS = ("geracao", "geracao+envio", "original", "original-nosso")
LABELS = {"geracao": "geração", "geracao+envio": "geração + envio",
          "original": "original", "original-nosso": "original, nosso venv"}
# seed A's requirements.txt pins these (and has no crc32c)
ORIGINAL_REQUIREMENTS = ("kafka-python==2.2.11", "Faker==37.3.0")
ORIGINALS_VENV = REPO_ROOT / "bench" / ".venv-originais"
# run as a module from the repository root, so that it finds vendas.cli in either venv
ORIGINAL_LOOP_MODULE = "bench.original_loop"
Run = tuple[str, int, Callable[[], float]]  # scenario, orders, measure -> seconds
QUICK = {"orders": 3_000, "baseline_orders": 300, "repeat": 1}
FULL = {"orders": 200_000, "baseline_orders": None, "repeat": 3}


def bench_generation(n: int, seed: int) -> float:
    generator = OrderGenerator(seed)
    next_order = generator.next_order
    with stopwatch() as elapsed:
        for _ in range(n):
            order = next_order()
            order.key, order.encode()
    return elapsed.seconds


def bench_send(bootstrap: str, topic: str, n: int, seed: int) -> float:
    orders = iter(OrderGenerator(seed))
    producer = create_producer(bootstrap)
    producer.partitions_for(topic)  # metadata first, as a long-running producer has it
    try:
        summary = send_orders(producer, topic, orders, count=n, rate=0)
    finally:
        producer.close()
    if not summary.ok:
        raise BenchmarkError(f"geração+envio: só {summary.acked} de {n} pedidos confirmados")
    return summary.elapsed_s


def originals_python() -> Path:
    """The interpreter of a venv with seed A's pinned libraries, made on first use."""
    python = ORIGINALS_VENV / "bin" / "python"
    stamp = ORIGINALS_VENV / ".instalado"
    wanted = "\n".join(ORIGINAL_REQUIREMENTS)
    if stamp.exists() and stamp.read_text() == wanted:
        return python
    print(f"Criando {ORIGINALS_VENV.relative_to(REPO_ROOT)} com "
          f"{' e '.join(ORIGINAL_REQUIREMENTS)} (só na primeira vez)...", flush=True)
    venv.create(ORIGINALS_VENV, clear=True, with_pip=True)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         *ORIGINAL_REQUIREMENTS], capture_output=True, text=True, check=False)
    if install.returncode != 0:
        raise UserError(f"Não foi possível instalar {' e '.join(ORIGINAL_REQUIREMENTS)} "
                        f"para o laço original: {install.stderr.strip()[-500:]}")
    stamp.write_text(wanted)
    return python


def bench_original(python: Path, bootstrap: str, topic: str, n: int) -> float:
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        run = subprocess.run(
            [str(python), "-m", ORIGINAL_LOOP_MODULE, "--bootstrap-servers", bootstrap,
             "--topic", topic, "--orders", str(n), "--result", result.name],
            cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            check=False)
        if run.returncode != 0:
            raise BenchmarkError(f"o laço original falhou: {run.stderr.strip()[-1000:]}")
        measured = json.loads(Path(result.name).read_text())
    if measured["confirmados"] != n:
        raise BenchmarkError(f"original: só {measured['confirmados']} de {n} pedidos confirmados")
    return measured["segundos"]


def fmt_ratio(value: float, base: float) -> str:
    return f"{fmt_float(value / base, 1)}x"


def chart(medians: dict[str, float]) -> Figure:
    names = list(medians)
    values = [medians[s] for s in names]
    base = medians["original"]
    figure = Figure(figsize=(8, 4.4))
    ax = figure.subplots()
    bars = ax.bar([LABELS[s] for s in names], values,
                  color=["#4c72b0", "#55a868", "#c44e52", "#dd8452"])
    for bar, value in zip(bars, values):
        ax.annotate(f"{fmt_int(value)}/s\n{fmt_ratio(value, base)}",
                    (bar.get_x() + bar.get_width() / 2, value),
                    ha="center", va="bottom", fontsize=9)
    thousands_axis(ax)
    ax.set_ylabel("pedidos por segundo (mediana)")
    ax.set_title("Produtor: pedidos por segundo (razão ao laço original)")
    ax.set_ylim(0, max(values) * 1.25)
    return figure


def measure(args: argparse.Namespace, topics: list[str]) -> list[Row]:
    bootstrap = args.bootstrap_servers
    baseline_n = args.baseline_orders or max(1, args.orders // 10)
    original_envs = {"original": originals_python(), "original-nosso": Path(sys.executable)}

    def fresh_topic() -> str:
        topics.append(new_topic_name("bench-produtor"))
        ensure_topic(bootstrap, topics[-1])
        return topics[-1]

    rows: list[Row] = []
    for repeat in range(1, args.repeat + 1):
        runs: list[Run] = [
            ("geracao", args.orders, partial(bench_generation, args.orders, args.seed)),
            ("geracao+envio", args.orders,
             partial(bench_send, bootstrap, fresh_topic(), args.orders, args.seed))]
        runs += [(scenario, baseline_n,
                  partial(bench_original, python, bootstrap, fresh_topic(), baseline_n))
                 for scenario, python in original_envs.items()]
        for scenario, n, run in runs:
            seconds = run()
            rows.append({"cenario": scenario, "repeticao": repeat, "pedidos": n,
                         "segundos": f"{seconds:.4f}", "pedidos_por_s": f"{n / seconds:.1f}"})
            print(f"  {LABELS[scenario]:<21} execução {repeat}: {fmt_int(n / seconds):>9} "
                  "pedidos/s", flush=True)
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = bench_parser("python -m bench.producer", __doc__, "poucos pedidos, uma execução",
                          spark=False)
    parser.add_argument("--orders", type=positive_int, default=None,
                        help="pedidos por execução de geração e de geração+envio "
                             f"(padrão: {FULL['orders']}; --quick: {QUICK['orders']})")
    parser.add_argument("--baseline-orders", type=positive_int, default=None,
                        help="pedidos por execução do laço original (padrão: --orders / 10)")
    parser.add_argument("--repeat", type=positive_int, default=None,
                        help=f"repetições (padrão: {FULL['repeat']}; --quick: 1)")
    args = parse_sized(parser, argv, QUICK, FULL)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_logs()
    return run_guarded(args.bootstrap_servers, lambda topics: measure_and_report(args, topics))


def measure_and_report(args: argparse.Namespace, topics: list[str]) -> int:
    wait_for_broker(args.bootstrap_servers)
    machine = machine_info(args.bootstrap_servers)
    print(f"máquina: {machine_line(machine)}", flush=True)
    rows = measure(args, topics)

    medians = {s: median(float(r["pedidos_por_s"]) for r in rows if r["cenario"] == s)
               for s in SCENARIOS}
    base = medians["original"]
    print(f"\n{'cenário':<21} {'pedidos/s':>10} {'x original':>11}")
    for scenario in SCENARIOS:
        print(f"{LABELS[scenario]:<21} {fmt_int(medians[scenario]):>10} "
              f"{fmt_ratio(medians[scenario], base):>11}")
    print(f"\ngeração + envio: {fmt_ratio(medians['geracao+envio'], base)} o laço original, "
          f"{fmt_ratio(medians['geracao+envio'], medians['original-nosso'])} o mesmo laço "
          "no nosso venv")
    summary = {f"{s}_pedidos_por_s": round(v, 1) for s, v in medians.items()}
    write_results(args.out, "producer", rows, machine, summary, chart(medians))
    return 0


if __name__ == "__main__":
    sys.exit(main())
