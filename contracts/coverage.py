"""Which rules of the behaviour catalogue the tests name: `python -m contracts.coverage`.

A rule counts as covered when a test file mentions its id (B-AREA-NN or U-NN) anywhere: in a
docstring, a comment or a string. Each mention is attributed to the test function around it.
A test naming an id that is not in the catalogue is an error (`unknown_ids_in_tests`), so a
typo cannot make a test look like it guards a rule. A file holding the line
`# rule-ids: catalogue-only` talks about the catalogue itself: its ids are still checked for
typos but do not count as coverage.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from contracts import BEHAVIOURS_PATH

#: A checkout's tests, relative to the working directory (run the report from the repository root).
TESTS_DIR = Path("tests")

#: The sides a rule can bind.
BINDS = ("server", "client", "both", "none")

#: A rule id as written anywhere: B-<AREA>-<NN> or U-<NN>.
RULE_ID = re.compile(r"(?<![\w-])(B-[A-Z]+-\d+|U-\d+)((?:/\d+)*)(?![\w/])")
#: The well-formed ids of the catalogue: two-digit numbers.
WELL_FORMED_ID = re.compile(r"B-[A-Z]+-\d{2}|U-\d{2}")

MODULE_LEVEL = "<module>"
#: A line marking a test file whose ids name catalogue entries, not behaviours it guards.
CATALOGUE_ONLY_MARK = "# rule-ids: catalogue-only"


@dataclass(frozen=True, slots=True)
class Rule:
    """One catalogue entry."""

    id: str
    area: str
    statement: str
    binds: str
    decision: str | None = None  # U-* only: what the twin does
    uncovered_reason: str | None = None  # why no test can check it


@dataclass(frozen=True, slots=True)
class Mention:
    """One rule id named in a test file."""

    file: str  # relative to the scanned root
    line: int
    rule_id: str
    test: str  # enclosing function (Class.method), or MODULE_LEVEL
    counts: bool = True  # False in catalogue-only files


class CatalogueError(ValueError):
    """behaviours.yaml is malformed."""


def area_of(rule_id: str) -> str:
    """The area an id belongs to: 'SSE' for B-SSE-09, 'U' for U-04."""
    return "U" if rule_id.startswith("U-") else rule_id.split("-")[1]


def load_catalogue(path: Path = BEHAVIOURS_PATH) -> tuple[dict[str, str], dict[str, Rule]]:
    """The area titles and the rules of behaviours.yaml, both in file order."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise CatalogueError(f"{path}: expected a mapping with a `rules` list")
    areas = {str(k): str(v) for k, v in (data.get("areas") or {}).items()}
    rules: dict[str, Rule] = {}
    for entry in data["rules"]:
        rule = _rule(entry, path)
        if rule.id in rules:
            raise CatalogueError(f"{path}: duplicate rule id {rule.id}")
        if rule.area not in areas:
            raise CatalogueError(f"{path}: {rule.id} is in area {rule.area!r}, which `areas` does not list")
        rules[rule.id] = rule
    return areas, rules


def load_behaviours(path: Path = BEHAVIOURS_PATH) -> dict[str, Rule]:
    """The rules of behaviours.yaml by id, in file order."""
    return load_catalogue(path)[1]


def _rule(entry: Any, path: Path) -> Rule:
    if not isinstance(entry, dict):
        raise CatalogueError(f"{path}: a rule must be a mapping, got {entry!r}")
    rule_id = entry.get("id")
    if not isinstance(rule_id, str) or not WELL_FORMED_ID.fullmatch(rule_id):
        raise CatalogueError(f"{path}: malformed rule id {rule_id!r}")
    unknown = set(entry) - {"id", "area", "statement", "binds", "decision", "uncovered_reason"}
    if unknown:
        raise CatalogueError(f"{path}: {rule_id} has unknown keys {sorted(unknown)}")
    if entry.get("area") != area_of(rule_id):
        raise CatalogueError(
            f"{path}: {rule_id} has area {entry.get('area')!r}, expected {area_of(rule_id)!r}"
        )
    if entry.get("binds") not in BINDS:
        raise CatalogueError(f"{path}: {rule_id} binds {entry.get('binds')!r}, expected one of {BINDS}")
    for key in ("statement", "decision", "uncovered_reason"):
        value = entry.get(key)
        if (key == "statement" or value is not None) and (not isinstance(value, str) or not value.strip()):
            raise CatalogueError(f"{path}: {rule_id} needs a non-empty one-line {key}")
    return Rule(
        id=rule_id,
        area=entry["area"],
        statement=entry["statement"],
        binds=entry["binds"],
        decision=entry.get("decision"),
        uncovered_reason=entry.get("uncovered_reason"),
    )


# ---------------------------------------------------------------------------- scanning tests


def python_files(root: Path) -> list[Path]:
    """The Python files under root, in a stable order."""
    return sorted(p for p in root.rglob("*.py") if p.is_file())


