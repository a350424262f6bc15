"""Operations: a running consumer's health as an operator sees it.

A known mix (valid orders, duplicates, rejected messages) goes to the topic; the consumer
runs with --metricas-porta; a real Prometheus server (Debian's `prometheus`) scrapes it and
Spark's own endpoint, and the values are read back through Prometheus's HTTP API. The
consumer is then killed with kill -9 and restarted on more messages: the counts go on
exactly, and balance. Meanwhile, nothing of the consumer listens beyond the loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import pytest

from localdev.processes import free_port
from tests.support.kafka_io import cli_env, consumer_command, produce, send_all
from tests.support.waiting import wait_until

PROMETHEUS = shutil.which("prometheus")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(PROMETHEUS is None, reason="sem o servidor prometheus (pacote Debian "
                       "`prometheus`; o .ci/run o instala como root)"),
]
LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


def _get(url: str, timeout_s: float = 5) -> str:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        return response.read().decode()


def _metric(metrics_url: str, name: str) -> float | None:
    """A sample's value in the consumer's own exposition, or None while it is absent."""
    try:
        text = _get(metrics_url)
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith((name + " ", name + "{")):
            return float(line.rsplit(" ", 1)[1])
    return None


def _query(prometheus: str, expression: str) -> list[dict]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    try:
        data = json.loads(_get(url))
    except OSError:
        return []
    return data["data"]["result"] if data.get("status") == "success" else []


def _value(prometheus: str, expression: str) -> float | None:
    result = _query(prometheus, expression)
    return float(result[0]["value"][1]) if len(result) == 1 else None


def _listening(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket the process tree of `pid` listens on."""
    found = set()
    try:
        processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return found
    for process in processes:
        try:
            connections = process.net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            continue
        found |= {(c.laddr.ip, c.laddr.port) for c in connections
                  if c.status == psutil.CONN_LISTEN}
    return found


def _start_consumer(bootstrap: str, topic: str, checkpoint: Path, metrics_port: int,
                    ui_port: int, log_path: Path) -> subprocess.Popen:
    with open(log_path, "a") as log_file:
        return subprocess.Popen(
            consumer_command(bootstrap, topic, checkpoint, "--trigger", "1",
                             "--metricas-porta", str(metrics_port),
                             "--conf", f"spark.ui.port={ui_port}"),
            stdout=log_file, stderr=subprocess.STDOUT, env=cli_env(), start_new_session=True)


def _start_prometheus(tmp_path: Path, targets: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    config = tmp_path / "prometheus.yml"
    jobs = "".join(
        f"  - job_name: {job}\n    metrics_path: {path}\n"
        f"    static_configs: [{{targets: ['{address}']}}]\n"
        for job, (address, path) in targets.items())
    config.write_text(f"global:\n  scrape_interval: 1s\nscrape_configs:\n{jobs}")
    process = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=(tmp_path / "prometheus.log").open("w"),
        start_new_session=True)
    return process, f"http://127.0.0.1:{port}"


def test_metrics_reach_prometheus_balance_and_survive_kill_9(kafka_bootstrap, new_topic,
                                                             tmp_path):
    topic = new_topic("vendas-operacao")
    produce(kafka_bootstrap, topic, 300, seed=32)  # 300 valid orders
    repeated = [(b"k", line) for line in _first_values(kafka_bootstrap, topic, 20)]
    hostile = [(b"k", b"nao e json"), (b"k", b'{"id_ordem": "x"}'),
               (b'k"\n{x="1"}', b'\x1b[2J{"motivo": "a\\"\\n} 1"}')]
    send_all(kafka_bootstrap, topic, repeated + hostile)
    metrics_port, ui_port = free_port(), free_port()
    metrics = f"http://127.0.0.1:{metrics_port}/metrics"
    checkpoint, log_path = tmp_path / "ckpt", tmp_path / "consumidor.log"
    consumer = _start_consumer(kafka_bootstrap, topic, checkpoint, metrics_port, ui_port,
                               log_path)
    prometheus, prometheus_url = _start_prometheus(tmp_path, {
        "consumidor": (f"127.0.0.1:{metrics_port}", "/metrics"),
        "spark": (f"127.0.0.1:{ui_port}", "/metrics/prometheus/"),
    })
    try:
        wait_until(lambda: _metric(metrics, "vendas_mensagens_lidas_total") == 323, 240,
                   "the consumer to read all 323 messages")
        listening = wait_until(lambda: {p for _, p in _listening(consumer.pid)} >= {
            metrics_port, ui_port} and _listening(consumer.pid), 60, "the ports to listen")
        assert {address for address, _ in listening} <= LOOPBACK, listening

        def scraped(expression: str, expected: float) -> bool:
            return _value(prometheus_url, expression) == expected

        for expression, expected in (
            ("vendas_pedidos_contados_total", 300),
            ("vendas_pedidos_duplicados_total", 20),
            ("sum(vendas_mensagens_rejeitadas_total)", 3),
            ('vendas_mensagens_rejeitadas_total{motivo="json_invalido"}', 2),
            ("vendas_mensagens_lidas_total", 323),
            ("vendas_diferenca_reconciliacao", 0),
            (f'sum(vendas_atraso_mensagens{{topico="{topic}"}})', 0),
        ):
            wait_until(lambda e=expression, v=expected: scraped(e, v), 60,
                       f"Prometheus to read {expression} = {expected}")
        # Spark's own streaming metrics, served by Spark, scraped beside ours
        wait_until(lambda: _query(prometheus_url, '{__name__=~".*streaming_pedidos_.*"}'), 60,
                   "Spark's streaming metrics in Prometheus")
        assert not [series for series in _query(prometheus_url, '{job="consumidor"}')
                    if any("\n" in v or "\x1b" in v for v in series["metric"].values())]

        os.killpg(consumer.pid, signal.SIGKILL)  # driver and JVM, no clean-up
        consumer.wait(30)
        produce(kafka_bootstrap, topic, 100, seed=33)
        send_all(kafka_bootstrap, topic, repeated[:5] + [(b"k", b"")])
        consumer = _start_consumer(kafka_bootstrap, topic, checkpoint, metrics_port, ui_port,
                                   log_path)
        wait_until(lambda: scraped("vendas_mensagens_lidas_total", 429), 240,
                   "Prometheus to read the messages of both runs (429)")
        assert _value(prometheus_url, "vendas_pedidos_contados_total") == 400
        assert _value(prometheus_url, "vendas_pedidos_duplicados_total") == 25
        assert _value(prometheus_url, "sum(vendas_mensagens_rejeitadas_total)") == 4
        assert _value(prometheus_url, "vendas_diferenca_reconciliacao") == 0
        log = log_path.read_text(errors="replace")
        assert "\x1b" not in log and "Traceback" not in log
    finally:
        for process in (consumer, prometheus):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(30)


def _first_values(bootstrap: str, topic: str, n: int) -> list[bytes]:
    from tests.support.kafka_io import read_topic

    return [record.value for record in read_topic(bootstrap, topic)[:n]]
