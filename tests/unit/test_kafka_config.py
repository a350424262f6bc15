"""A secured Kafka's client.properties: the file format (Java's .properties, JAAS lines,
librdkafka's names) and its mapping to kafka-python and to Spark, without a broker."""

from __future__ import annotations

import pytest

from vendas.errors import UserError
from vendas.kafka import config as kafka_config
from vendas.kafka.config import from_properties, parse_jaas, parse_properties


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
