"""What the consumer accepts: the limits, the facts read from a message, and one ordered
table of rules. REASONS (the dead-letter `motivo` codes) and the checks both come from
RULES; the first rule whose condition holds gives the reason, so the table's order is the
order of evaluation (and of the README's reason table).

The facts are read with Spark's VARIANT type (vendas/pipeline/transforms.py builds them from
fact_stages()), so one pass tells "absent" from "malformed" and reads the canonical shape and
the originals' shapes. Every function on message content is a try_* form: under ANSI mode
one bad value must never fail the query.

Facts and conditions are Column expressions, not SQL text, and types are DataTypes, not
type names (`try_cast(LongType())`, not `try_variant_get(v, '$', 'bigint')`: a variant cast
is the same conversion): Spark's SQL parser, cold, spent a measurable part of every consumer
start reading them (docs/desempenho.md). The one name left is `_field`'s "variant": PySpark's
variant_get takes only a name. They are built when called, since a Column needs a running
session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.functions import col
from pyspark.sql.types import (
    ArrayType,
    DecimalType,
    IntegerType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    VariantType,
)

from vendas import contract as c
from vendas.formatting import fmt_brl, fmt_int

MONEY = DecimalType(38, 2)
# Unit prices: up to R$ 9.999.999.999,99.
PRICE = DecimalType(12, 2)
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
# ISO-8601 date-time, optionally with fraction and offset.
ISO_DATE_TIME = (
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?)?"
    "(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$"
)
# valor: quantity x unit price. Within MAX_QUANTITY and MAX_PRICE a line is worth less than
# 10^16, so LINE_VALUE holds it exactly; it is 18 digits so that Spark keeps it in a long
# (Spark's int x PRICE type, decimal(23,2), is a BigDecimal and twice as wide in every row
# the de-duplication shuffles). Sums are cast to MONEY.
LINE_VALUE = DecimalType(18, 2)
ITEM_TYPE = StructType([
    StructField("produto", StringType()),
    StructField("quantidade", IntegerType()),
    StructField("valor", LINE_VALUE),
])
# Amounts are read in this type before they are checked against a type's range and cents.
_EXACT = DecimalType(38, 10)
_VARIANT_MAP = MapType(StringType(), VariantType())
BOM = "\ufeff"
# What a message may have before its JSON value (RFC 8259's whitespace).
_JSON_WHITESPACE = " \t\r\n"


def date_expr(text: Column) -> Column:
    """data_hora text -> timestamp in the session time zone (Brazilian or ISO), else null.

    Shared by both parse paths, so they read a date the same way."""
    # The Brazilian pattern is only tried on text shaped like it ("dd/..."): a failed
    # pattern parse costs an exception, which on every ISO date was most of the parse.
    return (F.when(F.substring(text, 3, 1) == "/",
                   F.try_to_timestamp(text, F.lit(c.SPARK_BR_DATE_PATTERN)))
            .when(text.rlike(ISO_DATE_TIME), F.try_to_timestamp(text)))


def _present(value: Column) -> Column:
    """The field exists and is not JSON null."""
    return value.isNotNull() & (F.schema_of_variant(value) != "VOID")


def _is_number(value: Column) -> Column:
    schema = F.schema_of_variant(value)
    return schema.isin("BIGINT", "DOUBLE", "FLOAT") | schema.startswith("DECIMAL(")


def _is_quantity(value: Column) -> Column:
    """A JSON integer between 1 and MAX_QUANTITY ("2", 2.5, true and 0 are not)."""
    return ((F.schema_of_variant(value) == "BIGINT")
            & value.try_cast(LongType()).between(1, MAX_QUANTITY))


def _cents(value: Column, type_: DecimalType) -> Column:
    """A numeric variant as money; null if it has fractions of a cent or does not fit."""
    exact = value.try_cast(_EXACT)
    fitted = exact.try_cast(type_)
    return F.when(_is_number(value) & (fitted.try_cast(_EXACT) == exact), fitted)


def _rounded_cents(value: Column, type_: DecimalType) -> Column:
    """A numeric variant rounded half up to the cent (a total summed in binary floating
    point, like 329.70000000000005, is still 329.70); null if it does not fit."""
    return F.when(_is_number(value),
                  F.round(value.try_cast(_EXACT), 2).try_cast(type_))


def _field(value: Column | str, name: str) -> Column:
    """A field of a JSON object (variant), null when absent: SQL's `value:name`."""
    return F.variant_get(value, f"$.{name}", "variant")


def variant_text(value: Column) -> Column:
    """A variant as text: a string's characters, any other value's JSON text (JSON null:
    null). Where only a string will do, the caller checks schema_of_variant first."""
    return value.try_cast(StringType())


def _when_present(value: Column) -> Column:
    """The variant, or null when absent or JSON null."""
    return F.when(_present(value), value)


