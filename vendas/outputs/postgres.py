"""The running totals in PostgreSQL, exactly once.

Each micro-batch brings the products it touched, with their totals so far (absolute values
from Spark's state store), and the counts. They are upserted in one transaction that also
moves the query's progress row to that batch id. A batch whose id is not above the stored
one was already written, and is skipped: a batch that Spark replays after a crash changes
nothing, and since the values are absolute, a batch that failed to commit is simply written
again. Exactly once in the database, not only in Spark's state; and each batch costs what
it touched, not every product ever sold.

One database holds one consumer's totals: the first to write claims it (its checkpoint and
topic); another consumer is refused in one sentence instead of overwriting them. The same
consumer started over on a fresh checkpoint (a new query id) starts the tables over too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.types.json import Jsonb

from vendas.contract import NUL_STAND_IN
from vendas.errors import DatabaseUnavailable, UserError
from vendas.pipeline.totals import Totals
from vendas.terminal import visible

if TYPE_CHECKING:
    from vendas.consumer.batch import BatchResult
    from vendas.consumer.figures import BatchFigures

log = logging.getLogger(__name__)

PRODUCTS_TABLE = "totais_por_produto"
REJECTIONS_TABLE = "rejeicoes_por_motivo"
SUMMARY_TABLE = "resumo_vendas"
PROGRESS_TABLE = "progresso_consultas"
OWNER_TABLE = "origem_dos_totais"
HISTORY_TABLE = "historico_lotes"
WINDOW_PRODUCTS_TABLE = "totais_por_janela"
WINDOWS_TABLE = "vendas_por_janela"
# What each query of the consumer writes: started over with it (see _start_over_if_new).
QUERY_TABLES = {
    "consulta": (PRODUCTS_TABLE, REJECTIONS_TABLE, SUMMARY_TABLE, HISTORY_TABLE),
    "consulta_janelas": (WINDOW_PRODUCTS_TABLE, WINDOWS_TABLE),
}
# How long the batch history and the windows are kept: enough for a week's charts, bounded
# whatever the consumer's age (older rows are deleted as each batch is written).
RETENTION = "7 days"

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
-- One row per micro-batch of the totals query: its counts, written with the totals (exactly
-- once); Spark's figures for it (duration, rates, lag, state) once the batch has ended.
CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (
    consulta              text NOT NULL,
    lote                  bigint NOT NULL,
    gravado_em            timestamptz NOT NULL,
    mensagens             bigint NOT NULL,  -- records the batch read
    pedidos               bigint NOT NULL,  -- counted
    duplicadas            bigint NOT NULL,
    rejeitadas            bigint NOT NULL,
    rejeitadas_por_motivo jsonb NOT NULL,   -- {{"motivo": n}}, the batch's own
    duracao_ms            bigint,
    taxa_entrada          double precision,  -- records/s arriving (Spark's inputRowsPerSecond)
    taxa_processamento    double precision,  -- records/s processed
    atraso_mensagens      bigint,            -- offsets behind the latest, all partitions
    atraso_por_particao   jsonb,             -- {{"particao": atraso}}
    linhas_estado         bigint,
    memoria_estado_bytes  bigint,
    PRIMARY KEY (consulta, lote)
);
CREATE INDEX IF NOT EXISTS {HISTORY_TABLE}_por_data ON {HISTORY_TABLE} (gravado_em);
-- --window: totals per event-time window (of data_hora), per product and per window
CREATE TABLE IF NOT EXISTS {WINDOW_PRODUCTS_TABLE} (
    inicio           timestamptz NOT NULL,
    fim              timestamptz NOT NULL,
    produto          text NOT NULL,
    quantidade_total bigint NOT NULL,
    valor_total      numeric(38, 2),
    atualizado_em    timestamptz NOT NULL,
    lote             bigint NOT NULL,
    PRIMARY KEY (inicio, produto)
);
CREATE TABLE IF NOT EXISTS {WINDOWS_TABLE} (
    inicio           timestamptz PRIMARY KEY,
    fim              timestamptz NOT NULL,
    pedidos          bigint NOT NULL,
    quantidade_total bigint NOT NULL,
    valor_total      numeric(38, 2) NOT NULL,
    atualizado_em    timestamptz NOT NULL,
    lote             bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} (
    consulta      text PRIMARY KEY,  -- Spark's query id: stable across restarts of a checkpoint
    ultimo_lote   bigint NOT NULL,
    atualizado_em timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS {OWNER_TABLE} (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),  -- one row
    checkpoint    text NOT NULL,
    topico        text NOT NULL,
    consulta      text,  -- the totals query's id, once it started
    desde         timestamptz NOT NULL
);
ALTER TABLE {OWNER_TABLE} ADD COLUMN IF NOT EXISTS consulta_janelas text;  -- --window's
ALTER TABLE {SUMMARY_TABLE} ADD COLUMN IF NOT EXISTS duplicadas bigint NOT NULL DEFAULT 0;
ALTER TABLE {SUMMARY_TABLE}
    ADD COLUMN IF NOT EXISTS quantidade_total bigint NOT NULL DEFAULT 0;
ALTER TABLE {SUMMARY_TABLE}
    ADD COLUMN IF NOT EXISTS mensagens_lidas bigint NOT NULL DEFAULT 0;
-- the dashboard's top products and its search by name, without reading the whole table
CREATE INDEX IF NOT EXISTS {PRODUCTS_TABLE}_por_valor ON {PRODUCTS_TABLE}
    (valor_total DESC NULLS LAST, quantidade_total DESC, produto);
CREATE INDEX IF NOT EXISTS {PRODUCTS_TABLE}_por_quantidade ON {PRODUCTS_TABLE}
    (quantidade_total DESC, produto);
CREATE INDEX IF NOT EXISTS {PRODUCTS_TABLE}_por_nome ON {PRODUCTS_TABLE}
    (lower(produto) text_pattern_ops);
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


@dataclass(frozen=True)
class Owner:
    """Which consumer a database's totals belong to: its checkpoint and its topic."""

    checkpoint: str
    topico: str


