"""O laço de envio do projeto original (seed A), medido para o benchmark do produtor.

Uso: python -m bench.original_loop --bootstrap-servers HOST:PORTA --topic TÓPICO
                                  --orders N --result ARQUIVO.json  (from the repository root)

What seed A's produtor_vendas.py does for each order (shared/seeds/README.md shows what it
sends): a uuid4 id, a Faker pt_BR CPF, 1 to 4 distinct products of six, a random quantity
and unit price per product summed into an integer `valor_total`, a Faker date of this
year in the Brazilian format; the dict goes through json.dumps in the value_serializer of a
KafkaProducer with kafka-python's defaults, one send() per order, and each order is printed.
A flush at the end; only acknowledged orders count.

It needs nothing but the standard library, kafka-python, Faker and vendas.cli (itself
standard library only), because bench.producer runs it twice, as a module from the
repository root: in a venv with seed A's pinned kafka-python 2.2.11 and Faker 37.3.0 (its
requirements.txt; no crc32c), and in the project's own venv. Run it with stdout going to
/dev/null: the per-order print then costs its formatting, not a terminal's speed.
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid
import warnings

from faker import Faker
from kafka import KafkaProducer

from vendas.cli import PortugueseArgumentParser

PRODUCTS = ["Teclado", "Notebook", "Headset", "Monitor", "Mouse", "Impressora"]


def original_order(fake: Faker) -> dict[str, object]:
    products = random.sample(PRODUCTS, random.randint(1, 4))
    quantities = {}
    total = 0
    for product in products:
        quantities[product] = random.randint(1, 5)
        total += random.randint(100, 5000) * quantities[product]
    return {
        "id_ordem": str(uuid.uuid4()),
        "cpf_cliente": fake.cpf(),
        "produtos_comprados": products,
        "quantidade_por_produto": quantities,
        "valor_total": total,
        "data_hora": fake.date_time_this_year().strftime("%d/%m/%Y %H:%M:%S"),
    }


def run(bootstrap: str, topic: str, n: int) -> dict[str, float]:
    fake = Faker("pt_BR")
    producer = KafkaProducer(bootstrap_servers=bootstrap,
                             value_serializer=lambda v: json.dumps(v).encode("utf-8"))
    producer.partitions_for(topic)  # metadata first, as a long-running producer has it
    futures = []
    started = time.perf_counter()
    for _ in range(n):
        order = original_order(fake)
        print(f"Enviando venda: {order}")
        futures.append(producer.send(topic, order))
    producer.flush()
    elapsed = time.perf_counter() - started
    producer.close()
    return {"pedidos": n, "segundos": elapsed,
            "confirmados": sum(1 for future in futures if future.succeeded())}


def main() -> int:
    parser = PortugueseArgumentParser(prog="python -m bench.original_loop",
                                      description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap-servers", required=True, help="endereço do Kafka")
    parser.add_argument("--topic", required=True, help="tópico (já criado)")
    parser.add_argument("--orders", type=int, required=True, help="quantos pedidos enviar")
    parser.add_argument("--result", required=True, help="onde escrever a medição (JSON)")
    args = parser.parse_args()
    # kafka-python 3 warns that a lambda is not a Serializer; 2.2 accepts it silently
    warnings.filterwarnings("ignore", "value_serializer does not implement")
    result = run(args.bootstrap_servers, args.topic, args.orders)
    with open(args.result, "w") as out:
        json.dump(result, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
