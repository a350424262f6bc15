"""What the consumer accepts: the limits, the facts read from a message, and one ordered
table of rules. REASONS (the dead-letter `motivo` codes) and the checks both come from
RULES; the first rule whose condition holds gives the reason, so the table's order is the
order of evaluation (and of the README's reason table).

The facts are read with Spark's VARIANT type (vendas/pipeline/transforms.py builds them from
FACT_STAGES), so one pass tells "absent" from "malformed" and reads the canonical shape and
the originals' shapes. Every function on message content is a try_* form: under ANSI mode
one bad value must never fail the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from vendas import contract as c
from vendas.formatting import fmt_brl, fmt_int

MONEY = "decimal(38,2)"
# Unit prices: up to R$ 9.999.999.999,99.
PRICE = "decimal(12,2)"
MAX_PRICE = Decimal("9999999999.99")
# Quantities: 1 to MAX_QUANTITY. With PRICE, one item line is worth less than 10^16, so the
# running sums in MONEY (up to 10^36) cannot overflow before 10^20 lines, and the quantity
# sums (bigint) not before 9 * 10^12 lines: no input can make an aggregate overflow.
MAX_QUANTITY = 1_000_000
# An order's valor_total: up to R$ 9.999.999.999.999.999,99 (the same 10^16 bound), for
# the same reason (unattributed value is summed over orders).
MAX_ORDER_VALUE = Decimal("9999999999999999.99")
# A product name longer than this (in characters) is rejected: no real product has one,
# and it would make every later table absurdly wide.
MAX_NAME_LENGTH = 200
# ISO-8601 date-time, optionally with fraction and offset (no backslashes: they would be
# unescaped inside the SQL string literal).
ISO_DATE_TIME = (
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?)?"
    "(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$"
)
# valor: quantity x unit price. Within MAX_QUANTITY and MAX_PRICE a line is worth less than
# 10^16, so LINE_VALUE holds it exactly; it is 18 digits so that Spark keeps it in a long
# (Spark's int x PRICE type, decimal(23,2), is a BigDecimal and twice as wide in every row
# the de-duplication shuffles). Sums are cast to MONEY.
LINE_VALUE = "decimal(18,2)"
ITEM_TYPE = f"struct<produto:string,quantidade:int,valor:{LINE_VALUE}>"
BOM = "\ufeff"


def date_expr(text: str) -> str:
    """data_hora text -> timestamp in the session time zone (Brazilian or ISO), else null.

    Shared by both parse paths, so they read a date the same way."""
    # The Brazilian pattern is only tried on text shaped like it ("dd/..."): a failed
    # pattern parse costs an exception, which on every ISO date was most of the parse.
    return (
        f"CASE WHEN substr({text}, 3, 1) = '/' "
        f"THEN try_to_timestamp({text}, '{c.SPARK_BR_DATE_PATTERN}') "
        f"WHEN {text} RLIKE '{ISO_DATE_TIME}' THEN try_to_timestamp({text}) END"
    )


def _present(expr: str) -> str:
    """The field exists and is not JSON null."""
    return f"({expr} IS NOT NULL AND schema_of_variant({expr}) <> 'VOID')"


def _is_number(expr: str) -> str:
    schema = f"schema_of_variant({expr})"
    return f"({schema} IN ('BIGINT', 'DOUBLE', 'FLOAT') OR {schema} LIKE 'DECIMAL(%')"


def _is_quantity(expr: str) -> str:
    """A JSON integer between 1 and MAX_QUANTITY ("2", 2.5, true and 0 are not)."""
    return (
        f"(schema_of_variant({expr}) = 'BIGINT' "
        f"AND try_variant_get({expr}, '$', 'bigint') BETWEEN 1 AND {MAX_QUANTITY})"
    )


def _cents(expr: str, type_: str) -> str:
    """A numeric variant as money; null if it has fractions of a cent or does not fit."""
    exact = f"try_variant_get({expr}, '$', 'decimal(38,10)')"
    return (
        f"CASE WHEN {_is_number(expr)} "
        f"AND try_cast(try_cast({exact} AS {type_}) AS decimal(38,10)) = {exact} "
        f"THEN try_cast({exact} AS {type_}) END"
    )


def _rounded_cents(expr: str, type_: str) -> str:
    """A numeric variant rounded half up to the cent (a total summed in binary floating
    point, like 329.70000000000005, is still 329.70); null if it does not fit."""
    return (
        f"CASE WHEN {_is_number(expr)} "
        f"THEN try_cast(round(try_variant_get({expr}, '$', 'decimal(38,10)'), 2) AS {type_}) END"
    )


def _field(name: str) -> str:
    return f"_json:{name}"


def _price_in_map(entry: str) -> str:
    """An entry of the price map: the variant, or null when absent or JSON null."""
    return f"CASE WHEN {_present(entry)} THEN {entry} END"


# A Java function (jvm/src/vendas/SingleJsonValue.java): try_parse_json reads the first JSON
# value of a text and ignores what follows it ('{...} lixo' would parse).
SINGLE_JSON_VALUE = "vendas_um_valor_json"

# Canonical and seed A: a list of names; seed B: a list of item objects.
_NAMES_SHAPE = "forall(_list, e -> schema_of_variant(e) = 'STRING')"
_ITEMS_SHAPE = "forall(_list, e -> schema_of_variant(e) LIKE 'OBJECT<%')"
# A price map that is there but not an object (its entries cannot be read).
_BAD_PRICE_MAP = f"(_names_shape AND {_present('_prices_raw')} AND _prices IS NULL)"


# The facts the rules read, stage by stage (a stage may use the columns of earlier ones).
# Input columns: value (the Kafka bytes), _slow (true when the fast path could not vouch
# for the record: the facts are only computed then) and _text (value as a string, only
# where _slow).
FACT_STAGES: list[dict[str, str]] = [
    {
        # A leading byte-order mark is ignored (RFC 8259 allows it); the bytes stay as sent.
        "_body": f"CASE WHEN _slow THEN "
                 f"CASE WHEN startswith(_text, '{BOM}') THEN substr(_text, 2) ELSE _text END END",
    },
    # the Java function only where there is a body: it is no use to the fast path's records
    {"_json": f"CASE WHEN _body IS NOT NULL AND {SINGLE_JSON_VALUE}(_body) "
              "THEN try_parse_json(_body) END"},
    {
        "_id": _field(c.ID_ORDEM),
        "_list": f"try_variant_get(_json, '$.{c.PRODUTOS_COMPRADOS}', 'array<variant>')",
        "_list_raw": _field(c.PRODUTOS_COMPRADOS),
        "_qty": f"try_variant_get(_json, '$.{c.QUANTIDADE_POR_PRODUTO}', 'map<string,variant>')",
        "_prices_raw": _field(c.PRECO_UNITARIO_POR_PRODUTO),
        "_prices": f"try_variant_get(_json, '$.{c.PRECO_UNITARIO_POR_PRODUTO}', "
                   f"'map<string,variant>')",
        "_total": _field(c.VALOR_TOTAL),
        "_date": f"coalesce({_field(c.DATA_HORA)}, {_field(c.DATA_HORA_VENDA)})",
    },
    {
        # One stage: each stage with a lambda is evaluated outside Spark's generated code
        # and copies every row, the fast path's rows too.
        "_names_shape": _NAMES_SHAPE,
        "_items_shape": _ITEMS_SHAPE,
        "_names": "transform(_list, e -> try_variant_get(e, '$', 'string'))",
        "_total_cents": _rounded_cents("_total", MONEY),
        "data_hora": date_expr("try_variant_get(_date, '$', 'string')"),
        # One row per item line: name, quantity and unit price as variants (p null: absent),
        # and, read once for every rule that needs them, the quantity as an int and the
        # price in cents (null: not a quantity / not a price). A name in a list of names
        # reads its quantity and price in the maps; an item object carries its own. (A list
        # mixing both is rejected as produtos_invalidos before any rule reads the items.)
        "_items": f"""transform(transform(_list, e -> CASE WHEN schema_of_variant(e) = 'STRING' THEN
              named_struct('produto', try_variant_get(e, '$', 'string'),
                'q', try_element_at(_qty, try_variant_get(e, '$', 'string')),
                'p', {_price_in_map("try_element_at(_prices, try_variant_get(e, '$', 'string'))")})
            ELSE named_struct(
                'produto', CASE WHEN schema_of_variant(e:{c.NOME_PRODUTO}) = 'STRING'
                                THEN try_variant_get(e, '$.{c.NOME_PRODUTO}', 'string') END,
                'q', e:{c.QUANTIDADE},
                'p', CASE WHEN {_present(f'e:{c.PRECO_UNITARIO}')} THEN e:{c.PRECO_UNITARIO} END)
            END), i -> named_struct('produto', i.produto, 'q', i.q, 'p', i.p,
                'quantidade', try_variant_get(i.q, '$', 'int'),
                'preco', {_cents("i.p", PRICE)}))""",
        # The order carries unit prices: a price map (canonical) or a price on an item (seed
        # B today). Then every item must have one and the value per product is exact.
        "_priced": f"({_NAMES_SHAPE} AND {_present('_prices_raw')}) OR ({_ITEMS_SHAPE} AND "
                   f"exists(_list, e -> {_present(f'e:{c.PRECO_UNITARIO}')}))",
    },
]


@dataclass(frozen=True)
class Rule:
    reason: str  # the code in the dead-letter header `motivo`
    description: str  # Portuguese, for the README and logs
    condition: str  # Spark SQL over the facts: true means "rejected for this reason"


RULES: tuple[Rule, ...] = (
    Rule("mensagem_vazia", "mensagem sem valor (null ou vazia)",
         "value IS NULL OR length(value) = 0"),
    Rule("utf8_invalido", "bytes que não são UTF-8 válido", "NOT is_valid_utf8(_text)"),
    Rule("json_invalido",
         "texto que não é JSON válido (ou com chaves repetidas, NaN/Infinity, "
         "aninhamento profundo demais, algo depois do JSON)",
         "_json IS NULL"),
    Rule("nao_e_objeto", "JSON que não é um objeto",
         "NOT (TRIM(LEADING ' \t\r\n' FROM _body) LIKE '{%')"),
    Rule("id_ordem_ausente", "id_ordem ausente, nulo ou vazio",
         f"NOT {_present('_id')} OR (schema_of_variant(_id) = 'STRING' "
         f"AND trim(try_variant_get(_id, '$', 'string')) = '')"),
    Rule("id_ordem_invalido", "id_ordem que não é texto", "schema_of_variant(_id) <> 'STRING'"),
    Rule("produtos_ausentes", "lista de produtos ausente ou vazia",
         f"NOT {_present('_list_raw')} OR size(_list) = 0"),
    Rule("produtos_invalidos", "produtos_comprados não é uma lista de nomes nem de itens",
         "_list IS NULL OR NOT (_names_shape OR _items_shape)"),
    Rule("produto_sem_nome", "produto com nome vazio ou ausente",
         "exists(_items, i -> i.produto IS NULL OR trim(i.produto) = '')"),
    Rule("nome_produto_longo", f"nome de produto com mais de {MAX_NAME_LENGTH} caracteres",
         f"exists(_items, i -> length(i.produto) > {MAX_NAME_LENGTH})"),
    Rule("produto_repetido", "o mesmo produto duas vezes na lista de nomes",
         "_names_shape AND size(array_distinct(_names)) < size(_names)"),
    Rule("quantidade_ausente", "produto listado sem quantidade",
         "exists(_items, i -> i.q IS NULL)"),
    Rule("quantidade_invalida", f"quantidade que não é um inteiro de 1 a {fmt_int(MAX_QUANTITY)}",
         f"exists(_items, i -> NOT {_is_quantity('i.q')})"),
    Rule("quantidade_sem_produto", "quantidade para produto que não está na lista",
         "_names_shape AND size(_qty) > size(_names)"),
    Rule("preco_ausente", "item sem preço unitário quando outros itens do pedido têm",
         f"_priced AND NOT {_BAD_PRICE_MAP} AND exists(_items, i -> i.p IS NULL)"),
    Rule("preco_invalido",
         f"preço que não é um número com até 2 casas decimais, até {fmt_brl(MAX_PRICE)}",
         f"_priced AND ({_BAD_PRICE_MAP} OR exists(_items, i -> i.preco IS NULL))"),
    Rule("preco_negativo", "preço unitário negativo",
         "_priced AND exists(_items, i -> i.preco < 0)"),
    Rule("valor_total_ausente", "valor_total ausente (obrigatório se os itens não trazem preço)",
         f"NOT {_present('_total')} AND NOT (_items_shape AND _priced)"),
    Rule("valor_total_invalido",
         f"valor_total que não é um número de 0 a {fmt_brl(MAX_ORDER_VALUE)}",
         f"{_present('_total')} AND (_total_cents IS NULL OR _total_cents < 0 "
         f"OR _total_cents > {MAX_ORDER_VALUE})"),
    Rule("valor_total_inconsistente", "valor_total diferente da soma de quantidade x preço",
         f"_priced AND {_present('_total')} AND aggregate(_items, CAST(0 AS {MONEY}), "
         "(acc, i) -> acc + i.quantidade * i.preco) <> _total_cents"),
    Rule("data_ausente", "data_hora ausente", f"NOT {_present('_date')}"),
    Rule("data_invalida", "data_hora ilegível ou impossível", "data_hora IS NULL"),
)

REASONS: dict[str, str] = {rule.reason: rule.description for rule in RULES}
assert len(REASONS) == len(RULES), "a reason code is written twice in RULES"


def reason_expr() -> str:
    """The first rule that holds, as one CASE expression (null: the message is valid)."""
    branches = "\n".join(f"WHEN {rule.condition} THEN '{rule.reason}'" for rule in RULES)
    return f"CASE {branches} END"
