"""Find a Java 17+ runtime, for the local broker and for Spark, or say what to install."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from vendas.errors import UserError

MIN_JAVA = 17


def java_executable() -> str:
    """Path of the `java` Spark and the broker will use ($JAVA_HOME first, like Spark)."""
    java_home = os.environ.get("JAVA_HOME")
    candidate = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not candidate or not os.access(candidate, os.X_OK):
        raise UserError(
            f"Java não encontrado: instale um JDK {MIN_JAVA} ou mais novo "
            "(por exemplo, o pacote openjdk-17-jre) ou aponte JAVA_HOME para ele."
        )
    version = java_major_version(candidate)
    if version < MIN_JAVA:
        raise UserError(
            f"O Java em {candidate} é da versão {version}; o Spark e o Kafka precisam do "
            f"Java {MIN_JAVA} ou mais novo (ajuste JAVA_HOME)."
        )
    return candidate


def java_major_version(java: str) -> int:
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise UserError(f"Não foi possível ler a versão do Java em {java}.")
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 else major  # "1.8.0" is Java 8
