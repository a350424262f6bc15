"""vendas-ecommerce: e-commerce orders from a Faker producer, aggregated per product by Spark."""

import os
import sys

__version__ = "0.1.0"


def under_spark_submit() -> bool:
    """Whether spark-submit launched this Python driver: it sets PYSPARK_GATEWAY_PORT for
    the driver to reach the JVM it already started."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def _drop_submitted_jars_from_path() -> None:
    """Under spark-submit, take the jars off sys.path, before anything else is imported.

    spark-submit puts every jar that --packages resolved on the driver's Python path, for
    Python code shipped inside jars; the Kafka connector's carry none. Each is a zip that
    every later import looks into, and importlib.metadata (which crc32c calls at import)
    reads hadoop-client-runtime's whole directory, at every start (docs/desempenho.md).
    """
    if under_spark_submit():
        sys.path[:] = [entry for entry in sys.path if not entry.endswith(".jar")]


_drop_submitted_jars_from_path()
