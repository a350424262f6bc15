"""A real single-node Apache Kafka (KRaft) for the demo and the tests, without Docker.

The broker's jars are resolved from Maven Central by jgo's pure-Python resolver and
cached, so a fresh machine needs only Python and Java. Storage, configuration, log and
PID file live under one directory (`.kafka/` for `make kafka-up`, a temp dir in tests).

Usage: python -m vendas.local_kafka {up,down,status} [--port 9092] [--dir .kafka]
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from vendas.errors import UserError
from vendas.java import java_executable
from vendas.logs import setup_logging

KAFKA_VERSION = "4.1.1"
BROKER_COORDINATES = f"org.apache.kafka:kafka_2.13:{KAFKA_VERSION}"
# Kafka logs through SLF4J; this binding sends it to log4j2 (which Kafka already brings).
LOG_BINDING_COORDINATES = "org.apache.logging.log4j:log4j-slf4j-impl:2.24.3"
BROKER_HEAP = "-Xmx768m"

log = logging.getLogger(__name__)

_LOG4J2_CONFIG = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka.server.KafkaRaftServer
logger.kafka.level = info
"""


def broker_classpath() -> str:
    """Resolve (once, then from jgo's cache) the broker's runtime classpath."""
    import jgo  # imported here: only the broker starter needs it

    jars: list[str] = []
    for coordinates in (BROKER_COORDINATES, LOG_BINDING_COORDINATES):
        # Two separate environments: resolved together, jgo mediates kafka-clients
        # down to an older version that the broker cannot run with.
        env_dir = Path(jgo.build(coordinates).path)
        jars += sorted(str(p) for p in env_dir.rglob("*.jar"))
    return os.pathsep.join(jars)


def broker_answers(bootstrap_servers: str, timeout_s: float = 3.0) -> bool:
    """True when a Kafka broker answers a metadata request at that address."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    host, _, port = bootstrap_servers.rpartition(":")
    try:
        with socket.create_connection((host or "localhost", int(port)), timeout=timeout_s):
            pass
    except OSError:
        return False
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap_servers,
            request_timeout_ms=int(timeout_s * 1000),
        )
    except (KafkaError, ValueError, OSError):
        return False
    try:
        admin.describe_cluster()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class LocalKafka:
    """One broker+controller process whose state lives in `directory`."""

    directory: Path
    port: int = 9092
    controller_port: int = 9093
    host: str = "localhost"

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.directory / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.directory / "broker.log"

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    def pid(self) -> int | None:
        """PID of the broker this directory started, if it still runs."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _pid_alive(pid) else None

    def up(self, timeout_s: float = 90.0) -> None:
        """Start the broker unless it (or another Kafka) already answers; wait until it does."""
        if self.pid() is None and broker_answers(self.bootstrap_servers):
            log.info("Já existe um Kafka respondendo em %s; ele será usado.", self.bootstrap_servers)
            return
        if self.pid() is None:
            self._start()
        self._wait_ready(timeout_s)

    def _start(self) -> None:
        java = java_executable()
        self._ensure_port_free(self.port)
        self._ensure_port_free(self.controller_port)
        self.directory.mkdir(parents=True, exist_ok=True)
        log.info("Preparando o Apache Kafka %s (na primeira vez, os jars vêm do Maven Central)...",
                 KAFKA_VERSION)
        classpath = broker_classpath()
        config = self._write_config()
        if not (self.data_dir / "meta.properties").exists():
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
            # "--cluster-id=ID", not "-t ID": one id in 64 starts with "-" and would be
            # taken for an option
            formatted = subprocess.run(
                [java, "-cp", classpath, "kafka.tools.StorageTool", "format",
                 f"--cluster-id={cluster_id}", "-c", str(config)],
                capture_output=True, text=True, check=False,
            )
            if formatted.returncode != 0:
                why = (formatted.stderr.strip() or formatted.stdout.strip()).splitlines()
                raise UserError(f"Não foi possível formatar o diretório de dados do Kafka local "
                                f"({self.data_dir}): {why[-1] if why else 'erro desconhecido'}.")
        with open(self.log_file, "ab") as out:
            process = subprocess.Popen(
                [java, BROKER_HEAP, "-XX:+UseG1GC",
                 f"-Dlog4j2.configurationFile={self.directory / 'log4j2.properties'}",
                 "-cp", classpath, "kafka.Kafka", str(config)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C in the terminal must not stop the broker
            )
        self.pid_file.write_text(f"{process.pid}\n")
        log.info("Kafka iniciado (PID %d), aguardando responder em %s...",
                 process.pid, self.bootstrap_servers)

    def _write_config(self) -> Path:
        (self.directory / "log4j2.properties").write_text(_LOG4J2_CONFIG)
        config = self.directory / "server.properties"
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{self.host}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{self.host}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "2",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
        }
        config.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        return config

    def _ensure_port_free(self, port: int) -> None:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, port))
            except OSError:
                raise UserError(
                    f"A porta {port} já está em uso por outro programa que não é o Kafka; "
                    "libere-a ou escolha outra com KAFKA_PORT=<porta>."
                ) from None

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if broker_answers(self.bootstrap_servers, timeout_s=2.0):
                log.info("Kafka pronto em %s.", self.bootstrap_servers)
                return
            if self.pid() is None:
                raise UserError(
                    f"O Kafka local parou durante a inicialização; veja o log em {self.log_file}."
                )
            time.sleep(0.5)
        raise UserError(
            f"O Kafka local não respondeu em {timeout_s:.0f} s; veja o log em {self.log_file}."
        )

    def down(self, timeout_s: float = 30.0) -> bool:
        """Stop the broker this directory started; False if none was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        if not _wait_exit(pid, timeout_s):
            log.warning("O Kafka não parou em %.0f s; encerrando à força.", timeout_s)
            os.kill(pid, signal.SIGKILL)
            _wait_exit(pid, 10.0)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """Kill -9 the broker (fault-injection tests): no clean shutdown."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            _wait_exit(pid, 10.0)


def _wait_exit(pid: int, timeout_s: float) -> bool:
    """Wait for a process to end, reaping it if it is our child (else it stays a zombie)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass  # not our child: its parent reaps it
        if not _pid_alive(pid):
            return True
        time.sleep(0.1)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vendas.local_kafka",
        description="Kafka local (KRaft, um nó) para a demonstração e os testes.",
    )
    parser.add_argument("acao", choices=["up", "down", "status"], help="iniciar, parar ou consultar")
    parser.add_argument("--port", type=int, default=int(os.environ.get("KAFKA_PORT", 9092)),
                        help="porta do broker (padrão: $KAFKA_PORT ou 9092)")
    parser.add_argument("--dir", type=Path, default=Path(".kafka"),
                        help="diretório dos dados, configuração e log (padrão: .kafka)")
    args = parser.parse_args(argv)
    setup_logging()
    kafka = LocalKafka(args.dir.resolve(), port=args.port, controller_port=args.port + 1)
    try:
        if args.acao == "up":
            kafka.up()
        elif args.acao == "down":
            if kafka.down():
                log.info("Kafka local parado.")
            else:
                log.info("Nenhum Kafka local iniciado por este projeto está rodando.")
        else:
            pid = kafka.pid()
            answers = broker_answers(kafka.bootstrap_servers)
            log.info("Kafka em %s: %s%s.", kafka.bootstrap_servers,
                     "respondendo" if answers else "não responde",
                     f" (PID {pid})" if pid else "")
            return 0 if answers else 1
    except UserError as error:
        log.error("%s", error)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
