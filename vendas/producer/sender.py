"""Sending orders to Kafka: delivery accounting, rate control, progress and summary.

Every order is sent keyed by `id_ordem` with acks=all and idempotence, so a retry after a
broker hiccup neither loses nor duplicates it. Nothing is counted as delivered until the
broker acknowledged it: futures are kept in send order and harvested as they complete
(no callback per record), and a run that ends with anything unacknowledged says so and
exits non-zero.
"""

from __future__ import annotations

import gc
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import kafka
from kafka import KafkaProducer
from kafka.errors import KafkaError

from vendas.contract import DEFAULT_BOOTSTRAP_SERVERS, DEFAULT_TOPIC
from vendas.errors import UserError
from vendas.formatting import fmt_float, fmt_int, fmt_rate
from vendas.kafka.admin import ensure_topic
from vendas.kafka.config import PLAINTEXT, KafkaClientConfig
from vendas.producer.orders import Order
from vendas.producer.partitioning import key_partitions
from vendas.signals import StopSignals

log = logging.getLogger(__name__)

DEFAULT_RATE = 100.0
PROGRESS_INTERVAL_S = 5.0
# Rate control sends in bursts at most this far apart: small enough to look steady,
# large enough not to wake up thousands of times per second.
BURST_INTERVAL_S = 0.005
# With --rate 0, how many orders go out between looks at the clock, the signals and acks.
UNPACED_BURST = 1000
# kafka-python 3 has no buffer_memory bound: the run stops generating while this many
# orders await acknowledgement (e.g. while the broker restarts), so memory stays bounded.
MAX_PENDING = 200_000

# How long an order may wait for the broker's acknowledgement before it counts as failed
# (--delivery-timeout). With failures and nothing acknowledged for this long, the broker is
# taken as gone and the run stops rather than generate orders that can only fail.
DEFAULT_DELIVERY_TIMEOUT_S = 120.0
# The final flush waits at most the delivery timeout plus this.
FLUSH_GRACE_S = 5.0
# The kafka-python series whose private sender _force_close_sender was written against.
KAFKA_PYTHON_SERIES = "3.0."

# Chosen with `make bench-producer` at --rate 0: large batches matter most, since
# each request then carries thousands of orders; linger and the codec barely moved the
# rate, and lz4 shrinks these JSON batches several times for little CPU. Idempotence
# means a broker kill -9 and restart mid-run loses nothing and writes nothing twice
# (tests/e2e/test_producer_faults.py).
PRODUCER_CONFIG: dict[str, Any] = {
    "acks": "all",
    "enable_idempotence": True,
    "compression_type": "lz4",
    "linger_ms": 20,
    "batch_size": 1024 * 1024,
    "max_request_size": 4 * 1024 * 1024,
    "retries": 2**31 - 1,
    "delivery_timeout_ms": int(DEFAULT_DELIVERY_TIMEOUT_S * 1000),
    "max_in_flight_requests_per_connection": 5,
    # reconnect quickly after a broker restart (the default backs off up to 30 s)
    "reconnect_backoff_max_ms": 1000,
}


def delivery_timeout_config(timeout_s: float) -> dict[str, int]:
    """Producer settings for a delivery timeout (kafka-python, like the Java client, wants
    it to be at least linger.ms + request.timeout.ms, so a short one shortens the latter)."""
    timeout_ms = int(timeout_s * 1000)
    return {"delivery_timeout_ms": timeout_ms,
            "request_timeout_ms": min(30_000, timeout_ms - PRODUCER_CONFIG["linger_ms"])}


def create_producer(bootstrap_servers: str, client_config: KafkaClientConfig = PLAINTEXT,
                    **overrides: Any) -> KafkaProducer:
    """A KafkaProducer with the project's delivery settings (overridable for benchmarks),
    connected as `client_config` says (--kafka-config: security, credentials)."""
    config = {**PRODUCER_CONFIG, **client_config.python_kwargs(), **overrides}
    try:
        return KafkaProducer(bootstrap_servers=bootstrap_servers, **config)
    except KafkaError as error:
        raise UserError(
            f"Não foi possível conectar o produtor ao Kafka em {bootstrap_servers}: {error}."
        ) from None


