"""The scripted backend agent: one classified message becomes the plan of one `/run_sse` turn.

A question is a text answer (free); a generation is two tool stages (`generation`, B-SSE-11); an
edit runs the edit tool when it changes the draft, and otherwise says why. Which edits end
without any text (B-SSE-09) is decided here, in `_applied_edit`, and nowhere else. Plans are data
(`mockserver.agent.plans`); a plan depends only on its inputs and the state of `rng`, so a seeded
session replays byte for byte.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from contracts.profiles import Profile
from mockserver.agent import texts
from mockserver.agent.describe import describe_changes, track_summary
from mockserver.agent.generation import plan_generation
from mockserver.agent.intents import Edit, Intent
from mockserver.agent.plans import EDIT_TOOL, GENERATE_TOOL, Plan, operations, resolve, tail, work
from mockserver.agent.timeline import apply_edit, apply_edits, has_content, same_content, unchanged_reason
from mockserver.events import Apply, Call, Result, Say, Step

__all__ = ["EDIT_TOOL", "GENERATE_TOOL", "SILENT_EDIT_RATE", "Plan", "plan_turn"]

SILENT_EDIT_RATE = 0.3  # B-SSE-09
#: Why an edit changed nothing, when the agent did the work of checking it (billed, B-SSE-15);
#: the other reasons (a moment past the end, a crop without a shape) are questions back (free).
BILLED_REASONS = frozenset({"present", "absent", "short"})

Skipped = list[tuple[str, dict[str, Any]]]


def plan_turn(
    intent: Intent,
    draft: dict[str, Any] | None,
    rng: random.Random,
    profile: Profile,
    *,
    new_id: Callable[[str], str],
    drafts_dir: Path | None = None,
) -> Plan:
    """The plan for one message; deterministic for a given `rng` state and `new_id` sequence."""
    if intent.kind == "question":
        return _plan_question(intent, draft, rng, profile)
    if intent.kind == "generate":
        return plan_generation(intent, draft, rng, profile, new_id, drafts_dir)
    return _plan_edit(intent, draft, rng, profile, new_id)


# ------------------------------------------------------------------------------ questions


def _plan_question(
    intent: Intent, draft: dict[str, Any] | None, rng: random.Random, profile: Profile
) -> Plan:
    summary = track_summary(draft, intent.language) if has_content(draft) else None
    steps: list[Step] = [
        work(rng, profile.text_reply_s),
        Say(texts.answer(intent.prompt, intent.language, rng, profile, summary)),
    ]
    steps += tail(rng, intent.language)
    return Plan(tuple(steps), "question", chargeable=False, silent=False, language=intent.language)


# ------------------------------------------------------------------------------ edits


def _plan_edit(
    intent: Intent,
    draft: dict[str, Any] | None,
    rng: random.Random,
    profile: Profile,
    new_id: Callable[[str], str],
) -> Plan:
    if draft is None or not has_content(draft):
        return _nothing_to_edit(intent, rng, profile)
    edits = tuple(resolve(edit, draft, rng, intent.prompt, intent.language) for edit in intent.edits)
    applied, skipped = _split_by_effect(draft, edits)
    if not applied:
        return _unchanged(intent, draft, skipped, rng, profile)
    return _applied_edit(intent, draft, applied, skipped, rng, profile, new_id)


def _nothing_to_edit(intent: Intent, rng: random.Random, profile: Profile) -> Plan:
    """No draft yet: a text-only answer, no tool, no charge."""
    steps: list[Step] = [work(rng, profile.text_reply_s), Say(texts.no_draft(intent.language, rng))]
    steps += tail(rng, intent.language)
    return Plan(tuple(steps), "edit", chargeable=False, silent=False, language=intent.language)


def _unchanged(
    intent: Intent, draft: dict[str, Any], skipped: Skipped, rng: random.Random, profile: Profile
) -> Plan:
    """Nothing would change: say why rather than run a tool that does nothing (never silent)."""
    billed = _billed(skipped)
    steps: list[Step] = [
        work(rng, profile.edit_s if billed else profile.text_reply_s),
        Say(texts.not_applied(intent.language, skipped, track_summary(draft, intent.language))),
    ]
    steps += tail(rng, intent.language)
    return Plan(tuple(steps), "edit", chargeable=billed, silent=False, language=intent.language)


def _applied_edit(
    intent: Intent,
    draft: dict[str, Any],
    applied: tuple[Edit, ...],
    skipped: Skipped,
    rng: random.Random,
    profile: Profile,
    new_id: Callable[[str], str],
) -> Plan:
    """The edit tool, the changed draft and, unless the turn is silent, a reply saying what changed."""
    call_id = new_id("call")
    preview = apply_edits(draft, applied)
    changes = describe_changes(draft, preview)
    steps: list[Step] = [
        Call(EDIT_TOOL, {"operations": operations(applied)}, call_id),
        work(rng, profile.edit_s),
        Apply(partial(apply_edits, edits=applied), label="edit"),
        Result(EDIT_TOOL, {"status": "success", "changes": changes}, call_id),
    ]
    # B-SSE-09: about 30% of edits end without text; an edit that changed the draft is the only
    # kind that may, and one that left part of the message undone always says so.
    silent = rng.random() < SILENT_EDIT_RATE and not skipped
    if not silent:
        summary = track_summary(preview, intent.language)
        reply = texts.edit_done(intent.language, rng, changes, summary)
        if skipped:
            reply += " " + texts.not_applied(intent.language, skipped, None)
        steps.append(Say(reply))
        steps += tail(rng, intent.language)
    return Plan(tuple(steps), "edit", chargeable=True, silent=silent, language=intent.language)


def _billed(skipped: Skipped) -> bool:
    """Whether edits that changed nothing were understood and checked (billed) or need the user."""
    return any(reason in BILLED_REASONS for reason, _ in skipped)


def _split_by_effect(draft: dict[str, Any], edits: tuple[Edit, ...]) -> tuple[tuple[Edit, ...], Skipped]:
    """The edits that change the draft (applied in order), and why each of the others does not."""
    applied: list[Edit] = []
    skipped: Skipped = []
    current = draft
    for edit in edits:
        after = apply_edit(current, edit)
        if same_content(current, after):
            skipped.append(unchanged_reason(current, edit))
        else:
            applied.append(edit)
            current = after
    return tuple(applied), skipped
