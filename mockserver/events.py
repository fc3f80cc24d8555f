"""What a `/run_sse` turn is made of, before it is put on the wire in one dialect or another.

The scripted agent (`mockserver.agent`) plans a turn as a list of steps; the operation runner
(`mockserver.operations`) executes them against a session and turns them into `StreamEvent`s;
`mockserver.wire` encodes each event for the documented dialect (B-SSE-04/05/06) or as ADK
Event objects (B-ADK-*).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

# ---------------------------------------------------------------------------- stream events


@dataclass(frozen=True, slots=True)
class Text:
    """A text reply of the backend agent (B-SSE-05)."""

    content: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """The backend calls a tool (B-SSE-05, B-SSE-07)."""

    name: str
    args: dict[str, Any]
    call_id: str


@dataclass(frozen=True, slots=True)
class ToolResult:
    """A tool finished (B-SSE-05)."""

    name: str
    result: dict[str, Any]
    call_id: str


HeartbeatForm = Literal["json", "empty", "comment"]


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A keep-alive (B-SSE-06): `{"type":"heartbeat"}`, an empty `data:` or a comment line."""

    form: HeartbeatForm = "json"


@dataclass(frozen=True, slots=True)
class RunError:
    """A run that fails inside the stream (ADK: `{"error": ...}`, B-ADK-06)."""

    message: str


StreamEvent = Text | ToolCall | ToolResult | Heartbeat | RunError

# ---------------------------------------------------------------------------- plan steps


@dataclass(frozen=True, slots=True)
class Say:
    """Emit a text event."""

    text: str
    trailing_noise: bool = False  # the "I encountered a temporary issue" tail (B-SSE-12)


@dataclass(frozen=True, slots=True)
class Call:
    """Emit a tool_call event."""

    name: str
    args: dict[str, Any]
    call_id: str


@dataclass(frozen=True, slots=True)
class Result:
    """Emit a tool_result event."""

    name: str
    result: dict[str, Any]
    call_id: str


@dataclass(frozen=True, slots=True)
class Work:
    """Spend `seconds` of virtual time; the runner sends heartbeats meanwhile (B-SSE-06, B-SSE-10)."""

    seconds: float


DraftChange = Callable[[dict[str, Any] | None], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Apply:
    """Change the session's draft: `change(old_draft)` returns the new draft (never mutates)."""

    change: DraftChange
    label: str
    generated_media: tuple[dict[str, Any], ...] = field(default=())


Step = Say | Call | Result | Work | Apply
