"""Benchmark do produtor: geração, geração + envio ao Kafka, e o laço dos projetos originais.

Uso: python bench/producer.py [--bootstrap-servers localhost:9092] [--orders 100000]
                              [--baseline-orders 20000] [--repeat 3] [--out bench/results]

Three scenarios side by side, each repeated, medians compared with the original loop:
  geracao        OrderGenerator + encoding to key/value bytes, no broker;
  geracao+envio  the producer's own send path (vendas.producer.send_orders), --rate 0,
                 counted only when every order is acknowledged by the broker;
  original       what the original projects did per order: Faker for each field,
                 json.dumps through a value_serializer, a default KafkaProducer, one
                 send per message and a flush at the end.
Writes a CSV (one row per run) and a PNG bar chart. A benchmark, not a test.
"""

from __future__ import annotations

import csv
import json
import statistics
import sys
import time
import uuid
import warnings
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from faker import Faker  # noqa: E402
from kafka import KafkaAdminClient, KafkaProducer  # noqa: E402

from vendas.cli import PortugueseArgumentParser  # noqa: E402
from vendas.errors import UserError  # noqa: E402
from vendas.generator import OrderGenerator  # noqa: E402
from vendas.kafka_admin import ensure_topic  # noqa: E402
from vendas.logs import setup_logging  # noqa: E402
from vendas.producer import create_producer, fmt_int, send_orders  # noqa: E402

SCENARIOS = ("geracao", "geracao+envio", "original")
LABELS = {"geracao": "geração", "geracao+envio": "geração + envio", "original": "original"}


def bench_generation(n: int, seed: int) -> float:
    generator = OrderGenerator(seed)
    next_order = generator.next_order
    started = time.perf_counter()
    for _ in range(n):
        order = next_order()
        order.key, order.encode()
    return time.perf_counter() - started


def _fresh_topic(bootstrap: str) -> str:
    topic = f"bench-produtor-{uuid.uuid4().hex[:8]}"
    ensure_topic(bootstrap, topic)
    return topic


