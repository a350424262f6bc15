"""The consumer's transforms, as pure functions of DataFrames (batch or streaming).

parse_orders: Kafka records -> one row per record, either valid (motivo null) with its
    items normalised, or rejected with a reason code; nothing is dropped.
deduplicate_orders: the same id_ordem counts once within a processing-time window.
ledger_entries / aggregate_ledger: items per product plus rejection counts, summed.

Messages are read with Spark's VARIANT type, so one pass tells "absent" from "malformed"
and reads the canonical shape and both originals' shapes. Every function on message
content is a try_* form: under ANSI mode one bad value must never fail the query.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from vendas import contract as c

# Reason codes (header `motivo` of dead letters), in the order they are checked.
REASONS: dict[str, str] = {
    "mensagem_vazia": "mensagem sem valor (null ou vazia)",
    "utf8_invalido": "bytes que não são UTF-8 válido",
    "json_invalido": "texto que não é JSON válido (ou com chaves repetidas)",
    "nao_e_objeto": "JSON que não é um objeto",
    "id_ordem_ausente": "id_ordem ausente, nulo ou vazio",
    "id_ordem_invalido": "id_ordem que não é texto",
    "produtos_ausentes": "lista de produtos ausente ou vazia",
    "produtos_invalidos": "produtos_comprados não é uma lista de nomes nem de itens",
    "produto_sem_nome": "produto com nome vazio ou ausente",
    "produto_repetido": "o mesmo produto duas vezes na lista de nomes",
    "quantidade_ausente": "produto listado sem quantidade",
    "quantidade_invalida": "quantidade que não é um inteiro positivo",
    "quantidade_sem_produto": "quantidade para produto que não está na lista",
    "preco_ausente": "produto sem preço unitário quando há preços",
    "preco_invalido": "preço que não é um número com até 2 casas decimais",
    "preco_negativo": "preço unitário negativo",
    "valor_total_ausente": "valor_total ausente",
    "valor_total_invalido": "valor_total que não é um número não negativo",
    "valor_total_inconsistente": "valor_total diferente da soma de quantidade x preço",
    "data_ausente": "data_hora ausente",
    "data_invalida": "data_hora ilegível ou impossível",
}

MONEY = "decimal(38,2)"
PRICE = "decimal(12,2)"  # up to R$ 9.999.999.999,99 per unit: sums can never overflow
MAX_QUANTITY = 2**31 - 1
# ISO-8601 date-time, optionally with fraction and offset (no backslashes: they would be
# unescaped inside the SQL string literal).
ISO_DATE_TIME = (
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?)?"
    "(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$"
)

ITEM_TYPE = f"struct<produto:string,quantidade:int,valor:{MONEY}>"
LEDGER_PRODUCT = "produto"
LEDGER_REJECTION = "rejeicao"


def _present(expr: str) -> str:
    """The field exists and is not JSON null."""
    return f"({expr} IS NOT NULL AND schema_of_variant({expr}) <> 'VOID')"


def _is_number(expr: str) -> str:
    schema = f"schema_of_variant({expr})"
    return f"({schema} IN ('BIGINT', 'DOUBLE', 'FLOAT') OR {schema} LIKE 'DECIMAL(%')"


def _is_quantity(expr: str) -> str:
    """A JSON integer between 1 and 2^31-1 ("2", 2.5, true and 0 are not)."""
    return (
        f"(schema_of_variant({expr}) = 'BIGINT' "
        f"AND try_variant_get({expr}, '$', 'bigint') BETWEEN 1 AND {MAX_QUANTITY})"
    )


def _cents(expr: str, type_: str) -> str:
    """A numeric variant as money; null if it has fractions of a cent or does not fit."""
    exact = f"try_variant_get({expr}, '$', 'decimal(38,10)')"
    return (
        f"CASE WHEN {_is_number(expr)} AND try_cast(try_cast({exact} AS {type_}) AS decimal(38,10)) = {exact} "
        f"THEN try_cast({exact} AS {type_}) END"
    )


def _rounded_cents(expr: str, type_: str) -> str:
    """A numeric variant rounded half up to the cent (a total summed in binary floating
    point, like 329.70000000000005, is still 329.70); null if it does not fit."""
    return (
        f"CASE WHEN {_is_number(expr)} "
        f"THEN try_cast(round(try_variant_get({expr}, '$', 'decimal(38,10)'), 2) AS {type_}) END"
    )


def parse_orders(records: DataFrame) -> DataFrame:
    """Kafka records (key, value, topic, partition, offset, timestamp) -> validated orders.

    Output keeps the source columns and adds: motivo (null when valid), id_ordem,
    itens (array of produto, quantidade, valor; valor null when the message has no unit
    prices), valor_nao_atribuido (the order value no product could be credited with),
    data_hora (timestamp in the session time zone).
    """
    text = records.select(
        "key", "value", "topic", "partition", "offset", "timestamp",
        F.expr("cast(value AS string)").alias("_text"),
    )
    parsed = text.select(
        "*",
        F.expr("try_parse_json(_text)").alias("_json"),
    )
    fields = parsed.select(
        "*",
        F.expr(f"_json:{c.ID_ORDEM}").alias("_id"),
        F.expr(f"try_variant_get(_json, '$.{c.PRODUTOS_COMPRADOS}', 'array<variant>')").alias("_list"),
        F.expr(f"_json:{c.PRODUTOS_COMPRADOS}").alias("_list_raw"),
        F.expr(f"try_variant_get(_json, '$.{c.QUANTIDADE_POR_PRODUTO}', 'map<string,variant>')").alias("_qty"),
        F.expr(f"_json:{c.PRECO_UNITARIO_POR_PRODUTO}").alias("_prices_raw"),
        F.expr(f"try_variant_get(_json, '$.{c.PRECO_UNITARIO_POR_PRODUTO}', 'map<string,variant>')").alias("_prices"),
        F.expr(f"_json:{c.VALOR_TOTAL}").alias("_total"),
        F.expr(f"coalesce(_json:{c.DATA_HORA}, _json:{c.DATA_HORA_VENDA})").alias("_date"),
    )
    shaped = fields.select(
        "*",
        # Canonical and seed A: a list of names; seed B: a list of {nome_produto, quantidade}.
        F.expr("forall(_list, e -> schema_of_variant(e) = 'STRING')").alias("_names_shape"),
        F.expr("forall(_list, e -> schema_of_variant(e) LIKE 'OBJECT<%')").alias("_items_shape"),
        F.expr("transform(_list, e -> try_variant_get(e, '$', 'string'))").alias("_names"),
        F.expr("try_variant_get(_date, '$', 'string')").alias("_date_text"),
    )
    items = shaped.select(
        "*",
        F.expr(
            f"""CASE WHEN _names_shape THEN
                  transform(_names, n -> named_struct(
                    'produto', n, 'q', try_element_at(_qty, n), 'p', try_element_at(_prices, n)))
                WHEN _items_shape THEN
                  transform(_list, e -> named_struct(
                    'produto', CASE WHEN schema_of_variant(e:{c.NOME_PRODUTO}) = 'STRING'
                                    THEN try_variant_get(e, '$.{c.NOME_PRODUTO}', 'string') END,
                    'q', e:{c.QUANTIDADE}, 'p', CAST(NULL AS variant)))
                END"""
        ).alias("_raw_items"),
        F.expr(
            f"""coalesce(
                  try_to_timestamp(_date_text, '{c.SPARK_BR_DATE_PATTERN}'),
                  CASE WHEN _date_text RLIKE '{ISO_DATE_TIME}' THEN try_to_timestamp(_date_text) END)"""
        ).alias("data_hora"),
        F.expr(_rounded_cents("_total", MONEY)).alias("_total_cents"),
    )
    priced = items.select(
        "*",
        F.expr(
            f"transform(_raw_items, i -> named_struct('produto', i.produto, 'q', i.q, 'p', i.p, "
            f"'preco', {_cents('i.p', PRICE)}))"
        ).alias("_items"),
    )
    has_prices = F.expr(f"{_present('_prices_raw')} AND _names_shape")
    reason = (
        F.when(F.col("value").isNull() | (F.length("value") == 0), "mensagem_vazia")
        .when(~F.expr("is_valid_utf8(_text)"), "utf8_invalido")
        .when(F.col("_json").isNull(), "json_invalido")
        .when(~F.expr("ltrim(_text) LIKE '{%'"), "nao_e_objeto")
        .when(~F.expr(_present("_id")), "id_ordem_ausente")
        .when(F.expr("schema_of_variant(_id) <> 'STRING'"), "id_ordem_invalido")
        .when(F.expr("trim(try_variant_get(_id, '$', 'string')) = ''"), "id_ordem_ausente")
        .when(F.expr(f"NOT {_present('_list_raw')} OR size(_list) = 0"),
              "produtos_ausentes")
        .when(F.expr("_list IS NULL OR NOT (_names_shape OR _items_shape)"), "produtos_invalidos")
        .when(F.expr("exists(_items, i -> i.produto IS NULL OR trim(i.produto) = '')"), "produto_sem_nome")
        .when(F.expr("_names_shape AND size(array_distinct(_names)) < size(_names)"), "produto_repetido")
        .when(F.expr("exists(_items, i -> i.q IS NULL)"), "quantidade_ausente")
        .when(F.expr(f"exists(_items, i -> NOT {_is_quantity('i.q')})"), "quantidade_invalida")
        .when(F.expr("_names_shape AND size(_qty) > size(_names)"), "quantidade_sem_produto")
        .when(has_prices & F.expr("_prices IS NULL"), "preco_invalido")
        .when(has_prices & F.expr("exists(_items, i -> i.p IS NULL)"), "preco_ausente")
        .when(has_prices & F.expr("exists(_items, i -> i.preco IS NULL)"), "preco_invalido")
        .when(has_prices & F.expr("exists(_items, i -> i.preco < 0)"), "preco_negativo")
        .when(~F.expr(_present("_total")), "valor_total_ausente")
        .when(F.expr("_total_cents IS NULL OR _total_cents < 0"), "valor_total_invalido")
        .when(
            has_prices
            & F.expr(
                f"aggregate(_items, CAST(0 AS {MONEY}), (acc, i) -> "
                f"CAST(acc + try_variant_get(i.q, '$', 'int') * i.preco AS {MONEY})) <> _total_cents"
            ),
            "valor_total_inconsistente",
        )
        .when(~F.expr(_present("_date")), "data_ausente")
        .when(F.col("data_hora").isNull(), "data_invalida")
    )
    return priced.select(
        "key", "value", "topic", "partition", "offset", "timestamp",
        reason.alias("motivo"),
        F.expr("try_variant_get(_id, '$', 'string')").alias(c.ID_ORDEM),
        F.expr(
            f"""transform(_items, i -> CAST(named_struct(
                  'produto', i.produto,
                  'quantidade', try_variant_get(i.q, '$', 'int'),
                  'valor', try_variant_get(i.q, '$', 'int') * i.preco) AS {ITEM_TYPE}))"""
        ).alias("itens"),
        F.when(has_prices, F.lit(0).cast(MONEY)).otherwise(F.col("_total_cents").cast(MONEY))
        .alias("valor_nao_atribuido"),
        "data_hora",
    )


def deduplicate_orders(orders: DataFrame, window: str) -> DataFrame:
    """Count each id_ordem once within `window` of processing time.

    The watermark runs on the micro-batch's own timestamp, not on data_hora: state stays
    bounded (ids are forgotten `window` after they were first seen) and no order is ever
    "late", so legitimately old-dated orders are never dropped. Rejected records get a
    key of their own (their source position), so they are counted, never merged.
    """
    dedup_key = F.coalesce(
        F.when(F.col("motivo").isNull(), F.col(c.ID_ORDEM)),
        F.concat_ws("/", F.lit("rejeitada"), "topic", "partition", "offset"),
    )
    return (
        orders.withColumn("_dedup_key", dedup_key)
        .withColumn("_seen_at", F.current_timestamp())
        .withWatermark("_seen_at", window)
        .dropDuplicatesWithinWatermark(["_dedup_key"])
        .drop("_dedup_key", "_seen_at")
    )


def ledger_entries(orders: DataFrame) -> DataFrame:
    """One row per sold item (tipo=produto) and one per rejected record (tipo=rejeicao).

    The order's unattributed value and the order count ride on its first item, so that
    summing them over products counts each order once.
    """
    valid = F.col("motivo").isNull()
    entries = F.when(
        valid,
        F.expr(
            f"""transform(itens, (i, pos) -> named_struct(
                  'tipo', '{LEDGER_PRODUCT}', 'chave', i.produto,
                  'quantidade', CAST(i.quantidade AS bigint), 'valor', i.valor,
                  'tem_valor', i.valor IS NOT NULL,
                  'pedidos', IF(pos = 0, 1L, 0L),
                  'valor_nao_atribuido', IF(pos = 0, valor_nao_atribuido, CAST(0 AS {MONEY}))))"""
        ),
    ).otherwise(
        F.expr(
            f"""array(named_struct(
                  'tipo', '{LEDGER_REJECTION}', 'chave', motivo,
                  'quantidade', 1L, 'valor', CAST(NULL AS {MONEY}), 'tem_valor', false,
                  'pedidos', 0L, 'valor_nao_atribuido', CAST(0 AS {MONEY})))"""
        )
    )
    return orders.select(F.explode(entries).alias("e")).select("e.*")


def aggregate_ledger(entries: DataFrame) -> DataFrame:
    """Sum the ledger per (tipo, chave); money stays DECIMAL, never float."""
    return entries.groupBy("tipo", "chave").agg(
        F.sum("quantidade").alias("quantidade_total"),
        F.sum("valor").cast(MONEY).alias("valor_total"),
        F.sum("pedidos").alias("pedidos"),
        F.sum("valor_nao_atribuido").cast(MONEY).alias("valor_nao_atribuido"),
    )


def dead_letters(orders: DataFrame) -> DataFrame:
    """Rejected records as Kafka sink rows: original key and value bytes, reason headers."""
    header = lambda name, value: F.struct(  # noqa: E731
        F.lit(name).alias("key"), value.cast("string").cast("binary").alias("value")
    )
    return orders.where(F.col("motivo").isNotNull()).select(
        "key",
        "value",
        F.array(
            header(c.HEADER_REASON, F.col("motivo")),
            header(c.HEADER_TOPIC, F.col("topic")),
            header(c.HEADER_PARTITION, F.col("partition")),
            header(c.HEADER_OFFSET, F.col("offset")),
        ).alias("headers"),
        "motivo",
    )


def windowed_totals(orders: DataFrame, window: str, watermark: str) -> DataFrame:
    """Per event-time window (of data_hora) and product: quantity and value sold.

    Meant for update mode: the watermark bounds the state, so orders older than it are
    left out of the windows; they still count in the running totals, a separate query.
    """
    items = (
        orders.where(F.col("motivo").isNull())
        .withWatermark("data_hora", watermark)
        .dropDuplicatesWithinWatermark([c.ID_ORDEM])
        .select("data_hora", F.explode("itens").alias("i"))
    )
    return items.groupBy(F.window("data_hora", window).alias("janela"), F.col("i.produto").alias("produto")).agg(
        F.sum("i.quantidade").alias("quantidade_total"),
        F.sum("i.valor").cast(MONEY).alias("valor_total"),
    )
