"""A real Spark standalone cluster on this machine: one master and two workers.

Started from pyspark's own `bin/spark-class` (the Master and Worker classes of the Spark the
venv has), so the cluster runs exactly the consumer's Spark version; executors run in JVMs
of their own, launched by the workers. State (PID files, logs, the workers' work dirs)
lives under one directory (`.spark/` for `make spark-up`, a temp dir in the tests).

Usage: python -m localdev.spark {up,down,status} [--dir .spark] [--port 7077]
       [--webui-port 8080] [--workers 2] [--worker-cores 1] [--worker-memory 1g]
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pyspark

from localdev.processes import free_port, pid_alive, wait_exit
from vendas.cli import PortugueseArgumentParser, report_user_error
from vendas.errors import UserError
from vendas.logs import setup_logging
from vendas.spark.java import java_executable

log = logging.getLogger(__name__)

# pip's pyspark is a complete SPARK_HOME (bin/, jars/)
SPARK_HOME = Path(pyspark.__file__).resolve().parent
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
# heap of the master and worker daemons (executors get --worker-memory)
DAEMON_MEMORY = "256m"


@dataclass
class Daemon:
    """One master or worker JVM, known by its PID file."""

    name: str
    directory: Path

    @property
    def pid_file(self) -> Path:
        return self.directory / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.directory / f"{self.name}.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def start(self, args: list[str], env: dict[str, str]) -> int:
        with open(self.log_file, "ab") as out:
            process = subprocess.Popen(
                [str(SPARK_HOME / "bin" / "spark-class"), *args],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                start_new_session=True,  # Ctrl-C in the terminal must not stop the cluster
            )
        self.pid_file.write_text(f"{process.pid}\n")
        return process.pid

    def stop(self, timeout_s: float = 20.0) -> bool:
        pid = self.pid()
        self.pid_file.unlink(missing_ok=True)
        if pid is None:
            return False
        # the whole session: spark-class's launcher shell and the JVM it execs
        _signal_group(pid, signal.SIGTERM)
        if not wait_exit(pid, timeout_s):
            _signal_group(pid, signal.SIGKILL)
            wait_exit(pid, 10.0)
        return True

    def kill(self) -> None:
        """kill -9 (fault-injection tests): no clean shutdown."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            wait_exit(pid, 10.0)


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


