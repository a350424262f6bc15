"""The local services' start-up: the life cycle they share (with small Python daemons), then
the local broker's own (the one `make kafka-up`, `make demo` and the tests use)."""

from __future__ import annotations

import logging
import socket
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from localdev import kafka as local_kafka
from localdev.kafka import LocalKafka, broker_answers
from localdev.processes import ensure_ports_free, free_port, free_port_run, pid_alive, ports_free
from localdev.service import Daemon, LocalService
from vendas.errors import UserError
from vendas.kafka import config as kafka_config


@dataclass
class _Script(LocalService):
    """One daemon running a Python snippet; ready once a file named `pronto` exists."""

    directory: Path
    code: str

    label = "O serviço de teste"

    def daemons(self) -> list[Daemon]:
        return [Daemon("script", self.directory)]

    def launch(self, daemons: list[Daemon]) -> None:
        daemons[0].start([sys.executable, "-c", self.code])

    def ready(self) -> bool:
        return (self.directory / "pronto").exists()


def _deaf_to_sigterm(directory: Path) -> str:
    """A snippet that says it is ready and then runs until killed."""
    return "\n".join([
        "import pathlib, signal, time",
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)",
        f"pathlib.Path({str(directory / 'pronto')!r}).touch()",
        "time.sleep(600)",
    ])


def test_up_is_idempotent_and_down_kills_what_ignores_sigterm(tmp_path, caplog):
    service = _Script(tmp_path, _deaf_to_sigterm(tmp_path))
    daemon = service.daemons()[0]
    try:
        service.up(timeout_s=30)
        pid = daemon.pid()
        assert pid is not None and daemon.pid_file.read_text().strip() == str(pid)

        with caplog.at_level(logging.INFO, logger="localdev.service"):
            service.up(timeout_s=30)  # already running: said, nothing started
        assert service.status() == {daemon: pid}
        assert f"O serviço de teste já está rodando (PID {pid})." in caplog.text

        with caplog.at_level(logging.WARNING, logger="localdev.service"):
            assert service.down(timeout_s=1)
        assert "encerrando à força" in caplog.text
        assert not pid_alive(pid) and not daemon.pid_file.exists()
        assert not service.down()  # nothing left to stop
    finally:
        service.down(timeout_s=1)


def test_a_daemon_that_ends_at_start_is_reported_with_this_starts_log_lines(tmp_path):
    log_file = tmp_path / "script.log"
    log_file.write_text("erro de uma partida anterior\n")
    service = _Script(tmp_path, "import sys; print('porta 1 em uso'); sys.exit(3)")
    with pytest.raises(UserError) as failure:
        service.up(timeout_s=30)
    message = str(failure.value)
    assert message.startswith("O serviço de teste parou durante a inicialização; "
                              f"as últimas linhas de {log_file}:")
    assert "porta 1 em uso" in message and "anterior" not in message
    assert (log_file.stat().st_mode & 0o777) == 0o600


def test_a_daemon_never_ready_ends_in_a_timeout_quoting_its_log(tmp_path):
    service = _Script(tmp_path, "import time; print('ainda carregando', flush=True); "
                                "time.sleep(600)")
    try:
        with pytest.raises(UserError, match=r"(?s)não ficou pronto em 2 s; .*ainda carregando"):
            service.up(timeout_s=2)
        assert service.pids()  # left running for a look, until down
    finally:
        assert service.down(timeout_s=5)


def test_a_taken_port_is_named_and_a_free_run_is_found():
    with socket.socket() as taken:
        taken.bind(("localhost", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert not ports_free("localhost", [port])
        with pytest.raises(UserError, match=f"^A porta {port} já está em uso por outro "
                                            "programa; escolha outra.$"):
            ensure_ports_free("localhost", [free_port(), port], "escolha outra")
    first = free_port_run(3)
    assert ports_free("localhost", range(first, first + 3))


@pytest.mark.integration
def test_a_port_taken_by_something_else_is_named_before_any_broker_starts(tmp_path):
    with socket.socket() as taken:
        taken.bind(("localhost", 0))
        taken.listen()
        port = taken.getsockname()[1]
        kafka = LocalKafka(tmp_path / "kafka", port=port, controller_port=free_port())
        with pytest.raises(UserError, match=f"A porta {port} já está em uso .*KAFKA_PORT"):
            kafka.up()
    assert not kafka.daemons()[0].pid_file.exists()


@pytest.mark.integration
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


@pytest.mark.integration
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
