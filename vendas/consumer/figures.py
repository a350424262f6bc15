"""What Spark measured of each micro-batch (its query progress), and how it is told.

Spark keeps the Kafka offsets in its checkpoint, not in a consumer group, so Kafka's lag
tools cannot see this consumer; its query progress can (offsets behind the latest, per
partition). No Spark here: the dashboard reads the same figures back from PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from typing import Any

from vendas.formatting import fmt_float, fmt_int, fmt_rate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchFigures:
    """What Spark measured of one micro-batch (None where it did not say)."""

    consulta: str
    lote: int
    mensagens: int
    duracao_ms: int | None
    taxa_entrada: float | None  # records/s arriving
    taxa_processamento: float | None  # records/s processed
    atraso_por_particao: dict[str, int] = field(default_factory=dict)  # "topic/partition"
    linhas_estado: int | None = None
    memoria_estado_bytes: int | None = None
    disco_estado_bytes: int | None = None

    @property
    def atraso_mensagens(self) -> int | None:
        return sum(self.atraso_por_particao.values()) if self.atraso_por_particao else None

    @property
    def atraso_segundos(self) -> float | None:
        return lag_seconds(self.atraso_mensagens, self.taxa_processamento)


def lag_seconds(lag: int | None, processing_rate: float | None) -> float | None:
    """How long a backlog of `lag` messages takes at a processing rate (None: unknown)."""
    if lag is None:
        return None
    if lag == 0:
        return 0.0
    return lag / processing_rate if processing_rate else None


def figures_from_progress(progress: Any) -> BatchFigures:
    """BatchFigures from a StreamingQueryProgress (its JSON form, as Spark documents it)."""
    data = json.loads(progress.json) if hasattr(progress, "json") else progress
    lag: dict[str, int] = {}
    for source in data.get("sources") or []:
        end, latest = _offsets(source.get("endOffset")), _offsets(source.get("latestOffset"))
        for topic, partitions in latest.items():
            for partition, offset in partitions.items():
                behind = offset - end.get(topic, {}).get(partition, offset)
                lag[f"{topic}/{partition}"] = max(0, behind)
    operators = data.get("stateOperators") or []
    rows = sum(op.get("numRowsTotal") or 0 for op in operators)
    disk = sum((op.get("customMetrics") or {}).get("rocksdbSstFileSize") or 0
               for op in operators)
    duration = (data.get("durationMs") or {}).get("triggerExecution")
    return BatchFigures(
        consulta=data.get("id", ""),
        lote=int(data.get("batchId", -1)),
        mensagens=int(data.get("numInputRows") or 0),
        duracao_ms=None if duration is None else int(duration),
        taxa_entrada=_rate(data.get("inputRowsPerSecond")),
        taxa_processamento=_rate(data.get("processedRowsPerSecond")),
        atraso_por_particao=lag,
        linhas_estado=rows or None,  # 0: RocksDB is not counting rows (see docs/operacao.md)
        memoria_estado_bytes=sum(op.get("memoryUsedBytes") or 0 for op in operators) or None,
        disco_estado_bytes=disk or None,
    )


def _offsets(text: Any) -> dict[str, dict[str, int]]:
    """A source's offsets in a progress event: {"topic": {"partition": offset}}."""
    if not text:
        return {}
    data = json.loads(text) if isinstance(text, str) else text
    if not isinstance(data, dict):
        return {}
    return {topic: {str(p): int(o) for p, o in partitions.items()}
            for topic, partitions in data.items() if isinstance(partitions, dict)}


def _rate(value: Any) -> float | None:
    try:
        rate = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(rate) else rate  # NaN: no time elapsed


def status_line(figures: BatchFigures, rejected: dict[str, int] | None = None) -> str:
    """One concise pt-BR line per batch, the console's status."""
    parts = [f"Lote {figures.lote}: {fmt_int(figures.mensagens)} mensagens"]
    if figures.duracao_ms is not None:
        parts[0] += f" em {fmt_float(figures.duracao_ms / 1000, 1)} s"
    rates = []
    if figures.taxa_entrada:  # 0 for a query's first batch: nothing to measure it against
        rates.append(f"entrada {fmt_rate(figures.taxa_entrada)}/s")
    if figures.taxa_processamento is not None:
        rates.append(f"processamento {fmt_rate(figures.taxa_processamento)}/s")
    if rates:
        parts.append(", ".join(rates))
    if figures.atraso_mensagens is not None:
        lag = f"atraso {fmt_int(figures.atraso_mensagens)} mensagens"
        if figures.atraso_mensagens and figures.atraso_segundos is not None:
            lag += f" (~{fmt_float(figures.atraso_segundos, 1)} s)"
        parts.append(lag)
    state = []
    if figures.linhas_estado is not None:
        state.append(f"{fmt_int(figures.linhas_estado)} linhas")
    if figures.disco_estado_bytes is not None:
        state.append(f"{fmt_float(figures.disco_estado_bytes / 2**20, 1)} MiB em disco")
    if figures.memoria_estado_bytes is not None:
        state.append(f"{fmt_float(figures.memoria_estado_bytes / 2**20, 1)} MiB em memória")
    if state:
        parts.append("estado " + ", ".join(state))
    if rejected:
        reasons = ", ".join(f"{k}: {fmt_int(v)}" for k, v in sorted(rejected.items()))
        parts.append(f"rejeitadas {fmt_int(sum(rejected.values()))} ({reasons})")
    return "; ".join(parts) + "."
