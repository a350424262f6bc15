"""What the dashboard reads: only what it shows, in one consistent read per refresh.

The consumer keeps every product in `totais_por_produto` (a million of them is a normal
store): the page reads the top N by value and by quantity and a search by the start of a
name, each a LIMIT over an index of that table (see SCHEMA in vendas.outputs.postgres),
never the whole table. The rest is small by construction: the one summary row, the
rejections per reason, the last hour of batch history, the last hours of windows.

All of a refresh's queries run in one REPEATABLE READ READ ONLY transaction (`consistent_read`),
so that what one refresh shows belongs to one set of written batches. A database without
the tables yet, or with empty tables, is a normal state: the reads return nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import psycopg

from vendas.consumer.figures import lag_seconds
from vendas.outputs.postgres import (
    HISTORY_TABLE,
    PRODUCTS_TABLE,
    REJECTIONS_TABLE,
    SUMMARY_TABLE,
    WINDOWS_TABLE,
    db_text,
)
from vendas.pipeline.totals import ProductTotal

TABLES = (SUMMARY_TABLE, PRODUCTS_TABLE, REJECTIONS_TABLE, HISTORY_TABLE, WINDOWS_TABLE)
# a refresh that takes longer than this is cut short (an error on the page, retried)
STATEMENT_TIMEOUT = "10s"
RECENT_BATCHES = 10  # the last batches, for the consumer's state (stopped, falling behind)
HISTORY_LIMIT = 5000  # at most this many batches of the last hour (a trigger of 0 s)
WINDOWS_LIMIT = 2000  # at most this many windows of the last hours (tiny windows)

SUMMARY_SQL = f"""
SELECT pedidos, quantidade_total, valor_total, valor_nao_atribuido, produtos,
       mensagens_rejeitadas, duplicadas, mensagens_lidas, atualizado_em, lote
FROM {SUMMARY_TABLE}
"""
# Each of these three reads an index of totais_por_produto in its order and stops at the limit.
TOP_BY_VALUE_SQL = f"""
SELECT produto, quantidade_total, valor_total FROM {PRODUCTS_TABLE}
ORDER BY valor_total DESC NULLS LAST, quantidade_total DESC, produto
LIMIT %s
"""
TOP_BY_QUANTITY_SQL = f"""
SELECT produto, quantidade_total, valor_total FROM {PRODUCTS_TABLE}
ORDER BY quantidade_total DESC, produto
LIMIT %s
"""
# A prefix of lower(produto): a range of the text_pattern_ops index, read in its own order
# (~<~), so the first matches in alphabetical order come without reading the others.
SEARCH_SQL = f"""
SELECT produto, quantidade_total, valor_total FROM {PRODUCTS_TABLE}
WHERE lower(produto) LIKE lower(%s) ESCAPE '\\'
ORDER BY lower(produto) USING ~<~, produto
LIMIT %s
"""
REJECTIONS_SQL = (
    f"SELECT motivo, quantidade FROM {REJECTIONS_TABLE} ORDER BY quantidade DESC, motivo"
)
_BATCH_COLUMNS = """lote, gravado_em, mensagens, pedidos, duplicadas, rejeitadas,
       rejeitadas_por_motivo, duracao_ms, taxa_entrada, taxa_processamento, atraso_mensagens,
       atraso_por_particao"""
RECENT_SQL = f"""
SELECT {_BATCH_COLUMNS} FROM {HISTORY_TABLE}
ORDER BY gravado_em DESC, lote DESC
LIMIT %s
"""
HISTORY_SQL = f"""
SELECT {_BATCH_COLUMNS} FROM {HISTORY_TABLE}
WHERE gravado_em > now() - %s::interval
ORDER BY gravado_em DESC, lote DESC
LIMIT %s
"""
# The hours before the newest window (event time: orders dated in the past count too).
WINDOWS_SQL = f"""
SELECT inicio, fim, pedidos, quantidade_total, valor_total FROM {WINDOWS_TABLE}
WHERE inicio > (SELECT max(inicio) FROM {WINDOWS_TABLE}) - %s::interval
ORDER BY inicio DESC
LIMIT %s
"""


@dataclass(frozen=True)
class Summary:
    """The consumer's totals after its last written batch (resumo_vendas)."""

    pedidos: int
    quantidade_total: int
    valor_total: Decimal
    valor_nao_atribuido: Decimal
    produtos: int
    mensagens_rejeitadas: int
    duplicadas: int
    mensagens_lidas: int
    atualizado_em: datetime
    lote: int

    @property
    def classificadas(self) -> int:
        """Messages accounted for: counted as orders, dropped as duplicates, or rejected."""
        return self.pedidos + self.duplicadas + self.mensagens_rejeitadas

    @property
    def diferenca(self) -> int:
        """Messages read minus messages accounted for: 0 when the reconciliation balances."""
        return self.mensagens_lidas - self.classificadas


