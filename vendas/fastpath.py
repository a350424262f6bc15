"""The fast path: a typed parse that vouches for canonical orders without VARIANT.

`from_json` with a fixed schema is several times cheaper than the VARIANT facts of
vendas/rules.py, but it is lax: it keeps the last of two duplicate keys, ignores unknown
fields, nulls a malformed field, rounds 89.905 to 89.91 and reads "89.90" as a number. So
the fast path only ever says "valid, with these items", and only when it can prove that
the VARIANT path would say the same:

- the round trip: `to_json` of the typed parse gives back the message text byte for byte.
  Then the text is exactly the canonical document the parse describes: the canonical
  fields in the producer's order and nothing else, no duplicate key (a merged key would
  be written once), no null, no whitespace, numbers as the typed values print them (so a
  quantity is an integer and a price has exactly two decimals), strings with the same
  escapes. Anything else (our producer's own output always matches) goes to the VARIANT
  path, which gives the verdict;
- then the same checks the rules make, on typed columns: both maps have exactly the listed
  names as keys in the list's order (so the names are distinct), quantities 1..MAX_QUANTITY,
  prices not negative, names neither blank nor too long, id not blank, total within its
  limit and equal to the sum of quantity x price, a readable date (the same expression).

tests/test_parse_paths.py checks that both paths give the same rows on every message.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from vendas import contract as c
from vendas.rules import MAX_NAME_LENGTH, MAX_ORDER_VALUE, MAX_QUANTITY, MONEY, PRICE, date_expr

# Every canonical field, in the order the producer writes them (vendas/orders.py).
FAST_SCHEMA = ", ".join([
    f"{c.ID_ORDEM} string",
    f"{c.CPF_CLIENTE} string",
    f"{c.PRODUTOS_COMPRADOS} array<string>",
    f"{c.QUANTIDADE_POR_PRODUTO} map<string,int>",
    f"{c.PRECO_UNITARIO_POR_PRODUTO} map<string,{PRICE}>",
    f"{c.VALOR_TOTAL} {MONEY}",
    f"{c.DATA_HORA} string",
])


def candidate(value: str = "value", text: str = "_text") -> str:
    """Cheap checks before the typed parse: bytes there and valid UTF-8."""
    return f"{value} IS NOT NULL AND is_valid_utf8({text})"


def fast_stages(parsed: str, text: str = "_text") -> list[dict[str, str | Column]]:
    """SQL stages over the typed struct `parsed` (null when not a candidate):
    _fast (vouched valid) and the valid order's id, items and date."""
    names = f"{parsed}.{c.PRODUTOS_COMPRADOS}"
    quantities = f"map_values({parsed}.{c.QUANTIDADE_POR_PRODUTO})"
    prices = f"map_values({parsed}.{c.PRECO_UNITARIO_POR_PRODUTO})"
    total = f"{parsed}.{c.VALOR_TOTAL}"
    lines = f"zip_with({quantities}, {prices}, (q, p) -> q * p)"
    date = date_expr(f"{parsed}.{c.DATA_HORA}")
    # One projection: each one with a lambda is evaluated outside Spark's generated code
    # and copies every row, so the whole check is one stage.
    return [
        {
            "_fast": f"""coalesce(to_json({parsed}) = {text}
                AND trim({parsed}.{c.ID_ORDEM}) <> ''
                AND map_keys({parsed}.{c.QUANTIDADE_POR_PRODUTO}) = {names}
                AND map_keys({parsed}.{c.PRECO_UNITARIO_POR_PRODUTO}) = {names}
                AND size({names}) > 0
                AND forall({names}, n -> trim(n) <> '' AND length(n) <= {MAX_NAME_LENGTH})
                AND array_min({quantities}) >= 1 AND array_max({quantities}) <= {MAX_QUANTITY}
                AND array_min({prices}) >= 0
                AND {total} <= {MAX_ORDER_VALUE}
                AND aggregate({lines}, CAST(0 AS {MONEY}), (acc, v) -> acc + v) = {total}
                AND {date} IS NOT NULL, false)""",
            "_fast_id": f"{parsed}.{c.ID_ORDEM}",
            # named so that it needs no cast to the slow path's item type
            "_fast_items": F.arrays_zip(F.expr(names).alias("produto"),
                                        F.expr(quantities).alias("quantidade"),
                                        F.expr(lines).alias("valor")),
            "_fast_date": date,
        },
    ]
