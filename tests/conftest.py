"""Shared fixtures: one real Kafka for the session (or $KAFKA_BOOTSTRAP_SERVERS), fresh topics."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from localdev.kafka import LocalKafka
from localdev.processes import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = [
    "tests.postgres_fixtures",  # PostgreSQL fixtures (issue 15)
    "tests.cluster_fixtures",  # secured Kafka, 3 brokers, Spark cluster (issue 12)
]


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
