"""The consumer's metrics in the Prometheus text format (--metricas-porta).

Two sources, each exposed as it is kept:
- the counts (orders, duplicates, rejections by reason, messages read), exactly once in the
  checkpoint: exposed as counters of their absolute values, so they survive restarts;
- Spark's figures of each micro-batch (vendas.consumer.progress): lag per partition, batch
  duration, rates, state size, the last batch.
Spark's own streaming metrics stay with Spark (its PrometheusServlet on the UI port, see
vendas.spark.session). Labels carry only our reason codes, the topic the user named and
partition numbers: nothing from a message (prometheus-client escapes label values anyway).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from vendas.pipeline.rules import REASONS
from vendas.pipeline.totals import Totals

if TYPE_CHECKING:
    from vendas.consumer.batch import BatchResult
    from vendas.consumer.figures import BatchFigures

DEFAULT_HOST = "127.0.0.1"
PREFIX = "vendas"
# Batch durations, in seconds: from a fast trigger to a backlog's large batches.
DURATION_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)


class _TotalsCollector(Collector):
    """The latest totals, read at each scrape."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: Totals | None = None
        self._batch: int | None = None

    def set(self, totals: Totals, batch_id: int) -> None:
        with self._lock:
            self._totals, self._batch = totals, batch_id

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        with self._lock:
            totals, batch = self._totals, self._batch
        if totals is None:
            return
        counters = (
            ("pedidos_contados", "Pedidos válidos contados (exatamente uma vez).", totals.pedidos),
            ("pedidos_duplicados", "Pedidos repetidos (mesmo id_ordem) ignorados.",
             totals.duplicadas),
            ("mensagens_lidas", "Mensagens lidas do tópico, pelos offsets processados.",
             totals.mensagens_lidas),
        )
        for name, doc, value in counters:
            yield CounterMetricFamily(f"{PREFIX}_{name}", doc, value=value)
        rejected = CounterMetricFamily(f"{PREFIX}_mensagens_rejeitadas",
                                       "Mensagens rejeitadas, por motivo.", labels=["motivo"])
        for reason in REASONS:  # every code, zeros included: rate() needs the series to exist
            rejected.add_metric([reason], totals.rejeitadas.get(reason, 0))
        yield rejected
        yield GaugeMetricFamily(f"{PREFIX}_diferenca_reconciliacao",
                                "Lidas menos contadas, repetidas e rejeitadas (0: fecha).",
                                value=totals.diferenca)
        yield GaugeMetricFamily(f"{PREFIX}_produtos", "Produtos distintos vendidos.",
                                value=totals.total_produtos)
        yield GaugeMetricFamily(f"{PREFIX}_ultimo_lote", "Último lote contado.", value=batch)


class Metrics:
    """The registry the HTTP endpoint serves, fed by the batches and by Spark's progress."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.registry = CollectorRegistry()
        self._totals = _TotalsCollector()
        self.registry.register(self._totals)
        self.lag = Gauge(f"{PREFIX}_atraso_mensagens",
                         "Mensagens do tópico ainda não lidas, por partição.",
                         ["topico", "particao"], registry=self.registry)
        self.lag_seconds = Gauge(f"{PREFIX}_atraso_segundos",
                                 "Tempo estimado para ler o atraso, na taxa atual.",
                                 registry=self.registry)
        self.duration = Histogram(f"{PREFIX}_lote_duracao_segundos",
                                  "Duração de cada lote.", buckets=DURATION_BUCKETS,
                                  registry=self.registry)
        self.input_rate = Gauge(f"{PREFIX}_taxa_entrada_por_segundo",
                                "Mensagens por segundo chegando ao tópico (último lote).",
                                registry=self.registry)
        self.processing_rate = Gauge(f"{PREFIX}_taxa_processamento_por_segundo",
                                     "Mensagens por segundo processadas (último lote).",
                                     registry=self.registry)
        self.state_memory = Gauge(f"{PREFIX}_estado_memoria_bytes",
                                  "Memória do estado do Spark (último lote).",
                                  registry=self.registry)
        self.state_disk = Gauge(f"{PREFIX}_estado_disco_bytes",
                                "Tamanho em disco do estado do Spark (último lote).",
                                registry=self.registry)
        self.last_batch_time = Gauge(f"{PREFIX}_ultimo_lote_timestamp_segundos",
                                     "Quando o último lote terminou (Unix).",
                                     registry=self.registry)

    def serve(self, port: int, host: str = DEFAULT_HOST) -> None:
        """Serve /metrics on host:port from a daemon thread."""
        start_http_server(port, addr=host, registry=self.registry)

    def write(self, batch: BatchResult) -> None:
        """A sink of the totals query: the counts after each batch."""
        self._totals.set(batch.totals, batch.batch_id)

    def show_totals(self, totals: Totals, batch_id: int | None) -> None:
        """The counts a run starts from (an earlier run's, in the checkpoint)."""
        if batch_id is not None:
            self._totals.set(totals, batch_id)

    def __call__(self, figures: BatchFigures) -> None:
        """A progress reporter: Spark's figures of each batch."""
        for key, behind in figures.atraso_por_particao.items():
            topic, _, partition = key.rpartition("/")
            self.lag.labels(topic or self.topic, partition).set(behind)
        if figures.duracao_ms is not None:
            self.duration.observe(figures.duracao_ms / 1000)
        for gauge, value in ((self.lag_seconds, figures.atraso_segundos),
                             (self.input_rate, figures.taxa_entrada),
                             (self.processing_rate, figures.taxa_processamento),
                             (self.state_memory, figures.memoria_estado_bytes),
                             (self.state_disk, figures.disco_estado_bytes)):
            if value is not None:  # Spark did not say: the last value stays
                gauge.set(value)
        self.last_batch_time.set_to_current_time()
