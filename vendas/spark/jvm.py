"""The project's JVM classes (jvm/src/): where their jar is and how a session gets them.

The jar is built once, at install time, by `make jvm` (the demo, the tests and the
benchmarks depend on it): never at a user's run. The session's resource loader (what `ADD
JAR` runs) puts it on the session's class path and ships it to a cluster's executors.
"""

from __future__ import annotations

from pathlib import Path

from py4j.java_gateway import JavaClass
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import DataType

from vendas.errors import UserError

JAR = Path(__file__).with_name("jars") / "vendas-jvm.jar"
PACKAGE = "vendas"
_ADDED = "spark.vendas.jvm.jar"  # a session setting: the jar this session has added
# a session setting per SQL function: the class this session registered under that name
_REGISTERED = "spark.vendas.jvm.function."


def require_jar() -> Path:
    """The built jar, or a UserError saying how to build it."""
    if not JAR.is_file():
        raise UserError(
            f"As classes Java do consumidor não foram compiladas ({JAR} não existe): rode "
            "`make jvm` na pasta do projeto (precisa de um JDK 17 ou mais novo, com javac)."
        )
    return JAR


def add_to_session(spark: SparkSession) -> None:
    """Put the jar on the session's class path (and the executors'), once per session.

    What `ADD JAR` runs, without a statement for Spark's SQL parser to read, which cold
    slowed the consumer's start (docs/desempenho.md). PySpark has no public call for it."""
    jar = str(require_jar())
    if spark.conf.get(_ADDED, None) != jar:
        spark._jsparkSession.sessionState().resourceLoader().addJar(jar)
        spark.conf.set(_ADDED, jar)


def register_function(spark: SparkSession, name: str, class_name: str,
                      result_type: DataType) -> None:
    """Make the jar's UDF class `class_name` callable from SQL as `name`, once per session.

    Checked through a session setting, not the catalog: a session's first catalog lookup
    sets up its database catalog, which the consumer never uses otherwise (bench/consumer.py
    times the start). The type is a DataType, not a DDL string that Spark's SQL parser
    would read."""
    marker = _REGISTERED + name
    if spark.conf.get(marker, None) != class_name:
        add_to_session(spark)
        spark.udf.registerJavaFunction(name, f"{PACKAGE}.{class_name}", result_type)
        spark.conf.set(marker, class_name)


def jvm_class(spark: SparkSession, name: str) -> JavaClass:
    """A class of the jar, through py4j.

    PySpark has no public way to call a JVM transformation that returns a Dataset (delta-spark
    and GraphFrames reach theirs the same way). py4j loads classes with the context class
    loader of the JVM thread serving this Python thread, and `ADD JAR` sets it only on the
    thread that ran it: it is set here to the session's jar class loader.
    """
    add_to_session(spark)
    jvm = spark.sparkContext._jvm
    loader = spark._jsparkSession.sharedState().jarClassLoader()
    jvm.java.lang.Thread.currentThread().setContextClassLoader(loader)
    return getattr(jvm, f"{PACKAGE}.{name}")


def wrap(jdf: object, spark: SparkSession) -> DataFrame:
    """A Dataset<Row> returned by jvm_class code, as a PySpark DataFrame (same reason)."""
    return DataFrame(jdf, spark)


def java_dataframe(df: DataFrame) -> object:
    """The JVM Dataset behind `df`, to hand to jvm_class code (same reason)."""
    return df._jdf
