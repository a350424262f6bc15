"""The project's benchmarks, each run as a module from the repository root.

    python -m bench.producer    the producer against seed A's original send loop
    python -m bench.consumer    the consumer against a plain Spark query on the same topic
    python -m bench.scaling     the cost of a batch against history: a million products and
                                a day of ids in the state, against a fresh checkpoint
    python -m bench.throughput  the consumer by topic partitions and by number of orders
    python -m bench.latency     from an order's send to the batch that counted it

Each prints its figures beside a reference measured in the same run and writes CSV, JSON
and PNG files to bench/results/. They are not tests (tests/integration/test_bench.py runs
each in a tiny size). This file imports nothing: bench.original_loop runs in a venv
without Spark.
"""
