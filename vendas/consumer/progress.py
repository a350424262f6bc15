"""The consumer's health, batch after batch, from Spark's own query progress.

A StreamingQueryListener turns each progress event of the totals query into BatchFigures
(vendas.consumer.figures) and hands them to the reporters: one pt-BR log line, the batch
history in PostgreSQL (--banco) and the Prometheus metrics (--metricas-porta).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from pyspark.sql.streaming import StreamingQueryListener

from vendas.consumer.figures import BatchFigures, figures_from_progress
from vendas.terminal import visible

log = logging.getLogger(__name__)

Reporter = Callable[[BatchFigures], None]


class ProgressListener(StreamingQueryListener):
    """Feeds the reporters with each progress event of the query named `query_name`.

    Spark calls it on a thread of its own after each batch; a reporter that fails is logged
    and skipped, never allowed to stop the others or the query.
    """

    def __init__(self, query_name: str, reporters: list[Reporter]) -> None:
        self.query_name = query_name
        self.reporters = reporters
        self.last: BatchFigures | None = None
        self.terminated: set[str] = set()  # ids of the queries whose end was posted
        self._lock = threading.Lock()

    def onQueryStarted(self, event: Any) -> None:
        pass

    def onQueryProgress(self, event: Any) -> None:
        progress = event.progress
        if progress.name != self.query_name:
            return
        figures = figures_from_progress(progress)
        with self._lock:
            self.last = figures
        for report in self.reporters:
            try:
                report(figures)
            except Exception as error:  # noqa: BLE001 - a report must never stop the query
                log.warning("Falha ao relatar o lote %d (%s: %s).", figures.lote,
                            type(error).__name__, visible(str(error)))

    def onQueryIdle(self, event: Any) -> None:
        pass

    def onQueryTerminated(self, event: Any) -> None:
        with self._lock:
            self.terminated.add(str(event.id))

    def idle(self, query_ids: set[str], last_batch: int | None) -> bool:
        """Whether Spark has posted everything these stopped queries will post: the last
        batch's progress and each query's end (Python may stop listening then)."""
        with self._lock:
            return query_ids <= self.terminated and (
                last_batch is None or (self.last is not None and self.last.lote >= last_batch))
