"""The timeline drafts the scripted agent builds generated videos from (contracts/data/drafts).

`index.yaml` lists the drafts (file, description, keywords, exportable) and may name a
`fallback`. A prompt picks the first exportable draft, in list order, one of whose keywords
it holds as a substring. Index and drafts are read on first use and cached per directory;
tests pass their own directory.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from contracts.resources import DRAFTS_DIR
from mockserver.agent.timeline import video_segments

DEFAULT_DRAFTS_DIR = DRAFTS_DIR
INDEX_NAME = "index.yaml"


@dataclass(frozen=True, slots=True)
class DraftEntry:
    """One fixture draft as the index describes it."""

    name: str
    path: Path
    description: str
    keywords: tuple[str, ...]
    exportable: bool

    def load(self) -> dict[str, Any]:
        """A fresh copy of the draft (callers may change it)."""
        return copy.deepcopy(_read_draft(self.path))

    def matches(self, prompt: str) -> bool:
        """True when the lower-cased prompt holds one of the keywords as a substring."""
        lowered = prompt.lower()
        return any(keyword in lowered for keyword in self.keywords)

    def usable(self) -> bool:
        """Exportable and holding a video segment: something a generation can start from."""
        return self.exportable and self.path.is_file() and bool(video_segments(_read_draft(self.path)))


@dataclass(frozen=True, slots=True)
class DraftIndex:
    """The entries of `index.yaml` in list order, and the draft for prompts that match none."""

    entries: tuple[DraftEntry, ...] = ()
    fallback: str | None = None

    def get(self, name: str) -> DraftEntry | None:
        return next((entry for entry in self.entries if entry.name == name), None)

    def match(self, prompt: str) -> DraftEntry | None:
        """The first usable entry whose keywords the prompt mentions (the index's own rule)."""
        return next((entry for entry in self.entries if entry.matches(prompt) and entry.usable()), None)

    def fallback_entry(self) -> DraftEntry | None:
        entry = self.get(self.fallback) if self.fallback else None
        return entry if entry is not None and entry.usable() else None


@lru_cache(maxsize=64)
def _read_draft(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        draft: dict[str, Any] = json.load(handle)
    return draft


def _keywords(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = raw.split(",")
    return tuple(str(word).strip().lower() for word in raw or () if str(word).strip())


def _rows(document: Any) -> list[tuple[str | None, dict[str, Any]]]:
    """Index rows from a list, a `drafts:` key (list or mapping) or a name -> row mapping."""
    if isinstance(document, dict) and "drafts" in document:
        document = document["drafts"]
    if isinstance(document, list):
        return [(None, row) for row in document if isinstance(row, dict)]
    if isinstance(document, dict):
        return [(str(name), row) for name, row in document.items() if isinstance(row, dict)]
    return []


@lru_cache(maxsize=32)
def _load_index(drafts_dir: Path) -> DraftIndex:
    index_path = drafts_dir / INDEX_NAME
    if not index_path.is_file():
        return DraftIndex()
    document = yaml.safe_load(index_path.read_text(encoding="utf-8"))
    entries = []
    for name, row in _rows(document):
        file = row.get("file")
        if not file:
            continue
        entries.append(
            DraftEntry(
                name=str(row.get("name") or name or Path(str(file)).stem),
                path=drafts_dir / str(file),
                description=str(row.get("description") or ""),
                keywords=_keywords(row.get("keywords")),
                exportable=bool(row.get("exportable", True)),
            )
        )
    fallback = document.get("fallback") if isinstance(document, dict) else None
    return DraftIndex(tuple(entries), str(fallback) if fallback else None)


def load_draft_index(drafts_dir: Path | None = None) -> DraftIndex:
    """The index of `drafts_dir` (default `contracts/data/drafts`); empty when there is no index."""
    return _load_index((drafts_dir or DEFAULT_DRAFTS_DIR).resolve())


def draft_for_prompt(prompt: str, drafts_dir: Path | None = None) -> tuple[DraftEntry | None, bool]:
    """The fixture draft a generation starts from, and whether it matched by keyword.

    A prompt matching no keyword gets the index's `fallback` draft (matched False), or None
    when the index names none.
    """
    index = load_draft_index(drafts_dir)
    entry = index.match(prompt)
    if entry is not None:
        return entry, True
    return index.fallback_entry(), False
