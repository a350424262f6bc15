"""The one error a benchmark raises for a run that must not pass silently."""


class BenchmarkError(Exception):
    """Wrong totals, a failed query or process, a topic not ready: the run fails (exit 1)."""
