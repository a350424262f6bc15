"""The consumer's wait and stop (vendas.consumer.app) with stand-ins for Spark: what they wait
for, and what they leave to the caller."""

from __future__ import annotations

import time
from types import SimpleNamespace

from pyspark.errors import StreamingQueryException

from vendas.consumer.app import RunningConsumer, _wait
from vendas.consumer.progress import ProgressListener
from vendas.signals import StopSignals


class StoppedQuery:
    """A query whose stop posts its end at once, as Spark does, to the listener."""

    def __init__(self, listener: ProgressListener) -> None:
        self.id, self.name, self.isActive = "q1", "pedidos", True
        self.status = {"isTriggerActive": True}
        self._listener = listener

    def stop(self) -> None:
        self.isActive = False
        self._listener.onQueryTerminated(SimpleNamespace(id=self.id))


def _spark(removed: list) -> SimpleNamespace:
    return SimpleNamespace(streams=SimpleNamespace(removeListener=removed.append),
                           conf=SimpleNamespace(get=lambda key: "3s"))


def test_a_stop_before_this_runs_first_batch_does_not_wait_for_a_progress_event():
    # restarted on a checkpoint whose last batch was 10: no batch of this run has ended
    listener = ProgressListener("pedidos", [])
    removed: list = []
    running = RunningConsumer(_spark(removed), [StoppedQuery(listener)],
                              SimpleNamespace(processed=None, last_batch=10), listener)
    started = time.monotonic()
    running.stop(batch_timeout_s=0)
    assert time.monotonic() - started < 2  # it waited 5 s for batch 10's progress
    assert removed == [listener]


def test_a_query_that_does_not_stop_in_time_is_left_to_the_process_end(caplog):
    listener = ProgressListener("pedidos", [])
    query = StoppedQuery(listener)

    def timed_out() -> None:
        raise RuntimeError("failed to stop within 3000 milliseconds")

    query.stop = timed_out
    removed: list = []
    running = RunningConsumer(_spark(removed), [query], SimpleNamespace(processed=4), listener)
    started = time.monotonic()
    running.stop(batch_timeout_s=0)
    assert time.monotonic() - started < 2
    assert removed == [listener]
    assert "A consulta pedidos não parou em 3s" in caplog.text


def test_a_query_that_fails_while_waited_for_is_left_to_the_caller():
    # it was active when looked at, and failed before awaitTermination returned: the caller
    # turns q.exception() into one sentence; a traceback must not escape here
    class FailingQuery:
        isActive = True

        def awaitTermination(self, timeout_s: float) -> None:
            raise StreamingQueryException("[STREAM_FAILED] STATE_STORE_KEY_SCHEMA_NOT_COMPATIBLE")

    _wait([FailingQuery()], StopSignals(), all_must_finish=True)
