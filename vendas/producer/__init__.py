"""Generating orders and sending them to Kafka: catalog, CPFs, the order model, the sender."""
