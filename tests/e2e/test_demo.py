"""`make demo`'s orchestrator: the table shows up, and Ctrl-C stops everything cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.kafka_io import REPO_ROOT, cli_env
from tests.waiting import wait_until
from vendas.consumer.app import ORDERS_QUERY

pytestmark = pytest.mark.integration


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
