"""The PostgreSQL sink: absolute totals fenced by batch id, outages, user errors, and the
consumer against a real Kafka and a real PostgreSQL. Its kill -9 and the demo with a
database: tests/e2e/."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from localdev.postgres import LocalPostgres
from localdev.processes import free_port
from tests.support.database import expected_from_topic, progress, summary, table, table_totals
from tests.support.kafka_io import (
    parse_table,
    run_consumer,
    run_producer,
)
from vendas.consumer.app import ORDERS_QUERY
from vendas.errors import UserError
from vendas.outputs.postgres import (
    PRODUCTS_TABLE,
    BatchWrite,
    DatabaseUnavailable,
    Owner,
    TotalsStore,
    connect,
    db_text,
    describe,
    mask_url,
)
from vendas.pipeline.totals import ProductTotal, Totals

QUERY = "0f1e2d3c-query"
OWNER = Owner("/dados/checkpoint", "vendas-ecommerce")


def batch(batch_id: int, *touched: tuple[str, int, str | None], before: Totals | None = None,
          rejected: dict[str, int] | None = None, orders: int = 10,
          unattributed: str = "0.00", products: int = 0) -> BatchWrite:
    """A batch that touched these products (their totals so far), with these counts after it."""
    rows = [(n, q, None if v is None else Decimal(v)) for n, q, v in touched]
    rejected = rejected or {}
    after = Totals([ProductTotal(*row) for row in rows], products or len(rows),
                   sum(q for _, q, _ in rows),
                   sum((v for _, _, v in rows if v is not None), Decimal("0.00")), orders,
                   Decimal(unattributed), rejected, 0, orders + sum(rejected.values()))
    return BatchWrite(batch_id, before or Totals(), after, lambda: rows)


def test_batches_upsert_the_touched_products_to_the_cent_with_their_history(database_url):
    store = TotalsStore(database_url, OWNER).open()
    try:
        first = batch(0, ("Mouse", 2, "179.80"), ("Teclado", 1, "149.90"),
                      rejected={"json_invalido": 1}, orders=2)
        assert store.write(first, QUERY)
        second = batch(1, ("Mouse", 5, "449.50"), ("Cabo", 3, None), before=first.totals,
                       rejected={"json_invalido": 2, "sem_produtos": 1}, orders=25,
                       unattributed="1234.56", products=3)
        assert store.write(second, QUERY)
    finally:
        store.close()
    # Teclado was not touched in batch 1: it keeps its totals and the batch that wrote them.
    assert table(database_url) == {
        "Mouse": (5, Decimal("449.50"), 1),
        "Teclado": (1, Decimal("149.90"), 0),
        "Cabo": (3, None, 1),
    }
    with psycopg.connect(database_url) as conn:
        column_type = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attname = 'valor_total'",
            (PRODUCTS_TABLE,),
        ).fetchone()[0]
        summary_row = conn.execute(
            "SELECT pedidos, valor_total, valor_nao_atribuido, produtos, mensagens_rejeitadas, "
            "mensagens_lidas, lote FROM resumo_vendas").fetchone()
        rejections = dict(conn.execute("SELECT motivo, quantidade FROM rejeicoes_por_motivo"))
        history = conn.execute(
            "SELECT lote, mensagens, pedidos, rejeitadas, rejeitadas_por_motivo "
            "FROM historico_lotes ORDER BY lote").fetchall()
    assert column_type == "numeric(38,2)"
    assert summary_row == (25, Decimal("449.50"), Decimal("1234.56"), 3, 3, 28, 1)
    assert rejections == {"json_invalido": 2, "sem_produtos": 1}
    assert history == [(0, 3, 2, 1, {"json_invalido": 1}),
                       (1, 25, 23, 2, {"json_invalido": 1, "sem_produtos": 1})]
    assert progress(database_url) == {QUERY: 1}


def test_a_replayed_batch_changes_nothing(database_url):
    store = TotalsStore(database_url, OWNER).open()
    try:
        assert store.write(batch(7, ("Mouse", 2, "179.80"), rejected={"json_invalido": 1}), QUERY)
        with psycopg.connect(database_url) as conn:
            before = conn.execute(f"SELECT * FROM {PRODUCTS_TABLE}").fetchall()
            summary_before = conn.execute("SELECT * FROM resumo_vendas").fetchall()
        # Spark replays batch 7 after a crash (here with other numbers, to see any write),
        # and an older batch arrives late: both are skipped.
        assert not store.write(batch(7, ("Mouse", 4, "359.60"), ("Novo", 1, "1.00")), QUERY)
        assert not store.write(batch(6, ("Mouse", 1, "89.90")), QUERY)
        with psycopg.connect(database_url) as conn:
            assert conn.execute(f"SELECT * FROM {PRODUCTS_TABLE}").fetchall() == before
            assert conn.execute("SELECT * FROM resumo_vendas").fetchall() == summary_before
        assert progress(database_url) == {QUERY: 7}
    finally:
        store.close()


def test_a_restarted_checkpoint_starts_the_tables_over(database_url, caplog):
    store = TotalsStore(database_url, OWNER).open()
    try:
        assert store.write(batch(3, ("Mouse", 4, "359.60"), ("Cabo", 1, None)), QUERY)
        # the same checkpoint deleted and started over: a new query id, batch ids from 0
        with caplog.at_level(logging.WARNING, logger="vendas.outputs.postgres"):
            assert store.write(batch(0, ("Mouse", 1, "89.90")), "outra-consulta")
        assert "recomeçou" in caplog.text
        assert table(database_url) == {"Mouse": (1, Decimal("89.90"), 0)}
        assert progress(database_url) == {"outra-consulta": 0}
    finally:
        store.close()


def test_a_second_consumer_is_refused_in_one_sentence(database_url):
    TotalsStore(database_url, OWNER).open().close()
    other = TotalsStore(database_url, Owner("/outro/checkpoint", "vendas-ecommerce"))
    with pytest.raises(UserError, match="já guarda os totais de outro consumidor .*tópico "
                                        "vendas-ecommerce, checkpoint /dados/checkpoint"):
        other.open()


def test_hostile_product_names_are_stored_and_never_fail_a_batch(database_url):
    names = [
        "'; DROP TABLE totais_por_produto; --",
        "a\x00b",
        "\ud800solto",
        "**negrito** <b>x</b> $x$",
        "\x1b[2J",
        "emoji 🛒 e acentuação",
    ]
    store = TotalsStore(database_url, OWNER).open()
    try:
        products = [(name, i + 1, f"{i + 1}.00") for i, name in enumerate(names)]
        products.append(("a\u2400b", 10, "10.00"))  # what "a\x00b" is stored as: summed
        assert store.write(batch(0, *products), QUERY)
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
        assert store.write(batch(0, ("Mouse", 1, "89.90")), QUERY)
        server.down()
        with caplog.at_level(logging.WARNING, logger="vendas.outputs.postgres"):
            assert store.write(batch(1, ("Mouse", 3, "269.70")), QUERY)
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
            store.write(batch(2, ("Mouse", 4, "359.60")), QUERY)
        store.close()
    finally:
        server.down()
        shutil.rmtree(directory, ignore_errors=True)


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


