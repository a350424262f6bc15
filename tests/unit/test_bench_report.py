"""How the consumer benchmark states a ratio against its target."""

from __future__ import annotations

import pytest

from bench.consumer import target_text


@pytest.mark.parametrize(("ratio", "target", "text"), [
    (0.67, 0.8, "0,67 (meta >= 0,8: NÃO atingida)"),
    (0.85, 0.8, "0,85 (meta >= 0,8: atingida)"),
    (0.4964, 0.5, "0,496 (meta >= 0,5: NÃO atingida)"),  # not a 0,50 that seems to meet it
    (0.79951, 0.8, "0,7995 (meta >= 0,8: NÃO atingida)"),
    (0.8, 0.8, "0,80 (meta >= 0,8: atingida)"),
])
def test_the_ratio_shows_the_decimals_its_verdict_needs(ratio, target, text):
    assert target_text(ratio, target) == text
