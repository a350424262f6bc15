"""The transforms on small in-memory DataFrames: validation, items, de-duplication, sums."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pyspark.sql import DataFrame, Row
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from tests.support.corpus import (
    CANONICAL,
    MALFORMED,
    SEED_A,
    SEED_B,
    SEED_B_PRICED,
    VALID_ODDITIES,
    WINDOWED,
    WINDOWED_TOTALS,
    expected_totals,
    items_of,
    variant,
)
from tests.support.hostile_corpus import HOSTILE, decode
from tests.support.hostile_corpus import encode as to_exact_json
from tests.support.kafka_records import kafka_frame
from vendas.contract import NUL_STAND_IN
from vendas.pipeline.rules import MAX_ORDER_VALUE, MAX_PRICE, MAX_QUANTITY
from vendas.pipeline.totals import TOP_KEPT, BatchChanges, Totals
from vendas.pipeline.transforms import (
    batch_overview,
    dead_letters,
    ledger_entries,
    parse_orders,
    running_totals,
    windowed_totals,
)


def totals_of(orders: DataFrame) -> Totals:
    """The totals the consumer would show after one batch of these orders (none repeated)."""
    sums = running_totals(ledger_entries(orders.withColumn("duplicada", F.lit(False))))
    return Totals().advance(BatchChanges.from_rows(batch_overview(sums, TOP_KEPT).collect()))


def parsed(frame: DataFrame) -> list[Row]:
    """parse_orders' rows, with data_hora as text in the session time zone."""
    orders = parse_orders(frame)
    return orders.withColumn("data_hora",
                             F.date_format("data_hora", "yyyy-MM-dd HH:mm:ss")).collect()


def test_every_malformed_kind_is_rejected_with_its_reason(spark):
    frame = kafka_frame(spark, [message for _, message, _ in MALFORMED] + [None])
    reasons = {r["offset"]: r["motivo"]
               for r in parse_orders(frame).select("offset", "motivo").collect()}
    got = {kind: reasons[i] for i, (kind, _, _) in enumerate(MALFORMED)}
    assert got == {kind: reason for kind, _, reason in MALFORMED}
    assert reasons[len(MALFORMED)] == "mensagem_vazia"  # a null value (tombstone)


def test_canonical_message_is_parsed_to_exact_items(spark):
    [row] = parsed(kafka_frame(spark, [CANONICAL]))
    assert row["motivo"] is None
    assert row["id_ordem"] == CANONICAL["id_ordem"]
    assert [tuple(i) for i in row["itens"]] == [
        ("Mouse", 2, Decimal("179.80")),
        ("Teclado", 1, Decimal("149.90")),
    ]
    assert row["valor_nao_atribuido"] == Decimal("0.00")
    assert row["data_hora"] == "2026-11-23 14:05:09"


def test_originals_shapes_count_quantities_but_not_invented_values(spark):
    rows = parsed(kafka_frame(spark, [SEED_A, SEED_B]))
    seed_a, seed_b = rows
    assert (seed_a["motivo"], seed_b["motivo"]) == (None, None)
    assert [tuple(i) for i in seed_a["itens"]] == [("Teclado", 2, None), ("Mouse", 1, None)]
    assert [tuple(i) for i in seed_b["itens"]] == [
        ("Mouse Logitech MX Master 3", 2, None),
        ("Torradeira Oster", 1, None),
        ("Mouse Logitech MX Master 3", 1, None),
    ]
    assert seed_a["valor_nao_atribuido"] == Decimal("5230.00")
    assert seed_b["valor_nao_atribuido"] == Decimal("4187.33")
    # Brazilian dates are read (the originals' own consumer got null here).
    assert seed_a["data_hora"] == "2025-06-10 12:34:56"
    assert seed_b["data_hora"] == "2025-11-23 08:15:02"


def test_seed_b_today_counts_exact_values_and_both_lines_of_a_repeated_product(spark):
    with_total = variant(SEED_B_PRICED, id_ordem="com-total", valor_total=Decimal("15699.96"))
    rows = parsed(kafka_frame(spark, [SEED_B_PRICED, with_total]))
    for row in rows:
        assert row["motivo"] is None
        assert [tuple(i) for i in row["itens"]] == [
            ("Playstation 5", 2, Decimal("9999.98")),
            ("Caixa de Som JBL Flip 6", 1, Decimal("699.99")),
            ("Playstation 5", 1, Decimal("4999.99")),
        ]
        assert row["valor_nao_atribuido"] == Decimal("0.00")
        assert row["data_hora"] == "2025-11-23 08:15:02"
    orders = parse_orders(kafka_frame(spark, [SEED_B_PRICED]))
    totals = totals_of(orders)
    assert {p.produto: (p.quantidade_total, p.valor_total) for p in totals.produtos} == {
        "Playstation 5": (3, Decimal("14999.97")),
        "Caixa de Som JBL Flip 6": (1, Decimal("699.99"))}
    assert totals.valor_nao_atribuido == Decimal("0.00")


