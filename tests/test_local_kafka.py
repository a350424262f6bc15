"""The local broker's own start-up (the one `make kafka-up`, `make demo` and the tests use)."""

from __future__ import annotations

import uuid

import pytest

from localdev import kafka as local_kafka
from localdev.kafka import LocalKafka, broker_answers
from localdev.processes import free_port
from tests.cluster_fixtures import free_port_run
from vendas.kafka import config as kafka_config

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


def test_down_then_up_with_the_other_security_switches_without_clean_up(tmp_path, caplog):
    """`make kafka-down` + `make kafka-up KAFKA_SECURITY=...`: each setting keeps its own
    data, cliente.properties always describes the running one, and a running setting is
    never silently replaced by another."""
    base = free_port_run(2)
    flags = ["--dir", str(tmp_path / "kafka"), "--port", str(base)]
    plain = LocalKafka(tmp_path / "kafka", port=base, controller_port=base + 1)
    secure = LocalKafka(tmp_path / "kafka", port=base, controller_port=base + 1,
                        security="sasl_ssl")
    try:
        assert local_kafka.main(["up", *flags]) == 0
        properties = plain.client_properties.read_text()
        assert "security.protocol=PLAINTEXT" in properties
        assert broker_answers(plain.bootstrap_servers)

        # another setting while this one runs: one sentence, exit 2, nothing touched
        assert local_kafka.main(["up", *flags, "--security", "sasl_ssl"]) == 2
        assert "outra configuração" in caplog.text
        assert plain.client_properties.read_text() == properties

        assert local_kafka.main(["down", *flags]) == 0
        assert local_kafka.main(["up", *flags, "--security", "sasl_ssl"]) == 0
        config = kafka_config.load(secure.client_properties)
        assert config.security_protocol == "SASL_SSL" and config.sasl_mechanism == "SCRAM-SHA-512"
        assert (secure.client_properties.stat().st_mode & 0o777) == 0o600
        assert broker_answers(secure.bootstrap_servers, client_config=config)
        assert not broker_answers(secure.bootstrap_servers)  # plaintext clients are refused
        assert (plain.data_dir / "meta.properties").exists()  # the other setting's data kept
        assert local_kafka.main(["status", *flags]) == 0
    finally:
        local_kafka.main(["down", *flags])
