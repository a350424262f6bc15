"""The rule table and the malformed corpus: every reason has a rule and a message that gives it."""

from __future__ import annotations

from tests.support.corpus import MALFORMED
from vendas.pipeline.rules import RULES
from vendas.pipeline.transforms import REASONS


def test_corpus_covers_at_least_20_kinds_and_every_reason():
    assert len(MALFORMED) >= 20
    assert {reason for _, _, reason in MALFORMED} == set(REASONS)


def test_reasons_come_from_the_rule_table_in_its_order():
    assert list(REASONS) == [rule.reason for rule in RULES]
    assert len(set(REASONS)) == len(RULES) >= 22
    assert all(REASONS.values())
