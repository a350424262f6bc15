"""The local Spark cluster's stop: every worker it started, whatever --workers says now."""

from __future__ import annotations

import subprocess

from localdev.processes import pid_alive
from localdev.spark import LocalSpark


def test_down_stops_the_workers_an_earlier_up_started_beyond_the_count(tmp_path):
    # a stand-in for worker 3 of an earlier `up --workers 3`: a process in its own session
    worker = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        (tmp_path / "worker-3.pid").write_text(f"{worker.pid}\n")
        (tmp_path / "worker-x.pid").write_text("1\n")  # not a worker's PID file: left alone
        assert LocalSpark(tmp_path, workers=2).down(timeout_s=5) is True
        assert worker.wait(timeout=5) is not None
        assert not pid_alive(worker.pid)
        assert not (tmp_path / "worker-3.pid").exists()
        assert (tmp_path / "worker-x.pid").exists()
    finally:
        worker.kill()
        worker.wait()
