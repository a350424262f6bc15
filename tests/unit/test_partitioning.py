"""Keyed partitioning: the same hash and the same partition as kafka-python's default."""

from __future__ import annotations

import random

import pytest
from kafka.partitioner import DefaultPartitioner
from kafka.partitioner.default import murmur2

from vendas.producer.generator import OrderGenerator
from vendas.producer.partitioning import key_partitions, murmur2_many


class _Cluster:
    """The little of kafka-python's ClusterMetadata that its partitioner reads."""

    def __init__(self, partitions: set[int]) -> None:
        self.partitions = partitions

    def topics(self):
        return {"t"}

    def partitions_for_topic(self, topic):
        return set(self.partitions)

    def available_partitions_for_topic(self, topic):
        return set(self.partitions)


def test_murmur2_of_keys_of_every_length_matches_kafka_python():
    rng = random.Random(0)
    keys = [rng.randbytes(rng.randrange(0, 64)) for _ in range(20_000)]
    assert murmur2_many(keys).tolist() == [murmur2(key) for key in keys]


def test_murmur2_of_keys_of_one_length_matches_kafka_python():
    keys = [order.key for order in OrderGenerator(1, customers=50).take(3000)]
    assert {len(key) for key in keys} == {36}
    assert murmur2_many(keys).tolist() == [murmur2(key) for key in keys]


def test_no_keys():
    assert murmur2_many([]).tolist() == []
    assert key_partitions([], {0, 1}) == []


@pytest.mark.parametrize("partitions", [{0}, {0, 1}, {0, 1, 2}, set(range(12)), {3, 1, 2}])
def test_keys_go_to_the_partition_kafkas_default_partitioner_picks(partitions):
    keys = [order.key for order in OrderGenerator(1, customers=50).take(3000)]
    keys += [b"", b"a", b"ab", b"abc", "pedido-ção".encode()]
    default, cluster = DefaultPartitioner(), _Cluster(partitions)
    assert key_partitions(keys, partitions) == [
        default.partition("t", key, key, None, None, cluster) for key in keys
    ]