ProductRow = tuple[str, int, "Decimal | None"]


@dataclass(frozen=True)
class BatchWrite:
    """One micro-batch for the database: the driver's totals after it and the products it
    touched (a callable: a retry reads them again)."""

    batch_id: int
    before: Totals  # the totals before the batch, for its own counts
    totals: Totals
    touched_products: Callable[[], Iterable[ProductRow]]


WindowRow = tuple[datetime, datetime, int, int, "Decimal | None"]
WindowProductRow = tuple[datetime, datetime, str, int, "Decimal | None"]


@dataclass(frozen=True)
class WindowBatchWrite:
    """One micro-batch of the windows query: the windows it touched (start, end, orders,
    quantity, value) and their touched products (start, end, product, quantity, value)."""

    batch_id: int
    windows: Callable[[], Iterable[WindowRow]]
    products: Callable[[], Iterable[WindowProductRow]]


class TotalsStore:
    """Writes each batch's touched totals, fenced by batch id, retrying through outages."""

    def __init__(
        self,
        url: str,
        owner: Owner | None = None,
        retry_timeout_s: float = RETRY_TIMEOUT_S,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.url = url
        self.owner = owner
        self.retry_timeout_s = retry_timeout_s
        self.sleep = sleep
        self._conn: psycopg.Connection | None = None

    def open(self) -> TotalsStore:
        """Connect, create the schema and claim the database now, so that a bad URL or a
        database another consumer writes to fails before Spark starts."""
        self._conn = connect(self.url, "vendas-consumidor")
        try:
            ensure_schema(self._conn)
            if self.owner is not None:
                with self._conn.transaction():
                    _claim(self._conn, self.owner, self.url)
        except psycopg.Error as error:
            self.close()
            raise UserError(
                f"Não foi possível criar as tabelas em {describe(self.url)}: "
                f"{_last_server_line(str(error))}."
            ) from None
        except UserError:
            self.close()
            raise
        log.info("Totais também no PostgreSQL em %s.", describe(self.url))
        return self

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def sibling(self) -> TotalsStore:
        """Another store on the same database, with a connection of its own (for another
        query's thread: a connection carries one transaction at a time)."""
        return TotalsStore(self.url, self.owner, self.retry_timeout_s, self.sleep)

    def write(self, batch: BatchWrite, query_id: str) -> bool:
        """Write one batch; False when it was already written (a replay). Retries on
        connection failures until retry_timeout_s, then raises DatabaseUnavailable."""
        return self._retrying(batch.batch_id, lambda conn: _write_batch(
            conn, batch, query_id, self.owner, self.url))

    def write_windows(self, batch: WindowBatchWrite, query_id: str) -> bool:
        """Write one batch of the windows query (--window); False when it was a replay."""
        return self._retrying(batch.batch_id, lambda conn: _write_windows(
            conn, batch, query_id, self.owner, self.url))

    def _retrying(self, batch_id: int, work: Callable[[psycopg.Connection], bool]) -> bool:
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
                written = work(self._conn)
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


class DatabaseSink:
    """The consumer's batches into a TotalsStore, fenced by the query's id and the batch id.

    When the database stays down for the store's whole retry budget (or belongs to another
    consumer), the batch fails and with it the query; `failure` keeps the one sentence to
    report, and Spark replays the batch on the next start.
    """

    def __init__(self, store: TotalsStore, bind_timeout_s: float = 120.0):
        self.store = store
        self.bind_timeout_s = bind_timeout_s
        self.query_id: str | None = None
        self._bound = threading.Event()
        self.failure: UserError | None = None

    def bind(self, query_id: str) -> None:
        """The query's id, known once it started: the one Spark keeps in the checkpoint, the
        same across restarts and new with a new checkpoint (whose batch ids restart at 0)."""
        self.query_id = query_id
        self._bound.set()

    def write(self, batch: BatchResult) -> None:
        self._fenced(lambda query_id: self.store.write(
            BatchWrite(batch.batch_id, batch.before, batch.totals, batch.touched_products),
            query_id))

    def _fenced(self, write: Callable[[str], bool]) -> None:
        # The first batch may begin before start() returned the query to bind.
        if not self._bound.wait(self.bind_timeout_s):
            raise RuntimeError("DatabaseSink used before bind(query_id)")
        try:
            write(self.query_id)
        except (DatabaseUnavailable, UserError) as error:
            self.failure = error
            raise


class HistoryRecorder:
    """Completes each batch's history row with Spark's figures for it, once the batch has
    ended (the row itself was written with the totals). Its own connection: Spark calls it
    on another thread. Best effort: an update that fails is only logged, and a replayed
    one writes the same values."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.Connection | None = None

    def __call__(self, figures: BatchFigures) -> None:
        for attempt in (1, 2):  # once more on a fresh connection after a dropped one
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S,
                                                 application_name="vendas-historico",
                                                 autocommit=True)
                self._conn.execute(_UPDATE_HISTORY, (
                    figures.duracao_ms, figures.taxa_entrada, figures.taxa_processamento,
                    figures.atraso_mensagens, Jsonb(figures.atraso_por_particao),
                    figures.linhas_estado, figures.memoria_estado_bytes,
                    figures.consulta, figures.lote))
                return
            except psycopg.OperationalError:
                self.close()
                if attempt == 2:
                    raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class WindowDatabaseSink(DatabaseSink):
    """The windows query's batches (--window) into a TotalsStore, fenced the same way."""

    def write_windows(self, batch: WindowBatchWrite) -> None:
        self._fenced(lambda query_id: self.store.write_windows(batch, query_id))


_CLAIM_PROGRESS = f"""
INSERT INTO {PROGRESS_TABLE} (consulta, ultimo_lote, atualizado_em) VALUES (%s, -1, now())
ON CONFLICT (consulta) DO NOTHING
"""
_LOCK_PROGRESS = f"SELECT ultimo_lote FROM {PROGRESS_TABLE} WHERE consulta = %s FOR UPDATE"
_SET_PROGRESS = f"""
UPDATE {PROGRESS_TABLE} SET ultimo_lote = %s, atualizado_em = now() WHERE consulta = %s
"""
_UPSERT_SUMMARY = f"""
INSERT INTO {SUMMARY_TABLE} (id, pedidos, quantidade_total, valor_total, valor_nao_atribuido,
                             produtos, mensagens_rejeitadas, duplicadas, mensagens_lidas,
                             atualizado_em, lote)
VALUES (true, %s, %s, %s, %s, %s, %s, %s, %s, now(), %s)
ON CONFLICT (id) DO UPDATE SET
    pedidos = excluded.pedidos, quantidade_total = excluded.quantidade_total,
    valor_total = excluded.valor_total, valor_nao_atribuido = excluded.valor_nao_atribuido,
    produtos = excluded.produtos, mensagens_rejeitadas = excluded.mensagens_rejeitadas,
    duplicadas = excluded.duplicadas, mensagens_lidas = excluded.mensagens_lidas,
    atualizado_em = excluded.atualizado_em, lote = excluded.lote
"""
_INSERT_HISTORY = f"""
INSERT INTO {HISTORY_TABLE} (consulta, lote, gravado_em, mensagens, pedidos, duplicadas,
                             rejeitadas, rejeitadas_por_motivo)
VALUES (%s, %s, now(), %s, %s, %s, %s, %s)
ON CONFLICT (consulta, lote) DO NOTHING
"""
_PRUNE_HISTORY = f"DELETE FROM {HISTORY_TABLE} WHERE gravado_em < now() - interval '{RETENTION}'"
_UPDATE_HISTORY = f"""
UPDATE {HISTORY_TABLE} SET duracao_ms = %s, taxa_entrada = %s, taxa_processamento = %s,
    atraso_mensagens = %s, atraso_por_particao = %s, linhas_estado = %s,
    memoria_estado_bytes = %s
WHERE consulta = %s AND lote = %s
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
_UPSERT_REJECTION = f"""
INSERT INTO {REJECTIONS_TABLE} AS t (motivo, quantidade, atualizado_em, lote)
VALUES (%s, %s, now(), %s)
ON CONFLICT (motivo) DO UPDATE SET
    quantidade = excluded.quantidade, atualizado_em = excluded.atualizado_em, lote = excluded.lote
WHERE t.quantidade IS DISTINCT FROM excluded.quantidade
"""
_LOCK_OWNER = f"SELECT checkpoint, topico FROM {OWNER_TABLE} FOR UPDATE"
_UPSERT_WINDOW = f"""
INSERT INTO {WINDOWS_TABLE} (inicio, fim, pedidos, quantidade_total, valor_total, atualizado_em,
                             lote)
VALUES (%s, %s, %s, %s, coalesce(%s, 0), now(), %s)
ON CONFLICT (inicio) DO UPDATE SET
    pedidos = excluded.pedidos, quantidade_total = excluded.quantidade_total,
    valor_total = excluded.valor_total, atualizado_em = excluded.atualizado_em,
    lote = excluded.lote
"""
_BATCH_WINDOW_PRODUCTS = """
CREATE TEMP TABLE IF NOT EXISTS lote_janelas
    (inicio timestamptz, fim timestamptz, produto text, quantidade_total bigint,
     valor_total numeric(38, 2), PRIMARY KEY (inicio, produto))
    ON COMMIT DELETE ROWS
"""
_UPSERT_WINDOW_PRODUCTS = f"""
INSERT INTO {WINDOW_PRODUCTS_TABLE} AS t
    (inicio, fim, produto, quantidade_total, valor_total, atualizado_em, lote)
SELECT inicio, fim, produto, quantidade_total, valor_total, now(), %s FROM lote_janelas
ON CONFLICT (inicio, produto) DO UPDATE SET
    quantidade_total = excluded.quantidade_total, valor_total = excluded.valor_total,
    atualizado_em = excluded.atualizado_em, lote = excluded.lote
"""
_PRUNE_WINDOWS = [
    f"DELETE FROM {table} WHERE inicio < now() - interval '{RETENTION}'"
    for table in (WINDOWS_TABLE, WINDOW_PRODUCTS_TABLE)
]


def _claim(conn: psycopg.Connection, owner: Owner, url: str) -> None:
    """Make `owner` the database's owner if it has none; refuse another one. In a
    transaction (the owner row stays locked until it ends)."""
    conn.execute(
        f"INSERT INTO {OWNER_TABLE} (checkpoint, topico, desde) VALUES (%s, %s, now()) "
        "ON CONFLICT (id) DO NOTHING",
        (owner.checkpoint, owner.topico),
    )
    checkpoint, topic = conn.execute(_LOCK_OWNER).fetchone()
    if (checkpoint, topic) != (owner.checkpoint, owner.topico):
        raise UserError(
            f"O banco {describe(url)} já guarda os totais de outro consumidor (tópico "
            f"{visible(topic)}, checkpoint {visible(checkpoint)}): cada consumidor precisa do seu "
            "banco. Use outro --banco, ou apague as tabelas desse banco para recomeçar."
        )


def _start_over_if_new(conn: psycopg.Connection, owner: Owner, url: str, query_id: str,
                       column: str) -> None:
    """A query the database has not seen on the owner's checkpoint counts from zero (the
    checkpoint was deleted and started over): so do its tables. `column`: the owner row's
    column with the query's id (a key of QUERY_TABLES)."""
    _claim(conn, owner, url)
    (recorded,) = conn.execute(f"SELECT {column} FROM {OWNER_TABLE}").fetchone()
    if recorded == query_id:
        return
    if recorded is not None:
        log.warning("O checkpoint %s recomeçou (nova consulta): os totais no banco também.",
                    visible(owner.checkpoint))
        conn.execute(f"TRUNCATE {', '.join(QUERY_TABLES[column])}")
        conn.execute(f"DELETE FROM {PROGRESS_TABLE} WHERE consulta = %s", (recorded,))
    conn.execute(f"UPDATE {OWNER_TABLE} SET {column} = %s", (query_id,))


