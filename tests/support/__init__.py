"""Helpers every tier imports the same way (`from tests.support.kafka_io import ...`)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
