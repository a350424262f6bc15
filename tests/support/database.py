"""Test-side reading of the PostgreSQL totals, and the totals a topic must give."""

from __future__ import annotations

import json
from decimal import Decimal

import psycopg

from tests.support.corpus import expected_totals
from tests.support.kafka_io import read_topic
from vendas.outputs.postgres import PRODUCTS_TABLE


def table(url: str) -> dict[str, tuple[int, Decimal | None, int]]:
    """The products table: produto -> (quantidade_total, valor_total, lote)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            f"SELECT produto, quantidade_total, valor_total, lote FROM {PRODUCTS_TABLE}"
        )
        return {name: (q, v, lote) for name, q, v, lote in rows}


def table_totals(url: str) -> dict[str, tuple[int, Decimal | None]]:
    return {name: (q, v) for name, (q, v, _) in table(url).items()}


def progress(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT consulta, ultimo_lote FROM progresso_consultas"))


def summary(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT pedidos, mensagens_rejeitadas FROM resumo_vendas").fetchone()


def has_tables(url: str) -> bool:
    """Whether the consumer has created its tables yet."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT to_regclass('progresso_consultas') IS NOT NULL").fetchone()[0]


def expected_from_topic(bootstrap: str, topic: str) -> dict[str, tuple[int, Decimal | None]]:
    """The test's own reading of the topic: every message decoded with exact decimals."""
    messages = [json.loads(r.value, parse_float=Decimal) for r in read_topic(bootstrap, topic)]
    return expected_totals(messages)