def _write_batch(conn: psycopg.Connection, batch: BatchWrite, query_id: str,
                 owner: Owner | None, url: str) -> bool:
    totals, batch_id = batch.totals, batch.batch_id
    with conn.transaction():
        if owner is not None:
            _start_over_if_new(conn, owner, url, query_id, "consulta")
        if not _claim_batch(conn, query_id, batch_id):
            return False
        _upsert_products(conn, batch.touched_products(), batch_id)
        with conn.cursor() as cur:
            cur.executemany(_UPSERT_REJECTION, [
                (db_text(reason), n, batch_id) for reason, n in totals.rejeitadas.items()])
        conn.execute(
            _UPSERT_SUMMARY,
            (
                totals.pedidos,
                totals.quantidade_total,
                totals.valor_total,
                totals.valor_nao_atribuido,
                totals.total_produtos,
                totals.total_rejeitadas,
                totals.duplicadas,
                totals.mensagens_lidas,
                batch_id,
            ),
        )
        before = batch.before
        rejected = {db_text(reason): n - before.rejeitadas.get(reason, 0)
                    for reason, n in totals.rejeitadas.items()
                    if n != before.rejeitadas.get(reason, 0)}
        conn.execute(_INSERT_HISTORY, (
            query_id, batch_id, totals.mensagens_lidas - before.mensagens_lidas,
            totals.pedidos - before.pedidos, totals.duplicadas - before.duplicadas,
            sum(rejected.values()), Jsonb(rejected)))
        conn.execute(_PRUNE_HISTORY)
        conn.execute(_SET_PROGRESS, (batch_id, query_id))
    return True


