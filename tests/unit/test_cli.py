"""The two CLIs' flags and help, in Portuguese; what the consumer loads to start, and from where."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import REPO_ROOT
from tests.support.kafka_io import run_cli


@pytest.mark.parametrize("args, message", [
    (["--trigger", "abc"], "argumento --trigger: número inválido: 'abc'"),
    (["--max-offsets-per-trigger", "0"], "deve ser maior que zero: 0"),
    (["--window", "um minuto"], "duração inválida: 'um minuto'"),
    (["--starting-offsets", "ontem"], "escolha inválida: 'ontem'"),
    (["--nada"], "argumentos não reconhecidos: --nada"),
])
def test_consumer_flag_errors_are_in_portuguese(args, message):
    result, _ = run_cli("consumidor_vendas.py", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.startswith("uso: consumidor_vendas.py")


def test_consumer_help_is_in_portuguese():
    result, _ = run_cli("consumidor_vendas.py", "--help")
    assert result.returncode == 0
    for text in ("uso:", "opções:", "--available-now", "processa o que o tópico tem agora"):
        assert text in result.stdout


@pytest.mark.parametrize("args, expected", [
    (["--count", "x"], "argumento -n/--count: número inteiro inválido: 'x'"),
    (["--count", "0"], "argumento -n/--count: deve ser maior que zero: 0"),
    (["--rate", "-5"], "argumento -r/--rate: deve ser um número maior ou igual a zero"),
    (["--date-format", "us"],
     "argumento --date-format: escolha inválida: 'us' (opções: 'iso', 'br')"),
    (["--start-time", "ontem"], "argumento --start-time: data/hora inválida: 'ontem'"),
    (["--products", "4"],
     "argumento --products: deve ser de pelo menos 5 produtos (o maior pedido): 4"),
    (["--nao-existe"], "argumentos não reconhecidos: --nao-existe"),
])
def test_producer_flag_errors_are_in_portuguese(args, expected):
    result, _ = run_cli("produtor_vendas.py", *args, timeout_s=30)
    assert result.returncode == 2
    assert "uso: produtor_vendas.py" in result.stderr
    assert f"produtor_vendas.py: erro: {expected}" in result.stderr, result.stderr


def test_producer_help_is_in_portuguese():
    result, _ = run_cli("produtor_vendas.py", "--help", timeout_s=30)
    assert result.returncode == 0
    for text in ("uso:", "opções:", "mostra esta ajuda e sai", "--bootstrap-servers",
                 "--date-format", "--spread-days", "--start-time", "(padrão:"):
        assert text in result.stdout
    assert "usage" not in result.stdout and "show this help" not in result.stdout


def test_the_consumer_loads_psycopg_only_with_a_database():
    """Its libraries cost every start about half a second; without --banco they are not needed."""
    probe = ("import sys, consumidor_vendas, vendas.consumer.app; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'psycopg'))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]", done.stdout


@pytest.mark.parametrize("submitted", [True, False])
def test_under_spark_submit_the_package_takes_the_jars_off_the_python_path(submitted, tmp_path):
    """spark-submit puts every --packages jar on the driver's Python path; none has Python,
    and importlib.metadata read them whole at every start."""
    jar, archive = tmp_path / "conector.jar", tmp_path / "py-files.zip"
    env = {key: value for key, value in os.environ.items() if key != "PYSPARK_GATEWAY_PORT"}
    env["PYTHONPATH"] = os.pathsep.join((str(jar), str(archive)))
    if submitted:
        env["PYSPARK_GATEWAY_PORT"] = "1"  # what spark-submit sets for the Python driver
    probe = "import sys, vendas; print([p for p in sys.path if p.startswith(sys.argv[1])])"
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    expected = [str(archive)] if submitted else [str(jar), str(archive)]
    assert done.stdout.strip() == str(expected), done.stdout
