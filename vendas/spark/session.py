"""The SparkSession the consumer runs in, with the Kafka connector and local defaults.

Under `spark-submit` whatever the user set wins; under plain `python` the session asks
Spark's own resolver for the connector at exactly the installed pyspark version.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyspark
from pyspark import SparkConf, SparkContext
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession

from vendas import contract as c
from vendas import under_spark_submit
from vendas.errors import UserError
from vendas.spark.java import java_executable

log = logging.getLogger(__name__)

SCALA_BINARY_VERSION = "2.13"
# The one place the connector version is written: the installed pyspark's own version.
KAFKA_CONNECTOR = (
    f"org.apache.spark:spark-sql-kafka-0-10_{SCALA_BINARY_VERSION}:{pyspark.__version__}"
)

# Defaults wherever the consumer runs; each can be overridden with --conf (or spark-submit --conf).
DEFAULTS: dict[str, str] = {
    "spark.sql.session.timeZone": c.DEFAULT_TIME_ZONE,
    "spark.sql.streaming.stateStore.providerClass":
        "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider",
    # commit writes a changelog instead of a RocksDB snapshot per batch: a shorter commit
    # per stateful operator and batch, same throughput (bench/latency.py)
    "spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled": "true",
    # RocksDB's running row count reads each key before writing it, one more lookup per
    # order in the de-duplication state, for a metric only (numRowsTotal then reads 0)
    "spark.sql.streaming.stateStore.rocksdb.trackTotalNumberOfRows": "false",
    # No extra micro-batch without data just to move the watermark on: under a steady flow
    # there is none anyway (the next batch has data and evicts), while after the last
    # batch of a backlog it cost a whole pass over the de-duplication state, for nothing
    # the totals show
    "spark.sql.streaming.noDataMicroBatches.enabled": "false",
    # How long stopping a query waits for an interrupted batch (Spark: forever). One that
    # is loading a large RocksDB state in native code ignores the interrupt for as long as
    # the load takes; past this the stop gives up, the process ends, and the batch is
    # replayed from the checkpoint (vendas/consumer/app.py, RunningConsumer.stop).
    "spark.sql.streaming.stopTimeout": "3s",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.streaming.noDataProgressEventInterval": "60000",
    # Spark's own streaming metrics (rates, latency, state per query) in the Prometheus
    # format, served by Spark on its UI port at /metrics/prometheus
    "spark.sql.streaming.metricsEnabled": "true",
    "spark.metrics.namespace": "vendas",
    "spark.metrics.conf.*.sink.prometheusServlet.class":
        "org.apache.spark.metrics.sink.PrometheusServlet",
    "spark.metrics.conf.*.sink.prometheusServlet.path": "/metrics/prometheus",
}
# On a local master nothing needs to reach the driver from another machine: its RPC and
# block manager listen on the loopback only, and so does the UI, which binds where the
# SPARK_LOCAL_IP variable said when the JVM was launched. A SPARK_LOCAL_IP the user set
# wins over all of this (docs/operacao.md).
LOOPBACK = "127.0.0.1"
LOCAL_ONLY: dict[str, str] = {
    "spark.driver.bindAddress": LOOPBACK,
    "spark.driver.host": LOOPBACK,
}
# Sized for a laptop (few shuffle partitions on 2 cores): not applied on a cluster master,
# where they would starve the executors.
LOCAL_DEFAULTS: dict[str, str] = {
    "spark.sql.shuffle.partitions": "2",
    # Shuffle blocks never leave this machine: compressing them (lz4) only spends CPU, and
    # the de-duplication shuffles every order of a batch (bench/consumer.py)
    "spark.shuffle.compress": "false",
    "spark.driver.memory": "2g",
    # Checkpoint files through Hadoop's FileSystem API: the default FileContext API forks a
    # `readlink` process for every file it renames on a local disk (no native Hadoop
    # library in pip's pyspark), several per batch, which shows in the latency at short
    # triggers (bench/latency.py). Local renames are atomic either way.
    "spark.sql.streaming.checkpointFileManagerClass":
        "org.apache.spark.sql.execution.streaming.checkpointing.FileSystemBasedCheckpointFileManager",
}


def _submitted_conf() -> dict[str, str]:
    """The conf spark-submit passed down (empty under plain python).

    Under spark-submit the JVM is already running and PYSPARK_GATEWAY_PORT says where; a
    SparkConf reads the submitted settings only once pyspark is connected to it, and
    pyspark has no public call that connects without creating the SparkContext itself.
    """
    if not under_spark_submit():
        return {}
    SparkContext._ensure_initialized()
    return dict(SparkConf().getAll())


def build_session(app_name: str, conf: dict[str, str] | None = None,
                  verbose: bool = False) -> SparkSession:
    """Create (or reuse) the session; ends with a UserError sentence instead of a JVM trace."""
    java_executable()  # no Java (or an old one): say so before Spark prints a stack trace
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    submitted = _submitted_conf()
    master = submitted.get("spark.master", "local[*]")
    local = master.startswith("local")
    defaults = {**DEFAULTS, **(LOCAL_DEFAULTS if local else {})}
    if local and "SPARK_LOCAL_IP" not in os.environ:
        defaults.update(LOCAL_ONLY)
        if submitted:  # a JVM spark-submit launched: its UI listens on every interface
            defaults["spark.ui.killEnabled"] = "false"
            log.warning("A interface web do Spark escuta em todas as interfaces desta máquina "
                        "(sem os botões de cancelar): exporte SPARK_LOCAL_IP=127.0.0.1 antes "
                        "do spark-submit para restringi-la a esta máquina.")
        else:
            os.environ["SPARK_LOCAL_IP"] = LOOPBACK
    settings = {k: v for k, v in defaults.items() if k not in submitted}
    if "spark.master" not in submitted:
        settings["spark.master"] = master
        settings["spark.driver.extraJavaOptions"] = (
            f"-Dlog4j2.configurationFile={Path(__file__).with_name('log4j2.properties')}"
        )
    resolve_connector = "spark.jars.packages" not in submitted and "spark.jars" not in submitted
    if resolve_connector:
        settings.update(connector_settings())
    settings.update(conf or {})
    builder = SparkSession.builder.appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = _off_the_main_thread(builder.getOrCreate)
    except Exception as error:  # the JVM did not start: pyspark raises a bare RuntimeError
        raise UserError(
            "O Spark não iniciou. Se a mensagem acima fala em resolver dependências, o conector "
            f"{KAFKA_CONNECTOR} não pôde ser baixado do Maven Central: verifique a conexão "
            f"(na primeira execução) ou use spark-submit --packages {KAFKA_CONNECTOR}."
        ) from error
    spark.sparkContext.setLogLevel("WARN" if verbose else "ERROR")
    _check_user_conf(spark, conf or {})
    if resolve_connector and "spark.jars.packages" in settings:
        _remember_resolved_jars(spark.sparkContext.getConf().get("spark.jars", ""))
    return spark


def _off_the_main_thread(create: Callable[[], SparkSession]) -> SparkSession:
    """Create the session on another thread and wait for it.

    A SparkContext created on the main thread installs PySpark's SIGINT handler, which
    cancels jobs from inside the signal handler, re-entering py4j (a wall of tracebacks on a
    Ctrl-C while Spark starts); the entry points keep their own (vendas.signals).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sessao-spark") as pool:
        return pool.submit(create).result()


