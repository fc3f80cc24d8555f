"""The behaviour catalogue as data (contracts/behaviours.yaml) and the coverage report over tests.

These tests guard the catalogue itself, not the behaviours its rules describe; the ids below name
catalogue entries, so this file does not count towards coverage.
"""
# rule-ids: catalogue-only

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from checkout import PROJECT_DIR, TESTS_DIR
from contracts import BEHAVIOURS_PATH
from contracts.coverage import (
    BINDS,
    MODULE_LEVEL,
    WELL_FORMED_ID,
    CatalogueError,
    expand,
    load_behaviours,
    load_catalogue,
    report,
    scan_mentions,
    unknown_ids_in_tests,
)

#: Rules per area in the written catalogue; together they are its whole id set (numbered 01..N).
EXPECTED_COUNTS = {
    "ENV": 8,
    "AUTH": 22,
    "ATTR": 11,
    "SESS": 9,
    "SSE": 20,
    "ADK": 14,
    "UPL": 13,
    "CRED": 8,
    "STATE": 8,
    "REN": 19,
    "ERR": 6,
    "CLI": 27,
    "LINK": 2,
    "PROF": 7,
    "XD": 3,
    "U": 20,
}


def expected_ids() -> list[str]:
    ids = []
    for area, count in EXPECTED_COUNTS.items():
        prefix = "U-" if area == "U" else f"B-{area}-"
        ids += [f"{prefix}{n:02d}" for n in range(1, count + 1)]
    return ids


def test_catalogue_holds_exactly_the_documented_ids() -> None:
    """Catalogue: every id of the written catalogue is in behaviours.yaml, and nothing else."""
    rules = load_behaviours()
    assert len(rules) == sum(EXPECTED_COUNTS.values()) == 197
    assert list(rules) == expected_ids()
    assert Counter(rule.area for rule in rules.values()) == EXPECTED_COUNTS


def test_ids_are_unique_and_well_formed_in_the_raw_file() -> None:
    """Catalogue: the raw YAML list has no duplicate ids (a dict would hide them)."""
    raw = yaml.safe_load(BEHAVIOURS_PATH.read_text(encoding="utf-8"))
    ids = [entry["id"] for entry in raw["rules"]]
    assert len(ids) == len(set(ids))
    assert all(WELL_FORMED_ID.fullmatch(rule_id) for rule_id in ids)
    assert list(raw["areas"]) == list(EXPECTED_COUNTS)


def test_every_rule_has_a_one_line_statement_and_allowed_binds() -> None:
    """Catalogue: statements are single lines; binds is server, client, both or none."""
    for rule in load_behaviours().values():
        assert rule.binds in BINDS, rule.id
        assert rule.statement.strip() and "\n" not in rule.statement, rule.id
        assert rule.area == ("U" if rule.id.startswith("U-") else rule.id.split("-")[1])


def test_open_questions_carry_a_decision_and_rules_do_not() -> None:
    """Catalogue: each undocumented point (U-01 to U-20) records the twin's one-line decision."""
    for rule in load_behaviours().values():
        if rule.area == "U":
            assert rule.decision and "\n" not in rule.decision, rule.id
        else:
            assert rule.decision is None, rule.id


def test_history_and_other_dialects_bind_neither_side() -> None:
    """Catalogue: history and notes on other dialects bind neither the server nor the client."""
    rules = load_behaviours()
    for rule_id in ("B-XD-01", "B-XD-02", "B-XD-03", "B-LINK-01", "B-LINK-02", "B-ATTR-03", "B-ATTR-04"):
        assert rules[rule_id].binds == "none"
    assert rules["B-SSE-09"].binds == "server"
    assert rules["B-CLI-17"].binds == "client"


def test_decisions_the_mock_and_client_rely_on() -> None:
    """Catalogue: the recorded decisions say what the twin does (heartbeats, renders, noise text)."""
    rules = load_behaviours()
    assert "5 virtual seconds" in (rules["U-04"].decision or "")
    assert "HTTP 409" in (rules["U-14"].decision or "")
    assert rules["U-18"].decision == (
        'The text is "I encountered a temporary issue while processing your request. Please try again."'
    )
    assert rules["B-AUTH-17"].uncovered_reason
    assert rules["B-CLI-23"].uncovered_reason


def test_malformed_catalogue_is_rejected(tmp_path: Path) -> None:
    """Catalogue: a duplicate id or a bad binds value makes the catalogue fail to load."""
    rule = {"id": "U-01", "area": "U", "statement": "s", "binds": "server", "decision": "d"}
    duplicate = tmp_path / "dup.yaml"
    duplicate.write_text(yaml.safe_dump({"areas": {"U": "u"}, "rules": [rule, rule]}), encoding="utf-8")
    with pytest.raises(CatalogueError, match="duplicate"):
        load_behaviours(duplicate)
    bad_binds = tmp_path / "binds.yaml"
    bad_binds.write_text(
        yaml.safe_dump({"areas": {"U": "u"}, "rules": [{**rule, "binds": "mock"}]}), encoding="utf-8"
    )
    with pytest.raises(CatalogueError, match="binds"):
        load_behaviours(bad_binds)


# ---------------------------------------------------------------------------- coverage


