"""Broker checks and topic creation, with errors a user can act on."""

from __future__ import annotations

import logging
import socket
import time

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import InvalidTopicError, KafkaError, TopicAlreadyExistsError

from vendas.errors import UserError

log = logging.getLogger(__name__)

# -1: let the cluster decide (num.partitions, default.replication.factor), so a topic
# created here on a production cluster gets that cluster's replication, not 1.
BROKER_DEFAULT = -1


def _host_port(bootstrap_servers: str) -> list[tuple[str, int]]:
    addresses = []
    for server in bootstrap_servers.split(","):
        host, sep, port = server.strip().rpartition(":")
        if not sep or not port.isdigit():
            raise UserError(
                f"Endereço do Kafka inválido: {server!r}; use HOST:PORTA, por exemplo localhost:9092."
            )
        addresses.append((host or "localhost", int(port)))
    return addresses


def broker_reachable(bootstrap_servers: str, timeout_s: float = 2.0) -> bool:
    """True if any bootstrap address accepts a TCP connection."""
    for address in _host_port(bootstrap_servers):
        try:
            with socket.create_connection(address, timeout=timeout_s):
                return True
        except OSError:
            continue
    return False


def wait_for_broker(bootstrap_servers: str, timeout_s: float = 10.0) -> None:
    """Fail fast, with one sentence, when no broker listens at the address.

    kafka-python alone would retry for 30 s or more and then raise a bare
    NoBrokersAvailable; a TCP probe gives a clear answer within `timeout_s`.
    """
    deadline = time.monotonic() + timeout_s
    _host_port(bootstrap_servers)  # a malformed address is a usage error, not an outage
    while True:
        if broker_reachable(bootstrap_servers):
            return
        if time.monotonic() >= deadline:
            raise UserError(
                f"Não foi possível conectar ao Kafka em {bootstrap_servers}: verifique o endereço "
                "(--bootstrap-servers) ou inicie o Kafka local com `make kafka-up`."
            )
        time.sleep(0.5)


def ensure_topic(
    bootstrap_servers: str, topic: str, partitions: int = BROKER_DEFAULT
) -> bool:
    """Create `topic` if it is missing (with the broker's default partitions and
    replication unless told otherwise); True if it was created here."""
    wait_for_broker(bootstrap_servers)
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    except KafkaError as error:
        raise UserError(f"O Kafka em {bootstrap_servers} não respondeu: {error}.") from None
    try:
        if topic in admin.list_topics():
            return False
        admin.create_topics([NewTopic(topic, partitions, BROKER_DEFAULT)])
        log.info("Tópico %s criado.", topic)
        return True
    except TopicAlreadyExistsError:
        return False  # created meanwhile by another process
    except InvalidTopicError:
        raise UserError(
            f"O Kafka recusou o nome de tópico {topic!r}: use até 249 letras, números, '.', '_' ou '-'."
        ) from None
    except KafkaError as error:
        raise UserError(f"Não foi possível criar o tópico {topic!r}: {error}.") from None
    finally:
        admin.close()
