"""The running totals in PostgreSQL, exactly once, and what the dashboard reads back.

The totals query runs in complete mode: every batch carries the absolute totals so far. Each
batch is written as absolute values (upsert, plus deleting what the totals no longer hold) in
one transaction that also moves the query's progress row to that batch id. A batch whose id
is not above the stored one was already written, and is skipped: a batch that Spark replays
after a crash changes nothing, and since the values are absolute, a batch that failed to
commit is simply written again. Exactly once in the database, not only in Spark's state.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from vendas.errors import DatabaseUnavailable, UserError
from vendas.pipeline.totals import ProductTotal, Totals

log = logging.getLogger(__name__)

PRODUCTS_TABLE = "totais_por_produto"
REJECTIONS_TABLE = "rejeicoes_por_motivo"
SUMMARY_TABLE = "resumo_vendas"
PROGRESS_TABLE = "progresso_consultas"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {PRODUCTS_TABLE} (
    produto          text PRIMARY KEY,
    quantidade_total bigint NOT NULL,
    valor_total      numeric(38, 2),  -- null: only orders without unit prices sold it
    atualizado_em    timestamptz NOT NULL,
    lote             bigint NOT NULL  -- the batch that last changed this row
);
CREATE TABLE IF NOT EXISTS {REJECTIONS_TABLE} (
    motivo        text PRIMARY KEY,
    quantidade    bigint NOT NULL,
    atualizado_em timestamptz NOT NULL,
    lote          bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS {SUMMARY_TABLE} (
    id                   boolean PRIMARY KEY DEFAULT true CHECK (id),  -- one row
    pedidos              bigint NOT NULL,
    valor_total          numeric(38, 2) NOT NULL,  -- value attributed to products
    valor_nao_atribuido  numeric(38, 2) NOT NULL,
    produtos             bigint NOT NULL,
    mensagens_rejeitadas bigint NOT NULL,
    atualizado_em        timestamptz NOT NULL,
    lote                 bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} (
    consulta      text PRIMARY KEY,  -- Spark's query id: stable across restarts of a checkpoint
    ultimo_lote   bigint NOT NULL,
    atualizado_em timestamptz NOT NULL
);
"""

CONNECT_TIMEOUT_S = 5
# Ten minutes of retries by default: a database restart or a failover fits, a database gone
# for good ends the query (Spark replays the batch on the next start: nothing is lost).
RETRY_TIMEOUT_S = 600.0
RETRY_PAUSE_S = (1.0, 2.0, 5.0, 10.0)


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, for logs and messages."""
    if "://" not in url:
        try:
            params = psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.Error:
            return "(URL inválida)"
        return " ".join(f"{k}={'***' if k == 'password' else v}" for k, v in params.items())
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hosts = netloc.rpartition("@")
        user, sep, _ = userinfo.partition(":")
        netloc = f"{user}{':***' if sep else ''}@{hosts}"
    query = urlencode(
        [(k, "***" if k == "password" else v) for k, v in parse_qsl(parts.query)], safe="*/"
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def describe(url: str) -> str:
    """Where a URL points, without any secret: 'usuario@host:porta/banco'."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "(URL inválida)"
    host = params.get("host") or params.get("hostaddr") or "localhost"
    user = f"{params['user']}@" if params.get("user") else ""
    port = params.get("port") or 5432
    return f"{user}{host}:{port}/{params.get('dbname') or params.get('user') or ''}"


def connect(url: str, purpose: str = "") -> psycopg.Connection:
    """A connection, or UserError with one Portuguese sentence (never the password)."""
    try:
        psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        # libpq's parse errors quote the string they could not read, password included.
        raise UserError(
            "A URL do banco é inválida: use a forma postgresql://usuario:senha@host:5432/banco "
            "(em --banco ou na variável VENDAS_BANCO)."
        ) from None
    try:
        return psycopg.connect(
            url, connect_timeout=CONNECT_TIMEOUT_S, application_name=purpose or "vendas"
        )
    except psycopg.OperationalError as error:
        raise UserError(connection_error_sentence(url, error)) from None