def test_hostile_corpus_every_record_valid_or_its_one_reason(spark):
    frame = spark.createDataFrame(
        [(case.key, case.value, "t", 0, i, None) for i, case in enumerate(HOSTILE)],
        "key binary, value binary, topic string, partition int, offset long, timestamp timestamp")
    rows = {r["offset"]: r for r in parse_orders(frame).collect()}
    assert len(rows) == len(HOSTILE)
    assert {c.kind: rows[i]["motivo"] for i, c in enumerate(HOSTILE)} == {
        c.kind: c.reason for c in HOSTILE}
    for i, case in enumerate(HOSTILE):
        if case.reason is None:  # valid: exactly the message's items, names as kept
            message = decode(case.value)
            expected = [(name.replace("\x00", NUL_STAND_IN), qty,
                         None if price is None else qty * price)
                        for name, qty, price in items_of(message)]
            assert [tuple(item) for item in rows[i]["itens"]] == expected, case.kind
            assert rows[i]["id_ordem"] == message["id_ordem"]


def test_sums_at_the_per_order_limits_cannot_overflow(spark):
    """Orders at the largest accepted quantity, price and total, many of them: every sum
    stays exact (a bigint quantity beyond 2^31, money beyond decimal(18,2))."""
    n = 3000
    biggest_item = variant(CANONICAL, produtos_comprados=["Jato"],
                           quantidade_por_produto={"Jato": MAX_QUANTITY},
                           preco_unitario_por_produto={"Jato": MAX_PRICE},
                           valor_total=MAX_QUANTITY * MAX_PRICE)
    biggest_total = variant(SEED_A, valor_total=MAX_ORDER_VALUE)
    messages = [variant(m, id_ordem=f"{kind}-{i}") for i in range(n)
                for kind, m in (("item", biggest_item), ("total", biggest_total))]
    frame = spark.createDataFrame(
        [(None, to_exact_json(m), "t", 0, i, None) for i, m in enumerate(messages)],
        "key binary, value binary, topic string, partition int, offset long, timestamp timestamp")
    totals = totals_of(parse_orders(frame))
    assert totals.rejeitadas == {}
    by_name = {p.produto: p for p in totals.produtos}
    assert by_name["Jato"].quantidade_total == n * MAX_QUANTITY
    assert by_name["Jato"].valor_total == n * MAX_QUANTITY * MAX_PRICE
    assert totals.valor_nao_atribuido == n * MAX_ORDER_VALUE
    assert totals.pedidos == 2 * n


@pytest.mark.parametrize("kind, message", VALID_ODDITIES, ids=[k for k, _ in VALID_ODDITIES])
def test_odd_but_valid_messages_count(spark, kind, message):
    [row] = parse_orders(kafka_frame(spark, [message])).collect()
    assert row["motivo"] is None, kind
    assert sum(i["valor"] for i in row["itens"]) == Decimal("329.70")


def test_time_zone_offsets_are_converted_to_session_time(spark):
    [row] = parsed(kafka_frame(spark, [variant(CANONICAL, data_hora="2026-11-23T17:05:09Z")]))
    assert row["data_hora"] == "2026-11-23 14:05:09"  # America/Sao_Paulo is UTC-3


def test_ledger_sums_products_orders_and_rejections(spark):
    messages = [
        CANONICAL,
        variant(CANONICAL, id_ordem="outro", quantidade_por_produto={"Mouse": 1, "Teclado": 3},
                valor_total=Decimal("539.60")),
        SEED_A,
        SEED_B,
        "lixo",
        variant(CANONICAL, valor_total=1),
    ]
    orders = parse_orders(kafka_frame(spark, messages))
    totals = totals_of(orders)
    expected = expected_totals([m for m in messages[:4]])
    assert {p.produto: (p.quantidade_total, p.valor_total) for p in totals.produtos} == expected
    assert expected["Mouse"] == (2 + 1 + 1, Decimal("269.70"))  # seed A's Mouse adds quantity only
    assert totals.pedidos == 4
    assert totals.valor_nao_atribuido == Decimal("9417.33")
    assert totals.rejeitadas == {"json_invalido": 1, "valor_total_inconsistente": 1}


def test_running_totals_keep_money_decimal_per_product_and_per_kind(spark):
    orders = parse_orders(kafka_frame(spark, [CANONICAL, "lixo"]))
    result = running_totals(ledger_entries(orders.withColumn("duplicada", F.lit(False))))
    assert dict(result.dtypes)["valor_total"] == "decimal(38,2)"
    assertDataFrameEqual(
        result.select("tipo", "chave", "nivel", "quantidade_total", "valor_total", "pedidos"),
        [
            Row(tipo="produto", chave="Mouse", nivel=0, quantidade_total=2,
                valor_total=Decimal("179.80"), pedidos=1),
            Row(tipo="produto", chave="Teclado", nivel=0, quantidade_total=1,
                valor_total=Decimal("149.90"), pedidos=0),
            Row(tipo="produto", chave=None, nivel=1, quantidade_total=3,
                valor_total=Decimal("329.70"), pedidos=1),
            Row(tipo="rejeicao", chave="json_invalido", nivel=0, quantidade_total=1,
                valor_total=None, pedidos=0),
            Row(tipo="rejeicao", chave=None, nivel=1, quantidade_total=1, valor_total=None,
                pedidos=0),
        ],
    )


