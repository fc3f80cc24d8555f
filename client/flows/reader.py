"""Reading one `/run_sse` stream for a chat user: what to show, when to nudge, when to give up.

`StreamReader` is fed one typed event at a time and answers the messages to show now. It keeps
what the chat flow needs afterwards: the GUI actions the texts asked for, whether the backend
generated a clip, whether a tool call is still open when the stream ends (a dropped stream),
and whether the 10-minute heartbeat timeout struck.

Rules it applies:

- texts are GUI-translated before they are shown (B-CLI-03/04); tool calls and results are never
  shown (B-CLI-04); an ADK streaming chunk (`partial`) is held until the final text arrives, which
  replaces it (B-ADK-05, B-ADK-13);
- a "temporary issue" text is held back: it is shown only if a normal text follows it, or if no
  normal text came at all (B-CLI-09, B-SSE-12);
- the end of a generation tool call means the raw clip exists: say so at once (B-CLI-11);
- an event that repeats the one before it exactly (not counting heartbeats) is the same event
  delivered twice, as a replaying proxy does: it is taken once (an ADK streaming chunk excepted);
- quiet time, the virtual seconds since the last event that was not a heartbeat, gives
  "⏳ Still working..." at every 2 minutes (B-CLI-06) and a timeout at 10 minutes (B-CLI-07).

How quiet time is measured: `max(clock time since the last real event, heartbeats since then x
heartbeat interval)`. The clock term is exact when the client's clock runs (ScaledClock with a
scale above 0, or a real backend at its own pace). At time scale 0 the client's clock stands still
while it reads, so the second term takes over: the backend sends a heartbeat every
`heartbeat_interval_s` virtual seconds (U-04, a profile setting the mock shares), so counting
them reads the backend's virtual time. Either way the notices and the timeout fire after the same
events at every scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from client.gui import GuiAction, is_temporary_issue_tail, translate
from client.sse import (
    ErrorEvent,
    HeartbeatEvent,
    StreamEvent,
    TextEvent,
    ToolCallEvent,
    ToolResultEvent,
)

from .messages import Message, MessageKind

#: B-CLI-06: a notice every 2 minutes of heartbeats only.
STILL_WORKING_EVERY_S = 120.0
#: B-CLI-07: 10 minutes of heartbeats only count as a timeout.
HEARTBEAT_TIMEOUT_S = 600.0
STILL_WORKING = "⏳ Still working..."
RAW_CLIP_READY = "🎬 Raw clip ready; the backend is now adding music, a title and effects."


def is_generation_tool(name: str) -> bool:
    """`generate_video_with_seedance` and kin (B-SSE-07): the raw-clip stage of B-SSE-11."""
    return "generate" in name.lower()


@dataclass(slots=True)
class StreamReader:
    """Feed it the events of one stream with the clock's time; it answers what to show."""

    heartbeat_interval_s: float
    started_at: float
    notice_every_s: float = STILL_WORKING_EVERY_S
    timeout_s: float = HEARTBEAT_TIMEOUT_S
    actions: list[GuiAction] = field(default_factory=list)
    shown: int = 0  # texts shown to the user
    generated: bool = False  # a generation tool call finished (B-CLI-11)
    edited: bool = False  # some other tool call finished
    timed_out: bool = False
    error: str | None = None  # an in-stream run error (B-ADK-06)
    events: int = 0  # events other than heartbeats
    notices: int = 0
    _open_calls: dict[str, int] = field(default_factory=dict)
    _held_noise: list[str] = field(default_factory=list)
    _normal: int = 0  # texts that were not "temporary issue" noise
    _partial: list[str] = field(default_factory=list)
    _quiet_since: float = 0.0
    _beats: int = 0
    _last: StreamEvent | None = None  # the last event that was not a heartbeat
    repeats: int = 0  # events skipped as a repeat of the one before

    def __post_init__(self) -> None:
        self._quiet_since = self.started_at

    # ------------------------------------------------------------------ reading

    @property
    def tool_call_open(self) -> bool:
        """A tool call has no result yet: if the stream ends now, it was cut off."""
        return any(self._open_calls.values())

    def quiet_seconds(self, now: float) -> float:
        """Virtual seconds of heartbeats only (see the module docstring)."""
        return max(now - self._quiet_since, self._beats * self.heartbeat_interval_s)

    def feed(self, event: StreamEvent, now: float) -> list[Message]:
        """The messages `event` makes, shown at once."""
        if isinstance(event, HeartbeatEvent):
            self._beats += 1
            return self._tick(now)
        self._quiet_since, self._beats, self.notices = now, 0, 0
        if event == self._last and not (isinstance(event, TextEvent) and event.partial):
            self.repeats += 1  # the same event again (a replaying proxy): taken once
            return []
        self._last = event
        self.events += 1
        if isinstance(event, TextEvent):
            return self._text(event)
        if isinstance(event, ToolCallEvent):
            key = event.call_id or event.name
            self._open_calls[key] = self._open_calls.get(key, 0) + 1
        elif isinstance(event, ToolResultEvent):
            key = event.call_id if event.call_id in self._open_calls else event.name
            if self._open_calls.get(key):
                self._open_calls[key] -= 1
            if is_generation_tool(event.name):
                self.generated = True
                return [Message(MessageKind.STATUS, RAW_CLIP_READY)]
            self.edited = True
        elif isinstance(event, ErrorEvent):
            self.error = event.message
        return []

    @property
    def quiet_beats(self) -> int:
        """Heartbeats since the last other event."""
        return self._beats

    def finish(self) -> list[Message]:
        """The stream is over: release what was held back (B-CLI-09, B-ADK-13)."""
        messages: list[Message] = []
        if self._partial:  # chunks without a final text: they are the answer
            self._normal += 1
            messages += self._show("".join(self._partial))
            self._partial.clear()
        if self._held_noise and not self._normal:
            for text in self._held_noise:  # the only answer: maybe a real failure, so say it
                messages += self._show(text)
        self._held_noise.clear()
        return messages

    # ------------------------------------------------------------------ internals

    def _tick(self, now: float) -> list[Message]:
        quiet = self.quiet_seconds(now)
        if quiet >= self.timeout_s:
            self.timed_out = True
            return []
        if quiet >= self.notice_every_s * (self.notices + 1):
            self.notices = int(quiet // self.notice_every_s)
            return [Message(MessageKind.PROGRESS, STILL_WORKING)]
        return []

    def _text(self, event: TextEvent) -> list[Message]:
        if event.partial:
            self._partial.append(event.content)  # B-ADK-05: a chunk, not yet the answer
            return []
        self._partial.clear()  # B-ADK-13: the final text repeats the chunks in full
        if is_temporary_issue_tail(event.content):
            self._held_noise.append(event.content)
            return []
        self._normal += 1
        messages: list[Message] = []
        for held in self._held_noise:  # not trailing after all: show it in its place
            messages += self._show(held)
        self._held_noise.clear()
        return messages + self._show(event.content)

    def _show(self, text: str) -> list[Message]:
        translation = translate(text)
        for action in translation.actions:
            if action not in self.actions:
                self.actions.append(action)
        if not translation.text:
            return []
        self.shown += 1
        return [Message(MessageKind.REPLY, translation.text)]
