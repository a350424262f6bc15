"""The dashboard's judgments, in plain pt-BR: is the consumer writing, is it keeping up,
does what it read balance with what it counted. Pure functions of what was read (the
database's clock included), so that they are the same in a test as on the page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from statistics import median
from zoneinfo import ZoneInfo

from vendas import contract as c
from vendas.dashboard.data import Batch, Overview, Summary
from vendas.formatting import fmt_float, fmt_int

# A consumer that wrote no batch for this long (or for STOPPED_GAPS of its usual gaps between
# batches, when it triggers less often) has stopped, or its topic receives nothing.
STOPPED_AFTER = timedelta(minutes=2)
STOPPED_GAPS = 5
# Falling behind: a backlog that takes longer than this at the current processing rate, or
# a backlog that grew at every one of the last GROWING_BATCHES measured batches.
LAG_ALERT_S = 60.0
GROWING_BATCHES = 5

EMPTY = "vazio"
STOPPED = "parado"
BEHIND = "atrasado"
UNMEASURED = "sem_medidas"
KEEPING_UP = "em_dia"


@dataclass(frozen=True)
class ConsumerState:
    kind: str  # one of EMPTY, STOPPED, BEHIND, UNMEASURED, KEEPING_UP
    sentence: str


@dataclass(frozen=True)
class Reconciliation:
    balanced: bool
    equation: str  # "10.000 = 9.500 + 300 + 200"
    sentence: str


def plural(n: int, one: str, many: str) -> str:
    """'1 mensagem', '2 mensagens', '1.000 mensagens'."""
    return f"{fmt_int(n)} {one if n == 1 else many}"


def local_time(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(c.DEFAULT_TIME_ZONE)).strftime("%d/%m/%Y %H:%M:%S")


def local_naive(moment: datetime) -> datetime:
    """The wall-clock time in São Paulo, without a zone (what the charts print as is)."""
    return moment.astimezone(ZoneInfo(c.DEFAULT_TIME_ZONE)).replace(tzinfo=None)


def span(seconds: float) -> str:
    """'4 s', '3 min', '2 h 5 min', '3 dias': a length of time, rounded down."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        hours, minutes = divmod(seconds // 60, 60)
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days = seconds // 86400
    return f"{days} dia" + ("s" if days > 1 else "")


def age(moment: datetime | None, now: datetime) -> str:
    """'há 4 s', 'há 3 min': how old a moment is at `now` (the database's clock)."""
    if moment is None:
        return ""
    return "há " + span((now - moment).total_seconds())


def lag_seconds_text(seconds: float | None) -> str:
    """The estimated time to drain a backlog: '0 s', '< 0,1 s', '~1,5 s', '~2 min', 'n/d'."""
    if seconds is None:
        return "n/d"
    if seconds == 0:
        return "0 s"
    if seconds < 0.1:
        return "< 0,1 s"
    if seconds < 10:
        return f"~{fmt_float(seconds, 1)} s"
    return "~" + span(seconds)


def stopped_after(recent: list[Batch]) -> timedelta:
    """How long without a batch means stopped: STOPPED_AFTER, or more for a slow trigger."""
    gaps = [(b.gravado_em - a.gravado_em).total_seconds() for a, b in pairwise(recent)]
    usual = timedelta(seconds=STOPPED_GAPS * median(gaps)) if gaps else STOPPED_AFTER
    return max(STOPPED_AFTER, usual)


def consumer_state(overview: Overview) -> ConsumerState:
    summary = overview.resumo
    if summary is None:
        return ConsumerState(EMPTY, "Ainda não há totais no banco.")
    idle = overview.agora - summary.atualizado_em
    if idle > stopped_after(overview.recentes):
        return ConsumerState(
            STOPPED,
            f"O consumidor parou de gravar {age(summary.atualizado_em, overview.agora)}: o "
            f"último lote ({fmt_int(summary.lote)}) foi gravado em "
            f"{local_time(summary.atualizado_em)}. Se o tópico ainda recebe mensagens, confira "
            "se o consumidor está rodando.",
        )
    measured = [b for b in overview.recentes if b.atraso_mensagens is not None]
    if not measured:
        return ConsumerState(
            UNMEASURED, "Ainda sem as medidas do Spark (atraso, taxas) dos últimos lotes."
        )
    last = measured[-1]
    lag = last.atraso_mensagens
    seconds = last.atraso_segundos
    lag_text = plural(lag, "mensagem", "mensagens") + " de atraso"
    if lag:
        lag_text += f" ({lag_seconds_text(seconds)} no ritmo atual)"
    tail = measured[-GROWING_BATCHES:]
    growing = len(tail) == GROWING_BATCHES and all(
        a.atraso_mensagens < b.atraso_mensagens for a, b in pairwise(tail)
    )
    slow = seconds is not None and seconds > LAG_ALERT_S
    if growing or slow:
        why = []
        if growing:
            why.append(f"o atraso cresceu em cada um dos últimos {GROWING_BATCHES} lotes")
        if slow:
            why.append(f"mais de {fmt_int(LAG_ALERT_S)} s para alcançar o tópico")
        return ConsumerState(
            BEHIND,
            f"O consumidor está ficando para trás: {lag_text}; {' e '.join(why)}. Ele processa "
            "menos mensagens por segundo do que chegam ao tópico.",
        )
    return ConsumerState(KEEPING_UP, f"O consumidor está em dia: {lag_text} no último lote.")


def reconciliation(summary: Summary) -> Reconciliation:
    """Messages read from the topic = counted + duplicates + rejected, in words."""
    read, counted = summary.mensagens_lidas, summary.pedidos
    duplicates, rejected = summary.duplicadas, summary.mensagens_rejeitadas
    difference = summary.diferenca
    sign = "=" if difference == 0 else "≠"
    equation = (
        f"{fmt_int(read)} {sign} {fmt_int(counted)} + {fmt_int(duplicates)} + {fmt_int(rejected)}"
    )
    if difference == 0:
        sentence = (
            f"Fecha: cada uma das {fmt_int(read)} mensagens lidas do tópico foi contada como "
            "pedido, descartada como repetida ou rejeitada."
        )
    elif difference > 0:
        sentence = (
            "Não fecha: 1 mensagem lida não foi contada, nem descartada como repetida, nem "
            "rejeitada."
            if difference == 1
            else f"Não fecha: {fmt_int(difference)} mensagens lidas não foram contadas, nem "
            "descartadas como repetidas, nem rejeitadas."
        )
    else:
        sentence = (
            f"Não fecha: as contagens somam {plural(-difference, 'mensagem', 'mensagens')} a "
            "mais do que as lidas do tópico."
        )
    return Reconciliation(difference == 0, equation, sentence)