def expand(first: str, more: str) -> list[str]:
    """`B-REN-01/05/13` names B-REN-01, B-REN-05 and B-REN-13; `U-01/03` names U-01 and U-03."""
    ids = [first]
    prefix = first.rsplit("-", 1)[0]
    ids += [f"{prefix}-{number}" for number in more.split("/") if number]
    return ids


def scan_mentions(root: Path | None = None) -> list[Mention]:
    """Every rule id named in the Python files under root (default: tests/)."""
    root = TESTS_DIR if root is None else Path(root)
    mentions: list[Mention] = []
    for path in python_files(root):
        source = path.read_text(encoding="utf-8", errors="replace")
        lines = source.splitlines()
        counts = not any(line.strip() == CATALOGUE_ONLY_MARK for line in lines)
        spans = _function_spans(source)
        relative = path.relative_to(root).as_posix()
        for number, line in enumerate(lines, start=1):
            for match in RULE_ID.finditer(line):
                test = _enclosing(spans, number)
                for rule_id in expand(match.group(1), match.group(2)):
                    mentions.append(Mention(relative, number, rule_id, test, counts))
    return mentions


def _function_spans(source: str) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function, decorators included."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    spans: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                    spans.append((first, child.end_lineno or child.lineno, name))
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def _enclosing(spans: Iterable[tuple[int, int, str]], line: int) -> str:
    inside = [(first, name) for first, last, name in spans if first <= line <= last]
    return max(inside)[1] if inside else MODULE_LEVEL  # the innermost starts last


def unknown_ids_in_tests(
    root: Path | None = None, rules: dict[str, Rule] | None = None
) -> list[tuple[str, int, str]]:
    """(file, line, id) for each id a test names that behaviours.yaml does not have."""
    known = load_behaviours() if rules is None else rules
    return [(m.file, m.line, m.rule_id) for m in scan_mentions(root) if m.rule_id not in known]


# ---------------------------------------------------------------------------- the report


def coverage_by_id(rules: dict[str, Rule], mentions: Iterable[Mention]) -> dict[str, list[Mention]]:
    """Each rule id with the mentions that cover it (an empty list: uncovered)."""
    by_id: dict[str, list[Mention]] = {rule_id: [] for rule_id in rules}
    for mention in mentions:
        if mention.counts and mention.rule_id in by_id:
            by_id[mention.rule_id].append(mention)
    return by_id


def report(
    areas: dict[str, str],
    rules: dict[str, Rule],
    mentions: Sequence[Mention],
    *,
    verbose: bool = False,
    area: str | None = None,
) -> list[str]:
    """The lines `python -m contracts.coverage` prints."""
    by_id = coverage_by_id(rules, mentions)
    shown = [a for a in areas if area is None or a == area]
    lines = ["Behaviour coverage: catalogue rule ids named by the tests", ""]
    covered_total = total = 0
    for name in shown:
        ids = [rule_id for rule_id, rule in rules.items() if rule.area == name]
        covered = sum(1 for rule_id in ids if by_id[rule_id])
        covered_total += covered
        total += len(ids)
        lines.append(f"{name:<6} {covered:>3}/{len(ids):<3} {areas[name]}")
    percent = 100.0 * covered_total / total if total else 0.0
    lines.append(f"{'TOTAL':<6} {covered_total:>3}/{total:<3} ({percent:.0f}%)")

    uncovered = [r for r in rules.values() if r.area in shown and not by_id[r.id]]
    if uncovered:
        lines += ["", f"Uncovered ({len(uncovered)}):"]
        for rule in uncovered:
            reason = rule.uncovered_reason or ("binds neither side" if rule.binds == "none" else "")
            lines.append(f"  {rule.id:<11} [{rule.binds}] {reason}".rstrip())
    if verbose:
        lines += ["", "Tests naming each rule:"]
        for rule in rules.values():
            if rule.area in shown and by_id[rule.id]:
                places = sorted({f"{m.file}::{m.test}" for m in by_id[rule.id]})
                lines.append(f"  {rule.id:<11} {', '.join(places)}")
    unknown = [m for m in mentions if m.rule_id not in rules and (area is None or area_of(m.rule_id) == area)]
    if unknown:
        lines += ["", "Ids named by tests but missing from the catalogue:"]
        lines += [f"  {m.file}:{m.line}: {m.rule_id}" for m in unknown]
    return lines


def _area_name(value: str) -> str:
    name = value.strip().upper().removeprefix("B-").rstrip("-")
    if not re.fullmatch(r"[A-Z]+", name):
        raise argparse.ArgumentTypeError(f"not an area: {value!r}")
    return name


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m contracts.coverage",
        description="Report which behaviour-catalogue rules the tests name.",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="list the tests naming each rule")
    parser.add_argument("--area", type=_area_name, help="only this area (e.g. SSE, B-SSE, U)")
    parser.add_argument("--tests", type=Path, default=TESTS_DIR, help="folder to scan (default: tests/)")
    args = parser.parse_args(argv)
    areas, rules = load_catalogue()
    if args.area is not None and args.area not in areas:
        parser.error(f"unknown area {args.area!r}; areas: {', '.join(areas)}")
    lines = report(areas, rules, scan_mentions(args.tests), verbose=args.verbose, area=args.area)
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
