"""contracts/wording.py: one home for the words, tool names and codes both sides use
(B-SSE-07, B-SSE-12, B-ERR-01, U-01, U-18).

The mock, the client and client-check import these; where a copy stays on purpose (a document, a
checker that must not trust the mock's constants, a module another part owns) this test holds it
equal to the home, so a change in one place fails here instead of drifting.
"""

from __future__ import annotations

import ast
import json
import re

import pytest

import client.errors
import client.links
import contracts
import mockserver.errors
from checkout import PROJECT_DIR
from client.gui import is_temporary_issue_tail
from conformance.check import sse as checker_sse
from conformance.clientcheck import world
from conformance.clientcheck.properties import wording as clientcheck_wording
from contracts import wording
from contracts.coverage import load_behaviours
from mockserver import operations
from mockserver.agent import planner, texts

ROOT = PROJECT_DIR


def test_wording_imports_neither_side() -> None:
    """The home imports nothing from the mock or the client (it is what both read)."""
    tree = ast.parse((ROOT / "contracts" / "wording.py").read_text(encoding="utf-8"))
    imported = {
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {name for name in imported if name.split(".")[0] in {"mockserver", "client"}}


def test_every_side_reads_the_same_objects() -> None:
    """B-SSE-07, B-ERR-01, U-01, U-18: the mock, the client and client-check share the very objects."""
    assert planner.GENERATE_TOOL is world.GENERATION_TOOL is wording.GENERATE_TOOL
    assert planner.EDIT_TOOL is world.EDIT_TOOL is wording.EDIT_TOOL
    assert texts.TEMPORARY_ISSUE is operations.TEMPORARY_ISSUE is wording.TEMPORARY_ISSUE
    assert tuple(wording.TEMPORARY_ISSUE[lang] for lang in ("en", "zh")) == world.TEMPORARY_ISSUE_TEXTS
    assert clientcheck_wording.NOISE is wording.TEMPORARY_ISSUE_MENTION
    assert mockserver.errors.MAPPED_STATUS is wording.MAPPED_STATUS
    assert mockserver.errors.BUSINESS_CODES is wording.BUSINESS_CODES
    assert set(wording.BUSINESS_CODES) <= set(client.errors.ERRORS_BY_CODE)
    assert client.links.USER_TOKEN_PREFIX is wording.USER_TOKEN_PREFIX


@pytest.mark.parametrize("language", sorted(wording.TEMPORARY_ISSUE))
def test_the_noise_the_mock_sends_is_the_noise_clients_filter(language: str) -> None:
    """B-SSE-12, U-18: each wording opens like the documented text and every pattern finds it."""
    text = wording.TEMPORARY_ISSUE[language]  # type: ignore[index]
    assert wording.is_temporary_issue(text) and is_temporary_issue_tail(text)
    assert wording.TEMPORARY_ISSUE_MENTION.search(text)
    assert not wording.is_temporary_issue(f"Done. {text}")  # only a text that opens with it


def test_deliberate_copies_stay_equal() -> None:
    """Copies kept on purpose: the checker's tool names (it judges any server), the event schema,
    the catalogue and the README."""
    assert (checker_sse.GENERATE_TOOL, checker_sse.EDIT_TOOL) == (wording.GENERATE_TOOL, wording.EDIT_TOOL)
    schema = json.loads((contracts.SCHEMAS_DIR / "event-documented.schema.json").read_text(encoding="utf-8"))
    assert {wording.GENERATE_TOOL, wording.EDIT_TOOL} <= set(re.findall(r"[a-z_]+", json.dumps(schema)))
    decision = load_behaviours()["U-18"].decision or ""
    assert f'"{wording.TEMPORARY_ISSUE["en"]}"' in decision
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert all(f'"{text}"' in readme for text in wording.TEMPORARY_ISSUE.values())
