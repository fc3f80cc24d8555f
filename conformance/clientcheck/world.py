"""A world: how a scripted NemoVideo backend answers one user request, end to end.

The client-side contract suite drives a client against generated worlds. A world says which
request the user makes, who the user is, and how every endpoint answers: which errors it injects
(business codes with HTTP 200 or mapped statuses, U-01; bursts of 429), what the `/run_sse`
stream carries (texts, tool calls, heartbeat mixes, a drop at any event), how the timeline
changes and when that change becomes visible, and how renders run (shape A or B, failures,
slow renders). Worlds are frozen and hashable, so a run can be memoised and a failing world
printed as the minimal example.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from contracts import wording
from contracts.profiles import load_profile

RequestKind = Literal["chat", "export", "credits", "upload"]
Account = Literal["anonymous", "registered"]
Dialect = Literal["documented", "adk"]
ErrorStatus = Literal["body", "mapped"]
StreamEnd = Literal["close", "drop", "truncate"]
HeartbeatMix = Literal["json", "empty", "comment", "mixed"]
ChangeKind = Literal["none", "video", "title", "music"]
RenderShape = Literal["A", "B"]
RenderEnd = Literal["completed", "failed", "stalled"]

#: The endpoints a world answers, by the names the recordings use.
ROUTES = (
    "token",
    "session",
    "claim",
    "state",
    "sse",
    "credits",
    "upload",
    "submit",
    "poll",
    "cancel",
    "download",
    "cdn",
)

_PROFILE = load_profile()
#: U-04: the backend's heartbeat cadence, a profile setting the reference client shares.
HEARTBEAT_INTERVAL_S: float = _PROFILE.heartbeat_interval_s
#: B-REN-10: the client polls a render every 30 s, at most 10 times.
POLL_INTERVAL_S: float = _PROFILE.poll_interval_s
MAX_POLLS: int = _PROFILE.max_polls
#: B-CLI-06/07: "⏳ Still working..." every 2 minutes of heartbeats only; a timeout at 10.
STILL_WORKING_EVERY_S = 120.0
HEARTBEAT_TIMEOUT_S = 600.0
#: B-CLI-17: the first recovery query after 30 s, the next ones 60 s apart, 5 in all.
RECOVERY_FIRST_WAIT_S = 30.0
RECOVERY_NEXT_WAIT_S = 60.0
RECOVERY_QUERIES = 5
#: B-ERR-05: a 429 is retried once, after 30 s.
RATE_LIMIT_WAIT_S = 30.0

GENERATION_TOOL = wording.GENERATE_TOOL  # B-SSE-07
EDIT_TOOL = wording.EDIT_TOOL  # B-SSE-07
#: U-18: the backend's noise text (B-SSE-12), English first; the Chinese form is what a zh session gets.
TEMPORARY_ISSUE_TEXTS = (wording.TEMPORARY_ISSUE["en"], wording.TEMPORARY_ISSUE["zh"])

WEB_URL = "https://web.clientcheck.test"
REGISTERED_TOKEN = "nmv_usr_clientcheck_registered_0001"
ANONYMOUS_USER_ID = "anon_clientcheck01"
REGISTERED_USER_ID = "usr_clientcheck01"


# ---------------------------------------------------------------------------- the parts


@dataclass(frozen=True, slots=True)
class Request:
    """What the user asks, in the words a skill receives; `attachment` only for in-process uploads."""

    kind: RequestKind
    text: str
    attachment: str | None = None


@dataclass(frozen=True, slots=True)
class Fault:
    """`route` answers `code` to its first `times` requests (U-01, U-03, U-09)."""

    route: str
    code: int
    times: int = 1


@dataclass(frozen=True, slots=True)
class Says:
    """A text event of the backend agent (B-SSE-05)."""

    text: str


@dataclass(frozen=True, slots=True)
class Calls:
    """A tool call (B-SSE-05, B-SSE-07)."""

    tool: str
    call_id: str = "c1"


@dataclass(frozen=True, slots=True)
class Returns:
    """A tool result (B-SSE-05)."""

    tool: str
    call_id: str = "c1"


@dataclass(frozen=True, slots=True)
class Beats:
    """`count` heartbeats in one form, or the forms in turn (B-SSE-06, U-04)."""

    count: int
    form: HeartbeatMix = "json"


@dataclass(frozen=True, slots=True)
class Garbage:
    """An invalid block (the mock's `garbage` stream fault): non-UTF-8 bytes, a line without a
    colon, no `data` field, so no event; a client reads past it."""


StreamItem = Says | Calls | Returns | Beats | Garbage


@dataclass(frozen=True, slots=True)
class Stream:
    """The first accepted `/run_sse` stream. `drop` breaks the connection after the last item;
    `truncate` sends only part of the last item (no blank line after it), then ends the body."""

    items: tuple[StreamItem, ...]
    end: StreamEnd = "close"


@dataclass(frozen=True, slots=True)
class Timeline:
    """The project's draft, the change the request makes, and when the state shows it.

    `video` names the clip already on the timeline (None: no draft yet, U-17). `subject` is what
    the change is about (the title text, the music's name, the generated clip's name); a client
    that saw the change must name it (B-CLI-10). `visible_after` counts the state reads after the
    stream opened that still show the old state (B-SSE-14); None: the state never changes.
    """

    video: str | None = "city timelapse"
    change: ChangeKind = "none"
    subject: str = ""
    visible_after: int | None = 0


@dataclass(frozen=True, slots=True)
class RenderAttempt:
    """How one submitted render job runs: it ends at poll `polls`, or never (`stalled`)."""

    end: RenderEnd = "completed"
    polls: int = 1


@dataclass(frozen=True, slots=True)
class Render:
    """Render answers in shape A or B (B-REN-06/07); `attempts[i]` runs the i-th job, the last repeats."""

    shape: RenderShape = "A"
    attempts: tuple[RenderAttempt, ...] = (RenderAttempt(),)
    cdn_ok: bool = True


@dataclass(frozen=True, slots=True)
class World:
    """One request and how the backend answers it.

    `setup` is a chat message sent first, in its own turn, when the request needs a project with
    a video (an export continues the project a generation made, B-SESS-04). The world answers it
    plainly, with no faults, and only the request's turn is judged.
    """

    request: Request
    setup: str | None = None
    account: Account = "anonymous"
    dialect: Dialect = "documented"
    error_status: ErrorStatus = "body"
    faults: tuple[Fault, ...] = ()
    stream: Stream | None = None
    timeline: Timeline = field(default_factory=Timeline)
    render: Render | None = None
    credits_available: int = 60

    # ------------------------------------------------------------------ derived facts

    @property
    def user_id(self) -> str:
        return ANONYMOUS_USER_ID if self.account == "anonymous" else REGISTERED_USER_ID

    @property
    def user_token(self) -> str | None:
        """The NEMO_TOKEN the client is given; an anonymous user starts without one."""
        return REGISTERED_TOKEN if self.account == "registered" else None

    def fault(self, route: str) -> Fault | None:
        return next((f for f in self.faults if f.route == route), None)

    def attempt(self, index: int) -> RenderAttempt:
        """The script of the `index`-th submitted render (0-based); the last one repeats."""
        render = self.render or Render()
        return render.attempts[min(index, len(render.attempts) - 1)]

    def describe(self) -> str:
        """The world as one line of JSON, for reports."""
        return json.dumps(world_summary(self), ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------------- stream facts


def heartbeat_runs(items: tuple[StreamItem, ...]) -> list[int]:
    """Heartbeat counts between the other events, in order (adjacent `Beats` join)."""
    runs: list[int] = []
    current = 0
    for item in items:
        if isinstance(item, Garbage):
            continue  # no event: it neither beats nor breaks a run
        if isinstance(item, Beats):
            current += item.count
        else:
            runs.append(current)
            current = 0
    runs.append(current)
    return runs


def beats_to_timeout() -> int:
    """Heartbeats that make 10 virtual minutes (B-CLI-07)."""
    return int(-(-HEARTBEAT_TIMEOUT_S // HEARTBEAT_INTERVAL_S))


def times_out(stream: Stream) -> bool:
    """A heartbeat run reaches 10 virtual minutes: a client gives up on the stream (B-CLI-07)."""
    return any(run >= beats_to_timeout() for run in heartbeat_runs(stream.items))


def heard_items(stream: Stream) -> tuple[StreamItem, ...]:
    """What a client reads before it stops: all of it (but a cut last item), or up to the timeout."""
    limit = beats_to_timeout()
    heard: list[StreamItem] = []
    run = 0
    items = stream.items[:-1] if stream.end == "truncate" else stream.items
    for item in items:
        if isinstance(item, Beats):
            take = min(item.count, limit - run)
            heard.append(Beats(take, item.form))
            run += take
            if run >= limit:
                break
        elif isinstance(item, Garbage):
            heard.append(item)
        else:
            heard.append(item)
            run = 0
    return tuple(heard)


def interrupted(stream: Stream) -> bool:
    """The stream leaves the work unfinished for the client: a drop, a cut event or a heartbeat
    timeout (B-CLI-17)."""
    return stream.end in ("drop", "truncate") or times_out(stream)


def expected_notices(stream: Stream) -> int:
    """ "⏳ Still working..." notices a client owes for the heartbeats it reads (B-CLI-06/07).

    One per 2 virtual minutes of heartbeats only, counted again after every other event; at
    10 minutes the timeout replaces the fifth notice.
    """
    per_run_cap = int((HEARTBEAT_TIMEOUT_S - 1e-9) // STILL_WORKING_EVERY_S)
    total = 0
    for run in heartbeat_runs(heard_items(stream)):
        quiet = run * HEARTBEAT_INTERVAL_S
        total += min(per_run_cap, int(quiet // STILL_WORKING_EVERY_S))
    return total


def is_noise(text: str) -> bool:
    return text in TEMPORARY_ISSUE_TEXTS


def trailing_noise(stream: Stream) -> bool:
    """A normal text came, and the last texts are "temporary issue" noise (B-CLI-09, B-SSE-12)."""
    texts = [item.text for item in heard_items(stream) if isinstance(item, Says)]
    if not texts or not is_noise(texts[-1]):
        return False
    return any(not is_noise(text) for text in texts)


def normal_texts(stream: Stream) -> list[str]:
    return [item.text for item in heard_items(stream) if isinstance(item, Says) and not is_noise(item.text)]


# ---------------------------------------------------------------------------- reports


def _item_summary(item: StreamItem) -> str:
    if isinstance(item, Garbage):
        return "garbage"
    if isinstance(item, Says):
        return f"says: {item.text}"
    if isinstance(item, Calls):
        return f"calls: {item.tool}"
    if isinstance(item, Returns):
        return f"returns: {item.tool}"
    return f"beats: {item.count} {item.form}"


def world_summary(world: World) -> dict[str, Any]:
    """A compact, JSON-ready picture of the world (the default parts left out)."""
    summary: dict[str, Any] = {}
    if world.setup is not None:
        summary["setup"] = world.setup
    summary["request"] = f"{world.request.kind}: {world.request.text}"
    if world.request.attachment:
        summary["attachment"] = world.request.attachment
    summary["account"] = world.account
    if world.dialect != "documented":
        summary["dialect"] = world.dialect
    if world.faults:
        summary["error_status"] = world.error_status
        summary["faults"] = [[f.route, f.code, f.times] for f in world.faults]
    if world.stream is not None:
        summary["stream"] = [_item_summary(item) for item in world.stream.items] + [world.stream.end]
    if world.request.kind in ("chat", "export"):
        timeline: dict[str, Any] = {"video": world.timeline.video}
        if world.timeline.change != "none":
            timeline["change"] = f"{world.timeline.change}: {world.timeline.subject}"
            timeline["visible_after"] = world.timeline.visible_after
        summary["timeline"] = timeline
    if world.render is not None:
        summary["render"] = {
            "shape": world.render.shape,
            "attempts": [f"{a.end}@{a.polls}" for a in world.render.attempts],
            "cdn_ok": world.render.cdn_ok,
        }
    return summary
