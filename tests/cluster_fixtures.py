"""Fixtures of the secured, multi-broker and Spark-cluster tests: each starts
real processes of its own on free ports in a temp dir, and stops them afterwards."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.kafka import LocalKafka
from localdev.processes import free_port
from localdev.spark import LocalSpark


def free_port_run(count: int, attempts: int = 200) -> int:
    """The first of `count` consecutive free ports (the 3 brokers listen on such a run)."""
    for _ in range(attempts):
        base = free_port()
        if base + count > 65535:
            continue
        socks = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("localhost", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError(f"no run of {count} free ports found")


def command_lines() -> list[str]:
    """Every process's command line (what `ps` shows to any user of the machine)."""
    lines = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                    errors="replace"))
            except OSError:
                continue  # ended meanwhile
    return lines


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    """One SASL_SSL (SCRAM-SHA-512) broker; its cliente.properties says how to connect."""
    kafka = LocalKafka(tmp_path_factory.mktemp("kafka-seguro"), port=free_port(),
                       controller_port=free_port(), security="sasl_ssl")
    try:
        kafka.up()
        yield kafka
    finally:
        kafka.down()


@pytest.fixture(scope="module")
def kafka_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    """Three combined broker+controller nodes on consecutive ports."""
    base = free_port_run(6)
    kafka = LocalKafka(tmp_path_factory.mktemp("kafka-3"), port=base, controller_port=base + 3,
                       brokers=3)
    try:
        kafka.up(timeout_s=240)
        yield kafka
    finally:
        kafka.down()


@pytest.fixture(scope="module")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSpark]:
    """A Spark standalone master and two one-core workers."""
    cluster = LocalSpark(tmp_path_factory.mktemp("spark"), port=0, webui_port=0, workers=2,
                         worker_cores=1, worker_memory="1g")
    try:
        cluster.up(timeout_s=240)
        yield cluster
    finally:
        cluster.down()
