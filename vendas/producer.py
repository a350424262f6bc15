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
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from types import FrameType
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from vendas.contract import DEFAULT_BOOTSTRAP_SERVERS, DEFAULT_TOPIC
from vendas.errors import UserError
from vendas.kafka_admin import ensure_topic
from vendas.orders import Order
from vendas.partitioning import key_partitions

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

# Measured against the local Kafka 4.1 (100k orders, --rate 0, 2 shared cores): batches of
# 1 MiB instead of 64 KiB doubled throughput (~16k -> ~31k orders/s); linger 10-50 ms and
# lz4/zstd/none were within noise of each other. lz4 shrinks these JSON batches ~4x (zstd
# ~7x) for little CPU. Idempotence works with Kafka 4: a broker kill -9 and restart mid-run
# loses nothing and writes nothing twice (tests/test_producer.py).
PRODUCER_CONFIG: dict[str, Any] = {
    "acks": "all",
    "enable_idempotence": True,
    "compression_type": "lz4",
    "linger_ms": 20,
    "batch_size": 1024 * 1024,
    "max_request_size": 4 * 1024 * 1024,
    "retries": 2**31 - 1,
    "delivery_timeout_ms": 120_000,
    "max_in_flight_requests_per_connection": 5,
    # reconnect quickly after a broker restart (the default backs off up to 30 s)
    "reconnect_backoff_max_ms": 1000,
}


def create_producer(bootstrap_servers: str, **overrides: Any) -> KafkaProducer:
    """A KafkaProducer with the project's delivery settings (overridable for benchmarks)."""
    config = {**PRODUCER_CONFIG, **overrides}
    try:
        return KafkaProducer(bootstrap_servers=bootstrap_servers, **config)
    except KafkaError as error:
        raise UserError(
            f"Não foi possível conectar o produtor ao Kafka em {bootstrap_servers}: {error}."
        ) from None


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
        while pending and pending[0].is_done:
            future = pending.popleft()
            if future.exception is None:
                self.acked += 1
            else:
                self.record_failure(future.exception)

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


@dataclass
class StopRequest:
    """Set by SIGINT/SIGTERM; the send loop looks at it between bursts."""

    signals: int = 0
    name: str = ""
    _handlers: dict = field(default_factory=dict)

    @property
    def requested(self) -> bool:
        return self.signals > 0

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signals += 1
        self.name = signal.Signals(signum).name
        if self.signals > 1:  # a second Ctrl-C: stop waiting for acknowledgements
            raise KeyboardInterrupt

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._handlers[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, handler in self._handlers.items():
            signal.signal(signum, handler)
        self._handlers.clear()


def fmt_int(n: float) -> str:
    """Brazilian thousands separator: 15000 -> '15.000'."""
    return f"{n:,.0f}".replace(",", ".")


def fmt_float(x: float, decimals: int = 1) -> str:
    """Brazilian decimal comma: 1234.5 -> '1.234,5'."""
    return f"{x:,.{decimals}f}".replace(",", "\0").replace(".", ",").replace("\0", ".")


def fmt_rate(rate: float) -> str:
    return fmt_int(rate) if rate >= 10 or rate == int(rate) else fmt_float(rate, 2)


class _Progress:
    def __init__(self, tracker: DeliveryTracker, interval_s: float) -> None:
        self.tracker = tracker
        self.interval_s = interval_s
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
            log.warning("O Kafka não confirmou nada nos últimos %.0f s; %s pedidos aguardam "
                        "(o produtor continua tentando por até %.0f s).", now - self.last_at,
                        fmt_int(t.pending), PRODUCER_CONFIG["delivery_timeout_ms"] / 1000)
        self.last_at, self.last_sent, self.last_acked = now, t.sent, t.acked
        self.next_at = now + self.interval_s


# Each send allocates a dozen objects, and its future lives until the broker acknowledges
# it, so the default threshold (700) starts thousands of collections a second that free
# next to nothing: raising it gave ~5% more orders/s at --rate 0 (bench/producer.py).
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


def send_orders(producer: KafkaProducer, topic: str, orders: Iterable[Order], *,
                count: int | None = None, rate: float = 0.0,
                stop: StopRequest | None = None,
                progress_interval_s: float = PROGRESS_INTERVAL_S,
                flush_timeout_s: float | None = None,
                sleep: Callable[[float], None] = time.sleep) -> Summary:
    """Send `count` orders (None: until `stop`) at `rate` per second (0: flat out), then flush."""
    orders = iter(orders)
    stop = stop or StopRequest()
    tracker = DeliveryTracker()
    progress = _Progress(tracker, progress_interval_s)
    pacer = Pacer(rate) if rate > 0 else None
    started = time.monotonic()
    sent = 0

    with _fewer_gc_passes():
        try:
            while not stop.requested and (count is None or sent < count):
                now = time.monotonic()
                progress.maybe_log(now)
                tracker.collect()
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
            if stop.requested:
                log.info("Sinal %s recebido: aguardando a confirmação de %s pedidos em trânsito "
                         "(Ctrl-C de novo para não esperar).", stop.name,
                         fmt_int(sent - tracker.acked - tracker.failed))
            producer.flush(timeout=flush_timeout_s)
        except KafkaError as error:  # the flush timed out
            log.error("Nem todos os pedidos foram confirmados a tempo: %s.", error)
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
    progress_interval_s: float = PROGRESS_INTERVAL_S
    producer_config: dict[str, Any] = field(default_factory=dict)


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
    ensure_topic(options.bootstrap_servers, options.topic)
    producer = create_producer(options.bootstrap_servers, **options.producer_config)
    try:
        # fetch the topic's metadata now, so that the first send does not wait for it
        # while the rate clock already runs
        producer.partitions_for(options.topic)
    except KafkaError as error:
        producer.close(timeout=1)
        raise UserError(
            f"O Kafka não informou as partições do tópico {options.topic}: {error}."
        ) from None
    stop = StopRequest()
    stop.install()
    try:
        what = f"{fmt_int(options.count)} pedidos" if options.count is not None else "pedidos"
        pace = (f"{fmt_rate(options.rate)} por segundo" if options.rate > 0
                else "o mais rápido possível")
        log.info("Enviando %s para o tópico %s em %s, %s%s.", what, options.topic,
                 options.bootstrap_servers, pace,
                 "" if options.count is not None else " (Ctrl-C para parar)")
        summary = send_orders(producer, options.topic, orders, count=options.count,
                              rate=options.rate, stop=stop,
                              progress_interval_s=options.progress_interval_s)
    finally:
        try:
            producer.close(timeout=5)
        except KeyboardInterrupt:
            pass
        stop.restore()
    log_summary(summary)
    return summary
