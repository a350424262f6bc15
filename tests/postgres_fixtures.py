"""PostgreSQL for the tests: one real local server per session (or $VENDAS_BANCO_TESTE),
and a fresh database per test so that tests never see each other's totals."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from localdev.postgres import LocalPostgres
from localdev.processes import free_port


def _with_database(url: str, database: str) -> str:
    import psycopg

    params = psycopg.conninfo.conninfo_to_dict(url)
    params["dbname"] = database
    return psycopg.conninfo.make_conninfo(**params)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres | None]:
    """A server of the tests' own on a free port; None when $VENDAS_BANCO_TESTE is given.

    Its directory is made outside pytest's 0700 temp tree: started by root, the server runs
    as a system user that must be able to reach its data directory.
    """
    if os.environ.get("VENDAS_BANCO_TESTE"):
        yield None
        return
    directory = Path(tempfile.mkdtemp(prefix="vendas-pg-teste-"))
    directory.chmod(0o711)
    server = LocalPostgres(directory / "pg", port=free_port())
    server.up()
    try:
        yield server
    finally:
        server.down()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_admin_url(postgres_server: LocalPostgres | None) -> str:
    """A URL whose user may CREATE DATABASE (the local server's superuser, or the given one)."""
    return os.environ.get("VENDAS_BANCO_TESTE") or postgres_server.url()


@pytest.fixture
def new_database(postgres_admin_url: str) -> Iterator[Callable[[], str]]:
    """Create empty databases for this test; each call returns the URL of a new one."""
    import psycopg

    created: list[str] = []

    def create() -> str:
        name = f"teste_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return _with_database(postgres_admin_url, name)

    yield create
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(new_database: Callable[[], str]) -> str:
    """The URL of an empty database for this test."""
    return new_database()
