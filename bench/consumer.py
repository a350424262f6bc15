"""Benchmark do consumidor: o nosso contra uma consulta simples do Spark, no mesmo tópico.

Uso: python -m bench.consumer [-b localhost:9092] [--orders 500000] [--repeat 3]
                              [--partitions 2] [--launcher spark-submit|python]
                              [--only processo|interno] [--plain-files]
                              [--plain-kafka-defaults] [--quick] [--out bench/results]

N seeded orders (a fixed clock: every run has the very same orders) are generated once,
sent to a fresh topic of --partitions partitions with the project's producer and written,
byte for byte, as JSON lines. Then, the headline, our consumer relative to a plain Spark
query on the same topic (bench/plain_query.py: Spark's Kafka source, from_json with a fixed
schema, explode, groupBy, no validation, no de-duplication, no dead letters), measured two
ways:

  processo  whole process: cold `spark-submit --packages <connector> consumidor_vendas.py
            --available-now` against a cold `spark-submit --packages <connector>
            bench/plain_query.py` on the same topic, in alternated pairs, --repeat pairs
            (bench.cold); with --plain-files, the plain query over the JSON lines too;
  interno   in process: in one Spark session, after an unmeasured warm-up of each, the
            consumer's own queries over Kafka (vendas.consumer.start) and over the JSON
            lines, and the plain query over Kafka and over the JSON lines, in rotating order
            (bench.inprocess).

Both sides read the topic alike: the same batch size (--max-offsets-per-trigger) and the
consumer's own Kafka source options (unless --plain-kafka-defaults: Spark's defaults for
the plain query, as a user who never tuned the source runs it), the same shuffle settings.
"Ours relative to plain" is the plain query's time over ours for the same orders (the
ratio of rates; 1.0: as fast): whole process, the median of the pairs' ratios. Targets:
>= 0.8 whole process, >= 0.5 in process. Every run must end with the generated orders'
totals to the cent or the benchmark fails. Prints medians, the ratios, the machine and
its load; writes consumer.csv, consumer.json and consumer.png.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from matplotlib.figure import Figure

from bench import cold
from bench.inprocess import (
    FILES,
    KAFKA,
    LABELS,
    PLAIN,
    PLAIN_FILES,
    Drain,
    DrainSettings,
    drain,
)
from bench.machine import MachineInfo, machine_info, machine_line
from bench.metrics import median, relative_rate
from bench.orders import LoadedOrders, load_orders
from bench.results import Row, fmt_mib, state_text, thousands_axis, write_results
from bench.runner import (
    bench_parser,
    parse_sized,
    quiet_logs,
    run_guarded,
    scratch_dir,
    spark_session,
)
from bench.topics import new_topic_name
from vendas.cli import key_value, positive_int
from vendas.consumer.app import ConsumerOptions
from vendas.formatting import fmt_float, fmt_int
from vendas.kafka.admin import wait_for_broker

IN_PROCESS = (KAFKA, FILES, PLAIN, PLAIN_FILES)
TARGET_WHOLE_PROCESS = 0.8
TARGET_IN_PROCESS = 0.5
PARTS = ("processo", "interno")
# --quick: a smoke-test size, for tests/test_bench.py and a first look
QUICK = {"orders": 3_000, "repeat": 1, "warmup_orders": 0, "lines_per_file": 500}
FULL = {"orders": 500_000, "repeat": 3, "warmup_orders": 50_000, "lines_per_file": 10_000}


def load(args: argparse.Namespace, n: int, files_dir: Path | None, partitions: int,
         topics: list[str]) -> LoadedOrders:
    """n orders to a new topic (noted in `topics` with its dead-letter topic) and files."""
    topic = new_topic_name("bench-consumidor")
    topics += [topic, f"{topic}-dlq"]
    loaded = load_orders(args.bootstrap_servers, topic, n, args.seed, partitions=partitions,
                         compression=None if args.compression == "none" else args.compression,
                         jsonl_dir=files_dir, lines_per_file=args.lines_per_file)
    print(f"  {fmt_int(n)} pedidos enviados ao tópico {topic} ({partitions} partições, "
          f"compressão {args.compression}) em {fmt_float(loaded.send_seconds)} s"
          + (f"; {loaded.files} arquivos JSON lines, {fmt_mib(loaded.json_bytes)}"
             if files_dir else ""), flush=True)
    return loaded


def drain_settings(args: argparse.Namespace) -> DrainSettings:
    kafka_options = {**ConsumerOptions().kafka_options, **dict(args.kafka_option)}
    if args.min_partitions:
        kafka_options["minPartitions"] = str(args.min_partitions)
    settings = DrainSettings(args.max_offsets_per_trigger, kafka_options, args.lines_per_file)
    return replace(settings, plain_kafka_options=plain_kafka_options(args, settings))


def plain_kafka_options(args: argparse.Namespace, settings: DrainSettings) -> dict[str, str]:
    """The plain query's Kafka source options: ours, or Spark's defaults (only what the
    user passed with --kafka-option)."""
    if args.plain_kafka_defaults:
        return dict(args.kafka_option)
    return dict(settings.kafka_options)


def whole_process_strategies(args: argparse.Namespace) -> tuple[str, ...]:
    return (cold.OURS, cold.PLAIN, *((cold.PLAIN_FILES,) if args.plain_files else ()))


def rotated(items: Sequence[str], repeat: int) -> list[str]:
    """Repetition r starts at item r-1: each strategy takes each place in turn."""
    shift = (repeat - 1) % len(items)
    return [*items[shift:], *items[:shift]]


# --- whole process -----------------------------------------------------------------------

def whole_process(args: argparse.Namespace, data: LoadedOrders, work: Path,
                  settings: DrainSettings) -> list[cold.ColdRun]:
    process = cold.ColdSettings(args.launcher, args.bootstrap_servers,
                                settings.max_offsets_per_trigger, settings.files_per_trigger,
                                tuple(args.kafka_option),
                                tuple(plain_kafka_options(args, settings).items()),
                                args.timeout)
    print(f"\nProcesso inteiro ({args.launcher}, um processo novo por execução, "
          f"alternados):", flush=True)
    runs = []
    for repeat in range(1, args.repeat + 1):
        for strategy in rotated(whole_process_strategies(args), repeat):
            run = cold.run_cold(strategy, data, work, process)
            runs.append(run)
            print(f"  {cold.LABELS[strategy]:<18} execução {repeat}: "
                  f"{fmt_float(run.timing.seconds):>7} s, {fmt_int(run.timing.rate):>7} "
                  f"pedidos/s (carga {fmt_float(run.load, 1)})", flush=True)
    return runs


# --- in process ----------------------------------------------------------------------------

def in_process(args: argparse.Namespace, data: LoadedOrders, warm: LoadedOrders | None,
               work: Path, settings: DrainSettings) -> list[tuple[int, Drain]]:
    print("\nNo processo (uma sessão Spark):", flush=True)
    drains: list[tuple[int, Drain]] = []
    with spark_session("vendas-bench-consumidor", dict(args.conf), args.verbose) as spark:
        if warm is not None:
            print("  aquecimento (não medido)...", flush=True)
            for source in IN_PROCESS:
                drain(spark, source, warm, work, args.bootstrap_servers, settings)
        for repeat in range(1, args.repeat + 1):
            for source in rotated(IN_PROCESS, repeat):
                d = drain(spark, source, data, work, args.bootstrap_servers, settings)
                drains.append((repeat, d))
                print(f"  {LABELS[source]:<18} execução {repeat}: "
                      f"{fmt_int(d.timing.rate):>8} pedidos/s ({fmt_float(d.timing.seconds)} s, "
                      f"{d.batches} lotes; pico JVM {fmt_mib(d.jvm_peak)}, Python "
                      f"{fmt_mib(d.python_peak)}; carga {fmt_float(d.load, 1)})", flush=True)
    return drains


# --- report ------------------------------------------------------------------------------

def target_text(ratio: float, target: float) -> str:
    """The ratio against its target, with as many decimals as the verdict needs (0.4964
    reads 0,496, not a 0,50 that would seem to meet 0,5)."""
    met = ratio >= target
    digits = 2
    while digits < 6 and (round(ratio, digits) >= target) != met:
        digits += 1
    verdict = "atingida" if met else "NÃO atingida"
    return f"{fmt_float(ratio, digits)} (meta >= {fmt_float(target, 1)}: {verdict})"


def report(args: argparse.Namespace, data: LoadedOrders, cold_runs: list[cold.ColdRun],
           drains: list[tuple[int, Drain]], machine: MachineInfo) -> None:
    rows: list[Row] = []
    summary: dict[str, str | int | float] = {
        "pedidos": data.orders, "particoes": args.partitions, "compressao": args.compression,
        "lancador": args.launcher, "repeticoes": args.repeat,
        "lote_max": args.max_offsets_per_trigger or 0,
        "fonte_kafka_da_consulta_simples": ("padrao do Spark" if args.plain_kafka_defaults
                                            else "a do consumidor")}
    headline = []
    strategies = whole_process_strategies(args)
    cold_seconds = {s: [r.timing.seconds for r in cold_runs if r.strategy == s]
                    for s in strategies}
    if cold_runs:
        print(f"\nProcesso inteiro, {fmt_int(data.orders)} pedidos ({args.launcher}; "
              f"mediana de {args.repeat}):")
        for strategy in strategies:
            seconds = median(cold_seconds[strategy])
            print(f"  {cold.LABELS[strategy]:<18} {fmt_float(seconds):>7} s "
                  f"{fmt_int(data.orders / seconds):>8} pedidos/s "
                  f"(execuções: {', '.join(fmt_float(x) for x in cold_seconds[strategy])})")
            summary[f"processo_{strategy}_segundos"] = round(seconds, 3)
        # each pair ran back to back: its ratio sees the same machine load on both sides
        per_pair = [p / o for o, p in zip(cold_seconds[cold.OURS], cold_seconds[cold.PLAIN])]
        ratio = median(per_pair)
        print(f"  nosso relativo à consulta simples (mesmo tópico, mediana dos pares): "
              f"{target_text(ratio, TARGET_WHOLE_PROCESS)}; por par: "
              f"{', '.join(fmt_float(r, 2) for r in per_pair)}")
        summary["razao_processo_inteiro"] = round(ratio, 4)
        summary["razao_processo_inteiro_por_par"] = ", ".join(f"{r:.3f}" for r in per_pair)
        if cold_seconds.get(cold.PLAIN_FILES):
            files = median(p / o for o, p in zip(cold_seconds[cold.OURS],
                                                 cold_seconds[cold.PLAIN_FILES]))
            print(f"  nosso relativo à consulta simples sobre arquivos: {fmt_float(files, 2)}")
            summary["razao_processo_inteiro_arquivos"] = round(files, 4)
        headline.append(f"processo inteiro {target_text(ratio, TARGET_WHOLE_PROCESS)}")
        pair = {s: 0 for s in strategies}
        for run in cold_runs:
            pair[run.strategy] += 1
            rows.append({"fase": "processo", "estrategia": run.strategy,
                         "repeticao": pair[run.strategy],
                         "pedidos": run.timing.orders, "segundos": f"{run.timing.seconds:.3f}",
                         "pedidos_por_s": f"{run.timing.rate:.1f}",
                         "carga_1min": f"{run.load:.2f}"})
    rates = {s: [d.timing.rate for _, d in drains if d.source == s] for s in IN_PROCESS}
    if drains:
        print(f"\nNo processo, {fmt_int(data.orders)} pedidos (uma JVM aquecida; mediana de "
              f"{args.repeat}):")
        for source in IN_PROCESS:
            print(f"  {LABELS[source]:<18} {fmt_int(median(rates[source])):>8} pedidos/s "
                  f"(mín. {fmt_int(min(rates[source]))}, máx. {fmt_int(max(rates[source]))})")
            summary[f"interno_{source}_pedidos_por_s"] = round(median(rates[source]), 1)
        ratio = relative_rate(median(rates[KAFKA]), median(rates[PLAIN]))
        pipeline = relative_rate(median(rates[FILES]), median(rates[PLAIN_FILES]))
        source_cost = relative_rate(median(rates[KAFKA]), median(rates[FILES]))
        plain_source = relative_rate(median(rates[PLAIN]), median(rates[PLAIN_FILES]))
        print(f"  nosso (Kafka) relativo à consulta simples (Kafka): "
              f"{target_text(ratio, TARGET_IN_PROCESS)}")
        print(f"  nosso (arquivos) relativo à consulta simples (arquivos): "
              f"{fmt_float(pipeline, 2)}")
        print(f"  Kafka relativo a arquivos: {fmt_float(source_cost, 2)} nas nossas consultas, "
              f"{fmt_float(plain_source, 2)} na consulta simples")
        summary.update(razao_no_processo=round(ratio, 4),
                       razao_nosso_arquivos_simples_arquivos=round(pipeline, 4),
                       razao_kafka_arquivos=round(source_cost, 4),
                       razao_kafka_arquivos_simples=round(plain_source, 4))
        headline.append(f"no processo {target_text(ratio, TARGET_IN_PROCESS)}")
        jvm = max(d.jvm_peak for _, d in drains)
        python = max(d.python_peak for _, d in drains)
        print(f"  pico de memória do driver: JVM {fmt_mib(jvm)}, Python {fmt_mib(python)}")
        last_kafka = next(d for _, d in reversed(drains) if d.source == KAFKA)
        print(f"  estado ao final: {state_text(last_kafka.state)}")
        for repeat, d in drains:
            rows.append({
                "fase": "interno", "estrategia": d.source, "repeticao": repeat,
                "pedidos": d.timing.orders, "segundos": f"{d.timing.seconds:.3f}",
                "pedidos_por_s": f"{d.timing.rate:.1f}", "carga_1min": f"{d.load:.2f}",
                "lotes": d.batches, "pico_jvm_bytes": d.jvm_peak,
                "pico_python_bytes": d.python_peak,
                **{f"estado_{name}_linhas": s["linhas"] for name, s in d.state.items()},
                **{f"estado_{name}_bytes": s["memoria"] for name, s in d.state.items()},
            })
    print(f"\nmáquina: {machine_line(machine)}")
    print(f"NOSSO RELATIVO À CONSULTA SIMPLES: {'; '.join(headline)}")
    write_results(args.out, "consumer", rows, machine, summary,
                  chart(strategies, cold_seconds, rates, data.orders, summary))


def chart(strategies: Sequence[str], cold_seconds: dict[str, list[float]],
          rates: dict[str, list[float]], orders: int,
          summary: dict[str, str | int | float]) -> Figure:
    figure = Figure(figsize=(12, 4.8))
    left, right = figure.subplots(1, 2)
    panels = [(left, strategies, cold.LABELS, cold_seconds, "Processo inteiro",
               "segundos (mediana)", "razao_processo_inteiro", " s"),
              (right, IN_PROCESS, LABELS, rates, "No processo (JVM aquecida)",
               "pedidos por segundo (mediana)", "razao_no_processo", "/s")]
    for ax, names, labels, values, title, ylabel, ratio_key, unit in panels:
        present = [n for n in names if values.get(n)]
        if not present:
            ax.set_axis_off()
            continue
        medians = [median(values[n]) for n in present]
        ax.bar([labels[n] for n in present], medians,
               color=["#4c72b0", "#8172b2", "#8c8c8c", "#b0b0b0"][:len(present)])
        for i, name in enumerate(present):
            ax.scatter([i] * len(values[name]), values[name], color="black", s=12, zorder=3)
            text = fmt_float(medians[i], 1) if unit == " s" else fmt_int(medians[i])
            ax.annotate(f"{text}{unit}", (i, medians[i]), ha="center", va="bottom", fontsize=9)
        thousands_axis(ax)
        ax.tick_params(axis="x", labelsize=8)
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, max(max(values[n]) for n in present) * 1.2)
        ax.set_title(f"{title}, {fmt_int(orders)} pedidos\nnosso relativo à consulta "
                     f"simples (Kafka): {fmt_float(float(summary[ratio_key]), 2)}", fontsize=10)
    return figure


# --- main ----------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = ConsumerOptions()
    parser = bench_parser("python -m bench.consumer", __doc__,
                          "poucos pedidos, uma execução de cada lado, sem aquecimento")
    parser.add_argument("--orders", type=positive_int, default=None,
                        help=f"pedidos no tópico e nos arquivos (padrão: {FULL['orders']}; "
                             f"--quick: {QUICK['orders']})")
    parser.add_argument("--repeat", type=positive_int, default=None,
                        help=f"execuções de cada lado (padrão: {FULL['repeat']}; --quick: 1)")
    parser.add_argument("--warmup-orders", type=int, default=None,
                        help="pedidos do aquecimento no processo, não medido (0: sem; padrão: "
                             f"{FULL['warmup_orders']}; --quick: 0)")
    parser.add_argument("--lines-per-file", type=positive_int, default=None,
                        help=f"pedidos por arquivo JSON lines (padrão: {FULL['lines_per_file']}; "
                             f"--quick: {QUICK['lines_per_file']})")
    parser.add_argument("--only", choices=PARTS, default=None,
                        help="mede só o processo inteiro ou só no processo (padrão: os dois)")
    parser.add_argument("--launcher", choices=cold.LAUNCHERS, default="spark-submit",
                        help="como iniciar os processos inteiros (padrão: %(default)s)")
    parser.add_argument("--partitions", type=positive_int, default=2,
                        help="partições do tópico (padrão: %(default)s)")
    parser.add_argument("--compression", choices=["lz4", "none", "gzip", "zstd", "snappy"],
                        default="lz4", help="compressão do produtor (padrão: %(default)s, a do "
                                            "produtor do projeto)")
    parser.add_argument("--max-offsets-per-trigger", type=positive_int,
                        default=defaults.max_offsets_per_trigger,
                        help="pedidos por lote, em todas as fontes (padrão: o do consumidor, "
                             "%(default)s)")
    parser.add_argument("--plain-files", action="store_true",
                        help="no processo inteiro, também a consulta simples sobre os arquivos "
                             "JSON lines")
    parser.add_argument("--plain-kafka-defaults", action="store_true",
                        help="a consulta simples com as opções padrão da fonte Kafka do Spark "
                             "(padrão: as mesmas do consumidor)")
    parser.add_argument("--min-partitions", type=positive_int, default=None,
                        help="opção minPartitions da fonte Kafka (padrão: a do consumidor)")
    parser.add_argument("--kafka-option", type=key_value, action="append", default=[],
                        metavar="CHAVE=VALOR", help="opção extra da fonte Kafka (pode repetir)")
    parser.add_argument("--timeout", type=positive_int, default=1800,
                        help="limite de cada processo inteiro, em segundos (padrão: %(default)s)")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="onde pôr arquivos e checkpoints temporários "
                             "(padrão: um diretório temporário)")
    args = parse_sized(parser, argv, QUICK, FULL)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_logs()

    def measure(topics: list[str]) -> int:
        wait_for_broker(args.bootstrap_servers)
        machine = machine_info(args.bootstrap_servers)
        settings = drain_settings(args)
        with scratch_dir("bench-consumidor-", args.work_dir) as work:
            print(f"Preparando {fmt_int(args.orders)} pedidos (semente {args.seed})...",
                  flush=True)
            data = load(args, args.orders, work / "jsonl", args.partitions, topics)
            cold_runs = [] if args.only == "interno" else whole_process(args, data, work,
                                                                         settings)
            drains: list[tuple[int, Drain]] = []
            if args.only != "processo":
                warm = (load(args, args.warmup_orders, work / "jsonl-aquecimento",
                             args.partitions, topics) if args.warmup_orders else None)
                drains = in_process(args, data, warm, work, settings)
            report(args, data, cold_runs, drains, machine)
        return 0

    return run_guarded(args.bootstrap_servers, measure)


if __name__ == "__main__":
    sys.exit(main())
