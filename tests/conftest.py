"""Shared fixtures and the tiers.

The fixtures start nothing until a test asks for them: one real Kafka for the session (or
$KAFKA_BOOTSTRAP_SERVERS), fresh topics, PostgreSQL (postgres_fixtures.py), the secured and
multi-process clusters (cluster_fixtures.py) and one SparkSession.

A test's folder says what it may use, and gives it its markers:
  unit/         pure Python: no JVM, no Kafka, no PostgreSQL (`make test-unit`)
  spark/        a SparkSession in this process, no Kafka, no PostgreSQL
  integration/  a real Kafka and/or PostgreSQL
  e2e/          whole processes and faults (kill -9, the demo, the browser, clusters)
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from localdev.kafka import LocalKafka
from localdev.processes import free_port

pytest_plugins = [
    "tests.postgres_fixtures",
    "tests.cluster_fixtures",  # secured Kafka, 3 brokers, Spark cluster
]

TESTS = Path(__file__).resolve().parent

# e2e tests need a real Kafka or PostgreSQL too: `-m "not integration"` leaves them out, as it
# leaves out every test that needs one.
TIER_MARKERS = {
    "unit": ("unit",),
    "spark": ("spark",),
    "integration": ("integration",),
    "e2e": ("integration", "e2e"),
}
SERVICE_FIXTURES = {
    "local_kafka", "own_kafka", "kafka_bootstrap", "new_topic", "secure_kafka", "kafka_cluster",
    "spark_cluster", "postgres_server", "postgres_admin_url", "new_database", "database_url",
}
# A unit test asking for any of these would start a JVM, a broker or a database.
FORBIDDEN_FIXTURES = {"unit": SERVICE_FIXTURES | {"spark"}, "spark": SERVICE_FIXTURES}


def _tier(item: pytest.Item) -> str | None:
    try:
        return item.path.relative_to(TESTS).parts[0]
    except ValueError:
        return None


@pytest.hookimpl(tryfirst=True)  # before -m selects on the markers added here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test by its folder, refuse fixtures its tier may not use, and run the tiers
    fastest first (unit, spark, integration, e2e) so that a broken unit fails in seconds."""
    misplaced = []
    for item in items:
        tier = _tier(item)
        for marker in TIER_MARKERS.get(tier, ()):
            item.add_marker(marker)
        wrong = FORBIDDEN_FIXTURES.get(tier, set()) & set(getattr(item, "fixturenames", ()))
        if wrong:
            misplaced.append(f"{item.nodeid} ({', '.join(sorted(wrong))})")
    if misplaced:
        raise pytest.UsageError("Tests using fixtures their tier does not allow: "
                                + "; ".join(misplaced))
    order = list(TIER_MARKERS)
    items.sort(key=lambda item: order.index(t) if (t := _tier(item)) in order else len(order))


@pytest.fixture(scope="session")
def local_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka | None]:
    """A broker of the tests' own on free ports; None when $KAFKA_BOOTSTRAP_SERVERS is given."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield None
        return
    kafka = LocalKafka(tmp_path_factory.mktemp("kafka"), port=free_port(),
                       controller_port=free_port())
    kafka.up()
    yield kafka
    kafka.down()


@pytest.fixture
def own_kafka(tmp_path: Path) -> Iterator[LocalKafka]:
    """A broker for this test alone, on free ports: for tests that kill or restart it."""
    kafka = LocalKafka(tmp_path / "kafka", port=free_port(), controller_port=free_port())
    kafka.up()
    yield kafka
    kafka.down()


@pytest.fixture(scope="session")
def kafka_bootstrap(local_kafka: LocalKafka | None) -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or local_kafka.bootstrap_servers


@pytest.fixture
def new_topic(kafka_bootstrap: str) -> Callable[..., str]:
    """Create a uniquely named topic (so tests never see each other's messages)."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)

    def create(prefix: str = "teste", partitions: int = 2) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        admin.create_topics([NewTopic(name, partitions, 1)])
        return name

    yield create
    admin.close()


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession (with the Kafka connector) for every test that needs Spark."""
    from vendas.spark.session import build_session

    session = build_session(
        "vendas-ecommerce-testes",
        conf={"spark.master": "local[2]", "spark.ui.enabled": "false", "spark.driver.memory": "1g"},
    )
    yield session
    session.stop()
