"""What a user sees when something is wrong: one Portuguese sentence and exit code 2."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from localdev.processes import free_port
from tests.kafka_io import REPO_ROOT, cli_env


def run_cli(script: str, *args: str, env: dict | None = None, timeout_s: float = 120):
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(REPO_ROOT / script), *args], capture_output=True,
                            text=True, timeout=timeout_s, env=env or cli_env(), check=False)
    return result, time.monotonic() - started


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
