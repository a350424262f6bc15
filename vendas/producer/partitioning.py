"""Kafka's keyed partitioning (murmur2 of the key), computed for many keys at once.

The producer picks each order's partition itself, a burst at a time, and passes it to
`send()`. The result is the same as the Java client's and kafka-python's default
partitioner (partition = murmur2(key) mod partition count), so consumers that rely on
key locality still can. kafka-python hashes one key at a time in pure Python, a large
share of the producer's cost per order; numpy hashes a whole burst in a few vector
operations (`make bench-producer` measures the producer; the README has its figures).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

_SEED = 0x9747B28C
_M = np.uint32(0x5BD1E995)
_POSITIVE = np.uint32(0x7FFFFFFF)


def murmur2_many(keys: Sequence[bytes]) -> np.ndarray:
    """Kafka's murmur2 of each key, as uint32 (keys may have different lengths)."""
    hashes = np.empty(len(keys), dtype=np.uint32)
    lengths = [len(key) for key in keys]
    if len(set(lengths)) <= 1:  # the usual case: UUID keys, all 36 bytes
        if keys:
            hashes[:] = _murmur2_same_length(keys, lengths[0])
        return hashes
    by_length: dict[int, list[int]] = {}
    for index, length in enumerate(lengths):
        by_length.setdefault(length, []).append(index)
    for length, indices in by_length.items():
        hashes[indices] = _murmur2_same_length([keys[i] for i in indices], length)
    return hashes


def _murmur2_same_length(keys: Sequence[bytes], length: int) -> np.ndarray:
    data = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), length)
    n_words = length >> 2
    words = np.ascontiguousarray(data[:, : n_words * 4]).view("<u4")
    h = np.full(len(keys), (_SEED ^ length) & 0xFFFFFFFF, dtype=np.uint32)
    with np.errstate(over="ignore"):  # uint32 arithmetic wraps, as murmur2 wants
        for column in range(n_words):
            k = words[:, column] * _M
            k ^= k >> np.uint32(24)
            k *= _M
            h *= _M
            h ^= k
        extra = length & 3
        if extra:
            base = n_words * 4
            if extra >= 3:
                h ^= data[:, base + 2].astype(np.uint32) << np.uint32(16)
            if extra >= 2:
                h ^= data[:, base + 1].astype(np.uint32) << np.uint32(8)
            h ^= data[:, base]
            h *= _M
        h ^= h >> np.uint32(13)
        h *= _M
        h ^= h >> np.uint32(15)
    return h


def key_partitions(keys: Sequence[bytes], partitions: Collection[int]) -> list[int]:
    """The partition Kafka's default partitioner gives each key, among `partitions`."""
    ordered = np.array(sorted(partitions))
    return ordered[(murmur2_many(keys) & _POSITIVE) % len(ordered)].tolist()
