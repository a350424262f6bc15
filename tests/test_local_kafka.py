"""The local broker's own start-up (the one `make kafka-up`, `make demo` and the tests use)."""

from __future__ import annotations

import uuid

import pytest

from tests.ports import free_port
from vendas import local_kafka
from vendas.local_kafka import LocalKafka

pytestmark = pytest.mark.integration


def test_a_cluster_id_starting_with_a_dash_is_not_taken_for_an_option(tmp_path, monkeypatch):
    # 0xF8 makes the id's first base64 character "-", as it is for one random id in 64
    monkeypatch.setattr(local_kafka.uuid, "uuid4", lambda: uuid.UUID(bytes=b"\xf8" + bytes(15)))
    kafka = LocalKafka(tmp_path / "kafka", port=free_port(), controller_port=free_port())
    try:
        kafka.up()
        meta = (kafka.data_dir / "meta.properties").read_text()
        assert "cluster.id=-AAAAAAAAAAAAAAAAAAAAA" in meta
    finally:
        kafka.down()
