"""What a turn's plan is, and the pieces every kind of turn is planned with.

Plans are data (`mockserver.events` steps); the runner (`mockserver.operations`) executes them
against a session. A plan depends only on its inputs and the state of its `rng`, so a seeded
session replays byte for byte: each piece below draws from `rng` in the order it is called.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import Any

from contracts import wording
from mockserver.agent import texts
from mockserver.agent.intents import Edit, IntentKind, Language
from mockserver.agent.timeline import TEXT, bgm_track, text_kind, video_segments
from mockserver.events import Say, Step, Work

GENERATE_TOOL = wording.GENERATE_TOOL  # B-SSE-07
EDIT_TOOL = wording.EDIT_TOOL  # B-SSE-07
TEMPORARY_ISSUE_RATE = 0.1  # B-SSE-12: "now and then"; the rate is the mock's choice
DEFAULT_GENRES = ("lo-fi", "cinematic", "upbeat", "ambient", "piano")


@dataclass(frozen=True, slots=True)
class Plan:
    """The steps of one turn and how the runner bills it (generation_cost, edit_cost, or nothing)."""

    steps: tuple[Step, ...]
    kind: IntentKind
    chargeable: bool
    silent: bool  # the turn ends on a tool_result without any text (B-SSE-09)
    language: Language = "en"  # what the turn speaks, for texts added on its way (B-SSE-12)


def work(rng: random.Random, bounds: tuple[float, float]) -> Work:
    """Virtual time within a profile range (B-SSE-10)."""
    low, high = bounds
    return Work(round(min(high, max(low, rng.uniform(low, high))), 3))


def tail(rng: random.Random, language: Language) -> list[Step]:
    """Sometimes a harmless "temporary issue" text follows a normal reply (B-SSE-12, U-18)."""
    if rng.random() < TEMPORARY_ISSUE_RATE:
        return [Say(texts.TEMPORARY_ISSUE[language], trailing_noise=True)]
    return []


def operations(edits: tuple[Edit, ...] | list[Edit]) -> list[dict[str, Any]]:
    """The edit tool's `operations` argument for these edits (B-SSE-07)."""
    return [
        {"op": edit.op, "params": {k: copy.deepcopy(v) for k, v in edit.params.items() if v is not None}}
        for edit in edits
    ]


def existing_title(draft: dict[str, Any]) -> str | None:
    """The text of the draft's title track, else its `m.title`."""
    for track in draft.get("t", []):
        for seg in track.get("sg", []):
            if track.get("tt") == TEXT and text_kind(track, seg) == "title" and seg.get("m", {}).get("text"):
                return str(seg["m"]["text"])
    title = draft.get("m", {}).get("title")
    return str(title) if title else None


def resolve(edit: Edit, draft: dict[str, Any], rng: random.Random, prompt: str, language: Language) -> Edit:
    """Fill what the message left open with concrete values, so the Apply is fully determined."""
    params = dict(edit.params)
    if edit.op == "title" and not params.get("text"):
        names = [seg.get("m", {}).get("name") for seg in video_segments(draft)]
        subject = next((str(name) for name in names if name), texts.subject_of(prompt, language))
        params["text"] = existing_title(draft) or texts.title_for(prompt, language, subject)
    elif edit.op == "bgm" and not params.get("genre") and bgm_track(draft) is None:
        params["genre"] = rng.choice(DEFAULT_GENRES)
    return Edit(edit.op, params)
