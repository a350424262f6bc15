"""The machine labels every benchmark result carries."""

from __future__ import annotations

import pytest
from kafka.protocol.broker_version_data import BROKER_API_VERSIONS

from bench.machine import broker_version_label
from localdev.kafka import KAFKA_VERSION


def _line(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def test_an_older_line_is_named_as_inferred() -> None:
    assert broker_version_label((3, 9)) == "3.9"


def test_the_clients_newest_line_may_be_a_newer_broker() -> None:
    newest = max(BROKER_API_VERSIONS)[:2]
    if _line(KAFKA_VERSION) == newest:
        pytest.skip("o kafka-python já conhece a linha do broker local")
    assert broker_version_label(newest) == f"{newest[0]}.{newest[1]} ou mais recente"


def test_the_local_brokers_line_is_named_exactly() -> None:
    assert broker_version_label(_line(KAFKA_VERSION)) == KAFKA_VERSION
