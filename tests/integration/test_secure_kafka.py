"""A secured Kafka (SASL_SSL, SCRAM-SHA-512, a CA of our own) through --kafka-config.

The unit tests pin down the client.properties format and its mapping to kafka-python and
to Spark; the integration tests run the real producer and consumer against the local
secured broker: exact totals with the generated file, one sentence and exit 2 within
seconds for a wrong password, a missing file or no credentials, and the password never in
the process list or the logs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from kafka import KafkaProducer

from tests.cluster_fixtures import command_lines
from tests.corpus import expected_totals
from tests.kafka_io import REPO_ROOT, cli_env, consumer_command, parse_table, read_topic
from vendas.errors import UserError
from vendas.kafka import config as kafka_config
from vendas.kafka.config import from_properties, parse_jaas, parse_properties

# --- the file format and its mapping ---------------------------------------------------


def test_properties_syntax_like_java():
    text = (
        "# comentário\n"
        "   ! outro comentário\n"
        "bootstrap.servers = broker-1:9092,\\\n"
        "    broker-2:9092\n"
        "security.protocol:SASL_SSL\n"
        "client.id   vendas\\u00e7\n"
        "sasl.password=a\\=b\\:c\\\\d\\te\n"
        "vazio=\n"
        "dois\\ nomes=x\n"
    )
    assert parse_properties(text) == {
        "bootstrap.servers": "broker-1:9092,broker-2:9092",
        "security.protocol": "SASL_SSL",
        "client.id": "vendasç",
        "sasl.password": "a=b:c\\d\te",
        "vazio": "",
        "dois nomes": "x",
    }


def test_jaas_line_with_either_quote_and_escapes():
    module, options = parse_jaas(
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        "username='CHAVE' password=\"se\\\"gredo;x\";")
    assert module.endswith("PlainLoginModule")
    assert options == {"username": "CHAVE", "password": 'se"gredo;x'}


CONFLUENT_JAVA = """\
bootstrap.servers=pkc-00000.sa-east-1.aws.confluent.cloud:9092
security.protocol=SASL_SSL
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \
username='CHAVE' password='SEGREDO';
sasl.mechanism=PLAIN
client.dns.lookup=use_all_dns_ips
session.timeout.ms=45000
acks=all
"""
CONFLUENT_LIBRDKAFKA = """\
bootstrap.servers=pkc-00000.sa-east-1.aws.confluent.cloud:9092
security.protocol=SASL_SSL
sasl.mechanisms=PLAIN
sasl.username=CHAVE
sasl.password=SEGREDO
"""


@pytest.mark.parametrize("text", [CONFLUENT_JAVA, CONFLUENT_LIBRDKAFKA])
def test_managed_service_files_mean_the_same_to_every_client(text):
    config = from_properties(parse_properties(text), source="client.properties")
    assert config.bootstrap_servers == "pkc-00000.sa-east-1.aws.confluent.cloud:9092"
    kwargs = config.python_kwargs()
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "PLAIN"
    assert (kwargs["sasl_plain_username"], kwargs["sasl_plain_password"]) == ("CHAVE", "SEGREDO")
    assert kwargs["ssl_check_hostname"] is True
    spark = config.spark_options()
    assert spark["kafka.security.protocol"] == "SASL_SSL"
    assert spark["kafka.sasl.mechanism"] == "PLAIN"
    module, options = parse_jaas(spark["kafka.sasl.jaas.config"])
    assert module == "org.apache.kafka.common.security.plain.PlainLoginModule"
    assert options == {"username": "CHAVE", "password": "SEGREDO"}
    assert "SEGREDO" not in repr(config) and "SEGREDO" not in config.describe()


def test_pem_truststore_and_ca_location_are_the_same_ca(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    base = {"security.protocol": "SSL", "ssl.endpoint.identification.algorithm": ""}
    by_location = from_properties({**base, "ssl.ca.location": str(ca)})
    by_truststore = from_properties({**base, "ssl.truststore.type": "PEM",
                                     "ssl.truststore.location": str(ca)})
    for config in (by_location, by_truststore):
        assert config.python_kwargs()["ssl_cafile"] == str(ca)
        assert config.python_kwargs()["ssl_check_hostname"] is False
        assert config.spark_options()["kafka.ssl.truststore.location"] == str(ca)
        assert config.spark_options()["kafka.ssl.truststore.type"] == "PEM"
        assert config.spark_options()["kafka.ssl.endpoint.identification.algorithm"] == ""


@pytest.mark.parametrize("props, words", [
    ({"security.protocol": "SASL_SSL"}, "exige usuário e senha"),
    ({"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER",
      "sasl.username": "u", "sasl.password": "p"}, "OAUTHBEARER não é suportado"),
    ({"security.protocol": "SASL_SSL", "sasl.jaas.config":
      "software.amazon.msk.auth.iam.IAMLoginModule required;"}, "IAMLoginModule"),
    ({"security.protocol": "SSL", "ssl.truststore.location": "/nao/existe.jks"}, "não existe"),
    ({"ssl.keystore.certificate.chain": "x"}, "não é suportada"),
    ({"security.protocol": "KERBEROS"}, "não é suportado"),
])
def test_unsupported_or_incomplete_settings_are_one_sentence(props, words):
    with pytest.raises(UserError) as raised:
        from_properties(props, source="cliente.properties")
    message = str(raised.value)
    assert words in message and "cliente.properties" in message
    assert "\n" not in message


def test_missing_file_flag_and_environment(tmp_path):
    with pytest.raises(UserError, match="não existe"):
        kafka_config.load(tmp_path / "nao-existe.properties")
    with pytest.raises(UserError, match="VENDAS_KAFKA_CONFIG"):
        kafka_config.load(None, environ={"VENDAS_KAFKA_CONFIG": str(tmp_path / "x")})
    assert kafka_config.load(None, environ={}) is kafka_config.PLAINTEXT


def test_kafka_option_wins_over_the_file(tmp_path):
    file = tmp_path / "client.properties"
    file.write_text(CONFLUENT_LIBRDKAFKA)
    config = kafka_config.load(file, environ={}, overrides={
        "kafka.sasl.password": "OUTRA", "kafka.max.partition.fetch.bytes": "1"})
    assert config.password == "OUTRA"
    assert config.bootstrap("meu:9092", "localhost:9092") == "meu:9092"
    assert config.bootstrap(None, "localhost:9092") == config.bootstrap_servers


# --- against the real secured broker ---------------------------------------------------

ERROR_BUDGET_S = 15.0


def _cli(script: str, *args: str,
         timeout_s: float = 120) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(REPO_ROOT / script), *args],
                            capture_output=True, text=True, timeout=timeout_s, env=cli_env(),
                            check=False)
    return result, time.monotonic() - started


def _one_sentence(result: subprocess.CompletedProcess) -> str:
    """The single error line the CLI printed (no traceback, nothing else at ERROR)."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if " ERROR " in line]
    assert len(errors) == 1, output
    return errors[0]