def close_producer(producer: KafkaProducer, timeout_s: float) -> None:
    """Close the producer; if what it still holds cannot be flushed in time, by force.

    kafka-python 3.0.12's close() flushes first and raises when that times out, leaving the
    producer open (its __del__ raises again at exit). By then send_orders has counted every
    order not acknowledged, so the sender is stopped the way the Java client's close(0)
    does: what is left fails at once.
    """
    try:
        producer.close(timeout=timeout_s)
        return
    except KafkaError:
        pass
    _force_close_sender(producer, timeout_s)
    try:
        producer.close(timeout=0)
    except KafkaError:
        log.debug("O produtor do Kafka não fechou a tempo.")


def _force_close_sender(producer: KafkaProducer, timeout_s: float) -> None:
    """Stop the sender thread without flushing: kafka-python has no public way to."""
    sender = getattr(producer, "_sender", None)
    if not kafka.__version__.startswith(KAFKA_PYTHON_SERIES) or not hasattr(sender, "force_close"):
        log.warning("kafka-python %s não é a série %sx para a qual o fechamento forçado foi "
                    "escrito; o produtor fecha sem ele.", kafka.__version__, KAFKA_PYTHON_SERIES)
        return
    sender.force_close()
    sender.join(timeout_s)


# --- delivery accounting -----------------------------------------------------------------

class DeliveryTracker:
    """Counts acknowledged and failed sends from their futures, without callbacks.

    Futures complete roughly in send order; `collect()` pops the completed ones from the
    front. A callback per record would cost more than the send itself at these rates.
    """

    def __init__(self) -> None:
        self.sent = 0
        self.acked = 0
        self.failed = 0
        self.first_error: BaseException | None = None
        self.last_ack_at = time.monotonic()
        self._pending: deque = deque()
        self.track = self._pending.append  # the hot path: one deque append per send

    @property
    def pending(self) -> int:
        return len(self._pending)

    def record_failure(self, error: BaseException) -> None:
        """A send that never made it into the producer (e.g. its buffer stayed full)."""
        self.failed += 1
        if self.first_error is None:
            self.first_error = error

    def collect(self) -> None:
        """Count every future completed at the front of the queue."""
        pending = self._pending
        acked = self.acked
        while pending and pending[0].is_done:
            future = pending.popleft()
            if future.exception is None:
                self.acked += 1
            else:
                self.record_failure(future.exception)
        if self.acked != acked:
            self.last_ack_at = time.monotonic()

    def finish(self) -> None:
        """After the final flush: whatever is still pending was not acknowledged."""
        pending = self._pending
        while pending:
            future = pending.popleft()
            if future.is_done and future.exception is None:
                self.acked += 1
            else:
                self.record_failure(future.exception or TimeoutError("sem confirmação"))


# --- pacing ------------------------------------------------------------------------------

class Pacer:
    """Decides how many orders are due, against a monotonic clock (no busy spinning).

    Order i (0-based) is due at start + i / rate. Being late (a slow broker) is made up by
    sending faster; being early means sleeping until the next burst is due.
    """

    def __init__(self, rate: float, burst_interval_s: float = BURST_INTERVAL_S) -> None:
        self.rate = rate
        self.start = time.monotonic()
        # at high rates, wait for a small burst rather than waking up per order
        self._burst = max(1.0, rate * burst_interval_s)

    def due(self, sent: int, now: float) -> int:
        """How many more orders should have been sent by `now`."""
        return math.floor((now - self.start) * self.rate) + 1 - sent

    def next_burst_at(self, sent: int) -> float:
        return self.start + (sent + self._burst - 1) / self.rate


# --- the run -----------------------------------------------------------------------------

@dataclass
class Summary:
    sent: int
    acked: int
    failed: int
    elapsed_s: float
    first_error: str | None = None

    @property
    def ok(self) -> bool:
        """Everything sent was acknowledged."""
        return self.failed == 0 and self.acked == self.sent

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0


