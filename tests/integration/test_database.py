"""The PostgreSQL sink: absolute totals fenced by batch id, outages, user errors, and the
consumer against a real Kafka and a real PostgreSQL (kill -9 included)."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from localdev.postgres import LocalPostgres
from localdev.processes import free_port
from tests.conftest import REPO_ROOT
from tests.corpus import expected_totals
from tests.kafka_io import (
    cli_env,
    consumer_command,
    parse_table,
    read_topic,
    run_consumer,
    run_producer,
)
from tests.waiting import wait_until
from vendas.consumer.app import ORDERS_QUERY
from vendas.errors import UserError
from vendas.outputs.postgres import (
    PRODUCTS_TABLE,
    DatabaseUnavailable,
    TotalsStore,
    connect,
    db_text,
    describe,
    mask_url,
    read_snapshot,
)
from vendas.pipeline.totals import ProductTotal, Totals

QUERY = "0f1e2d3c-query"


def totals(
    *products: tuple[str, int, str | None],
    rejected: dict[str, int] | None = None,
    orders: int = 10,
    unattributed: str = "0.00",
) -> Totals:
    return Totals(
        [ProductTotal(n, q, None if v is None else Decimal(v)) for n, q, v in products],
        orders,
        Decimal(unattributed),
        rejected or {},
    )


def table(url: str) -> dict[str, tuple[int, Decimal | None, int]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            f"SELECT produto, quantidade_total, valor_total, lote FROM {PRODUCTS_TABLE}"
        )
        return {name: (q, v, lote) for name, q, v, lote in rows}


def progress(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT consulta, ultimo_lote FROM progresso_consultas"))


def test_batches_are_written_as_absolute_totals_to_the_cent(database_url):
    store = TotalsStore(database_url).open()
    try:
        assert store.write(
            totals(("Mouse", 2, "179.80"), ("Teclado", 1, "149.90"), rejected={"json_invalido": 1}),
            0,
            QUERY,
        )
        assert store.write(
            totals(
                ("Mouse", 5, "449.50"),
                ("Teclado", 1, "149.90"),
                ("Cabo", 3, None),
                rejected={"json_invalido": 2, "sem_produtos": 1},
                orders=25,
                unattributed="1234.56",
            ),
            1,
            QUERY,
        )
    finally:
        store.close()
    # Teclado did not change in batch 1: it keeps the batch that last changed it.
    assert table(database_url) == {
        "Mouse": (5, Decimal("449.50"), 1),
        "Teclado": (1, Decimal("149.90"), 0),
        "Cabo": (3, None, 1),
    }
    with psycopg.connect(database_url) as conn:
        snapshot = read_snapshot(conn)
        column_type = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attname = 'valor_total'",
            (PRODUCTS_TABLE,),
        ).fetchone()[0]
    assert column_type == "numeric(38,2)"
    assert snapshot.pedidos == 25
    assert snapshot.valor_total == Decimal("599.40")
    assert snapshot.valor_nao_atribuido == Decimal("1234.56")
    assert snapshot.rejeitadas == {"json_invalido": 2, "sem_produtos": 1}
    assert snapshot.lote == 1
    assert [p.produto for p in snapshot.produtos] == ["Mouse", "Teclado", "Cabo"]
    assert progress(database_url) == {QUERY: 1}


def test_a_replayed_batch_changes_nothing(database_url):
    store = TotalsStore(database_url).open()
    try:
        assert store.write(totals(("Mouse", 2, "179.80"), rejected={"json_invalido": 1}), 7, QUERY)
        with psycopg.connect(database_url) as conn:
            before = conn.execute(f"SELECT * FROM {PRODUCTS_TABLE}").fetchall()
            summary_before = conn.execute("SELECT * FROM resumo_vendas").fetchall()
        # Spark replays batch 7 after a crash (here with other numbers, to see any write),
        # and an older batch arrives late: both are skipped.
        assert not store.write(totals(("Mouse", 4, "359.60"), ("Novo", 1, "1.00")), 7, QUERY)
        assert not store.write(totals(("Mouse", 1, "89.90")), 6, QUERY)
        with psycopg.connect(database_url) as conn:
            assert conn.execute(f"SELECT * FROM {PRODUCTS_TABLE}").fetchall() == before
            assert conn.execute("SELECT * FROM resumo_vendas").fetchall() == summary_before
        assert progress(database_url) == {QUERY: 7}
        # Another query (a new checkpoint) has its own progress row and starts at batch 0.
        assert store.write(totals(("Mouse", 1, "89.90")), 0, "outra-consulta")
        assert table(database_url) == {"Mouse": (1, Decimal("89.90"), 0)}
        assert progress(database_url) == {QUERY: 7, "outra-consulta": 0}
    finally:
        store.close()


def test_hostile_product_names_are_stored_and_never_fail_a_batch(database_url):
    names = [
        "'; DROP TABLE totais_por_produto; --",
        "a\x00b",
        "\ud800solto",
        "**negrito** <b>x</b> $x$",
        "\x1b[2J",
        "emoji 🛒 e acentuação",
    ]
    store = TotalsStore(database_url).open()
    try:
        products = [(name, i + 1, f"{i + 1}.00") for i, name in enumerate(names)]
        products.append(("a\u2400b", 10, "10.00"))  # what "a\x00b" is stored as: the two are summed
        assert store.write(totals(*products), 0, QUERY)
    finally:
        store.close()
    stored = table(database_url)
    assert stored["a\u2400b"] == (12, Decimal("12.00"), 0)
    assert stored["\ufffdsolto"] == (3, Decimal("3.00"), 0)
    for name in names:
        assert db_text(name) in stored
    assert len(stored) == len(names)


def test_user_errors_are_one_sentence_without_the_password(database_url, postgres_admin_url):
    params = psycopg.conninfo.conninfo_to_dict(database_url)
    secret = params.get("password") or "segredo-que-nao-existe"
    wrong = psycopg.conninfo.make_conninfo(database_url, password=secret + "x")
    cases = {
        "recusou o usuário ou a senha": wrong,
        "não existe": psycopg.conninfo.make_conninfo(database_url, dbname="banco_que_nao_existe"),
        "Não foi possível conectar": psycopg.conninfo.make_conninfo(
            database_url, host="127.0.0.1", port=str(free_port())
        ),
        # no scheme: libpq's parse error would quote the string, password included
        "A URL do banco é inválida": f"vendas:{secret}@localhost",
    }
    for expected, url in cases.items():
        with pytest.raises(UserError) as caught:
            connect(url)
        message = str(caught.value)
        assert expected in message
        assert secret not in message
        assert message.count(".") >= 1 and "\n" not in message
    assert (
        mask_url(f"postgresql://vendas:{secret}@db.exemplo.com:5432/vendas?sslmode=require")
        == "postgresql://vendas:***@db.exemplo.com:5432/vendas?sslmode=require"
    )
    assert secret not in mask_url(database_url) and secret not in describe(database_url)


def test_database_down_mid_run_retries_then_catches_up_or_gives_up(caplog):
    """A server of this test's own, stopped under the writer: it waits, then writes."""
    directory = Path(tempfile.mkdtemp(prefix="vendas-pg-queda-"))
    directory.chmod(0o711)
    server = LocalPostgres(directory / "pg", port=free_port())
    server.up()
    try:
        pauses: list[float] = []

        def restart_after_two_pauses(seconds: float) -> None:
            pauses.append(seconds)
            if len(pauses) == 2:
                server.up()

        store = TotalsStore(server.url(), sleep=restart_after_two_pauses).open()
        assert store.write(totals(("Mouse", 1, "89.90")), 0, QUERY)
        server.down()
        with caplog.at_level(logging.WARNING, logger="vendas.outputs.postgres"):
            assert store.write(totals(("Mouse", 3, "269.70")), 1, QUERY)
        assert len(pauses) == 2
        assert (
            sum(
                "PostgreSQL indisponível ao gravar o lote 1" in r.getMessage()
                for r in caplog.records
            )
            == 2
        )
        assert server.password() not in caplog.text
        assert table(server.url()) == {"Mouse": (3, Decimal("269.70"), 1)}

        server.down()  # gone for good: the bounded retries end with one sentence
        store.retry_timeout_s, store.sleep = 0.5, lambda s: None
        with pytest.raises(
            DatabaseUnavailable, match="ficou indisponível por mais de 0 s; o lote 2 será"
        ):
            store.write(totals(("Mouse", 4, "359.60")), 2, QUERY)
        store.close()
    finally:
        server.down()
        shutil.rmtree(directory, ignore_errors=True)