def connection_error_sentence(url: str, error: BaseException) -> str:
    text = str(error)
    where = describe(url)
    if "password authentication failed" in text or "28P01" in text:
        return f"O PostgreSQL em {where} recusou o usuário ou a senha: confira a URL do banco."
    if "no password supplied" in text:
        return (
            f"O PostgreSQL em {where} pede senha e a URL não tem: inclua-a na URL ou em ~/.pgpass."
        )
    if "does not exist" in text and "database" in text:
        return f"O banco de dados de {where} não existe: crie-o (CREATE DATABASE) ou corrija a URL."
    prefix = f"Não foi possível conectar ao PostgreSQL em {where}"
    if "Connection refused" in text or "accepting TCP/IP connections" in text:
        return f"{prefix}: nada responde nessa porta; ele está rodando? (make db-up inicia o local)"
    if "could not translate host name" in text or "failed to resolve host" in text:
        return f"{prefix}: o nome do host não foi encontrado; confira a URL do banco."
    if "timeout expired" in text:
        return f"{prefix}: sem resposta em {CONNECT_TIMEOUT_S} s; confira host, porta e firewall."
    return f"{prefix} ({_last_server_line(text)}); confira a URL do banco."


def _last_server_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[-1] if lines else "sem resposta"
    return line.removeprefix("FATAL:").strip()


