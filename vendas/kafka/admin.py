"""Broker checks and topic creation, with errors a user can act on.

Every check speaks the client configuration (vendas.kafka.config) the rest of the project
uses, so a secured Kafka is checked the way it will be used: a wrong password or a
certificate the CA does not vouch for ends in one sentence, within seconds.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import InvalidTopicError, KafkaError, TopicAlreadyExistsError

from vendas.errors import UserError
from vendas.kafka.config import PLAINTEXT, KafkaClientConfig, scrub

log = logging.getLogger(__name__)

# -1: let the cluster decide (num.partitions, default.replication.factor; the topic then
# inherits min.insync.replicas), so a topic created here on a production cluster gets that
# cluster's replication, not 1.
BROKER_DEFAULT = -1
# How long the client may try to complete its first metadata exchange (TLS, SASL).
HANDSHAKE_TIMEOUT_S = 8.0


def _host_port(bootstrap_servers: str) -> list[tuple[str, int]]:
    addresses = []
    for server in bootstrap_servers.split(","):
        host, sep, port = server.strip().rpartition(":")
        if not sep or not port.isdigit():
            raise UserError(
                f"Endereço do Kafka inválido: {server!r}; use HOST:PORTA, por exemplo "
                "localhost:9092."
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


def _wait_for_tcp(bootstrap_servers: str, timeout_s: float) -> None:
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


class _FirstErrors(logging.Handler):
    """Keeps what kafka-python logs about failed connections: its bootstrap only raises a
    bare timeout, and the reason (bad credentials, TLS) is in these log records alone.
    The texts matched in _explain are kafka-python 3.0.12's; with other versions the
    sentence may fall back to the generic one."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        self._lock2 = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock2:
            if len(self.messages) < 50:
                self.messages.append(record.getMessage())


@contextmanager
def _connection_errors() -> Iterator[_FirstErrors]:
    logger = logging.getLogger("kafka.net")
    handler = _FirstErrors()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False  # collected here, not printed
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def _explain(messages: list[str], bootstrap_servers: str, config: KafkaClientConfig) -> str:
    """One sentence for why the first exchange with the broker failed."""
    text = "\n".join(messages)
    where = f" em {config.source}" if config.source else ""
    tls_failed = any(sign in text for sign in (
        "Handshake failed", "CERTIFICATE_VERIFY_FAILED", "certificate verify failed",
        "WRONG_VERSION"))
    # The broker answers a failed SASL login with an error and then closes the connection;
    # the close often arrives first, so a close after the Kafka protocol was reached (the
    # broker's version is known) during SASL means the same.
    reached_kafka = re.search(r"broker_version=\(\d", text) is not None
    if ("AuthenticationFailed" in text
            or (config.uses_sasl and not tls_failed and reached_kafka)):
        return (f"O Kafka em {bootstrap_servers} recusou a autenticação (usuário "
                f"{config.username}, {config.sasl_mechanism}): confira usuário, senha e "
                f"sasl.mechanism na configuração do Kafka{where}.")
    if "UnsupportedSaslMechanism" in text or "IllegalSaslState" in text:
        return (f"O Kafka em {bootstrap_servers} não aceita o mecanismo SASL "
                f"{config.sasl_mechanism}: ajuste sasl.mechanism{where}.")
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return (f"O certificado TLS do Kafka em {bootstrap_servers} não foi validado "
                f"(CA em ssl.ca.location/ssl.truststore.location, ou nome do host){where}.")
    if config.uses_ssl and (tls_failed or "SSL" in text):
        return (f"A conexão TLS com o Kafka em {bootstrap_servers} falhou: confira "
                f"security.protocol{where} (o broker usa TLS nessa porta?).")
    if not config.secured:
        return (f"O Kafka em {bootstrap_servers} aceitou a conexão mas não respondeu a um "
                "cliente sem TLS nem SASL: se ele exige autenticação, passe a configuração "
                "com --kafka-config ARQUIVO (ou VENDAS_KAFKA_CONFIG).")
    return (f"O Kafka em {bootstrap_servers} aceitou a conexão mas não completou a troca "
            f"inicial em {HANDSHAKE_TIMEOUT_S:.0f} s com security.protocol="
            f"{config.security_protocol}{where}.")


def admin_client(bootstrap_servers: str, config: KafkaClientConfig = PLAINTEXT,
                 timeout_s: float = 10.0) -> KafkaAdminClient:
    """A connected admin client, or UserError with one sentence saying why not.

    The TCP probe answers "nobody listens there" within `timeout_s`; the client's first
    metadata exchange (TLS, SASL) gets HANDSHAKE_TIMEOUT_S more."""
    _wait_for_tcp(bootstrap_servers, timeout_s)
    with _connection_errors() as errors:
        try:
            return KafkaAdminClient(
                bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000,
                bootstrap_timeout_ms=int(HANDSHAKE_TIMEOUT_S * 1000), **config.python_kwargs())
        except KafkaError:
            raise UserError(_explain(errors.messages, bootstrap_servers, config)) from None
        except (ValueError, OSError) as error:  # e.g. an unreadable CA file
            raise UserError(f"Não foi possível configurar o cliente do Kafka: "
                            f"{scrub(str(error), config)}.") from None


def wait_for_broker(bootstrap_servers: str, timeout_s: float = 10.0,
                    config: KafkaClientConfig = PLAINTEXT) -> None:
    """Fail fast, with one sentence, when no broker answers at the address as configured.

    kafka-python alone would retry for 30 s or more and then raise a bare timeout."""
    admin_client(bootstrap_servers, config, timeout_s).close()


def ensure_topic(bootstrap_servers: str, topic: str, partitions: int = BROKER_DEFAULT,
                 config: KafkaClientConfig = PLAINTEXT) -> bool:
    """Create `topic` if it is missing (with the broker's default partitions and
    replication unless told otherwise); True if it was created here."""
    admin = admin_client(bootstrap_servers, config)
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
            f"O Kafka recusou o nome de tópico {topic!r}: use até 249 letras, números, '.', "
            "'_' ou '-'."
        ) from None
    except KafkaError as error:
        raise UserError(f"Não foi possível criar o tópico {topic!r}: {error}.") from None
    finally:
        admin.close()
