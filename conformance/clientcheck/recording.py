"""What one run of a client against a world leaves behind: the recorded interaction.

The properties judge only this (and the world): the requests the client sent with the world's
answers (`Exchange`, recorded on the server side, so any client implementation can be judged),
the lines it showed the user, and how it ended. In-process runs also know the client's clock
at every request (`at`), which makes the documented waits checkable; a subprocess or a callable
keeps its clock to itself, and `at` stays None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and the world's answer.

    `code` is the answer's business code or error status (0 for a success); `fault` marks an
    injected error; `tag` says what the answer showed: `stream`/`refused` for `/run_sse`,
    `before`/`after` for a state read, the render status for submit and poll, `file`/`missing`
    for a download.
    """

    route: str
    method: str
    path: str
    status: int
    code: int = 0
    fault: bool = False
    tag: str = ""
    client_id: str | None = None
    body: Any = None
    at: float | None = None

    @property
    def succeeded(self) -> bool:
        return 200 <= self.status < 300 and self.code == 0 and self.tag != "refused"

    @property
    def message_text(self) -> str | None:
        """The user message a `/run_sse` body carries (B-SSE-02), if it is readable."""
        try:
            parts = self.body["new_message"]["parts"]
            return "".join(str(part.get("text", "")) for part in parts)
        except (KeyError, TypeError, AttributeError):
            return None

    @property
    def render_id(self) -> str | None:
        """The render id a submit body names or a poll/download path carries."""
        if self.route == "submit":
            value = self.body.get("id") if isinstance(self.body, dict) else None
            return value if isinstance(value, str) else None
        if self.route in ("poll", "cancel"):
            return self.path.removeprefix("/api/render/proxy/lambda/").removesuffix("/cancel")
        if self.route == "download":
            return self.path.removeprefix("/api/render/proxy/").removesuffix("/download")
        if self.route == "cdn":
            return self.path.rsplit("/", 1)[-1].removesuffix(".mp4")
        return None


@dataclass(frozen=True, slots=True)
class Interaction:
    """A client's whole answer to one world.

    `messages` are the lines the user saw, in order. `ok` is how the client says it ended (exit
    code 0, an Outcome without failure), None when it does not say; `crash` describes an
    exception, a traceback or a run that did not end in time.
    """

    exchanges: tuple[Exchange, ...]
    messages: tuple[str, ...]
    ok: bool | None = None
    crash: str | None = None

    @property
    def timed(self) -> bool:
        """Every request carries the client's clock time."""
        return bool(self.exchanges) and all(e.at is not None for e in self.exchanges)

    def on(self, route: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.route == route]

    def first_stream(self) -> int | None:
        """Index of the first `/run_sse` the world accepted with a stream."""
        return next((i for i, e in enumerate(self.exchanges) if e.route == "sse" and e.tag == "stream"), None)

    def after(self, index: int, route: str | None = None) -> list[Exchange]:
        return [e for e in self.exchanges[index + 1 :] if route is None or e.route == route]

    def says(self, pattern: re.Pattern[str]) -> bool:
        """Some message matches the compiled regex `pattern`."""
        return any(pattern.search(message) for message in self.messages)


def lines_of(texts: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Messages as the user sees them: one per non-blank line."""
    return tuple(line.strip() for text in texts for line in text.splitlines() if line.strip())