def ensure_schema(conn: psycopg.Connection) -> None:
    """Create the tables if missing (idempotent; concurrent starts serialised by a lock)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('vendas-ecommerce-schema'))")
        conn.execute(SCHEMA)


class TotalsStore:
    """Writes each batch's absolute totals, fenced by batch id, retrying through outages."""

    def __init__(
        self,
        url: str,
        retry_timeout_s: float = RETRY_TIMEOUT_S,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.url = url
        self.retry_timeout_s = retry_timeout_s
        self.sleep = sleep
        self._conn: psycopg.Connection | None = None

    def open(self) -> TotalsStore:
        """Connect and create the schema now, so that a bad URL fails before Spark starts."""
        self._conn = connect(self.url, "vendas-consumidor")
        try:
            ensure_schema(self._conn)
        except psycopg.Error as error:
            self.close()
            raise UserError(
                f"Não foi possível criar as tabelas em {describe(self.url)}: "
                f"{_last_server_line(str(error))}."
            ) from None
        log.info("Totais também no PostgreSQL em %s.", describe(self.url))
        return self

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def write(self, totals: Totals, batch_id: int, query_id: str) -> bool:
        """Write one batch; False when it was already written (a replay). Retries on
        connection failures until retry_timeout_s, then raises DatabaseUnavailable."""
        deadline = time.monotonic() + self.retry_timeout_s
        attempt = 0
        while True:
            attempt += 1
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(
                        self.url,
                        connect_timeout=CONNECT_TIMEOUT_S,
                        application_name="vendas-consumidor",
                    )
                    ensure_schema(self._conn)
                written = _write_batch(self._conn, totals, batch_id, query_id)
                if attempt > 1:
                    log.info(
                        "Lote %d gravado no PostgreSQL depois de %d tentativas.", batch_id, attempt
                    )
                return written
            except psycopg.OperationalError as error:
                self.close()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DatabaseUnavailable(
                        f"O PostgreSQL em {describe(self.url)} ficou indisponível por mais de "
                        f"{self.retry_timeout_s:.0f} s; o lote {batch_id} será gravado de novo "
                        f"quando o consumidor reiniciar."
                    ) from None
                pause = min(RETRY_PAUSE_S[min(attempt, len(RETRY_PAUSE_S)) - 1], remaining)
                log.warning(
                    "PostgreSQL indisponível ao gravar o lote %d (%s); nova tentativa em %.0f s.",
                    batch_id,
                    _last_server_line(str(error)),
                    pause,
                )
                self.sleep(pause)


_CLAIM_PROGRESS = f"""
INSERT INTO {PROGRESS_TABLE} (consulta, ultimo_lote, atualizado_em) VALUES (%s, -1, now())
ON CONFLICT (consulta) DO NOTHING
"""
_LOCK_PROGRESS = f"SELECT ultimo_lote FROM {PROGRESS_TABLE} WHERE consulta = %s FOR UPDATE"
_SET_PROGRESS = f"""
UPDATE {PROGRESS_TABLE} SET ultimo_lote = %s, atualizado_em = now() WHERE consulta = %s
"""
_UPSERT_SUMMARY = f"""
INSERT INTO {SUMMARY_TABLE} (id, pedidos, valor_total, valor_nao_atribuido, produtos,
                             mensagens_rejeitadas, atualizado_em, lote)
VALUES (true, %s, %s, %s, %s, %s, now(), %s)
ON CONFLICT (id) DO UPDATE SET
    pedidos = excluded.pedidos, valor_total = excluded.valor_total,
    valor_nao_atribuido = excluded.valor_nao_atribuido, produtos = excluded.produtos,
    mensagens_rejeitadas = excluded.mensagens_rejeitadas,
    atualizado_em = excluded.atualizado_em, lote = excluded.lote
"""
_BATCH_PRODUCTS = """
CREATE TEMP TABLE IF NOT EXISTS lote_produtos
    (produto text PRIMARY KEY, quantidade_total bigint, valor_total numeric(38, 2))
    ON COMMIT DELETE ROWS
"""
_UPSERT_PRODUCTS = f"""
INSERT INTO {PRODUCTS_TABLE} AS t (produto, quantidade_total, valor_total, atualizado_em, lote)
SELECT produto, quantidade_total, valor_total, now(), %s FROM lote_produtos
ON CONFLICT (produto) DO UPDATE SET
    quantidade_total = excluded.quantidade_total, valor_total = excluded.valor_total,
    atualizado_em = excluded.atualizado_em, lote = excluded.lote
WHERE (t.quantidade_total, t.valor_total)
      IS DISTINCT FROM (excluded.quantidade_total, excluded.valor_total)
"""
_DELETE_GONE_PRODUCTS = f"""
DELETE FROM {PRODUCTS_TABLE} t
WHERE NOT EXISTS (SELECT 1 FROM lote_produtos b WHERE b.produto = t.produto)
"""
_UPSERT_REJECTION = f"""
INSERT INTO {REJECTIONS_TABLE} AS t (motivo, quantidade, atualizado_em, lote)
VALUES (%s, %s, now(), %s)
ON CONFLICT (motivo) DO UPDATE SET
    quantidade = excluded.quantidade, atualizado_em = excluded.atualizado_em, lote = excluded.lote
WHERE t.quantidade IS DISTINCT FROM excluded.quantidade
"""


def _write_batch(conn: psycopg.Connection, totals: Totals, batch_id: int, query_id: str) -> bool:
    with conn.transaction():
        conn.execute(_CLAIM_PROGRESS, (query_id,))
        (last,) = conn.execute(_LOCK_PROGRESS, (query_id,)).fetchone()
        if batch_id <= last:
            log.info(
                "Lote %d já estava no PostgreSQL (último gravado: %d); ignorado.", batch_id, last
            )
            return False
        _replace_products(conn, totals.produtos, batch_id)
        _replace_rejections(conn, totals.rejeitadas, batch_id)
        attributed = sum(
            (p.valor_total for p in totals.produtos if p.valor_total is not None), Decimal(0)
        )
        conn.execute(
            _UPSERT_SUMMARY,
            (
                totals.pedidos,
                attributed,
                totals.valor_nao_atribuido,
                len(totals.produtos),
                totals.total_rejeitadas,
                batch_id,
            ),
        )
        conn.execute(_SET_PROGRESS, (batch_id, query_id))
    return True


def _replace_products(
    conn: psycopg.Connection, products: list[ProductTotal], batch_id: int
) -> None:
    """Make the table equal `products`; rows that did not change keep their batch and time."""
    conn.execute(_BATCH_PRODUCTS)
    with conn.cursor().copy(
        "COPY lote_produtos (produto, quantidade_total, valor_total) FROM STDIN"
    ) as copy:
        for row in _storable(products):
            copy.write_row(row)
    conn.execute(_UPSERT_PRODUCTS, (batch_id,))
    conn.execute(_DELETE_GONE_PRODUCTS)


def db_text(text: str) -> str:
    """`text` as PostgreSQL can store it: a text value cannot hold NUL (shown as U+2400 instead)
    nor lone surrogates (U+FFFD). Every other character is kept as sent."""
    if "\x00" in text:
        text = text.replace("\x00", "\u2400")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
    return text


def _storable(products: list[ProductTotal]) -> list[tuple[str, int, Decimal | None]]:
    """Rows for the table; the rare names that db_text maps together are summed, so that a
    hostile name can never fail the batch (and with it every replay of it)."""
    merged: dict[str, tuple[int, Decimal | None]] = {}
    for p in products:
        name = db_text(p.produto)
        if name in merged:
            quantity, value = merged[name]
            both = (
                None
                if value is None and p.valor_total is None
                else (value or 0) + (p.valor_total or 0)
            )
            merged[name] = (quantity + p.quantidade_total, both)
        else:
            merged[name] = (p.quantidade_total, p.valor_total)
    return [(name, quantity, value) for name, (quantity, value) in merged.items()]


def _replace_rejections(conn: psycopg.Connection, rejected: dict[str, int], batch_id: int) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            _UPSERT_REJECTION, [(reason, n, batch_id) for reason, n in rejected.items()]
        )
    conn.execute(f"DELETE FROM {REJECTIONS_TABLE} WHERE NOT (motivo = ANY(%s))", (list(rejected),))