@dataclass
class LocalSpark:
    """Master and workers whose state lives in `directory`; ports 0 mean "pick free ones"
    (kept in cluster.json, so that `up` again finds the running cluster)."""

    directory: Path
    port: int = 0
    webui_port: int = 0
    workers: int = 2
    worker_cores: int = 1
    worker_memory: str = "1g"
    host: str = "localhost"

    @property
    def state_file(self) -> Path:
        return self.directory / "cluster.json"

    @property
    def master(self) -> Daemon:
        return Daemon("master", self.directory)

    def worker(self, index: int) -> Daemon:
        return Daemon(f"worker-{index}", self.directory)

    @property
    def daemons(self) -> list[Daemon]:
        return [self.master, *(self.worker(i + 1) for i in range(self.workers))]

    def _state(self) -> dict[str, int]:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    @property
    def master_url(self) -> str:
        return f"spark://{self.host}:{self._state().get('port', self.port)}"

    @property
    def webui_url(self) -> str:
        return f"http://{self.host}:{self._state().get('webui_port', self.webui_port)}"

    def up(self, timeout_s: float = 120.0) -> str:
        """Start what is not running, wait until every worker is registered; the master URL."""
        java = java_executable()
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / ".gitignore").write_text("*\n")  # runtime state, never committed
        env = dict(os.environ, SPARK_HOME=str(SPARK_HOME), JAVA_HOME=str(Path(java).parent.parent),
                   SPARK_DAEMON_MEMORY=DAEMON_MEMORY, SPARK_NO_DAEMONIZE="1")
        env.pop("SPARK_CONF_DIR", None)
        if self.master.pid() is None:
            port = self.port or free_port(self.host)
            webui = self.webui_port or free_port(self.host)
            self._ensure_port_free(port)
            self._ensure_port_free(webui)
            self.state_file.write_text(json.dumps({"port": port, "webui_port": webui}))
            pid = self.master.start([MASTER_CLASS, "--host", self.host, "--port", str(port),
                                     "--webui-port", str(webui)], env)
            log.info("Spark master iniciado (PID %d) em %s.", pid, self.master_url)
        for i in range(self.workers):
            worker = self.worker(i + 1)
            if worker.pid() is None:
                work_dir = self.directory / f"worker-{i + 1}-work"
                work_dir.mkdir(exist_ok=True)
                pid = worker.start([WORKER_CLASS, "--host", self.host,
                                    "--webui-port", str(free_port(self.host)),
                                    "--cores", str(self.worker_cores),
                                    "--memory", self.worker_memory,
                                    "--work-dir", str(work_dir), self.master_url], env)
                log.info("Spark worker %d iniciado (PID %d).", i + 1, pid)
        self.wait_for_workers(self.workers, timeout_s)
        log.info("Cluster Spark pronto: %s (%d workers; interface em %s).", self.master_url,
                 self.workers, self.webui_url)
        return self.master_url

    def alive_workers(self) -> int:
        """How many workers the master reports ALIVE (its web UI's JSON)."""
        try:
            with urllib.request.urlopen(f"{self.webui_url}/json/", timeout=2) as response:
                status = json.load(response)
        except (OSError, ValueError, urllib.error.URLError):
            return 0
        return sum(1 for w in status.get("workers", []) if w.get("state") == "ALIVE")

    def wait_for_workers(self, count: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.alive_workers() >= count:
                return
            for daemon in self.daemons:
                if daemon.pid() is None:
                    raise UserError(f"O Spark ({daemon.name}) parou durante a inicialização; "
                                    f"veja o log em {daemon.log_file}.")
            time.sleep(0.5)
        raise UserError(f"O cluster Spark não ficou pronto em {timeout_s:.0f} s; veja os logs "
                        f"em {self.directory}.")

    def down(self) -> bool:
        """Stop workers, then the master; False if nothing was running."""
        stopped = False
        for daemon in reversed(self.daemons):
            stopped |= daemon.stop()
        return stopped

    def _ensure_port_free(self, port: int) -> None:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, port))
            except OSError:
                raise UserError(f"A porta {port} já está em uso; escolha outra com "
                                "SPARK_MASTER_PORT=<porta> ou SPARK_WEBUI_PORT=<porta>.") from None


def main(argv: list[str] | None = None) -> int:
    parser = PortugueseArgumentParser(
        prog="python -m localdev.spark",
        description="Cluster Spark standalone local (um master e workers) para o consumidor.",
    )
    parser.add_argument("acao", choices=["up", "down", "status"],
                        help="iniciar, parar ou consultar")
    parser.add_argument("--dir", type=Path, default=Path(".spark"),
                        help="diretório dos PIDs, logs e trabalho dos workers (padrão: .spark)")
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get("SPARK_MASTER_PORT") or 7077),
                        help="porta do master (padrão: $SPARK_MASTER_PORT ou 7077; 0 = livre)")
    parser.add_argument("--webui-port", type=int,
                        default=int(os.environ.get("SPARK_WEBUI_PORT") or 8080),
                        help="porta da interface web do master (padrão: 8080; 0 = livre)")
    parser.add_argument("--workers", type=int, default=2, help="número de workers (padrão: 2)")
    parser.add_argument("--worker-cores", type=int, default=1,
                        help="núcleos por worker (padrão: 1)")
    parser.add_argument("--worker-memory", default="1g", help="memória por worker (padrão: 1g)")
    args = parser.parse_args(argv)
    setup_logging()
    spark = LocalSpark(args.dir.resolve(), port=args.port, webui_port=args.webui_port,
                       workers=args.workers, worker_cores=args.worker_cores,
                       worker_memory=args.worker_memory)
    try:
        if args.acao == "up":
            url = spark.up()
            print(f"Use: spark-submit --master {url} ... consumidor_vendas.py "
                  "--checkpoint <diretório visto por todos>  (veja o README)")
        elif args.acao == "down":
            log.info("Cluster Spark parado." if spark.down()
                     else "Nenhum cluster Spark deste projeto está rodando.")
        else:
            alive = spark.alive_workers() if spark.master.pid() else 0
            log.info("Spark master %s: %s, %d workers ativos.", spark.master_url,
                     "rodando" if spark.master.pid() else "parado", alive)
            return 0 if spark.master.pid() else 1
    except UserError as error:
        return report_user_error(error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
