"""Database URLs in logs and messages (never the password) and names as PostgreSQL stores them."""

from __future__ import annotations

from vendas.outputs.postgres import db_text, describe, mask_url

SECRET = "segredo"


def test_urls_are_shown_without_the_password():
    assert (
        mask_url(f"postgresql://vendas:{SECRET}@db.exemplo.com:5432/vendas?sslmode=require")
        == "postgresql://vendas:***@db.exemplo.com:5432/vendas?sslmode=require"
    )
    assert (mask_url(f"postgresql://vendas@db/vendas?password={SECRET}&sslmode=require")
            == "postgresql://vendas@db/vendas?password=***&sslmode=require")
    key_value = mask_url(f"host=db user=vendas password={SECRET} dbname=vendas")
    assert "password=***" in key_value and SECRET not in key_value
    assert describe(f"postgresql://vendas:{SECRET}@db.exemplo.com:5432/vendas") == (
        "vendas@db.exemplo.com:5432/vendas")
    assert describe(f"host=db user=vendas password={SECRET}") == "vendas@db:5432/vendas"
    # no scheme: libpq cannot read it, and its error would quote it, password included
    assert mask_url(f"vendas:{SECRET}@localhost") == "(URL inválida)"
    assert describe(f"vendas:{SECRET}@localhost") == "(URL inválida)"


def test_names_as_postgresql_can_store_them():
    assert db_text("a\x00b") == "a\u2400b"  # a text value cannot hold NUL
    assert db_text("\ud800solto") == "\ufffdsolto"  # nor a lone surrogate
    kept = "emoji 🛒 \x1b[2J **x** '; --"
    assert db_text(kept) == kept  # every other character as sent
