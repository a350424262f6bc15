"""The consumer on a real Spark standalone cluster (a master and two one-core workers from
pyspark's own spark-class): 10,000 orders through `spark-submit --master spark://...`, one
worker killed with kill -9 mid-run, and the totals still exact."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support import REPO_ROOT
from tests.support.corpus import expected_totals
from tests.support.kafka_io import cli_env, parse_table, produce, read_topic
from tests.support.waiting import wait_until
from vendas.consumer.app import ORDERS_QUERY
from vendas.spark.session import KAFKA_CONNECTOR

pytestmark = pytest.mark.cluster

ORDERS = 10_000
PER_BATCH = 2_000  # five batches: the kill lands mid-run


def _commits(checkpoint: Path) -> int:
    commits = checkpoint / ORDERS_QUERY / "commits"
    return len([p for p in commits.iterdir() if p.name.isdigit()]) if commits.exists() else 0


def test_consumer_on_a_spark_cluster_survives_a_worker_killed(spark_cluster, kafka_bootstrap,
                                                              new_topic, tmp_path):
    topic = new_topic("vendas-cluster")
    produce(kafka_bootstrap, topic, ORDERS, seed=23)
    checkpoint = tmp_path / "ckpt"  # one local disk: every process of the cluster sees it
    spark_submit = Path(sys.executable).with_name("spark-submit")
    command = [
        str(spark_submit), "--master", spark_cluster.master_url,
        "--packages", KAFKA_CONNECTOR,
        "--conf", f"spark.jars.ivySettings={REPO_ROOT / 'vendas' / 'spark' / 'ivysettings.xml'}",
        "--conf", "spark.executor.memory=768m", "--conf", "spark.sql.shuffle.partitions=2",
        str(REPO_ROOT / "consumidor_vendas.py"), "-b", kafka_bootstrap, "--topic", topic,
        "--dlq-topic", f"{topic}-dlq", "--checkpoint", str(checkpoint), "--available-now",
        "--max-offsets-per-trigger", str(PER_BATCH),
    ]
    log_path = tmp_path / "consumidor.log"
    with open(log_path, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=cli_env())
    try:
        wait_until(lambda: _commits(checkpoint) >= 2 or process.poll() is not None, 600,
                   "two batches committed on the cluster")
        assert process.poll() is None, log_path.read_text()[-3000:]
        assert _commits(checkpoint) < ORDERS // PER_BATCH, "finished before the kill"
        spark_cluster.worker(1).kill()  # its executor goes with it, mid-run
        assert process.wait(600) == 0, log_path.read_text()[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
    output = log_path.read_text()
    messages = [json.loads(r.value, parse_float=Decimal)
                for r in read_topic(kafka_bootstrap, topic)]
    assert len(messages) == ORDERS
    assert {name: (q, v) for name, q, v in parse_table(output)} == expected_totals(messages)
    assert f"pedidos contados: {ORDERS};" in output
    # it really ran on the cluster: the master saw the application and both workers
    status = json.loads(_get(f"{spark_cluster.webui_url}/json/"))
    apps = status.get("completedapps", []) + status.get("activeapps", [])
    assert apps, "the consumer ran in local mode, not on the cluster"


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()