# A Java function (jvm/src/vendas/SingleJsonValue.java): try_parse_json reads the first JSON
# value of a text and ignores what follows it ('{...} lixo' would parse).
SINGLE_JSON_VALUE = "vendas_um_valor_json"


# Canonical and seed A: a list of names; seed B: a list of item objects.
def _names_shape() -> Column:
    return F.forall("_list", lambda e: F.schema_of_variant(e) == "STRING")


def _items_shape() -> Column:
    return F.forall("_list", lambda e: F.schema_of_variant(e).startswith("OBJECT<"))


def _bad_price_map() -> Column:
    """A price map that is there but not an object (its entries cannot be read)."""
    return col("_names_shape") & _present(col("_prices_raw")) & col("_prices").isNull()


def _item_line(e: Column) -> Column:
    """One entry of the product list as (produto, q, p): the name and the quantity and unit
    price as variants (p null: absent). A name reads its quantity and price in the maps; an
    item object carries its own."""
    name = variant_text(e)
    listed = F.struct(
        name.alias("produto"),
        F.try_element_at("_qty", name).alias("q"),
        _when_present(F.try_element_at("_prices", name)).alias("p"))
    item_name = _field(e, c.NOME_PRODUTO)
    item = F.struct(
        F.when(F.schema_of_variant(item_name) == "STRING", variant_text(item_name))
        .alias("produto"),
        _field(e, c.QUANTIDADE).alias("q"),
        _when_present(_field(e, c.PRECO_UNITARIO)).alias("p"))
    return F.when(F.schema_of_variant(e) == "STRING", listed).otherwise(item)


def fact_stages() -> list[dict[str, Column]]:
    """The facts the rules read, stage by stage (a stage may use the columns of earlier
    ones). Input columns: value (the Kafka bytes), _slow (true when the fast path could not
    vouch for the record: the facts are only computed then) and _text (value as a string,
    only where _slow)."""
    json = col("_json")
    return [
        # A leading byte-order mark is ignored (RFC 8259 allows it); the bytes stay as sent.
        {"_body": F.when(col("_slow"), F.when(F.startswith("_text", F.lit(BOM)),
                                              F.substr("_text", F.lit(2)))
                         .otherwise(col("_text")))},
        # the Java function only where there is a body: it is no use to the fast path's records
        {"_json": F.when(col("_body").isNotNull()
                         & F.call_function(SINGLE_JSON_VALUE, col("_body")),
                         F.try_parse_json("_body"))},
        {
            "_id": _field(json, c.ID_ORDEM),
            "_list": _field(json, c.PRODUTOS_COMPRADOS).try_cast(ArrayType(VariantType())),
            "_list_raw": _field(json, c.PRODUTOS_COMPRADOS),
            "_qty": _field(json, c.QUANTIDADE_POR_PRODUTO).try_cast(_VARIANT_MAP),
            "_prices_raw": _field(json, c.PRECO_UNITARIO_POR_PRODUTO),
            "_prices": _field(json, c.PRECO_UNITARIO_POR_PRODUTO).try_cast(_VARIANT_MAP),
            "_total": _field(json, c.VALOR_TOTAL),
            "_date": F.coalesce(_field(json, c.DATA_HORA), _field(json, c.DATA_HORA_VENDA)),
        },
        {
            # One stage: each stage with a lambda is evaluated outside Spark's generated code
            # and copies every row, the fast path's rows too.
            "_names_shape": _names_shape(),
            "_items_shape": _items_shape(),
            "_names": F.transform("_list", variant_text),
            "_total_cents": _rounded_cents(col("_total"), MONEY),
            "data_hora": date_expr(variant_text(col("_date"))),
            # One row per item line, and, read once for every rule that needs them, the
            # quantity as an int and the price in cents (null: not a quantity / not a
            # price). (A list mixing names and objects is rejected as produtos_invalidos
            # before any rule reads the items.)
            "_items": F.transform(F.transform("_list", _item_line), lambda i: F.struct(
                i["produto"].alias("produto"), i["q"].alias("q"), i["p"].alias("p"),
                i["q"].try_cast(IntegerType()).alias("quantidade"),
                _cents(i["p"], PRICE).alias("preco"))),
            # The order carries unit prices: a price map (canonical) or a price on an item
            # (seed B today). Then every item must have one and the value per product is
            # exact.
            "_priced": ((_names_shape() & _present(col("_prices_raw")))
                        | (_items_shape() & F.exists(
                            "_list", lambda e: _present(_field(e, c.PRECO_UNITARIO))))),
        },
    ]


def _any_item(condition: Callable[[Column], Column]) -> Column:
    return F.exists("_items", condition)


@dataclass(frozen=True)
class Rule:
    reason: str  # the code in the dead-letter header `motivo`
    description: str  # Portuguese, for the README and logs
    # over the facts (fact_stages): true means "rejected for this reason"
    condition: Callable[[], Column]