class _Progress:
    def __init__(self, tracker: DeliveryTracker, interval_s: float,
                 delivery_timeout_s: float) -> None:
        self.tracker = tracker
        self.interval_s = interval_s
        self.delivery_timeout_s = delivery_timeout_s
        self.last_at = time.monotonic()
        self.last_sent = 0
        self.last_acked = 0
        self.next_at = self.last_at + interval_s

    def maybe_log(self, now: float) -> None:
        if now < self.next_at:
            return
        t = self.tracker
        rate = (t.sent - self.last_sent) / (now - self.last_at)
        log.info("Progresso: %s enviados, %s confirmados, %s falhas, %s pedidos/s.",
                 fmt_int(t.sent), fmt_int(t.acked), fmt_int(t.failed), fmt_int(rate))
        if t.acked == self.last_acked and t.pending:
            log.warning("O Kafka não confirma nada há %.0f s; %s pedidos aguardam (cada um "
                        "espera até %.0f s; sem nenhuma confirmação por esse tempo, o produtor "
                        "para).", now - t.last_ack_at, fmt_int(t.pending),
                        self.delivery_timeout_s)
        self.last_at, self.last_sent, self.last_acked = now, t.sent, t.acked
        self.next_at = now + self.interval_s


# Each send allocates a dozen objects, and its future lives until the broker acknowledges
# it, so the default threshold (700) starts thousands of collections a second that free
# next to nothing; a higher threshold is measurably faster at --rate 0 (bench/producer.py).
GC_THRESHOLD = 50_000


@contextmanager
def _fewer_gc_passes() -> Iterator[None]:
    previous = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _send_burst(producer: KafkaProducer, topic: str, batch: list[Order],
                tracker: DeliveryTracker) -> None:
    """Send each order to its key's partition; a send that fails is counted, not raised."""
    keys = [order.key for order in batch]
    try:
        partitions = key_partitions(keys, producer.partitions_for(topic))
    except KafkaError as error:  # no metadata for the topic within max_block_ms
        for _ in batch:
            tracker.record_failure(error)
        return
    send, track = producer.send, tracker.track
    for order, key, partition in zip(batch, keys, partitions):
        try:
            track(send(topic, value=order.encode(), key=key, partition=partition))
        except KafkaError as error:
            tracker.record_failure(error)


def _wait_for_acknowledgements(producer: KafkaProducer, tracker: DeliveryTracker,
                               stop: StopSignals, delivery_timeout_s: float) -> None:
    """Flush what is in transit, waiting no longer than it can take to resolve."""
    in_transit = fmt_int(tracker.sent - tracker.acked - tracker.failed)
    wait_s = delivery_timeout_s + FLUSH_GRACE_S
    if stop.requested:
        log.info("Sinal %s recebido: aguardando a confirmação de %s pedidos em trânsito "
                 "(Ctrl-C de novo para não esperar).", stop.name, in_transit)
    elif tracker.failed:
        log.info("Aguardando a resposta do Kafka para %s pedidos em trânsito (até %.0f s; "
                 "Ctrl-C para não esperar).", in_transit, wait_s)
    stop.interrupt_next = True  # sending is over: a signal now means "stop waiting"
    try:
        # Every order is acknowledged or fails within the delivery timeout of its send, so
        # waiting longer is pointless. It also ends the wait when kafka-python 3.0.12 stops
        # expiring batches: once an idempotent producer has lost its producer id to a
        # broker that is gone, it only retries to get a new one, forever.
        producer.flush(timeout=wait_s)
    except KafkaError:  # the flush timed out
        tracker.collect()
        log.error("O Kafka não respondeu por %s pedidos em %.0f s; eles contam como não "
                  "confirmados.", fmt_int(tracker.pending), wait_s)