def test_the_consumer_loads_psycopg_only_with_a_database():
    """Its libraries cost every start about half a second; without --banco they are not needed."""
    probe = ("import sys, consumidor_vendas, vendas.consumer.app; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'psycopg'))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_local_postgres_is_idempotent_password_only_and_loopback(postgres_server):
    if postgres_server is None:
        pytest.skip("VENDAS_BANCO_TESTE dado: o servidor local não é usado")
    postgres_server.up()  # already running: a no-op
    assert oct(postgres_server.password_file.stat().st_mode & 0o777) == "0o600"
    params = psycopg.conninfo.conninfo_to_dict(postgres_server.url())
    with pytest.raises(
        psycopg.OperationalError, match="no password supplied|password authentication"
    ):
        psycopg.connect(
            host="127.0.0.1",
            port=params["port"],
            user="vendas",
            dbname="vendas",
            password="",
            connect_timeout=5,
        )
    with psycopg.connect(postgres_server.url()) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        assert conn.execute("SHOW password_encryption").fetchone() == ("scram-sha-256",)
        methods = {r[0] for r in conn.execute("SELECT auth_method FROM pg_hba_file_rules")}
    assert methods == {"scram-sha-256"}
    if os.geteuid() == 0:
        owner = subprocess.run(
            ["stat", "-c", "%U", str(postgres_server.data_dir)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert owner == "vendas_postgres"


# --- The consumer with --banco, against a real Kafka and a real PostgreSQL -----------------


def expected_from_topic(bootstrap: str, topic: str) -> dict[str, tuple[int, Decimal | None]]:
    """The test's own reading of the topic: every message decoded with exact decimals."""
    messages = [json.loads(r.value, parse_float=Decimal) for r in read_topic(bootstrap, topic)]
    return expected_totals(messages)


def table_totals(url: str) -> dict[str, tuple[int, Decimal | None]]:
    return {name: (q, v) for name, (q, v, _) in table(url).items()}


def summary(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT pedidos, mensagens_rejeitadas FROM resumo_vendas").fetchone()


@pytest.mark.integration
def test_consumer_table_equals_the_topic_to_the_cent(
    kafka_bootstrap, new_topic, database_url, tmp_path, monkeypatch
):
    topic = new_topic("vendas-banco")
    produced = run_producer(
        kafka_bootstrap, topic, "--count", "3000", "--rate", "0", "--seed", "15"
    )
    assert produced.returncode == 0, produced.stderr[-2000:]
    expected = expected_from_topic(kafka_bootstrap, topic)
    monkeypatch.setenv("VENDAS_BANCO", database_url)  # the password never on argv

    consumed = run_consumer(kafka_bootstrap, topic, tmp_path / "ckpt")
    assert consumed.returncode == 0, consumed.stderr[-3000:]
    assert table_totals(database_url) == expected
    assert {name: (q, v) for name, q, v in parse_table(consumed.stdout)} == expected
    assert summary(database_url) == (3000, 0)
    assert "Totais também no PostgreSQL em" in consumed.stderr
    password = psycopg.conninfo.conninfo_to_dict(database_url).get("password")
    assert not password or password not in consumed.stdout + consumed.stderr

    # Spark replays its last batch (same id) when the batch's commit is missing, as after a
    # crash between the sink and the commit: the database is left exactly as it was.
    with psycopg.connect(database_url) as conn:
        before = conn.execute(f"SELECT * FROM {PRODUCTS_TABLE} ORDER BY produto").fetchall()
    commits = tmp_path / "ckpt" / ORDERS_QUERY / "commits"
    last = max(int(p.name) for p in commits.iterdir() if p.name.isdigit())
    (commits / str(last)).unlink()
    replayed = run_consumer(kafka_bootstrap, topic, tmp_path / "ckpt")
    assert replayed.returncode == 0, replayed.stderr[-3000:]
    assert f"Lote {last} já estava no PostgreSQL" in replayed.stderr
    with psycopg.connect(database_url) as conn:
        after = conn.execute(f"SELECT * FROM {PRODUCTS_TABLE} ORDER BY produto").fetchall()
    assert after == before  # atualizado_em and lote included
    assert progress(database_url) == {next(iter(progress(database_url))): last}


@pytest.mark.integration
@pytest.mark.slow
def test_kill_9_mid_run_then_restart_leaves_the_table_exact(
    kafka_bootstrap, new_topic, database_url, tmp_path, monkeypatch
):
    topic = new_topic("vendas-banco")
    produced = run_producer(
        kafka_bootstrap, topic, "--count", "20000", "--rate", "0", "--seed", "51"
    )
    assert produced.returncode == 0, produced.stderr[-2000:]
    expected = expected_from_topic(kafka_bootstrap, topic)
    monkeypatch.setenv("VENDAS_BANCO", database_url)
    checkpoint = tmp_path / "ckpt"

    def last_batch() -> int:
        return max(progress(database_url).values(), default=-1) if _has_tables(database_url) else -1

    # 1,000 offsets per batch: about 20 batches, so the kill lands mid-run.
    process = subprocess.Popen(
        consumer_command(
            kafka_bootstrap,
            topic,
            checkpoint,
            "--trigger",
            "0",
            "--max-offsets-per-trigger",
            "1000",
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=cli_env(),
        start_new_session=True,
    )
    try:
        wait_until(lambda: last_batch() >= 3, 240, "three batches in the database")
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # driver and JVM, no clean-up
        process.wait(30)
    killed_at = last_batch()
    assert killed_at < 19, "the consumer finished before the kill: not a mid-run crash"
    assert summary(database_url)[0] < 20000

    restarted = run_consumer(kafka_bootstrap, topic, checkpoint)
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    assert table_totals(database_url) == expected
    assert summary(database_url) == (20000, 0)
    assert last_batch() > killed_at


def _has_tables(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT to_regclass('progresso_consultas') IS NOT NULL").fetchone()[0]


@pytest.mark.integration
def test_consumer_database_errors_are_one_sentence_and_exit_2(
    kafka_bootstrap, new_topic, database_url, tmp_path, monkeypatch
):
    topic = new_topic("vendas-banco")
    secret = psycopg.conninfo.conninfo_to_dict(database_url).get("password") or "sem-senha"
    cases = {
        "recusou o usuário ou a senha": psycopg.conninfo.make_conninfo(
            database_url, password=secret + "x"
        ),
        "Não foi possível conectar ao PostgreSQL": psycopg.conninfo.make_conninfo(
            database_url, port=str(free_port())
        ),
        "A URL do banco é inválida": f"usuario:{secret}@host-sem-esquema",
    }
    for expected, url in cases.items():
        monkeypatch.setenv("VENDAS_BANCO", url)
        result = run_consumer(kafka_bootstrap, topic, tmp_path / "ckpt", timeout_s=120)
        assert result.returncode == 2, result.stderr[-3000:]
        errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
        assert len(errors) == 1 and expected in errors[0], result.stderr[-3000:]
        assert "Traceback" not in result.stderr
        assert secret not in result.stdout + result.stderr


@pytest.mark.integration
@pytest.mark.slow
def test_demo_with_database_and_dashboard_drains_then_stops(
    kafka_bootstrap, new_topic, database_url, tmp_path
):
    """make demo's orchestrator with a database: Ctrl-C leaves the table equal to the topic."""
    topic = new_topic("demo-banco")
    port = free_port()
    env = dict(cli_env(), PYTHONPATH=str(REPO_ROOT), VENDAS_BANCO=database_url)
    log_path = tmp_path / "demo.log"
    with open(log_path, "w") as log_file:
        demo = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "localdev.demo",
                "-b",
                kafka_bootstrap,
                "--topic",
                topic,
                "--rate",
                "300",
                "--trigger",
                "1",
                "--painel-porta",
                str(port),
            ],
            cwd=tmp_path,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )

    def output() -> str:
        return log_path.read_text(errors="replace")

    try:
        wait_until(lambda: f"Painel ao vivo: http://127.0.0.1:{port}" in output(), 60, "the URL")
        wait_until(
            lambda: _has_tables(database_url) and (summary(database_url) or (0,))[0] > 0,
            240,
            "a first batch in the database",
        )
        wait_until(lambda: _answers(port), 60, "the dashboard")
        demo.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends
        assert demo.wait(120) == 0, output()[-3000:]
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
    found = re.search(r"Resumo: ([\d.]+) enviados", output())
    assert found, output()[-3000:]
    sent = int(found[1].replace(".", ""))
    assert table_totals(database_url) == expected_from_topic(kafka_bootstrap, topic)
    assert summary(database_url) == (sent, 0)  # the last batch counted every order sent
    assert f"pedidos contados: {sent};" in output().split("Totais por produto (até o lote")[-1]
    assert not _answers(port)  # the dashboard stopped with the demo
    assert "Traceback" not in output()
    password = psycopg.conninfo.conninfo_to_dict(database_url).get("password")
    assert not password or password not in output()


def _answers(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0
