"""`make demo`: the producer at a steady rate in the background, the consumer in front.

Ctrl-C stops both cleanly: each gets one SIGINT (the producer flushes and prints its
summary, the consumer stops its queries at a batch boundary); the broker keeps running.

Usage: python -m vendas.demo [--bootstrap-servers HOST:PORTA] [--rate 200]
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from pathlib import Path

from vendas import contract as c
from vendas import kafka_config
from vendas.cli import PortugueseArgumentParser, non_negative_float, report_user_error
from vendas.consumer import ConsumerOptions
from vendas.errors import UserError
from vendas.kafka_admin import ensure_topic
from vendas.logs import setup_logging
from vendas.signals import StopSignals

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_S = 60


def main(argv: list[str] | None = None) -> int:
    parser = PortugueseArgumentParser(prog="python -m vendas.demo", description=__doc__.splitlines()[0])
    parser.add_argument("-b", "--bootstrap-servers", default=None)
    kafka_config.add_cli_option(parser)
    parser.add_argument("--topic", default=c.DEFAULT_TOPIC)
    parser.add_argument("--rate", type=non_negative_float, default=200.0, help="pedidos por segundo")
    parser.add_argument("--trigger", type=non_negative_float,
                        default=ConsumerOptions().trigger_seconds, help="segundos entre lotes")
    args = parser.parse_args(argv)
    setup_logging()
    # Ctrl-C must reach us even when started from a shell that ignores SIGINT for
    # background jobs; SIGTERM (e.g. from a process manager) stops the demo the same way.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        client = kafka_config.load(args.kafka_config)
        bootstrap = client.bootstrap(args.bootstrap_servers, c.DEFAULT_BOOTSTRAP_SERVERS)
        ensure_topic(bootstrap, args.topic, config=client)
    except UserError as error:
        return report_user_error(error)

    common = ["--bootstrap-servers", bootstrap, "--topic", args.topic]
    if args.kafka_config:  # a file name, never its secrets, on the children's command lines
        common += ["--kafka-config", args.kafka_config]
    # Own sessions: the terminal's Ctrl-C reaches only this process, which then stops
    # each child exactly once (a second SIGINT would make them skip their clean stop).
    producer = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "produtor_vendas.py"), *common, "--rate", str(args.rate)],
        start_new_session=True,
    )
    consumer = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "consumidor_vendas.py"), *common, "--trigger", str(args.trigger)],
        start_new_session=True,
    )
    log.info("Demonstração rodando: produtor a %.0f pedidos/s, consumidor com lotes a cada %.0f s. "
             "Ctrl-C para parar.", args.rate, args.trigger)
    with StopSignals() as stop:
        while not stop.wait(0.5) and consumer.poll() is None:
            pass
        if stop.requested:
            log.info("Parando produtor e consumidor (Ctrl-C de novo para não esperar)...")
        else:
            log.error("O consumidor terminou sozinho (código %d); parando o produtor.",
                      consumer.returncode)
        try:
            for process in (producer, consumer):
                _stop(process)
        except KeyboardInterrupt:
            for process in (producer, consumer):
                _kill(process)
    return 0 if consumer.returncode in (0, -signal.SIGINT) else 1


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