def _resolved_jars_file() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "vendas-ecommerce" / f"{KAFKA_CONNECTOR.replace(':', '_')}.jars"


def connector_settings() -> dict[str, str]:
    """How the session gets the Kafka connector: the jars an earlier run resolved, when
    they are all still on disk, else Spark's resolver (`spark.jars.packages`).

    Resolving asks Maven Central for the connector's dependency tree on every start, even
    with every jar in the Ivy cache; the jar list that resolution produced is the same
    for the same coordinate, so it is kept beside the cache and reused.
    """
    cached = _resolved_jars_file()
    if cached.exists():
        jars = [j for j in cached.read_text().strip().split(",") if j]
        if jars and all(Path(j.removeprefix("file://")).is_file() for j in jars):
            return {"spark.jars": ",".join(jars)}
    return {
        "spark.jars.packages": KAFKA_CONNECTOR,
        # Only Maven Central: Spark's default list also asks a third-party repository
        # that may be unreachable, which floods the console with resolution errors.
        "spark.jars.ivySettings": str(Path(__file__).with_name("ivysettings.xml")),
    }


def _remember_resolved_jars(jars: str) -> None:
    if not jars:
        return
    path = _resolved_jars_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(jars)
    except OSError as error:  # a read-only home: resolve again next time
        log.debug("Lista de jars do conector não gravada em %s: %s", path, error)


def _check_user_conf(spark: SparkSession, conf: dict[str, str]) -> None:
    """Spark checks a SQL setting's type only when it is read: read each one now, so a bad
    --conf value is one sentence at start instead of a stack trace in the first batch."""
    for key, value in conf.items():
        try:
            spark.conf.get(key)
        except PySparkException as error:
            expected = re.search(r"should be (?:a/an |an? )'?([\w ]+?)'? value", str(error))
            detail = f" (o Spark espera um valor do tipo {expected[1]})" if expected else ""
            raise UserError(
                f"Valor inválido em --conf {key}={value}{detail}: corrija ou remova essa opção."
            ) from None
