"""vendas-ecommerce: e-commerce orders from a Faker producer, aggregated per product by Spark."""

__version__ = "0.1.0"
