"""Kafka plumbing shared by every client: configuration, topic admin, broker watch, offsets."""