def _wrong_password_file(secure_kafka, tmp_path: Path) -> Path:
    text = secure_kafka.client_properties.read_text()
    password = secure_kafka.client_config().password
    wrong = tmp_path / "errada.properties"
    wrong.write_text(text.replace(password, password[::-1] + "x"))
    return wrong


@pytest.mark.integration
def test_producer_and_consumer_with_the_generated_file_exact_totals(secure_kafka, tmp_path):
    properties = str(secure_kafka.client_properties)
    config = secure_kafka.client_config()
    password = config.password
    assert (secure_kafka.client_properties.stat().st_mode & 0o777) == 0o600
    topic = "vendas-seguro"

    produced, _ = _cli("produtor_vendas.py", "--kafka-config", properties, "--topic", topic,
                       "--count", "3000", "--rate", "0", "--seed", "12")
    assert produced.returncode == 0, produced.stderr
    assert "3.000 confirmados, 0 falhas" in produced.stderr
    # one record the consumer must dead-letter: the DLQ sink speaks SASL_SSL too
    sender = KafkaProducer(bootstrap_servers=config.bootstrap_servers, acks="all",
                           **config.python_kwargs())
    sender.send(topic, key=b"ruim", value=b"isto nao e json").get(timeout=60)
    sender.close()

    # the consumer finds the broker in the file (no -b) and runs while we look at `ps`
    log_path = tmp_path / "consumidor.log"
    command = consumer_command(secure_kafka.bootstrap_servers, topic, tmp_path / "ckpt",
                               "--available-now")
    command.remove("-b")
    command.remove(secure_kafka.bootstrap_servers)
    with open(log_path, "w") as log_file:
        process = subprocess.Popen([*command, "--kafka-config", properties], stdout=log_file,
                                   stderr=subprocess.STDOUT, env=cli_env())
    try:
        seen_lines = 0
        while process.poll() is None:  # bounded by the wait below
            lines = command_lines()
            seen_lines = max(seen_lines, len(lines))
            assert not [line for line in lines if password in line]
            try:
                process.wait(0.5)
            except subprocess.TimeoutExpired:
                pass
        assert seen_lines > 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(300)
    output = log_path.read_text()
    assert process.returncode == 0, output[-3000:]

    records = read_topic(secure_kafka.bootstrap_servers, topic, client=config.python_kwargs())
    messages = [json.loads(r.value, parse_float=Decimal) for r in records if r.key != b"ruim"]
    assert len(messages) == 3000
    assert {name: (q, v) for name, q, v in parse_table(output)} == expected_totals(messages)
    assert "pedidos contados: 3000;" in output
    letters = read_topic(secure_kafka.bootstrap_servers, f"{topic}-dlq",
                         client=config.python_kwargs())
    assert [(r.key, r.value) for r in letters] == [(b"ruim", b"isto nao e json")]

    # the secret is only in the 0600 files made for it, never in a log or a command line
    for log_text in (output, produced.stdout + produced.stderr,
                     *(node.log_file.read_text() for node in secure_kafka.nodes)):
        assert password not in log_text
    for line in command_lines():
        assert password not in line
    assert not list(secure_kafka.directory.rglob("format.args"))