def _write_windows(conn: psycopg.Connection, batch: WindowBatchWrite, query_id: str,
                   owner: Owner | None, url: str) -> bool:
    with conn.transaction():
        if owner is not None:
            _start_over_if_new(conn, owner, url, query_id, "consulta_janelas")
        if not _claim_batch(conn, query_id, batch.batch_id):
            return False
        with conn.cursor() as cur:
            cur.executemany(_UPSERT_WINDOW, [(*row, batch.batch_id) for row in batch.windows()])
        conn.execute(_BATCH_WINDOW_PRODUCTS)
        with conn.cursor().copy(
            "COPY lote_janelas (inicio, fim, produto, quantidade_total, valor_total) FROM STDIN"
        ) as copy:
            for start, end, product, quantity, value in batch.products():
                copy.write_row((start, end, db_text(product), quantity, value))
        conn.execute(_UPSERT_WINDOW_PRODUCTS, (batch.batch_id,))
        for prune in _PRUNE_WINDOWS:
            conn.execute(prune)
        conn.execute(_SET_PROGRESS, (batch.batch_id, query_id))
    return True


def _claim_batch(conn: psycopg.Connection, query_id: str, batch_id: int) -> bool:
    """Lock the query's progress row; False when `batch_id` was already written."""
    conn.execute(_CLAIM_PROGRESS, (query_id,))
    (last,) = conn.execute(_LOCK_PROGRESS, (query_id,)).fetchone()
    if batch_id <= last:
        log.info("Lote %d já estava no PostgreSQL (último gravado: %d); ignorado.", batch_id, last)
        return False
    return True


