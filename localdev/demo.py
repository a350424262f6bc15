"""`make demo`: the producer at a steady rate in the background, the consumer in front,
and, given a database (--banco or VENDAS_BANCO), the totals in it and the live dashboard.

Ctrl-C stops the producer first (it flushes and prints its summary), lets the consumer
count what the topic then holds, so that its last table matches what was sent, and then
stops the consumer (at a batch boundary) and the dashboard; the broker and the database
keep running.

Usage: python -m localdev.demo [--bootstrap-servers HOST:PORTA] [--rate 200] [--banco URL]
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from vendas import contract as c
from vendas.cli import (
    PortugueseArgumentParser,
    non_negative_float,
    positive_int,
    report_user_error,
)
from vendas.consumer.app import ORDERS_QUERY, ConsumerOptions
from vendas.dashboard.app import DEFAULT_HOST as PAINEL_HOST
from vendas.dashboard.app import DEFAULT_PORT as PAINEL_PORT
from vendas.dashboard.app import ensure_port_free
from vendas.errors import UserError
from vendas.kafka import config as kafka_config
from vendas.kafka.admin import ensure_topic
from vendas.kafka.checkpoint_offsets import last_source_offsets, topic_end_offsets
from vendas.logs import setup_logging
from vendas.outputs.postgres import connect, describe
from vendas.signals import StopSignals

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None) if sys.platform.startswith("linux") else None
STOP_TIMEOUT_S = 60


def main(argv: list[str] | None = None) -> int:
    parser = PortugueseArgumentParser(
        prog="python -m localdev.demo",
        description="Demonstração: produtor, consumidor e, com um banco, o painel ao vivo.")
    parser.add_argument("-b", "--bootstrap-servers", default=None)
    kafka_config.add_cli_option(parser)
    parser.add_argument("--topic", default=c.DEFAULT_TOPIC)
    parser.add_argument("--rate", type=non_negative_float, default=200.0,
                        help="pedidos por segundo")
    parser.add_argument("--trigger", type=non_negative_float,
                        default=ConsumerOptions().trigger_seconds, help="segundos entre lotes")
    parser.add_argument("--banco", default=None, metavar="URL",
                        help="PostgreSQL dos totais e do painel (padrão: a variável "
                             "VENDAS_BANCO; sem ele, só o console)")
    parser.add_argument("--painel-porta", type=positive_int,
                        default=int(os.environ.get("PAINEL_PORT") or PAINEL_PORT),
                        help="porta do painel (padrão: $PAINEL_PORT ou %(default)s)")
    parser.add_argument("--painel-host",
                        default=os.environ.get("PAINEL_HOST") or PAINEL_HOST,
                        help="endereço do painel (padrão: $PAINEL_HOST ou %(default)s)")
    args = parser.parse_args(argv)
    database_url = args.banco or os.environ.get("VENDAS_BANCO") or None
    setup_logging()
    # Ctrl-C must reach us even when started from a shell that ignores SIGINT for
    # background jobs; SIGTERM (e.g. from a process manager) stops the demo the same way.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        client = kafka_config.load(args.kafka_config)
        bootstrap = client.bootstrap(args.bootstrap_servers, c.DEFAULT_BOOTSTRAP_SERVERS)
        ensure_topic(bootstrap, args.topic, config=client)
        if database_url:  # both checked before anything starts
            connect(database_url, "vendas-demo").close()
            ensure_port_free(args.painel_host, args.painel_porta)
    except UserError as error:
        return report_user_error(error)

    common = ["--bootstrap-servers", bootstrap, "--topic", args.topic]
    if args.kafka_config:  # a file name, never its secrets, on the children's command lines
        common += ["--kafka-config", args.kafka_config]
    # Own sessions: the terminal's Ctrl-C reaches only this process, which then stops
    # each child exactly once (a second SIGINT would make them skip their clean stop).
    # The database URL reaches the children in VENDAS_BANCO, never on their command lines.
    env = dict(os.environ, VENDAS_BANCO=database_url) if database_url else None
    producer = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "produtor_vendas.py"), *common, "--rate", str(args.rate)],
        start_new_session=True, preexec_fn=_stop_with_parent,  # noqa: PLW1509 (see there)
    )
    consumer = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "consumidor_vendas.py"), *common,
         "--trigger", str(args.trigger)],
        start_new_session=True, env=env,
        preexec_fn=_stop_with_parent,  # noqa: PLW1509 (see there)
    )
    dashboard = None
    if database_url:
        dashboard = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "painel_vendas.py"),
             "--porta", str(args.painel_porta), "--host", args.painel_host],
            start_new_session=True, env=env, stdout=subprocess.DEVNULL,
            preexec_fn=_stop_with_parent,  # noqa: PLW1509 (see there)
        )
    log.info("Demonstração rodando: produtor a %.0f pedidos/s, consumidor com lotes a cada "
             "%.0f s%s. Ctrl-C para parar.", args.rate, args.trigger,
             f", totais no PostgreSQL em {describe(database_url)}" if database_url else "")
    if dashboard is not None:
        host = "127.0.0.1" if args.painel_host in ("0.0.0.0", "") else args.painel_host
        log.info("Painel ao vivo: http://%s:%d", host, args.painel_porta)
    children = [p for p in (producer, consumer, dashboard) if p is not None]
    with StopSignals() as stop:
        while not stop.wait(0.5) and consumer.poll() is None:
            pass
        try:
            if stop.requested:
                log.info("Parando o produtor; o consumidor conta o que ele enviou "
                         "(Ctrl-C de novo para não esperar)...")
                _stop(producer)
                _drain(consumer, bootstrap, args.topic, client.python_kwargs(), args.trigger)
            else:
                log.error("O consumidor terminou sozinho (código %d); parando o resto.",
                          consumer.returncode)
            for process in children:
                _stop(process)
        except KeyboardInterrupt:
            for process in children:
                _kill(process)
    return 0 if consumer.returncode in (0, -signal.SIGINT) else 1


def _drain(consumer: subprocess.Popen, bootstrap: str, topic: str, client_config: dict,
           trigger_s: float) -> None:
    """Wait until the consumer committed a batch that reaches the topic's end offsets as
    they are once the producer stopped: its last table then counts every order sent."""
    try:
        ends = topic_end_offsets(bootstrap, topic, client_config)
    except UserError as error:
        log.warning("%s Parando o consumidor sem esperar o último lote.", error)
        return
    query_dir = ConsumerOptions(topic=topic).local_checkpoint_dir / ORDERS_QUERY
    deadline = time.monotonic() + max(60.0, 10 * trigger_s)
    while consumer.poll() is None and time.monotonic() < deadline:
        if _committed_reaches(query_dir, topic, ends):
            return
        time.sleep(0.2)
    if consumer.poll() is None:
        log.warning("O consumidor não alcançou o fim do tópico a tempo; parando assim mesmo "
                    "(o checkpoint guarda onde parou).")


def _committed_reaches(query_dir: Path, topic: str, ends: dict[int, int]) -> bool:
    """Whether the latest batch is committed and its offsets (checkpoint files) reach `ends`."""
    def batch_ids(kind: str) -> list[int]:
        return [int(p.name) for p in (query_dir / kind).glob("[0-9]*") if p.name.isdigit()]

    commits, planned = batch_ids("commits"), batch_ids("offsets")
    if not commits:
        return not any(ends.values())
    if max(planned) != max(commits):
        return False  # a batch is running
    saved = (last_source_offsets(query_dir) or {}).get(topic, {})
    return all(saved.get(partition, 0) >= end for partition, end in ends.items())


def _stop_with_parent() -> None:
    """In each child, before it runs: on Linux, SIGTERM (its clean stop) when the demo dies
    without stopping it (terminal closed, kill -9); each child has a session of its own, so
    nothing else would reach it. No thread of ours runs while the children start, and the
    hook only calls prctl from a libc loaded beforehand, so it is safe in a forked child."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(process: subprocess.Popen) -> None:
    """One SIGINT (its clean stop), then SIGKILL if it is still running after the timeout."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        log.warning("PID %d não parou em %d s; encerrando.", process.pid, STOP_TIMEOUT_S)
        _kill(process)


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


if __name__ == "__main__":
    sys.exit(main())