def run_coverage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "contracts.coverage", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_coverage_command_prints_per_area_and_total_lines() -> None:
    """Coverage: `python -m contracts.coverage` exits 0 and prints covered/total per area and in all."""
    result = run_coverage()
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines() if line.strip()}
    for area, count in EXPECTED_COUNTS.items():
        assert rows[area].endswith(f"/{count}"), area
    assert rows["TOTAL"].endswith("/197")


def test_coverage_counts_guards_and_attributes_them_verbosely(tmp_path: Path) -> None:
    """Coverage: --verbose lists the test naming each id, --area limits the report to one area."""
    (tmp_path / "test_stream.py").write_text(
        'def test_silent_edit() -> None:\n    """Guards B-SSE-09 and B-SSE-12."""\n', encoding="utf-8"
    )
    result = run_coverage("--verbose", "--area", "B-SSE", "--tests", str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert next(line for line in lines if line.startswith("SSE")).split()[1] == "2/20"
    assert next(line for line in lines if line.startswith("TOTAL")).split()[1] == "2/20"
    assert not any(line.startswith("AUTH") for line in lines)
    assert any(line.split()[:2] == ["B-SSE-09", "test_stream.py::test_silent_edit"] for line in lines)
    uncovered = result.stdout.split("Uncovered")[1].split("Tests naming")[0]
    assert "B-SSE-09" not in uncovered
    assert "B-SSE-10" in uncovered


def test_catalogue_only_files_are_checked_but_do_not_count(tmp_path: Path) -> None:
    """Coverage: ids in a catalogue-only file do not cover rules, yet are still checked for typos."""
    mark = "# rule-ids: " + "catalogue-only"
    unknown = "B-" + "SSE-99"  # spelled in two parts so this file itself stays clean
    (tmp_path / "test_meta.py").write_text(f'{mark}\nIDS = ["B-SSE-09", "{unknown}"]\n', encoding="utf-8")
    areas, rules = load_catalogue()
    mentions = scan_mentions(tmp_path)
    assert [m.counts for m in mentions] == [False, False]
    lines = report(areas, rules, mentions, area="SSE")
    assert lines[2].split()[1] == "0/20"
    assert unknown_ids_in_tests(root=tmp_path) == [("test_meta.py", 2, unknown)]


def test_uncovered_rules_show_their_reason() -> None:
    """Coverage: the report gives the reason a rule cannot be covered."""
    areas, rules = load_catalogue()
    lines = report(areas, rules, [], area="AUTH")
    assert any(line.strip().startswith("B-AUTH-17") and "web UI" in line for line in lines)
    assert lines[-1].strip().startswith("B-AUTH-22")


def test_no_test_names_an_unknown_id() -> None:
    """Coverage: every rule id named anywhere under tests/ exists in the catalogue."""
    assert unknown_ids_in_tests(TESTS_DIR) == []


def test_unknown_id_check_catches_a_planted_id(tmp_path: Path) -> None:
    """Coverage: a test naming an id missing from the catalogue is reported with file and line."""
    planted = "B-" + "NOPE-01"  # spelled in two parts so this file itself stays clean
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "test_planted.py").write_text(
        'def test_x() -> None:\n    """Guards B-SSE-09."""\n\n\n'
        f'def test_y() -> None:\n    """{planted}"""\n',
        encoding="utf-8",
    )
    assert unknown_ids_in_tests(root=tmp_path) == [("sub/test_planted.py", 6, planted)]


def test_mentions_are_attributed_to_the_enclosing_test(tmp_path: Path) -> None:
    """Coverage: a mention counts for the innermost function around it, or the module."""
    (tmp_path / "test_attr.py").write_text(
        '"""Module on U-04."""\n'
        "import pytest\n\n\n"
        "class TestStream:\n"
        "    @pytest.mark.parametrize('rule', ['B-SSE-06'])\n"
        "    def test_heartbeats(self, rule: str) -> None:\n"
        "        # B-SSE-09 as well\n"
        "        assert rule\n",
        encoding="utf-8",
    )
    found = {(m.rule_id, m.test, m.line) for m in scan_mentions(tmp_path)}
    assert found == {
        ("U-04", MODULE_LEVEL, 1),
        ("B-SSE-06", "TestStream.test_heartbeats", 6),
        ("B-SSE-09", "TestStream.test_heartbeats", 8),
    }


def test_slash_lists_name_every_id(tmp_path: Path) -> None:
    """Coverage: `B-REN-01/05/13` names three rules, and each of them is checked against the catalogue."""
    assert expand("B-REN-01", "/05/13") == ["B-REN-01", "B-REN-05", "B-REN-13"]
    assert expand("U-01", "/03") == ["U-01", "U-03"]
    (tmp_path / "test_slash.py").write_text(
        'def test_x() -> None:\n    """Guards B-SSE-09/10 and B-REN-01/' + "99" + '."""\n', encoding="utf-8"
    )
    planted = "B-REN-" + "99"  # spelled in two parts so this file itself stays clean
    ids = {m.rule_id for m in scan_mentions(tmp_path)}
    assert ids == {"B-SSE-09", "B-SSE-10", "B-REN-01", planted}
    assert unknown_ids_in_tests(root=tmp_path) == [("test_slash.py", 2, planted)]
