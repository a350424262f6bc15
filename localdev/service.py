"""The life cycle every local service (Kafka, PostgreSQL, Spark) shares.

A service is one or more daemons: detached processes, each known by `<name>.pid` and
writing `<name>.log` in its directory, so that another process (`make kafka-status`,
`make kafka-down`) finds them. A service says only what is its own: which daemons it has,
how to launch them, and when it is ready; `up`, `down` and `status` are the same for all.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from localdev.processes import pid_alive, wait_exit
from vendas.cli import PortugueseArgumentParser, report_user_error
from vendas.errors import UserError
from vendas.logs import setup_logging

log = logging.getLogger(__name__)

LOG_TAIL_LINES = 12
STOP_TIMEOUT_S = 30.0
# after SIGKILL a process is gone as soon as the kernel reaps it
KILL_WAIT_S = 10.0
# opens each start's part of a log: an error quotes this start's lines, not an earlier one's
_RUN_MARK = "--- localdev: início em "


@dataclass(frozen=True)
class Daemon:
    """One detached server process: `<name>.pid` and `<name>.log` in `directory`."""

    name: str
    directory: Path
    # what asks it to shut down cleanly (PostgreSQL's fast shutdown is SIGINT)
    stop_signal: int = signal.SIGTERM

    @property
    def pid_file(self) -> Path:
        return self.directory / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.directory / f"{self.name}.log"

    def pid(self) -> int | None:
        """Its PID, if the process its PID file names still runs."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def start(self, command: Sequence[str], **popen: Any) -> int:
        """Run `command` detached, its output appended to the log; returns its PID.

        Its own session: Ctrl-C in the terminal that started it must not stop a server
        meant to outlive that terminal, and a forced stop can reach everything it spawned.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        # the owner only: server logs name users, paths and settings
        fd = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # a log an earlier version left readable, too
        with os.fdopen(fd, "ab") as out:
            out.write(f"{_RUN_MARK}{time.strftime('%Y-%m-%d %H:%M:%S')} ---\n".encode())
            out.flush()
            process = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True,
                                       **popen)
        self.pid_file.write_text(f"{process.pid}\n")
        return process.pid

    def kill(self) -> None:
        """kill -9, no clean shutdown (the fault-injection tests' crash)."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            wait_exit(pid, KILL_WAIT_S)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last `lines` non-blank lines its latest start logged, indented; empty if none."""
        try:
            with open(self.log_file, "rb") as log_text:
                log_text.seek(max(0, log_text.seek(0, os.SEEK_END) - 64 * 1024))
                text = log_text.read().decode(errors="replace")
        except OSError:
            return ""
        if _RUN_MARK in text:  # from the line after the latest start's mark
            text = text.rsplit(_RUN_MARK, 1)[1].partition("\n")[2]
        kept = [line.rstrip() for line in text.splitlines() if line.strip()][-lines:]
        return "\n".join(f"    {line}" for line in kept)


def _signal_session(pid: int, signum: int) -> None:
    """Signal the session `pid` leads (Daemon.start made it one), else `pid` alone."""
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def stop_all(daemons: Sequence[Daemon], timeout_s: float = STOP_TIMEOUT_S) -> bool:
    """Ask every running daemon to stop at once, wait up to `timeout_s`, then SIGKILL what is
    left (with whatever it spawned); PID files go. False if none was running.

    At once: a Kafka node stopped alone waits for a quorum the others no longer form.
    """
    running: list[tuple[Daemon, int]] = []
    for daemon in daemons:
        pid = daemon.pid()
        if pid is None:
            daemon.pid_file.unlink(missing_ok=True)
            continue
        try:
            os.kill(pid, daemon.stop_signal)
        except ProcessLookupError:
            pass  # ended meanwhile: still waited for below, and its PID file removed
        running.append((daemon, pid))
    deadline = time.monotonic() + timeout_s
    for daemon, pid in running:
        if not wait_exit(pid, max(0.0, deadline - time.monotonic())):
            log.warning("O processo %s (PID %d) não parou em %.0f s; encerrando à força.",
                        daemon.name, pid, timeout_s)
            _signal_session(pid, signal.SIGKILL)
            wait_exit(pid, KILL_WAIT_S)
        daemon.pid_file.unlink(missing_ok=True)
    return bool(running)


def _log_excerpts(daemons: Sequence[Daemon]) -> str:
    parts = []
    for daemon in daemons:
        tail = daemon.log_tail()
        parts.append(f"; as últimas linhas de {daemon.log_file}:\n{tail}" if tail
                     else f"; o log {daemon.log_file} está vazio")
    return "".join(parts)


def wait_ready(label: str, daemons: Sequence[Daemon], ready: Callable[[], bool],
               timeout_s: float, poll_s: float = 0.25) -> None:
    """Return once `ready()` holds; a UserError quoting the logs if one of `daemons` ends
    first or `timeout_s` passes. `label` starts the sentence ("O Kafka local")."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        ended = [daemon for daemon in daemons if daemon.pid() is None]
        if ended:
            raise UserError(f"{label} parou durante a inicialização{_log_excerpts(ended)}")
        if time.monotonic() >= deadline:
            raise UserError(f"{label} não ficou pronto em {timeout_s:.0f} s"
                            f"{_log_excerpts(daemons)}")
        time.sleep(poll_s)


def describe_pids(pids: Sequence[int]) -> str:
    """Say "PID 12" or "PIDs 12, 13"."""
    return ("PID " if len(pids) == 1 else "PIDs ") + ", ".join(str(pid) for pid in pids)


class LocalService(ABC):
    """A local server made of daemons. Subclasses say which daemons (`daemons`), how to
    launch those not running (`launch`) and when the whole is ready (`ready`)."""

    # starts the Portuguese sentences about it: "O Kafka local já está rodando."
    label: ClassVar[str]

    @abstractmethod
    def daemons(self) -> list[Daemon]:
        """Its processes, running or not."""

    @abstractmethod
    def launch(self, daemons: list[Daemon]) -> None:
        """Start these daemons (none of them runs now)."""

    @abstractmethod
    def ready(self) -> bool:
        """Whether the service answers its clients now."""

    def up(self, timeout_s: float = 120.0) -> None:
        """Start what is not running and return once ready; already running: say so."""
        daemons = self.daemons()
        missing = [daemon for daemon in daemons if daemon.pid() is None]
        if missing:
            self.launch(missing)
        else:
            log.info("%s já está rodando (%s).", self.label, describe_pids(self.pids()))
        wait_ready(self.label, daemons, self.ready, timeout_s)

    def down(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        """Stop every daemon; False if none was running."""
        return stop_all(self.daemons(), timeout_s)

    def status(self) -> dict[Daemon, int | None]:
        """Each daemon's PID, None for one that is not running."""
        return {daemon: daemon.pid() for daemon in self.daemons()}

    def pids(self) -> list[int]:
        """The PIDs of its daemons that are running now."""
        return [pid for pid in self.status().values() if pid is not None]


def command_line(module: str, description: str, directory: str, directory_help: str,
                 extra_actions: Sequence[str] = (),
                 actions_help: str = "iniciar, parar ou consultar") -> PortugueseArgumentParser:
    """What every `python -m localdev.<module>` takes: the action and --dir."""
    parser = PortugueseArgumentParser(prog=f"python -m localdev.{module}",
                                      description=description)
    parser.add_argument("acao", choices=["up", "down", "status", *extra_actions],
                        help=actions_help)
    parser.add_argument("--dir", type=Path, default=Path(directory),
                        help=f"{directory_help} (padrão: {directory})")
    return parser


def run_action(action: Callable[[], int]) -> int:
    """Run a command line's action with logging set up; a UserError ends in its sentence
    and exit code 2, without a traceback."""
    setup_logging()
    try:
        return action()
    except UserError as error:
        return report_user_error(error)
