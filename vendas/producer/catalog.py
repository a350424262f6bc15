"""The product catalog: what a Brazilian online store sells, at fixed list prices in reais.

Laid out like a Faker provider's data (one table per category), but the prices are fixed
so that the value sold per product can be checked to the cent. `weight` is how often a
product is picked relative to the others: cheap everyday items sell more than TVs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


# identity hash: products are unique catalog entries; slots: a catalog may hold a million
@dataclass(frozen=True, eq=False, slots=True)
class Product:
    name: str
    category: str
    price_cents: int
    weight: int

    @property
    def price(self) -> Decimal:
        """List price in reais, exact (e.g. Decimal('89.90'))."""
        return Decimal(self.price_cents).scaleb(-2)


# category -> [(name, list price in reais as text, popularity weight)]
_TABLE: dict[str, list[tuple[str, str, int]]] = {
    "eletrônicos": [
        ("Smartphone Samsung Galaxy A15 128GB", "1099.00", 8),
        ("Smartphone Motorola Moto G54 256GB", "1299.90", 7),
        ("iPhone 15 128GB", "5299.00", 3),
        ('Smart TV LG 50" 4K UHD', "2399.90", 3),
        ('Smart TV Samsung 43" Crystal UHD', "1899.00", 3),
        ("Fone de Ouvido JBL Tune 520BT", "249.90", 9),
        ("Caixa de Som JBL Go 3", "229.00", 8),
        ("Smartwatch Xiaomi Redmi Watch 4", "699.00", 5),
        ("Carregador Turbo USB-C 25W", "89.90", 14),
        ("Echo Dot 5ª Geração", "379.05", 6),
    ],
    "eletrodomésticos": [
        ("Air Fryer Mondial 4L", "349.90", 9),
        ("Geladeira Brastemp Frost Free 375L", "3899.00", 2),
        ("Micro-ondas Electrolux 20L", "599.90", 4),
        ("Fogão Consul 4 Bocas", "1149.00", 2),
        ("Máquina de Lavar Electrolux 11kg", "2199.00", 2),
        ("Liquidificador Oster 1400W", "219.90", 6),
        ("Cafeteira Nespresso Essenza Mini", "499.00", 5),
        ("Aspirador de Pó Robô WAP", "899.90", 3),
        ("Ventilador de Mesa Arno 40 cm", "199.90", 7),
        ("Ferro de Passar a Vapor Black+Decker", "129.90", 6),
    ],
    "informática": [
        ("Notebook Dell Inspiron 15 i5 16GB", "3899.00", 3),
        ("Notebook Lenovo IdeaPad 3 Ryzen 5", "2999.00", 3),
        ("Mouse sem Fio Logitech M170", "69.90", 14),
        ("Teclado Mecânico Redragon Kumara", "219.90", 8),
        ('Monitor LG 24" Full HD IPS', "749.90", 5),
        ("SSD Kingston NV2 1TB", "429.90", 6),
        ("Headset Gamer HyperX Cloud Stinger", "279.90", 6),
        ("Impressora Multifuncional Epson EcoTank L3250", "1099.90", 3),
        ("Webcam Logitech C920 Full HD", "399.90", 4),
        ("Pen Drive SanDisk 64GB", "39.90", 12),
        ("Roteador Wi-Fi 6 TP-Link Archer AX12", "349.90", 4),
    ],
    "casa": [
        ("Jogo de Panelas Tramontina 5 Peças", "399.90", 5),
        ("Jogo de Cama Queen 4 Peças Algodão", "189.90", 6),
        ("Travesseiro Nasa Viscoelástico", "89.90", 9),
        ("Toalha de Banho Santista", "49.90", 10),
        ("Garrafa Térmica Stanley 1L", "299.00", 6),
        ("Conjunto de Potes Herméticos 10 Peças", "79.90", 8),
        ("Luminária de Mesa LED", "119.90", 5),
    ],
    "esporte": [
        ("Tênis de Corrida Olympikus Corre 3", "399.99", 6),
        ("Bicicleta Aro 29 Caloi Explorer", "1899.00", 2),
        ("Bola de Futebol Penalty S11", "159.90", 7),
        ("Halteres Emborrachados 2x5kg", "189.90", 5),
        ("Tapete de Yoga 6 mm", "99.90", 7),
        ("Camisa Oficial Seleção Brasileira", "349.99", 5),
        ("Garrafa Squeeze 750 ml", "29.90", 11),
    ],
    "beleza e cuidados": [
        ("Secador de Cabelo Taiff 2000W", "259.90", 5),
        ("Prancha Alisadora Philco", "149.90", 5),
        ("Barbeador Elétrico Philips OneBlade", "229.90", 5),
        ("Perfume Malbec 100 ml", "219.90", 6),
        ("Protetor Solar FPS 50 200 ml", "69.90", 10),
    ],
    "livros e papelaria": [
        ("Livro Dom Casmurro", "24.90", 8),
        ("Livro O Pequeno Príncipe", "19.90", 9),
        ("Caderno Universitário 10 Matérias", "34.90", 10),
        ("Kit Canetas Coloridas 24 Cores", "44.90", 8),
    ],
}


def _cents(text: str) -> int:
    reais, _, centavos = text.partition(".")
    return int(reais) * 100 + int(centavos.ljust(2, "0"))


PRODUCTS: tuple[Product, ...] = tuple(
    Product(name, category, _cents(price), weight)
    for category, rows in _TABLE.items()
    for name, price, weight in rows
)
CATEGORIES: tuple[str, ...] = tuple(_TABLE)

assert len({p.name for p in PRODUCTS}) == len(PRODUCTS), "product names must be unique"


# A larger catalog's extra products: models of the real ones, each at its own price within
# this band around the real product's (in percent), so that every line stays checkable.
MODEL_PRICE_BAND = range(90, 111)


def catalog(size: int | None = None) -> tuple[Product, ...]:
    """The catalog with `size` products (None: the real ones, PRODUCTS).

    Up to len(PRODUCTS), the first `size` real products; beyond, numbered models of them
    ("Air Fryer Mondial 4L (modelo 2)"), round robin over the real ones, with the real
    product's category and popularity, so that a store of a million products can be
    simulated with the same seed-for-seed reproducibility.
    """
    if size is None:
        return PRODUCTS
    if size < 1:
        raise ValueError(f"a catalog needs at least one product: {size}")
    return PRODUCTS[:size] + tuple(_model(k) for k in range(size - len(PRODUCTS)))


def _model(k: int) -> Product:
    real = PRODUCTS[k % len(PRODUCTS)]
    # a fixed, well-spread step through the band: neighbouring models get different prices
    percent = MODEL_PRICE_BAND[k * 7 % len(MODEL_PRICE_BAND)]
    return Product(f"{real.name} (modelo {k // len(PRODUCTS) + 2})", real.category,
                   max(1, real.price_cents * percent // 100), real.weight)


def by_name() -> dict[str, Product]:
    """Name -> product, for tests and consumers that check prices."""
    return {p.name: p for p in PRODUCTS}
