"""The local services' processes and ports: alive, gone, free.

Each starter keeps its server's PID in a file and may be asked about it from another
process (`make kafka-status`), so these work on bare PIDs, not Popen objects.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable
from contextlib import ExitStack

from vendas.errors import UserError


def pid_alive(pid: int) -> bool:
    """Whether `pid` runs; a zombie child of ours (exited, not yet reaped) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True  # not our child: its parent reaps it


def wait_exit(pid: int, timeout_s: float) -> bool:
    """Wait up to `timeout_s` for `pid` to end; True if it did."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return not pid_alive(pid)


def free_port(host: str = "localhost") -> int:
    """A TCP port nobody listens on now (the OS's choice)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def ports_free(host: str, ports: Iterable[int]) -> bool:
    """Whether a server could listen on every one of `ports` at `host` now.

    SO_REUSEADDR, as the servers themselves set it: a port a stopped server left in
    TIME_WAIT is free for the next one. All are held until the last is checked, so a run
    of ports is checked as a whole.
    """
    with ExitStack() as held:
        for port in ports:
            try:
                family, _, _, _, address = socket.getaddrinfo(
                    host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
                sock = held.enter_context(socket.socket(family, socket.SOCK_STREAM))
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(address)
            except OSError:
                return False
    return True


def ensure_ports_free(host: str, ports: Iterable[int], hint: str) -> None:
    """UserError naming the first of `ports` taken at `host`; `hint` says what to do."""
    for port in ports:
        if not ports_free(host, [port]):
            raise UserError(f"A porta {port} já está em uso por outro programa; {hint}.")


def free_port_run(count: int, host: str = "localhost", attempts: int = 100) -> int:
    """The first of `count` consecutive ports that are all free now."""
    for _ in range(attempts):
        first = free_port(host)
        if first + count <= 65536 and ports_free(host, range(first, first + count)):
            return first
    raise UserError(f"Não encontrei {count} portas livres consecutivas em {host}.")
