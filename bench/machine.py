"""Facts about the machine a figure was measured on: these shared machines differ by 2x or
more, so every printed and written result carries them, and the load at the time."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from datetime import datetime
from pathlib import Path

import kafka
import pyspark
from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from kafka.protocol.broker_version_data import BROKER_API_VERSIONS

from localdev.kafka import KAFKA_VERSION
from vendas.errors import UserError
from vendas.formatting import fmt_float
from vendas.spark.java import java_executable

MachineInfo = dict[str, str]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _java_version() -> str:
    try:
        out = subprocess.run([java_executable(), "-version"], capture_output=True, text=True,
                             timeout=30, check=False).stderr
    except (OSError, subprocess.SubprocessError, UserError):
        return "?"
    match = re.search(r'version "([^"]+)"', out)
    return match.group(1) if match else "?"


def _kafka_version(bootstrap: str) -> str:
    """The broker's version as far as the client can tell (see broker_version_label)."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
        try:
            broker = admin.describe_cluster()["brokers"][0]["broker_id"]
            version = admin.get_broker_version_data(broker).broker_version
        finally:
            admin.close()
    except (KafkaError, OSError, LookupError):
        return "?"
    return broker_version_label(version)


def broker_version_label(version: tuple[int, ...]) -> str:
    """kafka-python infers major.minor from the broker's API versions, and its own newest
    line for any newer broker too: that line reads "or newer". The project's own local
    broker of the inferred line is named by its exact pinned version."""
    major_minor = ".".join(str(v) for v in version[:2])
    if KAFKA_VERSION.startswith(major_minor + "."):
        return KAFKA_VERSION
    if tuple(version[:2]) >= max(BROKER_API_VERSIONS)[:2]:
        return f"{major_minor} ou mais recente"
    return major_minor


def machine_info(bootstrap: str | None) -> MachineInfo:
    """Cores, memory, CPU and the versions that matter, as labels for the results (the
    broker's only for a benchmark that uses one)."""
    info = {
        "nucleos": str(os.cpu_count()),
        "ram_gib": fmt_float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "cpu": _cpu_model(),
        "java": _java_version(),
        "pyspark": pyspark.__version__,
        "kafka": _kafka_version(bootstrap) if bootstrap else "",
        "kafka_python": kafka.__version__ if bootstrap else "",
        "python": platform.python_version(),
        "data": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "carga_1min_no_inicio": fmt_float(load_average(), 2),
    }
    return {key: value for key, value in info.items() if value}


def load_average() -> float:
    """The 1-minute load average: on a shared machine, the context of a figure."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def machine_line(info: MachineInfo) -> str:
    kafka_version = f", Kafka {info['kafka']}" if "kafka" in info else ""
    return (f"{info['nucleos']} núcleos, {info['ram_gib']} GiB de RAM, {info['cpu']}; "
            f"Java {info['java']}, pyspark {info['pyspark']}{kafka_version}, "
            f"Python {info['python']}; carga no início {info['carga_1min_no_inicio']}")
