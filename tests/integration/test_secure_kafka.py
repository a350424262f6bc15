"""A secured Kafka (SASL_SSL, SCRAM-SHA-512, a CA of our own) through --kafka-config.

The real producer and consumer against the local secured broker: exact totals with the
generated file, one sentence and exit 2 within seconds for a wrong password, a missing file
or no credentials, and the password never in the process list or the logs. The file format
itself: tests/unit/test_kafka_config.py.
"""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path

from kafka import KafkaProducer

from tests.cluster_fixtures import command_lines
from tests.support.corpus import expected_totals
from tests.support.kafka_io import cli_env, consumer_command, parse_table, read_topic, run_cli

ERROR_BUDGET_S = 15.0


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


def test_producer_and_consumer_with_the_generated_file_exact_totals(secure_kafka, tmp_path):
    properties = str(secure_kafka.client_properties)
    config = secure_kafka.client_config()
    password = config.password
    assert (secure_kafka.client_properties.stat().st_mode & 0o777) == 0o600
    topic = "vendas-seguro"

    produced, _ = run_cli("produtor_vendas.py", "--kafka-config", properties, "--topic", topic,
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


def test_wrong_password_is_one_sentence_within_seconds(secure_kafka, tmp_path):
    wrong = _wrong_password_file(secure_kafka, tmp_path)
    for script in ("produtor_vendas.py", "consumidor_vendas.py"):
        result, elapsed = run_cli(script, "--kafka-config", str(wrong),
                                  "--topic", "vendas-seguro",
                                  *(["--count", "10"] if script.startswith("produtor") else
                                    ["--checkpoint", str(tmp_path / "ckpt"), "--available-now"]))
        assert result.returncode == 2, result.stderr
        assert elapsed < ERROR_BUDGET_S, f"{script}: {elapsed:.1f} s"
        assert "recusou a autenticação" in _one_sentence(result)
        assert secure_kafka.client_config().password not in result.stderr


def test_missing_file_and_no_credentials_are_one_sentence(secure_kafka, tmp_path):
    missing, elapsed = run_cli("produtor_vendas.py", "--kafka-config", str(tmp_path / "nada"),
                               "--count", "10")
    assert missing.returncode == 2 and elapsed < ERROR_BUDGET_S
    assert "não existe" in _one_sentence(missing)

    # no --kafka-config at all against the secured listener
    plain, elapsed = run_cli("produtor_vendas.py", "-b", secure_kafka.bootstrap_servers,
                             "--count", "10")
    assert plain.returncode == 2, plain.stderr
    assert elapsed < ERROR_BUDGET_S, f"{elapsed:.1f} s"
    assert "--kafka-config" in _one_sentence(plain)

    # SASL_SSL asked for, but the file carries no credentials
    empty = tmp_path / "sem-credenciais.properties"
    empty.write_text(f"bootstrap.servers={secure_kafka.bootstrap_servers}\n"
                     "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
                     f"ssl.ca.location={secure_kafka.ca_file}\n")
    bare, elapsed = run_cli("consumidor_vendas.py", "--kafka-config", str(empty),
                            "--available-now", "--checkpoint", str(tmp_path / "ckpt"))
    assert bare.returncode == 2 and elapsed < ERROR_BUDGET_S
    assert "exige usuário e senha" in _one_sentence(bare)
