"""The SQL fast path: a typed parse that vouches for canonical orders without VARIANT.

The consumer uses it where the Java fast path (vendas/pipeline/java_fast_path.py, same verdicts,
cheaper) cannot be built, for want of a JDK.

`from_json` with a fixed schema is several times cheaper than the VARIANT facts of
vendas/pipeline/rules.py, but it is lax: it keeps the last of two duplicate keys, ignores unknown
fields, nulls a malformed field, rounds 89.905 to 89.91 and reads "89.90" as a number. So
the fast path only ever says "valid, with these items", and only when it can prove that
the VARIANT path would say the same:

- the round trip: `to_json` of the typed parse gives back the message text byte for byte.
  Then the text is exactly the canonical document the parse describes: the canonical
  fields in the producer's order and nothing else, no duplicate key (a merged key would
  be written once), no null, no whitespace, numbers as the typed values print them (so a
  quantity is an integer and a price has exactly two decimals), strings with the same
  escapes, and valid UTF-8 (the parse reads invalid bytes as U+FFFD, which to_json writes
  as such). Anything else (our producer's own output always matches) goes to the VARIANT
  path, which gives the verdict;
- then the same checks the rules make, on typed columns: both maps have exactly the listed
  names as keys in the list's order (so the names are distinct), quantities 1..MAX_QUANTITY,
  prices not negative, names neither blank nor too long, id not blank, total within its
  limit and equal to the sum of quantity x price, a readable date (the same expression).

No check calls a lambda per item: Spark evaluates higher-order functions outside its
generated code, and over every item of every record they cost more than the parse itself
(and far more in a cold JVM). The per-item checks are written out for the first
MAX_FAST_ITEMS positions instead; a longer order is not vouched for, and the VARIANT path
gives its verdict. (The projection stays outside whole-stage code all the same: from_json
and array_compact are evaluated that way, and one whole-stage method holding every check
measured slower than the split projection.)

tests/test_parse_paths.py checks that both paths give the same rows on every message.
"""

from __future__ import annotations

from collections.abc import Callable

from vendas import contract as c
from vendas.pipeline.rules import (
    LINE_VALUE,
    MAX_NAME_LENGTH,
    MAX_ORDER_VALUE,
    MAX_QUANTITY,
    MONEY,
    PRICE,
    date_expr,
)

# Every canonical field, in the order the producer writes them (vendas/producer/orders.py).
FAST_SCHEMA = ", ".join([
    f"{c.ID_ORDEM} string",
    f"{c.CPF_CLIENTE} string",
    f"{c.PRODUTOS_COMPRADOS} array<string>",
    f"{c.QUANTIDADE_POR_PRODUTO} map<string,int>",
    f"{c.PRECO_UNITARIO_POR_PRODUTO} map<string,{PRICE}>",
    f"{c.VALOR_TOTAL} {MONEY}",
    f"{c.DATA_HORA} string",
])


# Orders with up to this many items are checked item by item without a lambda: the
# producer's largest order (vendas.generator.MAX_PRODUCTS_PER_ORDER), and no more, since
# every position written out is code each record runs; longer ones go to the VARIANT path.
MAX_FAST_ITEMS = 5


def _every_item(names: str, check: Callable[[int], str]) -> str:
    """check(i) holds for every position i < size(names), written out (no lambda). Past
    the end nothing is checked; null fails."""
    return " AND ".join(f"(size({names}) <= {i} OR {check(i)})" for i in range(MAX_FAST_ITEMS))


def fast_item_fields(parsed: str) -> dict[str, str]:
    """The valid order's items, field by field (produto, quantidade, valor): arrays that
    transforms.parse_orders zips into the item type (SQL's arrays_zip cannot name them)."""
    return {"produto": f"{parsed}.{c.PRODUTOS_COMPRADOS}", "quantidade": "_fast_q",
            "valor": "_fast_lines"}


def fast_stages(parsed: str, text: str) -> list[dict[str, str]]:
    """SQL stages over the typed struct `parsed` (from_json of the message `text`):
    _fast (vouched valid) and the valid order's id and date (its items: fast_item_fields)."""
    names = f"{parsed}.{c.PRODUTOS_COMPRADOS}"
    total = f"{parsed}.{c.VALOR_TOTAL}"
    # try_cast: null (not vouched) when out of bounds, before the checks below say so
    lines = ", ".join(f"try_cast(get(_fast_q, {i}) * get(_fast_p, {i}) AS {LINE_VALUE})"
                      for i in range(MAX_FAST_ITEMS))
    return [
        {
            "_fast_q": f"map_values({parsed}.{c.QUANTIDADE_POR_PRODUTO})",
            "_fast_p": f"map_values({parsed}.{c.PRECO_UNITARIO_POR_PRODUTO})",
            "_fast_date": date_expr(f"{parsed}.{c.DATA_HORA}"),
        },
        # each line's value, computed once for the check and the items (greatest: a null
        # list has no size, and slice fails on a negative length)
        {"_fast_lines": f"slice(array({lines}), 1, greatest(size({names}), 0))"},
        {
            "_fast": f"""coalesce(to_json({parsed}) = {text}
                AND size({names}) BETWEEN 1 AND {MAX_FAST_ITEMS}
                AND trim({parsed}.{c.ID_ORDEM}) <> ''
                AND map_keys({parsed}.{c.QUANTIDADE_POR_PRODUTO}) = {names}
                AND map_keys({parsed}.{c.PRECO_UNITARIO_POR_PRODUTO}) = {names}
                AND {_every_item(names, lambda i: f"trim(get({names}, {i})) <> '' "
                                 f"AND length(get({names}, {i})) <= {MAX_NAME_LENGTH}")}
                AND array_min(_fast_q) >= 1 AND array_max(_fast_q) <= {MAX_QUANTITY}
                AND array_min(_fast_p) >= 0
                AND size(array_compact(_fast_lines)) = size({names})
                AND {total} <= {MAX_ORDER_VALUE}
                AND {" + ".join(f"coalesce(get(_fast_lines, {i}), 0)"
                                for i in range(MAX_FAST_ITEMS))} = {total}
                AND _fast_date IS NOT NULL, false)""",
            "_fast_id": f"{parsed}.{c.ID_ORDEM}",
        },
    ]


def sql_texts(parsed: str, text: str) -> list[str]:
    """Every SQL expression of the fast path (to warm Spark's parser with)."""
    return [*(e for stage in fast_stages(parsed, text) for e in stage.values()),
            *fast_item_fields(parsed).values()]
