"""Sessions (projects): owned by an account, holding a timeline draft and assets (B-SESS-*, B-STATE-*)."""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from typing import Any

from mockserver.errors import session_not_found
from mockserver.state.accounts import Account


@dataclass(slots=True)
class Turn:
    """One `/run_sse` turn as the workspace page shows it: the message, the replies, the draft before
    and after. Drafts are never changed in place (`events.Apply`), so keeping them costs no copy;
    when turns overlap, `draft_after` also holds what the other turn changed meanwhile."""

    op_id: str
    text: str
    kind: str
    silent: bool
    replies: tuple[str, ...]
    started_at: float
    draft_before: dict[str, Any] | None
    draft_after: dict[str, Any] | None = None
    finished_at: float | None = None
    failed: str | None = None


@dataclass(slots=True)
class Session:
    """One project: its draft and assets persist between messages (B-SESS-08)."""

    session_id: str
    task_id: str
    task_name: str
    language: str | None
    owner: str
    created_at: float
    draft: dict[str, Any] | None = None  # U-17: null before anything is generated
    video_infos: list[dict[str, Any]] = field(default_factory=list)
    generated_media: list[dict[str, Any]] = field(default_factory=list)
    video_analyses: list[dict[str, Any]] = field(default_factory=list)
    turns: int = 0
    running: int = 0  # operations in progress (U-11: several may run at once)
    history: list[Turn] = field(default_factory=list)  # the turns, oldest first

    def canvas_config(self) -> dict[str, Any]:
        meta = (self.draft or {}).get("m") or {}
        width = int(meta.get("width") or 1920)
        height = int(meta.get("height") or 1080)
        ratio = "9:16" if height > width else ("1:1" if height == width else "16:9")
        return {"width": width, "height": height, "aspect_ratio": ratio}

    def state(self) -> dict[str, Any]:
        """`data.state` of the state endpoint (B-STATE-02/03)."""
        return {
            "draft": copy.deepcopy(self.draft),
            "video_infos": copy.deepcopy(self.video_infos),
            "canvas_config": self.canvas_config(),
            "video_analyses": copy.deepcopy(self.video_analyses),
            "generated_media": copy.deepcopy(self.generated_media),
        }


@dataclass(slots=True)
class Sessions:
    rng: random.Random
    sessions: dict[str, Session] = field(default_factory=dict)

    def create(self, owner: Account, task_name: str, language: str | None, now: float) -> Session:
        while True:
            # B-SESS-03: numeric-string session ids like 5529798706024415232.
            session_id = str(self.rng.randrange(10**18, 10**19))
            if session_id not in self.sessions:
                break
        task_id = "task_" + "".join(self.rng.choice("0123456789abcdef") for _ in range(16))
        session = Session(session_id, task_id, task_name, language, owner.user_id, now)
        self.sessions[session_id] = session
        return session

    def owned(self, account: Account, session_id: object) -> Session:
        """The session if `account` owns it; otherwise 1002, as if it did not exist (U-16)."""
        session = self.sessions.get(session_id) if isinstance(session_id, str) else None
        if session is None or session.owner != account.user_id:
            raise session_not_found(session_id)
        return session
