"""Local development services (Kafka, PostgreSQL, a Spark cluster) and the demo.

Not part of the shipped package: a user with a Kafka and a database of their own never needs it.
"""