def _upsert_products(conn: psycopg.Connection, products: Iterable[ProductRow],
                     batch_id: int) -> None:
    """Upsert the touched products; rows whose totals did not change keep their batch."""
    conn.execute(_BATCH_PRODUCTS)
    with conn.cursor().copy(
        "COPY lote_produtos (produto, quantidade_total, valor_total) FROM STDIN"
    ) as copy:
        for row in _storable(products):
            copy.write_row(row)
    conn.execute(_UPSERT_PRODUCTS, (batch_id,))


def db_text(text: str) -> str:
    """`text` as PostgreSQL can store it: a text value cannot hold NUL (NUL_STAND_IN instead;
    product names already come so) nor lone surrogates (U+FFFD). Every other character is
    kept as sent."""
    if "\x00" in text:
        text = text.replace("\x00", NUL_STAND_IN)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
    return text


def _storable(products: Iterable[ProductRow]) -> list[ProductRow]:
    """Rows for the table; the rare names that db_text maps together are summed, so that a
    hostile name can never fail the batch (and with it every replay of it)."""
    merged: dict[str, tuple[int, Decimal | None]] = {}
    for produto, quantity, value in products:
        name = db_text(produto)
        if name in merged:
            old_quantity, old_value = merged[name]
            both = (
                None
                if old_value is None and value is None
                else (old_value or 0) + (value or 0)
            )
            merged[name] = (old_quantity + quantity, both)
        else:
            merged[name] = (quantity, value)
    return [(name, quantity, value) for name, (quantity, value) in merged.items()]