@dataclass(frozen=True)
class Batch:
    """One micro-batch of the history (historico_lotes); Spark's figures are None until the
    consumer recorded them (just after the batch)."""

    lote: int
    gravado_em: datetime
    mensagens: int
    pedidos: int
    duplicadas: int
    rejeitadas: int
    rejeitadas_por_motivo: dict[str, int] = field(default_factory=dict)
    duracao_ms: int | None = None
    taxa_entrada: float | None = None
    taxa_processamento: float | None = None
    atraso_mensagens: int | None = None
    atraso_por_particao: dict[str, int] = field(default_factory=dict)

    @property
    def medido(self) -> bool:
        """Whether Spark's figures for the batch are in."""
        return self.duracao_ms is not None

    @property
    def atraso_segundos(self) -> float | None:
        """How long the backlog takes at the batch's processing rate (None: unknown)."""
        return lag_seconds(self.atraso_mensagens, self.taxa_processamento)


@dataclass(frozen=True)
class Window:
    """One event-time window's totals (vendas_por_janela, --window)."""

    inicio: datetime
    fim: datetime
    pedidos: int
    quantidade_total: int
    valor_total: Decimal


@dataclass(frozen=True)
class Search:
    """The products whose name starts with `termo` (any case), first ones alphabetically."""

    termo: str
    produtos: list[ProductTotal]
    mais: bool  # more products match than the ones read


@dataclass(frozen=True)
class Overview:
    """What every view shows: the summary and the last batches, and the database's clock."""

    agora: datetime
    resumo: Summary | None = None
    recentes: list[Batch] = field(default_factory=list)  # oldest first

    @property
    def empty(self) -> bool:
        return self.resumo is None


def like_prefix(text: str) -> str:
    """A LIKE pattern for 'starts with `text`': its % _ and \\ taken literally."""
    escaped = db_text(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


class Reader:
    """The reads of one refresh, inside one transaction (see consistent_read)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        row = conn.execute(
            "SELECT now(), " + ", ".join(["to_regclass(%s) IS NOT NULL"] * len(TABLES)), TABLES
        ).fetchone()
        self.agora: datetime = row[0]
        self.tables = {table for table, present in zip(TABLES, row[1:]) if present}

    def overview(self) -> Overview:
        if SUMMARY_TABLE not in self.tables:
            return Overview(self.agora)
        row = self.conn.execute(SUMMARY_SQL).fetchone()
        if row is None:
            return Overview(self.agora)
        summary = Summary(*row)
        recent = []
        if HISTORY_TABLE in self.tables:
            recent = self._batches(RECENT_SQL, (RECENT_BATCHES,))
        return Overview(self.agora, summary, recent)

    def top_by_value(self, limit: int) -> list[ProductTotal]:
        return self._products(TOP_BY_VALUE_SQL, (limit,))

    def top_by_quantity(self, limit: int) -> list[ProductTotal]:
        return self._products(TOP_BY_QUANTITY_SQL, (limit,))

    def search(self, text: str, limit: int) -> Search:
        found = self._products(SEARCH_SQL, (like_prefix(text), limit + 1))
        return Search(text, found[:limit], len(found) > limit)

    def rejections(self) -> dict[str, int]:
        if REJECTIONS_TABLE not in self.tables:
            return {}
        return {reason: int(n) for reason, n in self.conn.execute(REJECTIONS_SQL)}

    def history(self, span: timedelta) -> list[Batch]:
        """The batches written in the last `span`, oldest first."""
        if HISTORY_TABLE not in self.tables:
            return []
        return self._batches(HISTORY_SQL, (span, HISTORY_LIMIT))

    def windows(self, span: timedelta) -> list[Window] | None:
        """The windows that start within `span` of the newest one, oldest first; None when
        the database has no windows table (a consumer older than --window's)."""
        if WINDOWS_TABLE not in self.tables:
            return None
        rows = self.conn.execute(WINDOWS_SQL, (span, WINDOWS_LIMIT)).fetchall()
        return [Window(start, end, int(orders), int(quantity), value)
                for start, end, orders, quantity, value in reversed(rows)]

    def _products(self, sql: str, params: tuple) -> list[ProductTotal]:
        if PRODUCTS_TABLE not in self.tables:
            return []
        return [ProductTotal(name, int(quantity), value)
                for name, quantity, value in self.conn.execute(sql, params)]

    def _batches(self, sql: str, params: tuple) -> list[Batch]:
        rows = self.conn.execute(sql, params).fetchall()
        return [
            Batch(int(lote), written, int(messages), int(orders), int(duplicates),
                  int(rejected), _counts(by_reason), duration, rate_in, rate_out, lag,
                  _counts(by_partition))
            for (lote, written, messages, orders, duplicates, rejected, by_reason, duration,
                 rate_in, rate_out, lag, by_partition) in reversed(rows)
        ]


def _counts(data: object) -> dict[str, int]:
    """A jsonb {"name": n} as read by psycopg; anything else as empty."""
    if not isinstance(data, dict):
        return {}
    return {str(k): int(v) for k, v in data.items() if isinstance(v, (int, float))}


@contextmanager
def consistent_read(conn: psycopg.Connection) -> Iterator[Reader]:
    """One REPEATABLE READ READ ONLY transaction: every read through the Reader sees the
    same committed batches."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        conn.execute(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
        yield Reader(conn)
