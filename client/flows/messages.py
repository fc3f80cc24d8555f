"""What a workflow tells the user: typed messages, and how a whole request ended.

A workflow never prints. It emits `Message`s as it goes (the CLI prints them at once, tests read
them) and ends with an `Outcome`. No message carries a user token or raw JSON (B-CLI-21,
B-AUTH-22): every text passes `mask_secrets` on the way in. How a request failed is a `Failure`
of the remedy table (`client.remedies`), which also gives its exit code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from client.errors import mask_secrets
from client.remedies import Failure


class MessageKind(StrEnum):
    """What a line is for, so a front end can style or filter it."""

    STATUS = "status"  # setup and flow status: "Connecting...", "This may take a few minutes."
    PROGRESS = "progress"  # "⏳ Still working...", "⏳ Rendering ~30s", "⏳ 50%"
    REPLY = "reply"  # backend agent text after GUI translation (B-CLI-03/04)
    CHANGE = "change"  # a concrete change report: "✅ Title added: ..." (B-CLI-10/12)
    SUMMARY = "summary"  # the one-line track summary (B-STATE-06)
    SUGGESTION = "suggestion"  # next steps (B-CLI-12)
    NOTICE = "notice"  # honest limits, offers, auto-added tracks (B-CLI-11/22)
    CREDITS = "credits"  # the balance (B-CLI-13)
    UPLOAD = "upload"  # one stored file
    FILE = "file"  # the delivered video (B-CLI-14d)
    LINK = "link"  # the task detail link `?ct=` (B-CLI-19)
    ERROR = "error"  # one line naming the documented remedy (B-ERR-05)


@dataclass(frozen=True, slots=True)
class Message:
    """One line for the user; `path` is set on FILE messages, `code` on ERROR messages."""

    kind: MessageKind
    text: str
    path: Path | None = None
    code: int | None = None  # the business code or HTTP status behind an error

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", mask_secrets(self.text))


@dataclass(frozen=True, slots=True)
class Outcome:
    """Everything one request said, in order, and how it ended."""

    messages: tuple[Message, ...] = ()
    failure: Failure | None = None  # the category, and with it the exit code (client.remedies)

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def file(self) -> Path | None:
        """The delivered video, when the request produced one."""
        return next((m.path for m in reversed(self.messages) if m.kind is MessageKind.FILE), None)

    @property
    def error_code(self) -> int | None:
        """The code behind the last error message, if it had one."""
        return next((m.code for m in reversed(self.messages) if m.kind is MessageKind.ERROR), None)

    def texts(self, *kinds: MessageKind) -> list[str]:
        """The texts of the messages of `kinds` (all messages when none are given)."""
        return [m.text for m in self.messages if not kinds or m.kind in kinds]

    def __str__(self) -> str:
        return "\n".join(m.text for m in self.messages)