@_fewer_gc_passes()
def send_orders(producer: KafkaProducer, topic: str, orders: Iterable[Order], *,
                count: int | None = None, rate: float = 0.0,
                stop: StopSignals | None = None,
                progress_interval_s: float = PROGRESS_INTERVAL_S,
                delivery_timeout_s: float = DEFAULT_DELIVERY_TIMEOUT_S,
                sleep: Callable[[float], None] = time.sleep) -> Summary:
    """Send `count` orders (None: until `stop`) at `rate` per second (0: flat out), then flush.

    `delivery_timeout_s` is the producer's: once orders have failed and nothing has been
    acknowledged for that long, the broker is gone and the run ends (not ok)."""
    orders = iter(orders)
    stop = stop or StopSignals()
    tracker = DeliveryTracker()
    progress = _Progress(tracker, progress_interval_s, delivery_timeout_s)
    pacer = Pacer(rate) if rate > 0 else None
    started = time.monotonic()
    sent = 0

    try:
        while not stop.requested and (count is None or sent < count):
            now = time.monotonic()
            progress.maybe_log(now)
            tracker.collect()
            if tracker.failed and now - tracker.last_ack_at >= delivery_timeout_s:
                log.error("O Kafka não confirmou nenhum pedido em %.0f s e %s já falharam: "
                          "o produtor para de gerar pedidos.", delivery_timeout_s,
                          fmt_int(tracker.failed))
                break
            if tracker.pending >= MAX_PENDING:
                sleep(0.01)
                continue
            if pacer is None:
                burst = UNPACED_BURST
            else:
                burst = pacer.due(sent, now)
                if burst <= 0:
                    # sleep in short steps so that a signal is noticed promptly
                    sleep(min(pacer.next_burst_at(sent) - now, 0.1))
                    continue
                burst = min(burst, UNPACED_BURST)
            if count is not None:
                burst = min(burst, count - sent)
            batch = list(islice(orders, burst))
            _send_burst(producer, topic, batch, tracker)
            sent += len(batch)
            tracker.sent = sent
            if len(batch) < burst:
                break  # a finite stream of orders ran out
        _wait_for_acknowledgements(producer, tracker, stop, delivery_timeout_s)
    except KeyboardInterrupt:
        log.warning("Interrompido sem esperar as confirmações pendentes.")
    tracker.sent = sent
    tracker.finish()
    return Summary(sent, tracker.acked, tracker.failed, time.monotonic() - started,
                   repr(tracker.first_error) if tracker.first_error else None)


@dataclass
class ProducerOptions:
    """What the CLI asks for (see produtor_vendas.py)."""

    bootstrap_servers: str = DEFAULT_BOOTSTRAP_SERVERS
    topic: str = DEFAULT_TOPIC
    count: int | None = None
    rate: float = DEFAULT_RATE
    delivery_timeout_s: float = DEFAULT_DELIVERY_TIMEOUT_S
    progress_interval_s: float = PROGRESS_INTERVAL_S
    producer_config: dict[str, Any] = field(default_factory=dict)
    kafka_config: KafkaClientConfig = PLAINTEXT  # --kafka-config / VENDAS_KAFKA_CONFIG


def log_summary(summary: Summary) -> None:
    level = logging.INFO if summary.ok else logging.ERROR
    log.log(level, "Resumo: %s enviados, %s confirmados, %s falhas em %s s (%s pedidos/s).",
            fmt_int(summary.sent), fmt_int(summary.acked), fmt_int(summary.failed),
            fmt_float(summary.elapsed_s), fmt_int(summary.rate))
    if not summary.ok:
        log.error("%s pedidos não foram confirmados pelo Kafka (primeiro erro: %s).",
                  fmt_int(summary.sent - summary.acked), summary.first_error)


def run(options: ProducerOptions, orders: Iterable[Order]) -> Summary:
    """Create the topic if missing, send, flush, close; signals end the run cleanly."""
    ensure_topic(options.bootstrap_servers, options.topic, config=options.kafka_config)
    config = {**delivery_timeout_config(options.delivery_timeout_s), **options.producer_config}
    producer = create_producer(options.bootstrap_servers, options.kafka_config, **config)
    try:
        # fetch the topic's metadata now, so that the first send does not wait for it
        # while the rate clock already runs
        producer.partitions_for(options.topic)
    except KafkaError as error:
        producer.close(timeout=1)
        raise UserError(
            f"O Kafka não informou as partições do tópico {options.topic}: {error}."
        ) from None
    with StopSignals() as stop:
        try:
            what = f"{fmt_int(options.count)} pedidos" if options.count is not None else "pedidos"
            pace = (f"{fmt_rate(options.rate)} por segundo" if options.rate > 0
                    else "o mais rápido possível")
            log.info("Enviando %s para o tópico %s em %s, %s%s.", what, options.topic,
                     options.bootstrap_servers, pace,
                     "" if options.count is not None else " (Ctrl-C para parar)")
            summary = send_orders(producer, options.topic, orders, count=options.count,
                                  rate=options.rate, stop=stop,
                                  progress_interval_s=options.progress_interval_s,
                                  delivery_timeout_s=options.delivery_timeout_s)
        finally:
            try:
                close_producer(producer, timeout_s=5)
            except KeyboardInterrupt:
                pass
    log_summary(summary)
    return summary
