"""Tell the user when Kafka stops answering while the consumer runs, and when it is back.

Spark's Kafka source rides out an outage on its own: it keeps retrying and continues from
its checkpointed offsets once the broker answers again, losing nothing. It does so in
silence, though; this thread makes the wait visible.
"""

from __future__ import annotations

import logging
import threading

from vendas.kafka.admin import broker_reachable

log = logging.getLogger(__name__)


class BrokerWatch(threading.Thread):
    def __init__(self, bootstrap_servers: str, interval_s: float = 5.0):
        super().__init__(name="broker-watch", daemon=True)
        self.bootstrap_servers = bootstrap_servers
        self.interval_s = interval_s
        self._stopped = threading.Event()

    def run(self) -> None:
        reachable = True
        while not self._stopped.wait(self.interval_s):
            now = broker_reachable(self.bootstrap_servers)
            if reachable and not now:
                log.warning(
                    "O Kafka em %s não responde. O consumidor espera e, quando ele voltar, "
                    "continua de onde parou (nada se perde).", self.bootstrap_servers)
            elif now and not reachable:
                log.info("O Kafka em %s voltou a responder; continuando.", self.bootstrap_servers)
            reachable = now

    def stop(self) -> None:
        self._stopped.set()
