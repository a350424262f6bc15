"""docs/contrato.md's reason table is RULES: the same codes and descriptions, in RULES order."""

from __future__ import annotations

from tests.support import REPO_ROOT
from vendas.pipeline.rules import RULES

CONTRACT_DOC = REPO_ROOT / "docs" / "contrato.md"
START, END = "<!-- motivos:inicio -->", "<!-- motivos:fim -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")  # a pipe inside a cell would split it


def test_reason_table_in_the_contract_doc_is_rules_in_order():
    text = CONTRACT_DOC.read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(END) == 1, "markers missing or repeated"
    between = text.split(START, 1)[1].split(END, 1)[0]
    table = [line.strip() for line in between.splitlines() if line.strip()]
    expected = [
        "| motivo | descrição |",
        "| --- | --- |",
        *(f"| `{rule.reason}` | {_cell(rule.description)} |" for rule in RULES),
    ]
    assert table == expected