@pytest.mark.integration
def test_wrong_password_is_one_sentence_within_seconds(secure_kafka, tmp_path):
    wrong = _wrong_password_file(secure_kafka, tmp_path)
    for script in ("produtor_vendas.py", "consumidor_vendas.py"):
        result, elapsed = _cli(script, "--kafka-config", str(wrong), "--topic", "vendas-seguro",
                               *(["--count", "10"] if script.startswith("produtor") else
                                 ["--checkpoint", str(tmp_path / "ckpt"), "--available-now"]))
        assert result.returncode == 2, result.stderr
        assert elapsed < ERROR_BUDGET_S, f"{script}: {elapsed:.1f} s"
        assert "recusou a autenticação" in _one_sentence(result)
        assert secure_kafka.client_config().password not in result.stderr


@pytest.mark.integration
def test_missing_file_and_no_credentials_are_one_sentence(secure_kafka, tmp_path):
    missing, elapsed = _cli("produtor_vendas.py", "--kafka-config", str(tmp_path / "nada"),
                            "--count", "10")
    assert missing.returncode == 2 and elapsed < ERROR_BUDGET_S
    assert "não existe" in _one_sentence(missing)

    # no --kafka-config at all against the secured listener
    plain, elapsed = _cli("produtor_vendas.py", "-b", secure_kafka.bootstrap_servers,
                          "--count", "10")
    assert plain.returncode == 2, plain.stderr
    assert elapsed < ERROR_BUDGET_S, f"{elapsed:.1f} s"
    assert "--kafka-config" in _one_sentence(plain)

    # SASL_SSL asked for, but the file carries no credentials
    empty = tmp_path / "sem-credenciais.properties"
    empty.write_text(f"bootstrap.servers={secure_kafka.bootstrap_servers}\n"
                     "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
                     f"ssl.ca.location={secure_kafka.ca_file}\n")
    bare, elapsed = _cli("consumidor_vendas.py", "--kafka-config", str(empty), "--available-now",
                         "--checkpoint", str(tmp_path / "ckpt"))
    assert bare.returncode == 2 and elapsed < ERROR_BUDGET_S
    assert "exige usuário e senha" in _one_sentence(bare)
