"""The scripted backend agent: classify a message, plan the turn, change the draft (B-SSE-*)."""

from __future__ import annotations

from mockserver.agent.describe import describe_changes, track_summary
from mockserver.agent.intents import Edit, EditOp, Intent, IntentKind, Language, classify
from mockserver.agent.library import DraftEntry, DraftIndex, draft_for_prompt, load_draft_index
from mockserver.agent.planner import EDIT_TOOL, GENERATE_TOOL, Plan, plan_turn
from mockserver.agent.timeline import apply_edit, apply_edits, same_content

__all__ = [
    "EDIT_TOOL",
    "GENERATE_TOOL",
    "DraftEntry",
    "DraftIndex",
    "Edit",
    "EditOp",
    "Intent",
    "IntentKind",
    "Language",
    "Plan",
    "apply_edit",
    "apply_edits",
    "classify",
    "describe_changes",
    "draft_for_prompt",
    "load_draft_index",
    "plan_turn",
    "same_content",
    "track_summary",
]
