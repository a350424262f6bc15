"""The data contract shared by the producer, the consumer and the tests.

Field names are Portuguese because they are the wire format the original projects used;
everything that reads or writes a message takes the names from here.
"""

from __future__ import annotations

DEFAULT_BOOTSTRAP_SERVERS = "localhost:9092"
DEFAULT_TOPIC = "vendas-ecommerce"
DEFAULT_DLQ_TOPIC = "vendas-ecommerce-dlq"
DEFAULT_TIME_ZONE = "America/Sao_Paulo"

# Canonical message (seed A's fields plus unit prices).
ID_ORDEM = "id_ordem"
CPF_CLIENTE = "cpf_cliente"
PRODUTOS_COMPRADOS = "produtos_comprados"
QUANTIDADE_POR_PRODUTO = "quantidade_por_produto"
PRECO_UNITARIO_POR_PRODUTO = "preco_unitario_por_produto"
VALOR_TOTAL = "valor_total"
DATA_HORA = "data_hora"

# Seed B's shape: a list of {nome_produto, quantidade}, another client and date field.
DOCUMENTO_CLIENTE = "documento_cliente"
NOME_PRODUTO = "nome_produto"
QUANTIDADE = "quantidade"
# Seed B as its repository sends today: each item also carries its unit price.
PRECO_UNITARIO = "preco_unitario"
DATA_HORA_VENDA = "data_hora_venda"

# `data_hora` formats: ISO-8601 by default, the originals' Brazilian format on request.
DATE_FORMATS = {"iso": "%Y-%m-%dT%H:%M:%S", "br": "%d/%m/%Y %H:%M:%S"}
SPARK_BR_DATE_PATTERN = "dd/MM/yyyy HH:mm:ss"

# Dead-letter headers: why a message was rejected and where it came from.
HEADER_REASON = "motivo"
HEADER_TOPIC = "topico"
HEADER_PARTITION = "particao"
HEADER_OFFSET = "offset"

# The ledger the consumer aggregates: one kind of row per sold item, per rejected record and
# per duplicate order.
LEDGER_PRODUCT = "produto"
LEDGER_REJECTION = "rejeicao"
LEDGER_DUPLICATE = "duplicada"

# PostgreSQL text cannot hold NUL: a product name keeps U+2400 in its place, from the
# running totals on (state, console, database, dashboard alike), so that "a\0b" and "a␀b"
# are one product everywhere instead of two in the state and one row in the database.
NUL_STAND_IN = "\u2400"
