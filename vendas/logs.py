"""Logging set-up shared by the entry points: one line per event, time first."""

from __future__ import annotations

import logging


def setup_logging(verbose: bool = False, quiet: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    # kafka-python logs every reconnect attempt at WARNING/ERROR; our own messages say it once.
    logging.getLogger("kafka").setLevel(logging.CRITICAL if not verbose else logging.INFO)
    # py4j logs a traceback for every interrupted call while Spark stops; real failures
    # reach us as query exceptions and are reported in one sentence.
    logging.getLogger("py4j").setLevel(logging.WARNING if verbose else logging.CRITICAL)
