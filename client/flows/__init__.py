"""The skill's workflows on top of the client: setup, chat, credits, status, upload and export.

`Skill` (blocking, on `Client`) and `AsyncSkill` (asyncio, on `AsyncClient`) run the same
sans-I/O workflows (`client.flows.steps`); each request ends in an `Outcome` of typed `Message`s.
"""

from __future__ import annotations

from client.remedies import Failure

from .context import USE_PROFILE, SkillContext
from .language import detect_language, limit_notes, looks_like_question
from .messages import Message, MessageKind, Outcome
from .reader import StreamReader
from .skill import AsyncSkill, Skill, SkillFlows

__all__ = [
    "USE_PROFILE",
    "AsyncSkill",
    "Failure",
    "Message",
    "MessageKind",
    "Outcome",
    "Skill",
    "SkillContext",
    "SkillFlows",
    "StreamReader",
    "detect_language",
    "limit_notes",
    "looks_like_question",
]
