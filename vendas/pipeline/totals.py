"""The running totals as the driver knows them: bounded, whatever the history.

Spark's state store keeps every product's totals (vendas.pipeline.transforms.running_totals);
each micro-batch emits only the keys it touched, with their totals so far. The driver
keeps just what it shows: the top TOP_KEPT products by value and the counts. Since a
product's quantity and value only grow, the new top is the top of the old top and the
products the batch touched, so it never needs the products it did not keep.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal

from pyspark.sql import Row

from vendas.contract import LEDGER_DUPLICATE, LEDGER_PRODUCT, LEDGER_REJECTION

# How many of the top products the driver keeps (and the console may show).
TOP_KEPT = 500
# running_totals' nivel: one key's totals, or the totals of all keys of a tipo.
PER_KEY, PER_KIND = 0, 1
# batch_overview's row with the number of products new in the batch
NEW_PRODUCTS = "novos"
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class ProductTotal:
    produto: str
    quantidade_total: int
    valor_total: Decimal | None  # None: only orders without unit prices sold it


def rank(product: ProductTotal) -> tuple:
    """By value, highest first; products without a known value last."""
    return (product.valor_total is None, -(product.valor_total or 0),
            -product.quantidade_total, product.produto)


@dataclass(frozen=True)
class BatchChanges:
    """What one micro-batch changed, read from its running_totals rows (batch_overview)."""

    top: list[ProductTotal] = field(default_factory=list)  # the touched products' top
    new_products: int = 0
    # absolute totals of every product so far: quantity, value, orders, unattributed value
    products: tuple[int, Decimal, int, Decimal] | None = None
    rejeitadas: dict[str, int] = field(default_factory=dict)  # the reasons touched, absolute
    duplicadas: int | None = None  # absolute, when the batch had any
    # records the batch read (its offset range); None where the source has no offsets: then
    # every record is taken as accounted for
    mensagens: int | None = None

    @classmethod
    def from_rows(cls, rows: Iterable[Row]) -> BatchChanges:
        top, new, products, rejected, duplicates = [], 0, None, {}, None
        for row in rows:
            kind, level = row["tipo"], row["nivel"]
            if kind == NEW_PRODUCTS:
                new = int(row["quantidade_total"])
            elif kind == LEDGER_PRODUCT and level == PER_KEY:
                top.append(ProductTotal(row["chave"], int(row["quantidade_total"]),
                                        row["valor_total"]))
            elif kind == LEDGER_PRODUCT:
                products = (int(row["quantidade_total"]), row["valor_total"] or ZERO,
                            int(row["pedidos"]), row["valor_nao_atribuido"] or ZERO)
            elif kind == LEDGER_REJECTION and level == PER_KEY:
                rejected[row["chave"]] = int(row["quantidade_total"])
            elif kind == LEDGER_DUPLICATE and level == PER_KIND:
                duplicates = int(row["quantidade_total"])
        return cls(sorted(top, key=rank), new, products, rejected, duplicates)


@dataclass(frozen=True)
class Totals:
    """The totals after a batch: the top products, and counts over all of them."""

    produtos: list[ProductTotal] = field(default_factory=list)  # top TOP_KEPT, ranked
    total_produtos: int = 0
    quantidade_total: int = 0
    valor_total: Decimal = ZERO  # attributed to products (quantity x unit price)
    pedidos: int = 0
    valor_nao_atribuido: Decimal = ZERO
    rejeitadas: dict[str, int] = field(default_factory=dict)
    duplicadas: int = 0
    # records read so far, from the Kafka offsets: the other side of the reconciliation
    mensagens_lidas: int = 0

    @property
    def total_rejeitadas(self) -> int:
        return sum(self.rejeitadas.values())

    @property
    def mensagens_classificadas(self) -> int:
        """Every message accounted for: counted, duplicate or rejected."""
        return self.pedidos + self.duplicadas + self.total_rejeitadas

    @property
    def diferenca(self) -> int:
        """Messages read minus messages accounted for: 0 when the reconciliation balances."""
        return self.mensagens_lidas - self.mensagens_classificadas

    def rest(self, shown: int) -> tuple[int, int, Decimal]:
        """How many products are not among the first `shown`, and their quantity and value."""
        top = self.produtos[:shown]
        return (self.total_produtos - len(top),
                self.quantidade_total - sum(p.quantidade_total for p in top),
                self.valor_total - sum((p.valor_total or ZERO for p in top), ZERO))

    def advance(self, batch: BatchChanges) -> Totals:
        """These totals with one more batch's changes in."""
        merged = {p.produto: p for p in self.produtos}
        merged.update((p.produto, p) for p in batch.top)
        quantity, value, orders, unattributed = batch.products or (
            self.quantidade_total, self.valor_total, self.pedidos, self.valor_nao_atribuido)
        after = replace(
            self,
            produtos=sorted(merged.values(), key=rank)[:TOP_KEPT],
            total_produtos=self.total_produtos + batch.new_products,
            quantidade_total=quantity, valor_total=value, pedidos=orders,
            valor_nao_atribuido=unattributed,
            rejeitadas=dict(sorted({**self.rejeitadas, **batch.rejeitadas}.items())),
            duplicadas=self.duplicadas if batch.duplicadas is None else batch.duplicadas,
        )
        read = (after.mensagens_classificadas if batch.mensagens is None
                else self.mensagens_lidas + batch.mensagens)
        return replace(after, mensagens_lidas=read)

    def to_json(self, batch_id: int) -> str:
        """The totals and the batch they belong to, money as exact decimal strings."""
        data = asdict(self)
        data["lote"] = batch_id
        return json.dumps(data, default=str, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> tuple[Totals, int]:
        data = json.loads(text)
        products = [
            ProductTotal(p["produto"], p["quantidade_total"],
                         None if p["valor_total"] is None else Decimal(p["valor_total"]))
            for p in data["produtos"]
        ]
        totals = cls(products, data["total_produtos"], data["quantidade_total"],
                     Decimal(data["valor_total"]), data["pedidos"],
                     Decimal(data["valor_nao_atribuido"]), data["rejeitadas"],
                     data["duplicadas"], data["mensagens_lidas"])
        return totals, data["lote"]
