"""Mistakes an operator makes, and a broker or a JDK that is not there: each ends with one
Portuguese sentence and exit code 2, within seconds.

Never a stack trace, never a loop, never data skipped in silence.
"""

from __future__ import annotations

import shutil

import pytest

from localdev.processes import free_port
from tests.support.kafka_io import cli_env, produce, run_cli, run_consumer


def assert_one_sentence(result, sentence: str) -> None:
    assert result.returncode == 2, result.stderr
    assert sentence in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "\tat org.apache" not in result.stderr + result.stdout


def test_consumer_without_broker_says_so_quickly(tmp_path):
    result, elapsed = run_cli("consumidor_vendas.py", "-b", f"localhost:{free_port()}",
                              "--checkpoint", str(tmp_path), "--available-now")
    assert result.returncode == 2
    assert "Não foi possível conectar ao Kafka" in result.stderr
    assert "Traceback" not in result.stderr
    assert elapsed < 20


def test_consumer_without_java_says_what_to_install(kafka_bootstrap, tmp_path):
    env = cli_env()
    env["JAVA_HOME"] = str(tmp_path / "sem-java")
    result, _ = run_cli("consumidor_vendas.py", "-b", kafka_bootstrap, "--topic", "sem-java",
                        "--checkpoint", str(tmp_path / "ckpt"), "--available-now", env=env)
    assert result.returncode == 2
    assert "Java não encontrado: instale um JDK 17" in result.stderr
    assert "Traceback" not in result.stderr


def test_producer_without_broker_says_so_quickly():
    port = free_port()
    result, elapsed = run_cli("produtor_vendas.py", "-b", f"localhost:{port}", "--count", "10",
                              timeout_s=60)
    assert result.returncode == 2
    assert f"Não foi possível conectar ao Kafka em localhost:{port}" in result.stderr
    assert "Traceback" not in result.stderr
    assert elapsed < 15


@pytest.mark.parametrize("topic, dlq", [("vendas", "vendas"), ("vendas.br", "vendas_br")])
def test_dead_letter_topic_equal_to_the_source_is_refused(topic, dlq, tmp_path):
    result, elapsed = run_cli("consumidor_vendas.py", "-b", f"localhost:{free_port()}",
                              "--topic", topic, "--dlq-topic", dlq, "--checkpoint", str(tmp_path))
    assert_one_sentence(result, f"O tópico de rejeitadas ({dlq}) não pode ser o tópico lido")
    assert elapsed < 20


def test_checkpoint_that_cannot_be_created(tmp_path):
    result, _ = run_cli("consumidor_vendas.py", "-b", f"localhost:{free_port()}",
                        "--checkpoint", "/proc/vendas-ckpt", "--available-now")
    assert_one_sentence(result,
                        "Não foi possível criar o diretório do checkpoint /proc/vendas-ckpt")


def test_invalid_spark_conf_value(kafka_bootstrap, new_topic, tmp_path):
    result, _ = run_cli("consumidor_vendas.py", "-b", kafka_bootstrap, "--topic", new_topic(),
                        "--checkpoint", str(tmp_path), "--available-now",
                        "--conf", "spark.sql.shuffle.partitions=abc")
    assert_one_sentence(result, "Valor inválido em --conf spark.sql.shuffle.partitions=abc "
                                "(o Spark espera um valor do tipo int)")


def test_checkpoint_of_another_topic(kafka_bootstrap, new_topic, tmp_path):
    first, second = new_topic("primeiro"), new_topic("segundo")
    produce(kafka_bootstrap, first, 30)
    assert run_consumer(kafka_bootstrap, first, tmp_path).returncode == 0
    result = run_consumer(kafka_bootstrap, second, tmp_path)
    assert_one_sentence(result, f"foi criado para o tópico {first}, não para {second}")


@pytest.mark.slow
def test_checkpoint_kept_after_the_broker_data_was_wiped(own_kafka, tmp_path):
    bootstrap, topic = own_kafka.bootstrap_servers, "vendas-apagado"
    produce(bootstrap, topic, 40)
    assert run_consumer(bootstrap, topic, tmp_path / "ckpt").returncode == 0
    own_kafka.down()
    shutil.rmtree(own_kafka.data_dir)
    own_kafka.up()
    result = run_consumer(bootstrap, topic, tmp_path / "ckpt")
    assert_one_sentence(result, "não existem neste Kafka")
    assert "nada foi pulado" in result.stderr
