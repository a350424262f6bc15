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
import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pyspark

from localdev.processes import ensure_ports_free, free_port
from localdev.service import (
    STOP_TIMEOUT_S,
    Daemon,
    LocalService,
    command_line,
    run_action,
    stop_all,
)
from vendas.spark.java import java_executable

log = logging.getLogger(__name__)

# pip's pyspark is a complete SPARK_HOME (bin/, jars/)
SPARK_HOME = Path(pyspark.__file__).resolve().parent
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
_WORKER_PID = re.compile(r"worker-(\d+)\.pid")
# heap of the master and worker daemons (executors get --worker-memory)
DAEMON_MEMORY = "256m"


@dataclass
class LocalSpark(LocalService):
    """Master and workers whose state lives in `directory`; ports 0 mean "pick free ones"
    (kept in cluster.json, so that `up` again finds the running cluster)."""

    directory: Path
    port: int = 0
    webui_port: int = 0
    workers: int = 2
    worker_cores: int = 1
    worker_memory: str = "1g"
    host: str = "localhost"

    label = "O cluster Spark"

    @property
    def state_file(self) -> Path:
        return self.directory / "cluster.json"

    @property
    def master(self) -> Daemon:
        return Daemon("master", self.directory)

    def worker(self, index: int) -> Daemon:
        return Daemon(f"worker-{index}", self.directory)

    def daemons(self) -> list[Daemon]:
        """The master, then the workers."""
        return [self.master, *(self.worker(i + 1) for i in range(self.workers))]

    def started_workers(self) -> list[Daemon]:
        """Workers past the count asked for that an earlier `up --workers N` left PID files
        for: `down` stops them too, whatever --workers it is given."""
        indexes = (int(match[1]) for path in self.directory.glob("worker-*.pid")
                   if (match := _WORKER_PID.fullmatch(path.name)))
        return [self.worker(i) for i in sorted(indexes) if i > self.workers]

    def down(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        return stop_all([*self.daemons(), *self.started_workers()], timeout_s)

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
        super().up(timeout_s)
        log.info("Cluster Spark pronto: %s (%d workers; interface em %s).", self.master_url,
                 self.workers, self.webui_url)
        return self.master_url

    def launch(self, daemons: list[Daemon]) -> None:
        """Start the master if it is among `daemons` (on the ports asked for, or free ones
        kept in cluster.json), then those workers, each registering with the master."""
        java = java_executable()
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / ".gitignore").write_text("*\n")  # runtime state, never committed
        env = dict(os.environ, SPARK_HOME=str(SPARK_HOME), JAVA_HOME=str(Path(java).parent.parent),
                   SPARK_DAEMON_MEMORY=DAEMON_MEMORY, SPARK_NO_DAEMONIZE="1")
        env.pop("SPARK_CONF_DIR", None)
        spark_class = str(SPARK_HOME / "bin" / "spark-class")
        if self.master in daemons:
            port = self.port or free_port(self.host)
            webui = self.webui_port or free_port(self.host)
            ensure_ports_free(self.host, [port, webui],
                              "escolha outra com SPARK_MASTER_PORT=<porta> ou "
                              "SPARK_WEBUI_PORT=<porta>")
            self.state_file.write_text(json.dumps({"port": port, "webui_port": webui}))
            pid = self.master.start([spark_class, MASTER_CLASS, "--host", self.host,
                                     "--port", str(port), "--webui-port", str(webui)], env=env)
            log.info("Spark master iniciado (PID %d) em %s.", pid, self.master_url)
        for i in range(self.workers):
            worker = self.worker(i + 1)
            if worker in daemons:
                work_dir = self.directory / f"worker-{i + 1}-work"
                work_dir.mkdir(exist_ok=True)
                pid = worker.start([spark_class, WORKER_CLASS, "--host", self.host,
                                    "--webui-port", str(free_port(self.host)),
                                    "--cores", str(self.worker_cores),
                                    "--memory", self.worker_memory,
                                    "--work-dir", str(work_dir), self.master_url], env=env)
                log.info("Spark worker %d iniciado (PID %d).", i + 1, pid)

    def ready(self) -> bool:
        """Every worker is registered with the master, ALIVE."""
        return self.alive_workers() >= self.workers

    def alive_workers(self) -> int:
        """How many workers the master reports ALIVE (its web UI's JSON)."""
        try:
            with urllib.request.urlopen(f"{self.webui_url}/json/", timeout=2) as response:
                status = json.load(response)
        except (OSError, ValueError, urllib.error.URLError):
            return 0
        return sum(1 for w in status.get("workers", []) if w.get("state") == "ALIVE")


def main(argv: list[str] | None = None) -> int:
    parser = command_line(
        "spark", "Cluster Spark standalone local (um master e workers) para o consumidor.",
        ".spark", "diretório dos PIDs, logs e trabalho dos workers")
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
    spark = LocalSpark(args.dir.resolve(), port=args.port, webui_port=args.webui_port,
                       workers=args.workers, worker_cores=args.worker_cores,
                       worker_memory=args.worker_memory)
    return run_action(lambda: _act(spark, args.acao))


def _act(spark: LocalSpark, action: str) -> int:
    if action == "up":
        url = spark.up()
        print(f"Use: spark-submit --master {url} ... consumidor_vendas.py "
              "--checkpoint <diretório visto por todos>  (veja o README)")
    elif action == "down":
        log.info("Cluster Spark parado." if spark.down()
                 else "Nenhum cluster Spark deste projeto está rodando.")
    else:
        running = spark.master.pid() is not None
        alive = spark.alive_workers() if running else 0
        log.info("Spark master %s: %s, %d workers ativos.", spark.master_url,
                 "rodando" if running else "parado", alive)
        return 0 if running else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
