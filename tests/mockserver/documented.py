"""Documented examples as data: reading `fixtures/examples/*.yaml` and comparing documented
response examples with the mock's answers.

A documented response is a subset of the answer: the same keys with the same JSON types, and equal
values wherever the example gives a real value. Placeholders are not compared for equality:

- strings holding `xxx`, `abc123`, `...` or `<...>` match any string of the same form
  (`nmv_usr_xxx` matches `nmv_usr_` followed by anything);
- bare `XXX` (`"available":XXX`) stands for a number, `{...}` for an object, a trailing `,...}`
  for further keys;
- an example's `vary` names the paths whose values only illustrate (an example date, an example
  id); there only the type is compared, and the form too where `vary` gives a regular expression.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: Markers that make a documented string a placeholder.
PLACEHOLDER_MARKERS = re.compile(r"x{3,}|X{2,}|abc123|\.\.\.|<[^<>]+>")


class Wildcard:
    """A documented stand-in: `{...}` (an object) or a bare `XXX` (a number)."""

    def __init__(self, kind: type | tuple[type, ...], name: str) -> None:
        self.kind = kind
        self.name = name

    def __repr__(self) -> str:
        return self.name


ANY_OBJECT = Wildcard(dict, "{...}")
ANY_NUMBER = Wildcard((int, float), "XXX")
_SENTINELS = {"\x00object": ANY_OBJECT, "\x00number": ANY_NUMBER}


def documented_json(text: str) -> Any:
    """Parse a JSON example as sources write it: with `...`, `{...}` and bare `XXX` in it."""
    prepared = re.sub(r"\{\s*\.\.\.\s*\}", '"\\\\u0000object"', text)
    prepared = re.sub(r",\s*\.\.\.\s*(?=[}\]])", "", prepared)
    prepared = re.sub(r"(?<=[:\[,])(\s*)X+(?=\s*[,}\]])", '\\1"\\\\u0000number"', prepared)
    return _restore(json.loads(prepared))


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    if isinstance(value, str) and value in _SENTINELS:
        return _SENTINELS[value]
    return value


def placeholder_form(example: str) -> re.Pattern[str] | None:
    """The form a placeholder string stands for (`nmv_usr_xxx` -> `nmv_usr_.+`), or None."""
    parts = PLACEHOLDER_MARKERS.split(example)
    if len(parts) == 1:
        return None
    return re.compile(".+".join(re.escape(part) for part in parts), re.DOTALL)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string"}.get(type(value), type(value).__name__)


def mismatches(
    expected: Any, actual: Any, vary: dict[str, str | None] | None = None, at: str = ""
) -> list[str]:
    """Where `actual` fails to hold the documented `expected` (empty: it holds it)."""
    vary = vary or {}
    where = at or "(top)"
    if isinstance(expected, Wildcard):
        kinds = expected.kind if isinstance(expected.kind, tuple) else (expected.kind,)
        if isinstance(actual, bool) or not isinstance(actual, kinds):
            return [f"{where}: documented {expected!r}, got {_kind(actual)} {actual!r}"]
        return []
    if _kind(expected) != _kind(actual):
        return [f"{where}: documented {_kind(expected)} {expected!r}, got {_kind(actual)} {actual!r}"]
    if isinstance(expected, dict):
        problems = []
        for key, value in expected.items():
            path = f"{at}.{key}" if at else key
            if key not in actual:
                problems.append(f"{path}: documented key missing (keys: {sorted(actual)})")
            else:
                problems += mismatches(value, actual[key], vary, path)
        return problems
    if isinstance(expected, list):
        if len(actual) < len(expected):
            return [f"{where}: documented {len(expected)} item(s), got {len(actual)}"]
        problems = []
        for index, value in enumerate(expected):
            problems += mismatches(value, actual[index], vary, f"{at}[{index}]")
        return problems
    if at in vary:
        form = vary[at]
        if form is not None and not re.fullmatch(form, str(actual)):
            return [f"{where}: {actual!r} is not of the documented form {form!r}"]
        return []
    if isinstance(expected, str):
        pattern = placeholder_form(expected)
        if pattern is not None:
            return (
                [] if pattern.fullmatch(actual) else [f"{where}: {actual!r} is not of the form {expected!r}"]
            )
    if expected != actual:
        return [f"{where}: documented {expected!r}, got {actual!r}"]
    return []


def lookup(document: Any, path: str) -> tuple[bool, Any]:
    """(found, value) at a dotted path such as `data.state.draft`."""
    node = document
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return False, None
        node = node[key]
    return True, node


# ---------------------------------------------------------------------------- the example files


@dataclass(frozen=True)
class Source:
    document: str
    version: str | None
    section_prefix: str
    where: str | None


@dataclass(frozen=True)
class Example:
    """One documented example with the setting it documents."""

    file: str
    source: Source
    name: str
    section: str
    setting: dict[str, Any]
    spec: dict[str, Any] = field(repr=False)

    @property
    def id(self) -> str:
        return f"{Path(self.file).stem}:{self.name}"

    @property
    def kind(self) -> str:
        for kind in ("curl", "http", "table"):
            if kind in self.spec:
                return kind
        raise ValueError(f"{self.id}: no curl, http or table")

    def get(self, key: str, default: Any = None) -> Any:
        return self.spec.get(key, default)


def load_examples(directory: Path) -> list[Example]:
    """Every example of every file, in document order; the file's setting merged into each."""
    examples = []
    for path in sorted(directory.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        meta = document["source"]
        source = Source(
            document=meta["document"],
            version=None if meta.get("version") is None else str(meta["version"]),
            section_prefix=meta.get("section_prefix", ""),
            where=meta.get("where"),
        )
        for spec in document["examples"]:
            setting = {**document.get("setting", {}), **spec.get("setting", {})}
            examples.append(Example(path.name, source, spec["name"], spec["section"], setting, spec))
    return examples


def responses_in_comments(shell: str) -> list[str]:
    """The `# → ...` answers a source writes under its curl lines."""
    return [m.group(1).strip() for m in re.finditer(r"^\s*#\s*→\s*(.+)$", shell, re.MULTILINE)]


def sse_events(body: str) -> list[str]:
    """The data of each event of a documented-dialect stream (an event: `data:` lines, a blank line)."""
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in block.split("\n") if line]
        if not lines:
            continue
        bad = [line for line in lines if not line.startswith("data:")]
        if bad:
            raise ValueError(f"not a data: line in the stream: {bad[0]!r}")
        events.append("\n".join(line[len("data:") :].strip() for line in lines))
    return events


def table_rows(table: str) -> list[list[str]]:
    """The body rows of a Markdown table, cells stripped (header and rule rows left out)."""
    rows = []
    for line in table.strip().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if all(re.fullmatch(r":?-{3,}:?", cell) for cell in cells if cell):
            continue
        rows.append(cells)
    return rows[1:]  # the first row is the header
