"""The stop policy of every long-running entry point (producer, consumer, demo).

The first Ctrl-C or SIGTERM asks for a clean stop, which the work loop sees at its next
boundary (the producer flushes, the consumer stops between batches); the second one
interrupts at once with KeyboardInterrupt. Handlers are installed only in the main thread,
the one Python delivers signals to.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """A context manager: inside it, SIGINT/SIGTERM set `requested` instead of raising."""

    def __init__(self, on_request: Callable[[str], None] | None = None) -> None:
        self.on_request = on_request
        self.name = ""  # the first signal's name, e.g. "SIGINT"
        self.interrupt_next = False  # True: even the first signal interrupts (only waiting now)
        self._requested = threading.Event()
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    def request(self, name: str = "") -> None:
        """Ask for a stop as a signal would (used by tests and by callers' own policies)."""
        self.name = self.name or name
        self._requested.set()

    def wait(self, timeout_s: float) -> bool:
        """Sleep up to `timeout_s`, waking up when a stop is requested; True if requested."""
        return self._requested.wait(timeout_s)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested or self.interrupt_next:
            raise KeyboardInterrupt
        self.request(signal.Signals(signum).name)
        if self.on_request is not None:
            self.on_request(self.name)

    def __enter__(self) -> StopSignals:  # noqa: PYI034 (Self needs Python 3.11)
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._handle) for sig in STOP_SIGNALS}
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
