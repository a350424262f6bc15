"""The benchmarks' scratch directory."""

from __future__ import annotations

from bench.runner import scratch_dir


def test_a_missing_work_dir_is_created_and_only_the_scratch_inside_it_removed(tmp_path):
    parent = tmp_path / "ainda" / "nao" / "existe"
    with scratch_dir("bench-teste-", parent) as work:
        assert work.parent == parent and work.is_dir()
        (work / "checkpoint").mkdir()
    assert parent.is_dir() and not work.exists()
