"""The session's start-up helpers, in the tests' own session."""

from __future__ import annotations

import logging

import pytest

from vendas.pipeline.transforms import sql_texts
from vendas.spark.session import _warm_sql_parser


@pytest.mark.parametrize("jvm", [True, False], ids=["caminho-java", "caminho-sql"])
def test_the_rules_warm_the_sql_parser_without_error(spark, caplog, jvm):
    caplog.set_level(logging.DEBUG, logger="vendas.spark.session")
    thread = _warm_sql_parser(sql_texts(jvm))
    thread.join(120)
    assert not thread.is_alive()
    assert [r.getMessage() for r in caplog.records] == []


def test_a_failed_warm_up_is_only_logged(spark, caplog):
    caplog.set_level(logging.DEBUG, logger="vendas.spark.session")
    thread = _warm_sql_parser(["1 + (", "CASE WHEN"])
    thread.join(120)
    assert not thread.is_alive()
    [record] = caplog.records
    assert record.levelno == logging.DEBUG
    assert record.getMessage().startswith("Aquecimento do analisador SQL interrompido: ")
