"""The fast path on the JVM (vendas/jvm/CanonicalOrder.java), built once and called from SQL.

The SQL fast path (vendas/pipeline/sql_fast_path.py) proves a message canonical with a from_json and
to_json round trip over several projections; one strict streaming pass in Java vouches for
the same orders for less than from_json alone costs (bench/consumer.py). Building it needs
javac (a JDK, not only a JRE): it is compiled on first use into the user's cache, keyed by
its source and the pyspark version, and added to the session with ADD JAR, which also ships
it to a cluster's executors. Where it cannot be built, the SQL fast path is used, with the
same verdicts.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pyspark
from pyspark.sql import SparkSession

from vendas import contract as c
from vendas.pipeline.rules import (
    MAX_NAME_LENGTH,
    MAX_ORDER_VALUE,
    MAX_PRICE,
    MAX_QUANTITY,
    date_expr,
)
from vendas.pipeline.sql_fast_path import MAX_FAST_ITEMS
from vendas.spark.java import java_executable

log = logging.getLogger(__name__)

FUNCTION = "vendas_pedido_canonico"
CLASS_NAME = "vendas.CanonicalOrder"
SOURCE = Path(__file__).resolve().parents[2] / "jvm" / "src" / "vendas" / "CanonicalOrder.java"
RESULT_TYPE = ("struct<id:string,produtos:array<string>,quantidades:array<int>,"
               "valores:array<decimal(18,2)>,data:string>")
# The Java code's second argument: the canonical field names (in the order of its field
# numbers) and the limits of vendas/pipeline/rules.py, so that neither is written twice.
SETTINGS = ",".join(map(str, (
    c.ID_ORDEM, c.CPF_CLIENTE, c.PRODUTOS_COMPRADOS, c.QUANTIDADE_POR_PRODUTO,
    c.PRECO_UNITARIO_POR_PRODUTO, c.VALOR_TOTAL, c.DATA_HORA,
    MAX_FAST_ITEMS, MAX_QUANTITY, MAX_NAME_LENGTH, MAX_PRICE, MAX_ORDER_VALUE)))
COMPILE_TIMEOUT_S = 300


def fast_stages(value: str) -> list[dict[str, str]]:
    """SQL stages over the message bytes `value`: _fast (vouched valid), the valid order's
    id and date (its items: fast_item_fields), named as in vendas/pipeline/sql_fast_path.py."""
    return [
        {"_jvm": f"{FUNCTION}({value}, '{SETTINGS}')"},
        {"_fast_date": date_expr("_jvm.data")},
        {"_fast": "coalesce(_jvm IS NOT NULL AND _fast_date IS NOT NULL, false)",
         "_fast_id": "_jvm.id"},
    ]


def fast_item_fields() -> dict[str, str]:
    return {"produto": "_jvm.produtos", "quantidade": "_jvm.quantidades",
            "valor": "_jvm.valores"}


def sql_texts(value: str) -> list[str]:
    """Every SQL expression of this fast path (to warm Spark's parser with)."""
    return [*(e for stage in fast_stages(value) for e in stage.values()),
            *fast_item_fields().values()]


def is_registered(spark: SparkSession) -> bool:
    return spark.catalog.functionExists(FUNCTION)


def register(spark: SparkSession) -> bool:
    """Make the Java fast path callable in this session; False (logged once) when it
    cannot be built here, and then vendas.pipeline.transforms uses the SQL fast path."""
    if is_registered(spark):
        return True
    jar = build_jar()
    if jar is None:
        return False
    spark.sql(f"ADD JAR '{jar}'")
    spark.udf.registerJavaFunction(FUNCTION, CLASS_NAME, RESULT_TYPE)
    return True


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vendas-ecommerce"


def jar_path() -> Path:
    digest = hashlib.sha256(SOURCE.read_bytes() + pyspark.__version__.encode()).hexdigest()
    return _cache_dir() / f"validador-{digest[:16]}.jar"


def _spark_jars() -> Path:
    """The jars the class is compiled against: Spark's own (SPARK_HOME under spark-submit)."""
    spark_home = os.environ.get("SPARK_HOME")
    if spark_home and (Path(spark_home) / "jars").is_dir():
        return Path(spark_home) / "jars"
    return Path(pyspark.__file__).parent / "jars"


def find_javac() -> str | None:
    """javac beside the java Spark runs (a JDK), else on the PATH."""
    beside = Path(java_executable()).resolve().with_name("javac")
    return str(beside) if os.access(beside, os.X_OK) else shutil.which("javac")


def build_jar() -> Path | None:
    """The compiled jar in the cache, built now if missing; None, with a warning, if it
    cannot be built (no JDK, a read-only cache)."""
    target = jar_path()
    if target.is_file():
        return target
    javac = find_javac()
    if javac is None:
        log.warning("javac (JDK) não encontrado: o consumidor valida com o caminho rápido em "
                    "SQL, mais lento. Instale um JDK para o validador em Java.")
        return None
    log.info("Compilando o validador rápido em Java (só na primeira vez)...")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            classes = Path(tmp) / "classes"
            done = subprocess.run(
                [javac, "--release", "17", "-nowarn", "-d", str(classes),
                 "-cp", f"{_spark_jars()}/*", str(SOURCE)],
                capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S, check=False)
            if done.returncode != 0:
                first = (done.stderr.strip().splitlines() or ["?"])[0]
                log.warning("O validador em Java não compilou (%s): o consumidor valida com o "
                            "caminho rápido em SQL, mais lento.", first)
                return None
            built = Path(tmp) / "validador.jar"
            with zipfile.ZipFile(built, "w", zipfile.ZIP_DEFLATED) as jar:
                for path in sorted(classes.rglob("*.class")):
                    jar.write(path, path.relative_to(classes).as_posix())
            os.replace(built, target)  # atomic: a concurrent build writes the same bytes
    except (OSError, subprocess.TimeoutExpired) as error:
        log.warning("O validador em Java não foi gerado em %s (%s): o consumidor valida com o "
                    "caminho rápido em SQL, mais lento.", target.parent, error)
        return None
    return target