RULES: tuple[Rule, ...] = (
    Rule("mensagem_vazia", "mensagem sem valor (null ou vazia)",
         lambda: col("value").isNull() | (F.length("value") == 0)),
    Rule("utf8_invalido", "bytes que não são UTF-8 válido",
         lambda: ~F.is_valid_utf8("_text")),
    Rule("json_invalido",
         "texto que não é JSON válido (ou com chaves repetidas, NaN/Infinity, "
         "aninhamento profundo demais, algo depois do JSON)",
         lambda: col("_json").isNull()),
    Rule("nao_e_objeto", "JSON que não é um objeto",
         lambda: ~F.ltrim("_body", F.lit(_JSON_WHITESPACE)).startswith("{")),
    Rule("id_ordem_ausente", "id_ordem ausente, nulo ou vazio",
         lambda: ~_present(col("_id")) | ((F.schema_of_variant("_id") == "STRING")
                                          & (F.trim(variant_text(col("_id"))) == ""))),
    Rule("id_ordem_invalido", "id_ordem que não é texto",
         lambda: F.schema_of_variant("_id") != "STRING"),
    Rule("produtos_ausentes", "lista de produtos ausente ou vazia",
         lambda: ~_present(col("_list_raw")) | (F.size("_list") == 0)),
    Rule("produtos_invalidos", "produtos_comprados não é uma lista de nomes nem de itens",
         lambda: col("_list").isNull() | ~(col("_names_shape") | col("_items_shape"))),
    Rule("produto_sem_nome", "produto com nome vazio ou ausente",
         lambda: _any_item(lambda i: i["produto"].isNull() | (F.trim(i["produto"]) == ""))),
    Rule("nome_produto_longo", f"nome de produto com mais de {MAX_NAME_LENGTH} caracteres",
         lambda: _any_item(lambda i: F.length(i["produto"]) > MAX_NAME_LENGTH)),
    Rule("produto_repetido", "o mesmo produto duas vezes na lista de nomes",
         lambda: col("_names_shape") & (F.size(F.array_distinct("_names")) < F.size("_names"))),
    Rule("quantidade_ausente", "produto listado sem quantidade",
         lambda: _any_item(lambda i: i["q"].isNull())),
    Rule("quantidade_invalida", f"quantidade que não é um inteiro de 1 a {fmt_int(MAX_QUANTITY)}",
         lambda: _any_item(lambda i: ~_is_quantity(i["q"]))),
    Rule("quantidade_sem_produto", "quantidade para produto que não está na lista",
         lambda: col("_names_shape") & (F.size("_qty") > F.size("_names"))),
    Rule("preco_ausente", "item sem preço unitário quando outros itens do pedido têm",
         lambda: col("_priced") & ~_bad_price_map() & _any_item(lambda i: i["p"].isNull())),
    Rule("preco_invalido",
         f"preço que não é um número com até 2 casas decimais, até {fmt_brl(MAX_PRICE)}",
         lambda: col("_priced") & (_bad_price_map()
                                   | _any_item(lambda i: i["preco"].isNull()))),
    Rule("preco_negativo", "preço unitário negativo",
         lambda: col("_priced") & _any_item(lambda i: i["preco"] < 0)),
    Rule("valor_total_ausente", "valor_total ausente (obrigatório se os itens não trazem preço)",
         lambda: ~_present(col("_total")) & ~(col("_items_shape") & col("_priced"))),
    Rule("valor_total_invalido",
         f"valor_total que não é um número de 0 a {fmt_brl(MAX_ORDER_VALUE)}",
         lambda: _present(col("_total")) & (
             col("_total_cents").isNull() | (col("_total_cents") < 0)
             | (col("_total_cents") > F.lit(MAX_ORDER_VALUE)))),
    Rule("valor_total_inconsistente", "valor_total diferente da soma de quantidade x preço",
         lambda: col("_priced") & _present(col("_total")) & (F.aggregate(
             "_items", F.lit(0).cast(MONEY),
             lambda total, i: total + i["quantidade"] * i["preco"]) != col("_total_cents"))),
    Rule("data_ausente", "data_hora ausente", lambda: ~_present(col("_date"))),
    Rule("data_invalida", "data_hora ilegível ou impossível", lambda: col("data_hora").isNull()),
)

REASONS: dict[str, str] = {rule.reason: rule.description for rule in RULES}
assert len(REASONS) == len(RULES), "a reason code is written twice in RULES"


def reason_expr() -> Column:
    """The first rule that holds, as one CASE expression (null: the message is valid)."""
    first, *rest = RULES
    reason = F.when(first.condition(), F.lit(first.reason))
    for rule in rest:
        reason = reason.when(rule.condition(), F.lit(rule.reason))
    return reason