def _drop_topics(bootstrap: str, topics: list[str]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.delete_topics(topics)
    finally:
        admin.close()


def bench_send(bootstrap: str, topic: str, n: int, seed: int) -> float:
    orders = iter(OrderGenerator(seed))
    producer = create_producer(bootstrap)
    producer.partitions_for(topic)  # metadata first, as a long-running producer has it
    try:
        summary = send_orders(producer, topic, orders, count=n, rate=0)
    finally:
        producer.close()
    if not summary.ok:
        raise SystemExit(f"geração+envio: só {summary.acked} de {n} pedidos confirmados")
    return summary.elapsed_s


# The original projects' products and loop, as their code does it.
_ORIGINAL_PRODUCTS = ["Notebook", "Mouse", "Teclado", "Monitor", "Headset", "Impressora"]


def bench_original(bootstrap: str, topic: str, n: int, seed: int) -> float:
    fake = Faker("pt_BR")
    fake.seed_instance(seed)
    # the originals pass a lambda, which kafka-python 3 still accepts with a warning
    warnings.filterwarnings("ignore", "value_serializer does not implement")
    producer = KafkaProducer(bootstrap_servers=bootstrap,
                             value_serializer=lambda v: json.dumps(v).encode("utf-8"))
    producer.partitions_for(topic)
    futures = []
    started = time.perf_counter()
    for _ in range(n):
        produtos = fake.random_elements(_ORIGINAL_PRODUCTS, length=fake.random_int(1, 3),
                                        unique=True)
        order = {
            "id_ordem": fake.uuid4(),
            "cpf_cliente": fake.cpf(),
            "produtos_comprados": produtos,
            "quantidade_por_produto": {p: fake.random_int(1, 5) for p in produtos},
            "valor_total": fake.random_int(100, 10_000),
            "data_hora": fake.date_time_this_year().strftime("%d/%m/%Y %H:%M:%S"),
        }
        futures.append(producer.send(topic, order))
    producer.flush()
    elapsed = time.perf_counter() - started
    producer.close()
    acked = sum(1 for f in futures if f.succeeded())
    if acked != n:
        raise SystemExit(f"original: só {acked} de {n} pedidos confirmados")
    return elapsed


def plot(medians: dict[str, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    names = list(medians)
    values = [medians[s] for s in names]
    base = medians["original"]
    fig, ax = plt.subplots(figsize=(7, 4))
    bars = ax.bar([LABELS[s] for s in names], values, color=["#4c72b0", "#55a868", "#c44e52"])
    for bar, value in zip(bars, values):
        ratio = f"{value / base:.1f}".replace(".", ",")
        ax.annotate(f"{fmt_int(value)}/s\n{ratio}x", (bar.get_x() + bar.get_width() / 2, value),
                    ha="center", va="bottom", fontsize=9)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: fmt_int(y)))
    ax.set_ylabel("pedidos por segundo (mediana)")
    ax.set_title("Produtor: pedidos por segundo")
    ax.set_ylim(0, max(values) * 1.25)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = PortugueseArgumentParser(prog="bench/producer.py", description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap-servers", default="localhost:9092",
                        help="endereço do Kafka (padrão: %(default)s)")
    parser.add_argument("--orders", type=int, default=100_000,
                        help="pedidos por execução de geração e de geração+envio")
    parser.add_argument("--baseline-orders", type=int, default=None,
                        help="pedidos por execução do laço original (padrão: --orders / 5)")
    parser.add_argument("--repeat", type=int, default=3, help="repetições (padrão: %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="semente (padrão: %(default)s)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results",
                        help="diretório do CSV e do PNG (padrão: bench/results)")
    args = parser.parse_args(argv)
    baseline_n = args.baseline_orders or max(1, args.orders // 5)
    setup_logging(quiet=True)

    bootstrap = args.bootstrap_servers
    rows = []
    topics: list[str] = []
    try:
        for repeat in range(1, args.repeat + 1):
            runs = [("geracao", args.orders, lambda: bench_generation(args.orders, args.seed))]
            topic = _fresh_topic(bootstrap)
            topics.append(topic)
            runs.append(("geracao+envio", args.orders,
                         lambda: bench_send(bootstrap, topic, args.orders, args.seed)))
            base_topic = _fresh_topic(bootstrap)
            topics.append(base_topic)
            runs.append(("original", baseline_n,
                         lambda: bench_original(bootstrap, base_topic, baseline_n, args.seed)))
            for scenario, n, run in runs:
                seconds = run()
                rows.append({"cenario": scenario, "repeticao": repeat, "pedidos": n,
                             "segundos": f"{seconds:.4f}", "pedidos_por_s": f"{n / seconds:.1f}"})
                rate = fmt_int(n / seconds)
                print(f"  {LABELS[scenario]:<17} execução {repeat}: {rate:>9} pedidos/s",
                      flush=True)
    except UserError as error:
        print(f"erro: {error}", file=sys.stderr)
        return 2
    finally:
        if topics:
            _drop_topics(bootstrap, topics)

    medians = {s: statistics.median(float(r["pedidos_por_s"]) for r in rows if r["cenario"] == s)
               for s in SCENARIOS}
    base = medians["original"]
    print(f"\n{'cenário':<17} {'pedidos/s':>10} {'x original':>11}")
    for scenario in SCENARIOS:
        ratio = f"{medians[scenario] / base:.1f}".replace(".", ",")
        print(f"{LABELS[scenario]:<17} {fmt_int(medians[scenario]):>10} {ratio:>10}x")

    args.out.mkdir(parents=True, exist_ok=True)
    csv_path, png_path = args.out / "producer.csv", args.out / "producer.png"
    with open(csv_path, "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(medians, png_path)
    print(f"\nresultados: {csv_path} e {png_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
