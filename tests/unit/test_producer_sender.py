"""The producer's delivery accounting and pacing, against a fake producer (no broker)."""

from __future__ import annotations

import json
import time

import pytest
from kafka.errors import KafkaTimeoutError
from kafka.future import Future

from vendas.producer.generator import OrderGenerator
from vendas.producer.partitioning import key_partitions
from vendas.producer.sender import (
    DeliveryTracker,
    Pacer,
    send_orders,
)
from vendas.signals import StopSignals


class _FakeProducer:
    """Resolves each send at once, failing every `fail_every`-th one."""

    def __init__(self, fail_every: int = 0, partitions: int = 3) -> None:
        self.fail_every = fail_every
        self.partitions = set(range(partitions))
        self.keys: list[bytes] = []
        self.sent_to: list[int] = []
        self.flushed = False

    def partitions_for(self, topic):
        if not self.partitions:
            raise KafkaTimeoutError("sem metadados do tópico")
        return set(self.partitions)

    def send(self, topic, value=None, key=None, partition=None):
        assert partition in self.partitions
        self.keys.append(key)
        self.sent_to.append(partition)
        json.loads(value)
        future = Future()
        if self.fail_every and len(self.keys) % self.fail_every == 0:
            return future.failure(RuntimeError("recusado"))
        return future.success(None)

    def flush(self, timeout=None):
        self.flushed = True


def test_send_orders_counts_every_acknowledgement():
    producer = _FakeProducer()
    generator = OrderGenerator(5, customers=50)
    summary = send_orders(producer, "t", iter(generator), count=2500, rate=0)
    assert (summary.sent, summary.acked, summary.failed, summary.ok) == (2500, 2500, 0, True)
    assert producer.flushed
    expected = OrderGenerator(5, customers=50).take(2500)
    assert producer.keys == [o.id_ordem.encode() for o in expected]
    assert producer.sent_to == key_partitions(producer.keys, {0, 1, 2})


def test_orders_without_topic_metadata_count_as_failures():
    summary = send_orders(_FakeProducer(partitions=0), "t",
                          iter(OrderGenerator(5, customers=50)), count=1500, rate=0)
    assert (summary.sent, summary.acked, summary.failed, summary.ok) == (1500, 0, 1500, False)
    assert "sem metadados do tópico" in summary.first_error


def test_send_orders_reports_failures():
    summary = send_orders(_FakeProducer(fail_every=100), "t",
                          iter(OrderGenerator(5, customers=50)), count=1000, rate=0)
    assert (summary.sent, summary.acked, summary.failed, summary.ok) == (1000, 990, 10, False)
    assert "recusado" in summary.first_error


def test_a_finite_stream_of_orders_ends_the_run():
    orders = OrderGenerator(5, customers=50).take(1500)
    producer = _FakeProducer()
    summary = send_orders(producer, "t", orders, count=None, rate=0)
    assert (summary.sent, summary.acked, summary.ok) == (1500, 1500, True)
    assert producer.keys == [o.key for o in orders]


def test_a_broker_that_acknowledges_nothing_for_the_delivery_timeout_ends_the_run():
    # every order fails at once and none is ever acknowledged: a broker gone for good
    summary = send_orders(_FakeProducer(fail_every=1), "t", iter(OrderGenerator(5, customers=50)),
                          count=None, rate=1000, delivery_timeout_s=0.3)
    assert 0 < summary.sent < 1000 and summary.acked == 0 and summary.failed == summary.sent
    assert not summary.ok


def test_failures_while_the_broker_still_acknowledges_do_not_end_the_run():
    summary = send_orders(_FakeProducer(fail_every=2), "t", iter(OrderGenerator(5, customers=50)),
                          count=3000, rate=0, delivery_timeout_s=1)
    assert (summary.sent, summary.acked, summary.failed) == (3000, 1500, 1500)


def test_tracker_counts_unfinished_futures_as_not_acknowledged():
    tracker = DeliveryTracker()
    done, pending = Future().success(None), Future()
    tracker.track(done)
    tracker.track(pending)
    tracker.collect()
    assert (tracker.acked, tracker.pending) == (1, 1)
    tracker.finish()
    assert (tracker.acked, tracker.failed, tracker.pending) == (1, 1, 0)


def test_stop_request_ends_an_unbounded_run():
    stop = StopSignals()
    generator = iter(OrderGenerator(5, customers=50))

    def orders():
        for i, order in enumerate(generator):
            if i == 1234:
                stop.request("SIGINT")
            yield order

    summary = send_orders(_FakeProducer(), "t", orders(), count=None, rate=0, stop=stop)
    assert summary.ok and 1234 < summary.sent <= 1234 + 1000


def test_pacer_schedules_against_the_clock():
    pacer = Pacer(1000, burst_interval_s=0.005)
    start = pacer.start
    assert pacer.due(0, start) == 1  # the first order goes at once
    assert pacer.due(1, start + 0.0105) == 10
    assert pacer.due(50, start + 0.0105) == -39  # ahead of schedule: nothing due
    assert pacer.next_burst_at(50) == pytest.approx(start + 0.054)


def test_rate_is_held_without_busy_spinning():
    generator = iter(OrderGenerator(5, customers=50))
    cpu_started, started = time.process_time(), time.monotonic()
    summary = send_orders(_FakeProducer(), "t", generator, count=1500, rate=1000)
    wall, cpu = time.monotonic() - started, time.process_time() - cpu_started
    assert summary.ok
    assert 1.45 < wall < 1.7  # order 1500 is due 1.499 s after the first
    assert cpu < 0.5 * wall, f"cpu {cpu:.2f} s of {wall:.2f} s: spinning?"
