"""Seeded databases for the dashboard tests, written through the consumer's own write path.

Each batch goes through `TotalsStore.write` (totals, rejections, summary and its history row,
fenced by batch id) and `HistoryRecorder` (Spark's figures for it), as the consumer writes
them; only the times are moved back afterwards (plain UPDATEs), so that an hour of history
is seeded in a second. Windows go through `TotalsStore.write_windows`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import psycopg

from vendas.consumer.figures import BatchFigures
from vendas.outputs.postgres import (
    BatchWrite,
    HistoryRecorder,
    TotalsStore,
    WindowBatchWrite,
    ensure_schema,
)
from vendas.pipeline.totals import ProductTotal, Totals, rank
from vendas.producer.catalog import PRODUCTS

QUERY_ID = "painel-teste"
WINDOWS_QUERY_ID = "painel-janelas"
TOPIC = "vendas-ecommerce"
REJECTED = {"json_invalido": 12, "produtos_ausentes": 5, "valor_total_inconsistente": 3}
DUPLICATES = 40
UNATTRIBUTED = Decimal("5230.00")
NO_PRICE = "Teclado (pedido sem preço)"


@dataclass(frozen=True)
class Figures:
    """What Spark would report for one batch."""

    taxa_entrada: float
    taxa_processamento: float
    duracao_ms: int
    atraso: tuple[int, int]  # messages behind on partitions 0 and 1


FiguresFor = Callable[[int, int], Figures]  # (batch index from 0, number of batches)


def _steady(k: int) -> Figures:
    rng = random.Random(k)
    duration = 6000 if k == 0 else rng.randint(800, 1400)  # the first batch: a cold JVM
    return Figures(rng.uniform(180, 220), rng.uniform(820, 980), duration,
                   (rng.randint(0, 40), rng.randint(0, 40)))


def normal_figures(k: int, n: int) -> Figures:
    """A consumer keeping up with about 200 orders/s; the last batch has round numbers:
    9 messages behind at 900/s (~0,01 s)."""
    return Figures(200.0, 900.0, 1250, (4, 5)) if k == n - 1 else _steady(k)


GROWING_LAG = (2000, 4000, 8000, 12000, 18000)


def behind_figures(k: int, n: int) -> Figures:
    """Keeping up, then over the last five batches a backlog that grows to 18.000 messages
    while the consumer processes 150/s: 2 min behind."""
    i = k - (n - len(GROWING_LAG))
    if i < 0:
        return _steady(k)
    lag = GROWING_LAG[i]
    return Figures(400.0, 150.0, 4000, (lag // 2, lag - lag // 2))


def product_totals(products: list[ProductTotal], orders: int,
                   rejected: dict[str, int] | None = None, duplicates: int = DUPLICATES,
                   unread: int = 0) -> Totals:
    """Totals over `products` whose counts balance: messages read = orders + duplicates +
    rejected (+ `unread`: messages read that nothing accounts for)."""
    rejected = dict(REJECTED if rejected is None else rejected)
    products = sorted(products, key=rank)
    return Totals(
        produtos=products,
        total_produtos=len(products),
        quantidade_total=sum(p.quantidade_total for p in products),
        valor_total=sum((p.valor_total or Decimal(0) for p in products), Decimal("0.00")),
        pedidos=orders,
        valor_nao_atribuido=UNATTRIBUTED,
        rejeitadas=rejected,
        duplicadas=duplicates,
        mensagens_lidas=orders + duplicates + sum(rejected.values()) + unread,
    )


def seeded_totals(seed: int = 7, extra: list[ProductTotal] = (), unread: int = 0) -> Totals:
    """Every catalog product sold a few times, one product without a price, rejections."""
    rng = random.Random(seed)
    products = [ProductTotal(p.name, q, q * p.price)
                for p in PRODUCTS for q in [rng.randint(5, 120)]]
    products.append(ProductTotal(NO_PRICE, 9, None))
    products.extend(extra)
    return product_totals(products, sum(p.quantidade_total for p in products) // 2,
                          unread=unread)


def partial(totals: Totals, k: int, n: int) -> Totals:
    """The totals after batch k of n, growing to `totals` at the last one."""
    if k == n - 1:
        return totals

    def part(x: int) -> int:
        return x * (k + 1) // n

    products = []
    for p in totals.produtos:
        quantity = part(p.quantidade_total)
        if quantity:
            price = None if p.valor_total is None else p.valor_total / p.quantidade_total
            products.append(ProductTotal(p.produto, quantity,
                                         None if price is None else quantity * price))
    rejected = {reason: n_reason * (k + 1) // n for reason, n_reason in totals.rejeitadas.items()}
    after = product_totals(products, part(totals.pedidos), rejected, part(totals.duplicadas))
    return replace(after, valor_nao_atribuido=(totals.valor_nao_atribuido * (k + 1) / n)
                   .quantize(Decimal("0.01")))


def write_batch(url: str, batch_id: int, before: Totals, after: Totals,
                figures: Figures | None, store: TotalsStore | None = None,
                recorder: HistoryRecorder | None = None) -> None:
    """One batch as the consumer writes it: totals, summary and history row, then Spark's
    figures for it (through `store` and `recorder` when given, else through new ones)."""
    own_store, own_recorder = store is None, recorder is None
    store = store or TotalsStore(url).open()
    recorder = recorder or HistoryRecorder(url)
    rows = [(p.produto, p.quantidade_total, p.valor_total) for p in after.produtos]
    try:
        assert store.write(BatchWrite(batch_id, before, after, lambda: rows), QUERY_ID)
        if figures is not None:
            recorder(BatchFigures(
                QUERY_ID, batch_id, after.mensagens_lidas - before.mensagens_lidas,
                figures.duracao_ms, figures.taxa_entrada, figures.taxa_processamento,
                {f"{TOPIC}/0": figures.atraso[0], f"{TOPIC}/1": figures.atraso[1]}))
    finally:
        if own_store:
            store.close()
        if own_recorder:
            recorder.close()


def seed_dashboard(url: str, totals: Totals | None = None, *, batches: int = 60,
                   every_s: float = 55.0, last_ago_s: float = 5.0,
                   figures: FiguresFor | None = normal_figures, windows: bool = True) -> Totals:
    """`batches` batches ending in `totals`, one every `every_s` seconds, the last one
    `last_ago_s` ago; windows of 5 minutes over the last 3 hours unless `windows` is False.
    Returns the final totals."""
    totals = totals or seeded_totals()
    before = Totals()
    store, recorder = TotalsStore(url).open(), HistoryRecorder(url)
    try:
        for k in range(batches):
            after = partial(totals, k, batches)
            write_batch(url, k, before, after, None if figures is None else figures(k, batches),
                        store, recorder)
            before = after
    finally:
        store.close()
        recorder.close()
    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE historico_lotes SET gravado_em = now() - make_interval(secs => %s + "
            "(%s - 1 - lote) * %s)", (last_ago_s, batches, every_s))
        for table in ("resumo_vendas", "totais_por_produto", "rejeicoes_por_motivo"):
            conn.execute(f"UPDATE {table} SET atualizado_em = now() - make_interval(secs => %s)",
                         (last_ago_s,))
    if windows:
        seed_windows(url)
    return totals


def window_rows(now: datetime | None = None, hours: int = 3, minutes: int = 5) -> list[tuple]:
    """Windows of `minutes` over the last `hours`: (start, end, orders, quantity, value)."""
    now = now or datetime.now(timezone.utc)
    step = timedelta(minutes=minutes)
    newest = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % minutes)
    rows, rng = [], random.Random(minutes)
    for i in range(hours * 60 // minutes):
        start = newest - (hours * 60 // minutes - 1 - i) * step
        orders = round(60 + 25 * math.sin(i / 4) + rng.randint(-6, 6))
        rows.append((start, start + step, orders, orders * 2, orders * Decimal("187.35")))
    return rows


def seed_windows(url: str, rows: list[tuple] | None = None) -> list[tuple]:
    rows = window_rows() if rows is None else rows
    store = TotalsStore(url).open()
    try:
        assert store.write_windows(WindowBatchWrite(0, lambda: rows, list),
                                   WINDOWS_QUERY_ID)
    finally:
        store.close()
    return rows


def empty_tables(url: str) -> None:
    """The consumer's tables, created but not written yet."""
    with psycopg.connect(url) as conn:
        ensure_schema(conn)


def million_products(url: str, n: int = 1_000_000) -> None:
    """`n` products in totais_por_produto, names like 'Mouse modelo 123' over eight words
    (one in fifty without a known value), filled by the server itself; the indexes built
    after the rows, as CREATE INDEX does fastest."""
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_schema(conn)
        for index in ("por_valor", "por_quantidade", "por_nome"):
            conn.execute(f"DROP INDEX totais_por_produto_{index}")
        conn.execute(
            """
            INSERT INTO totais_por_produto (produto, quantidade_total, valor_total,
                                            atualizado_em, lote)
            SELECT (ARRAY['Mouse', 'Teclado', 'Cabo', 'Monitor', 'Fone', 'Café', 'Camiseta',
                          'Tênis'])[1 + i %% 8] || ' modelo ' || i,
                   1 + (i * 7919) %% 5000,
                   CASE WHEN i %% 50 = 0 THEN NULL ELSE ((i * 104729) %% 10000000) / 100.0 END,
                   now(), 1
            FROM generate_series(1::bigint, %s) AS i
            """,
            (n,),
        )
        ensure_schema(conn)  # the indexes again
        conn.execute("ANALYZE totais_por_produto")