def test_duplicates_are_counted_apart_from_orders(spark):
    orders = parse_orders(kafka_frame(spark, [CANONICAL, CANONICAL]))
    flagged = orders.withColumn("duplicada", F.col("offset") == 1)
    sums = running_totals(ledger_entries(flagged))
    totals = Totals().advance(BatchChanges.from_rows(batch_overview(sums, TOP_KEPT).collect()))
    assert (totals.pedidos, totals.duplicadas, totals.quantidade_total) == (1, 1, 3)


def test_batch_overview_sends_the_top_the_counts_and_how_many_products_are_new(spark):
    orders = parse_orders(kafka_frame(spark, [CANONICAL, SEED_B_PRICED, "lixo"]))
    sums = running_totals(ledger_entries(orders.withColumn("duplicada", F.lit(False))))
    changes = BatchChanges.from_rows(batch_overview(sums, 2).collect())
    assert [p.produto for p in changes.top] == ["Playstation 5", "Caixa de Som JBL Flip 6"]
    assert changes.new_products == 4
    assert changes.rejeitadas == {"json_invalido": 1}
    assert changes.products == (7, Decimal("16029.66"), 2, Decimal("0.00"))


def test_dead_letters_keep_bytes_and_carry_reason_and_source(spark):
    raw = b'{"id_ordem": "\xc3\x28"}'
    frame = kafka_frame(spark, [CANONICAL, raw], topic="vendas-x")
    [letter] = dead_letters(parse_orders(frame)).collect()
    assert letter["key"] == b"k1"
    assert letter["value"] == raw
    assert {h["key"]: h["value"].decode() for h in letter["headers"]} == {
        "motivo": "utf8_invalido",
        "topico": "vendas-x",
        "particao": "0",
        "offset": "1",
    }


def stream_windows(spark, tmp_path,
                   batches: list[list]) -> dict[tuple[str, str], tuple[int, Decimal]]:
    """windowed_totals as a stream (its de-duplication is streaming-only): one micro-batch
    per list of messages, in order; every row the update-mode sink received, the last
    update of each window winning."""
    source = tmp_path / "records"
    frames = [kafka_frame(spark, messages) for messages in batches]
    for frame in frames:
        frame.coalesce(1).write.mode("append").parquet(str(source))
    stream = (spark.readStream.schema(frames[0].schema)
              .option("maxFilesPerTrigger", 1).parquet(str(source)))
    windows = windowed_totals(parse_orders(stream), "1 minute", "10 minutes").where(
        "nivel = 0").select(F.date_format("janela.start", "HH:mm").alias("inicio"), "produto",
                            "quantidade_total", "valor_total")
    name = f"janelas_{tmp_path.name}".replace("-", "_")
    query = (windows.writeStream.format("memory").queryName(name).outputMode("update")
             .option("checkpointLocation", str(tmp_path / "checkpoint"))
             .trigger(availableNow=True).start())
    query.awaitTermination(120)
    assert not query.isActive and query.exception() is None
    assert len([p for p in query.recentProgress if p.numInputRows]) == len(batches)
    return {(r["inicio"], r["produto"]): (r["quantidade_total"], r["valor_total"])
            for r in spark.table(name).collect()}


def test_windowed_totals_per_minute_and_product(spark, tmp_path):
    """--window: sums per data_hora minute and product; a repeated id counts once and a
    rejected message adds nothing."""
    rejected = variant(CANONICAL, id_ordem="d", valor_total=1)
    assert stream_windows(spark, tmp_path, [WINDOWED + [rejected]]) == WINDOWED_TOTALS


def test_windows_leave_out_orders_older_than_the_watermark(spark, tmp_path):
    """A 14:20 order moves the watermark to 14:10; Spark drops late events against the
    previous batch's watermark, so from the batch after next a 14:05 order is left out of
    the windows (the running totals, a separate query, still count it), a 14:15 one is not."""
    def order(id_ordem: str, data_hora: str, product: str) -> dict:
        price = CANONICAL["preco_unitario_por_produto"][product]
        return variant(CANONICAL, id_ordem=id_ordem, data_hora=data_hora,
                       produtos_comprados=[product], quantidade_por_produto={product: 1},
                       preco_unitario_por_produto={product: price}, valor_total=price)

    got = stream_windows(spark, tmp_path, [
        [order("a", "2026-11-23T14:20:00", "Mouse")],
        [order("b", "2026-11-23T14:21:00", "Teclado")],
        [order("atrasado", "2026-11-23T14:05:00", "Mouse"),
         order("c", "2026-11-23T14:15:00", "Teclado")],
    ])
    assert got == {
        ("14:20", "Mouse"): (1, Decimal("89.90")),
        ("14:21", "Teclado"): (1, Decimal("149.90")),
        ("14:15", "Teclado"): (1, Decimal("149.90")),
    }
