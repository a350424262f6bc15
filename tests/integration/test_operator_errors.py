"""Mistakes an operator makes: each ends with one Portuguese sentence and exit code 2.

Never a stack trace, never a loop, never data skipped in silence.
"""

from __future__ import annotations

import shutil

import pytest

from localdev.processes import free_port
from tests.kafka_io import produce, run_consumer
from tests.test_cli import run_cli


def assert_one_sentence(result, sentence: str) -> None:
    assert result.returncode == 2, result.stderr
    assert sentence in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "\tat org.apache" not in result.stderr + result.stdout


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


@pytest.mark.integration
def test_invalid_spark_conf_value(kafka_bootstrap, new_topic, tmp_path):
    result, _ = run_cli("consumidor_vendas.py", "-b", kafka_bootstrap, "--topic", new_topic(),
                        "--checkpoint", str(tmp_path), "--available-now",
                        "--conf", "spark.sql.shuffle.partitions=abc")
    assert_one_sentence(result, "Valor inválido em --conf spark.sql.shuffle.partitions=abc "
                                "(o Spark espera um valor do tipo int)")


@pytest.mark.integration
def test_checkpoint_of_another_topic(kafka_bootstrap, new_topic, tmp_path):
    first, second = new_topic("primeiro"), new_topic("segundo")
    produce(kafka_bootstrap, first, 30)
    assert run_consumer(kafka_bootstrap, first, tmp_path).returncode == 0
    result = run_consumer(kafka_bootstrap, second, tmp_path)
    assert_one_sentence(result, f"foi criado para o tópico {first}, não para {second}")


@pytest.mark.integration
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
