"""What every benchmark does around its measurements: the common flags, the Spark session,
exit codes, and clean-up of the topics and scratch files it made, whatever happened."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import SparkSession

from bench.errors import BenchmarkError
from bench.machine import MachineInfo, machine_info
from bench.results import RESULTS_DIR
from bench.topics import drop_topics
from vendas.cli import PortugueseArgumentParser, key_value
from vendas.consumer.app import RunningConsumer
from vendas.contract import DEFAULT_BOOTSTRAP_SERVERS
from vendas.errors import UserError
from vendas.kafka.admin import wait_for_broker
from vendas.logs import setup_logging
from vendas.outputs.console import TotalsPrinter
from vendas.spark.session import build_session

log = logging.getLogger("bench")

# measure(topics) -> exit code; it appends to `topics` every topic it creates
Measure = Callable[[list[str]], int]
# measure(spark, machine, work dir, topics) -> exit code
SparkMeasure = Callable[[SparkSession, MachineInfo, Path, list[str]], int]


def bench_parser(prog: str, doc: str, quick_help: str, spark: bool = True,
                 kafka: bool = True) -> PortugueseArgumentParser:
    """A parser with the flags every benchmark has: -b and --seed (with `kafka`), --quick
    (what it does: `quick_help`), --out, and for Spark --conf, -v; its description is the
    first line of the benchmark's docstring. Parse with parse_sized()."""
    parser = PortugueseArgumentParser(prog=prog, description=doc.split("\n")[0])
    if kafka:
        parser.add_argument("-b", "--bootstrap-servers", default=DEFAULT_BOOTSTRAP_SERVERS,
                            metavar="HOST:PORTA", help="endereço do Kafka (padrão: %(default)s)")
        parser.add_argument("--seed", type=int, default=1,
                            help="semente dos pedidos (padrão: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help=f"tamanho de teste rápido ({quick_help})")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR,
                        help="diretório dos resultados: CSV, JSON e PNG (padrão: bench/results)")
    if spark:
        parser.add_argument("--conf", type=key_value, action="append", default=[],
                            metavar="CHAVE=VALOR",
                            help="configuração extra do Spark (pode repetir)")
        parser.add_argument("-v", "--verbose", action="store_true",
                            help="mostra os avisos do Spark")
    return parser


def int_list(text: str) -> list[int]:
    """A flag's comma-separated positive integers ("100000,1e6")."""
    try:
        values = [int(float(v)) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"lista de inteiros inválida: {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"use inteiros positivos separados por vírgula: {text!r}")
    return values


def parse_sized(parser: argparse.ArgumentParser, argv: list[str] | None,
                quick: Mapping[str, object], full: Mapping[str, object]) -> argparse.Namespace:
    """Parse; every size option left unset (None) takes its --quick or its full value."""
    args = parser.parse_args(argv)
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def quiet_logs() -> None:
    """The project's loggers at WARNING (their per-batch lines would drown the figures);
    the benchmark's own at INFO."""
    setup_logging(quiet=True)
    log.setLevel(logging.INFO)


def run_guarded(bootstrap: str | None, measure: Measure) -> int:
    """Run `measure` and drop the topics it noted (on `bootstrap`), whatever happened. Exit
    code: measure's, 2 for an error the user can fix, 1 for a run that failed."""
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
        if bootstrap is not None:
            drop_topics(bootstrap, topics)


@contextmanager
def scratch_dir(prefix: str, parent: Path | None = None) -> Iterator[Path]:
    """A temporary directory for files and checkpoints (inside `parent`, created if
    missing), removed at the end."""
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def spark_session(app: str, conf: dict[str, str], verbose: bool = False
                  ) -> Iterator[SparkSession]:
    """The project's own session (vendas.spark.session: connector, local defaults), with
    the UI off and `conf` on top; stopped at the end."""
    spark = build_session(app, {"spark.ui.enabled": "false", **conf}, verbose)
    try:
        yield spark
    finally:
        spark.stop()


def run_with_spark(args: argparse.Namespace, app: str, conf: dict[str, str],
                   work_prefix: str, measure: SparkMeasure,
                   work_parent: Path | None = None) -> int:
    """Check the broker, note the machine, start the session (--conf on top of `conf`) and
    run `measure`; then drop its topics and its scratch directory (exit codes: run_guarded)."""
    quiet_logs()

    def with_spark(topics: list[str]) -> int:
        wait_for_broker(args.bootstrap_servers)
        machine = machine_info(args.bootstrap_servers)
        with scratch_dir(work_prefix, work_parent) as work, \
                spark_session(app, {**conf, **dict(args.conf)}, args.verbose) as spark:
            return measure(spark, machine, work, topics)

    return run_guarded(args.bootstrap_servers, with_spark)


def mute_console(running: RunningConsumer) -> None:
    """The console table is still formatted after every batch (what the consumer costs),
    but not printed over the benchmark's own lines."""
    for sink in running.batches.sinks:
        if isinstance(sink, TotalsPrinter):
            sink.out = lambda text: None