# --- What the dashboard reads -------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Everything the dashboard shows, read in one transaction (one consistent batch)."""

    produtos: list[ProductTotal] = field(default_factory=list)
    rejeitadas: dict[str, int] = field(default_factory=dict)
    pedidos: int = 0
    valor_total: Decimal = Decimal("0.00")
    valor_nao_atribuido: Decimal = Decimal("0.00")
    lote: int | None = None
    atualizado_em: datetime | None = None

    @property
    def empty(self) -> bool:
        return self.lote is None

    @property
    def total_rejeitadas(self) -> int:
        return sum(self.rejeitadas.values())


def read_snapshot(conn: psycopg.Connection) -> Snapshot:
    """The latest written batch; an empty Snapshot when nothing was written (or no tables yet)."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (SUMMARY_TABLE,)).fetchone()[0]
        if not exists:
            return Snapshot()
        summary = conn.execute(
            "SELECT pedidos, valor_total, valor_nao_atribuido, lote, atualizado_em "
            f"FROM {SUMMARY_TABLE}"
        ).fetchone()
        if summary is None:
            return Snapshot()
        products = [
            ProductTotal(name, int(quantity), value)
            for name, quantity, value in conn.execute(
                f"SELECT produto, quantidade_total, valor_total FROM {PRODUCTS_TABLE} "
                "ORDER BY valor_total DESC NULLS LAST, quantidade_total DESC, produto"
            )
        ]
        rejected = dict(
            conn.execute(f"SELECT motivo, quantidade FROM {REJECTIONS_TABLE} ORDER BY motivo")
        )
    orders, value, unattributed, batch, updated = summary
    return Snapshot(
        products,
        {k: int(v) for k, v in rejected.items()},
        int(orders),
        value,
        unattributed,
        int(batch),
        updated,
    )
