"""`make demo`'s orchestrator: the table shows up, and Ctrl-C stops everything cleanly; with a
database, the table in PostgreSQL ends equal to the topic and the dashboard stops too."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys

import psycopg
import pytest

from localdev.processes import free_port
from tests.support import REPO_ROOT
from tests.support.database import expected_from_topic, has_tables, summary, table_totals
from tests.support.kafka_io import cli_env
from tests.support.waiting import wait_until
from vendas.consumer.app import ORDERS_QUERY


def test_demo_shows_totals_then_stops_cleanly_on_ctrl_c(kafka_bootstrap, new_topic, tmp_path):
    topic = new_topic("demo")
    env = cli_env()
    env["PYTHONPATH"] = str(REPO_ROOT)
    log_path = tmp_path / "demo.log"
    with open(log_path, "w") as log_file:
        demo = subprocess.Popen(
            [sys.executable, "-m", "localdev.demo", "-b", kafka_bootstrap, "--topic", topic,
             "--rate", "200", "--trigger", "2"],
            cwd=tmp_path, stdout=log_file, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )
    output = lambda: log_path.read_text(errors="replace")
    try:
        wait_until(lambda: "pedidos contados:" in output(), 120, "the first table")
        demo.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends
        assert demo.wait(90) == 0, output()[-3000:]
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
    text = output()
    assert "Resumo:" in text and ", 0 falhas" in text  # the producer flushed and summed up
    assert "Totais por produto (até o lote" in text  # the consumer printed its final table
    assert "Traceback" not in text
    assert (tmp_path / ".checkpoints" / topic / ORDERS_QUERY / "commits").is_dir()


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
            lambda: has_tables(database_url) and (summary(database_url) or (0,))[0] > 0,
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
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0
