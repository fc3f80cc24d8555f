"""Hypothesis strategies for worlds, built from the contract's schemas and behaviour catalogue.

What the schemas fix, the strategies read from them: the business codes and the HTTP codes a
fault may carry (`envelope.schema.json`, B-ERR-01/02), the render statuses (`render-shape-a`,
B-REN-09), the two render shapes (B-REN-06/07), the stream event types (`event-documented`,
B-SSE-05) and the heartbeat forms (B-SSE-06, U-04). Which code may come from which endpoint
follows the catalogue (`FAULT_CODES`). Everything the world's backend then answers validates
against those schemas (tests/conformance/test_client_properties.py checks it).

`worlds(kinds=..., focus=...)` draws whole worlds; `focus` leans the draw toward one family of
behaviour (drops, rate limits, errors, heartbeats, renders) when a short run must meet it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args

from hypothesis import strategies as st

from contracts.spec import load_schema
from mockserver.events import HeartbeatForm

from .world import (
    EDIT_TOOL,
    GENERATION_TOOL,
    MAX_POLLS,
    TEMPORARY_ISSUE_TEXTS,
    Beats,
    Calls,
    ChangeKind,
    Fault,
    Garbage,
    Render,
    RenderAttempt,
    Request,
    RequestKind,
    Returns,
    Says,
    Stream,
    StreamEnd,
    StreamItem,
    Timeline,
    World,
    beats_to_timeout,
    interrupted,
)

Focus = Literal["all", "drops", "rate-limits", "errors", "heartbeats", "renders"]
FOCI: tuple[str, ...] = get_args(Focus)
#: What `client-check` drives by default; uploads need an attachment only in-process runs pass.
SERVED_KINDS: tuple[RequestKind, ...] = ("chat", "export", "credits")
ALL_KINDS: tuple[RequestKind, ...] = ("chat", "export", "credits", "upload")

_ENVELOPE = load_schema("envelope")
BUSINESS_CODES: tuple[int, ...] = tuple(_ENVELOPE["$defs"]["businessCode"]["enum"])
HTTP_CODES: tuple[int, ...] = tuple(_ENVELOPE["$defs"]["httpCode"]["enum"])
RENDER_STATUSES: tuple[str, ...] = tuple(load_schema("render-shape-a")["$defs"]["status"]["enum"])
RENDER_SHAPES = ("A", "B")  # render-shape-a / render-shape-b.schema.json
EVENT_TYPES: tuple[str, ...] = tuple(
    d["properties"]["type"]["const"] for d in load_schema("event-documented")["$defs"].values()
)
HEARTBEAT_FORMS: tuple[str, ...] = (*get_args(HeartbeatForm), "mixed")
#: How a render ends: a final status of the schema, or never (a render slower than the polls).
RENDER_ENDS: tuple[str, ...] = (*(s for s in RENDER_STATUSES if s in ("completed", "failed")), "stalled")

#: The codes each endpoint can answer with, per the catalogue: 400 at anonymous-token (B-AUTH-02),
#: 429 anywhere (B-ERR-05), 1001 on authenticated calls (B-AUTH-14), 1002 on session-scoped calls
#: (B-SESS-07), 2001 before a stream (B-CRED-05, U-09), 4001/4002 on upload (B-UPL-07), 402 on
#: render submit (B-REN-16).
FAULT_CODES: dict[str, tuple[int, ...]] = {
    "token": (400, 429),
    "session": (1001, 429),
    "state": (1001, 1002, 429),
    "sse": (1001, 1002, 2001, 429),
    "credits": (1001, 429),
    "upload": (1001, 1002, 4001, 4002, 429),
    "submit": (1001, 402, 429),
    "poll": (1001, 429),
}
#: The endpoints each request reaches (the token only for an anonymous user, or after a 1001).
REACHED: dict[str, tuple[str, ...]] = {
    "chat": ("token", "session", "state", "sse"),
    "export": ("state", "submit", "poll"),
    "credits": ("token", "credits"),
    "upload": ("token", "session", "upload"),
}
assert set(BUSINESS_CODES) | set(HTTP_CODES) >= {c for codes in FAULT_CODES.values() for c in codes}
assert {"text", "tool_call", "tool_result", "heartbeat"} <= set(EVENT_TYPES)

MESSAGES: dict[str, tuple[str, ...]] = {
    "edit": (
        "add a title 'Golden Hour'",
        "add some calm background music",
        "make the colours warmer",
        "给视频加一个标题",
    ),
    "generate": (
        "Generate a 10-second video of a fox in the snow",
        "make a 5 second clip of waves at sunset",
        "生成一个城市夜景的视频",
    ),
    "export": ("export", "send me the video", "导出视频"),
    "credits": ("credits", "how many credits do I have left", "余额"),
    "upload": ("upload this clip",),
}
EDIT_CHANGES: tuple[ChangeKind, ...] = ("title", "music", "none")
SETUP_MESSAGE = "Generate a 10-second video of a city timelapse"
UPLOAD_URL = "https://media.clientcheck.test/clip.mp4"
CLIP_NAMES = ("city timelapse", "fox in the snow", "waves at sunset", "城市夜景")
TITLES = ("Golden Hour", "Night Owls", "Paradise Found", "夏日")
MUSIC = ("Lo-fi Dreams", "Calm Piano", "Summer Breeze")
#: Agent texts: plain content, and the GUI talk the backend assumes a user can act on (B-SSE-20).
REPLIES = (
    "I'll make that change now.",
    "Done! The timeline is updated.",
    "Your video is ready, click Export to save it.",
    "Open the timeline panel to preview the result.",
    "You can drag the clip onto the music track.",
    "Check your dashboard for your remaining credits.",
    "Preview it in the timeline before you export.",
    "好的，已经完成。点击导出按钮即可保存。",
    "Here is your video: 10 seconds, 1080x1920.",
)


def replies() -> st.SearchStrategy[Says]:
    return st.sampled_from(REPLIES).map(Says)


def beats(max_count: int = 40) -> st.SearchStrategy[Beats]:
    """A heartbeat run in one form or all of them in turn (B-SSE-06, U-04)."""
    return st.builds(Beats, st.integers(1, max_count), st.sampled_from(HEARTBEAT_FORMS))


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.one_of(st.just(()), strategy.map(lambda item: (item,)))


@st.composite
def tool_turn(draw: st.DrawFn, tool: str, call_id: str, max_beats: int) -> tuple[StreamItem, ...]:
    """A tool call, heartbeats while it runs, its result."""
    working = draw(_optional(beats(max_beats)))
    return (Calls(tool, call_id), *working, Returns(tool, call_id))


@st.composite
def full_stream(draw: st.DrawFn, generation: bool) -> tuple[StreamItem, ...]:
    """A turn that finishes: texts around tool calls, maybe silent (B-SSE-09), maybe noisy (B-SSE-12)."""
    items: list[StreamItem] = [*draw(_optional(replies()))]
    if generation:
        items += draw(tool_turn(GENERATION_TOOL, "c1", 119))
        if draw(st.booleans()):
            items += draw(tool_turn(EDIT_TOOL, "c2", 30))  # post-production (B-SSE-11)
    else:
        items += draw(tool_turn(EDIT_TOOL, "c1", 119))
    items += draw(st.lists(replies(), max_size=2))
    if draw(st.booleans()):
        items.append(Says(draw(st.sampled_from(TEMPORARY_ISSUE_TEXTS))))
    return tuple(items)


@st.composite
def heartbeats_only(draw: st.DrawFn) -> Stream:
    """Heartbeats and nothing else: ten minutes of them and more, or fewer and then a drop."""
    limit = beats_to_timeout()
    if draw(st.booleans()):
        count = draw(st.integers(limit, limit + 10))
        return Stream(
            (Beats(count, draw(st.sampled_from(HEARTBEAT_FORMS))),), draw(st.sampled_from(("close", "drop")))
        )
    return Stream((draw(beats(limit - 1)),), "drop")


@st.composite
def streams(draw: st.DrawFn, generation: bool, focus: Focus = "all") -> Stream:
    """A stream that finishes, one cut at any event (a drop), or heartbeats only."""
    if focus == "heartbeats" or (focus == "all" and draw(st.integers(0, 5)) == 0):
        return draw(heartbeats_only())
    items = draw(full_stream(generation))
    if draw(st.integers(0, 3)) == 0:  # an invalid block somewhere (the mock's `garbage` fault)
        at = draw(st.integers(0, len(items)))
        items = (*items[:at], Garbage(), *items[at:])
    if focus == "drops" or (focus == "all" and draw(st.booleans())):
        cut = draw(st.integers(0, len(items)))
        end: StreamEnd = draw(st.sampled_from(("drop", "truncate")))
        if end == "truncate" and (cut == 0 or isinstance(items[cut - 1], Beats | Garbage)):
            end = "drop"  # only an event can be cut inside
        return Stream(items[:cut], end)
    return Stream(items, "close")


@st.composite
def timelines(draw: st.DrawFn, kind: str, generation: bool, stream: Stream | None) -> Timeline:
    """The draft and the change; after an interrupted stream the change may come late or never."""
    if kind == "credits":
        return Timeline(video=None)
    if kind == "upload":
        return Timeline(video=draw(st.sampled_from(CLIP_NAMES)))
    if kind == "export":
        return Timeline(video=draw(st.sampled_from(CLIP_NAMES)))
    late = stream is not None and interrupted(stream)
    visible_after = draw(st.one_of(st.integers(0, 4), st.none())) if late else 0
    if generation:
        return Timeline(None, "video", draw(st.sampled_from(CLIP_NAMES)), visible_after)
    change: ChangeKind = draw(st.sampled_from(EDIT_CHANGES))
    subject = draw(st.sampled_from(TITLES if change == "title" else MUSIC)) if change != "none" else ""
    return Timeline(draw(st.sampled_from(CLIP_NAMES)), change, subject, visible_after)


@st.composite
def renders(draw: st.DrawFn, focus: Focus = "all") -> Render:
    """Shape A or B; each job completes or fails at some poll, or never finishes (B-REN-09/10)."""
    attempt = st.builds(
        RenderAttempt,
        st.sampled_from(RENDER_ENDS)
        if focus == "renders"
        else st.sampled_from(RENDER_ENDS[:1] * 3 + RENDER_ENDS),
        st.integers(1, MAX_POLLS),
    )
    attempts = tuple(draw(st.lists(attempt, min_size=1, max_size=2)))
    return Render(draw(st.sampled_from(RENDER_SHAPES)), attempts, draw(st.booleans()))


@st.composite
def faults(draw: st.DrawFn, kind: str, focus: Focus = "all") -> tuple[Fault, ...]:
    """Up to two endpoints that answer errors first: bursts of 429, business codes, 400/402."""
    routes = REACHED[kind]
    if focus == "rate-limits":
        first = Fault(draw(st.sampled_from(routes)), 429, draw(st.integers(1, 3)))
    elif focus == "errors":
        pairs = [(route, code) for route in routes for code in FAULT_CODES[route] if code != 429]
        route, code = draw(st.sampled_from(pairs))
        first = Fault(route, code, draw(st.integers(1, 3)))
    else:
        # A render search meets an error now and then; the other searches up to two at once.
        count = draw(st.integers(0, 3)) // 3 if focus == "renders" else draw(st.integers(0, 2))
        chosen = draw(st.lists(st.sampled_from(routes), min_size=count, max_size=count, unique=True))
        return tuple(
            Fault(route, draw(st.sampled_from(FAULT_CODES[route])), draw(st.integers(1, 3)))
            for route in chosen
        )
    others = [r for r in routes if r != first.route]
    extra: tuple[Fault, ...] = ()
    wants_second: bool = draw(st.booleans())
    if others and wants_second:
        second = draw(st.sampled_from(others))
        extra = (Fault(second, draw(st.sampled_from(FAULT_CODES[second])), draw(st.integers(1, 3))),)
    return (first, *extra)


@st.composite
def worlds(draw: st.DrawFn, kinds: Sequence[RequestKind] = SERVED_KINDS, focus: Focus = "all") -> World:
    """A whole world: the request, the user, the dialect, the faults, the stream, the timeline, the render."""
    if focus in ("drops", "heartbeats"):
        kinds = [k for k in kinds if k == "chat"] or ["chat"]
    elif focus == "renders":
        kinds = [k for k in kinds if k == "export"] or ["export"]
    kind: RequestKind = draw(st.sampled_from(tuple(kinds)))
    generation = kind == "chat" and draw(st.booleans())
    text = draw(st.sampled_from(MESSAGES["generate" if generation else kind if kind != "chat" else "edit"]))
    attachment = UPLOAD_URL if kind == "upload" else None
    stream_focus: Focus = focus if focus in ("drops", "heartbeats") else "all"
    stream = draw(streams(generation, stream_focus)) if kind == "chat" else None
    timeline = draw(timelines(kind, generation, stream))
    render = draw(renders(focus)) if kind == "export" else None
    setup = SETUP_MESSAGE if kind == "export" and draw(st.integers(0, 7)) else None
    if setup is None and kind == "export":
        timeline = Timeline(video=None)  # no project yet: nothing to export (B-CLI-14)
    return World(
        request=Request(kind, text, attachment),
        setup=setup,
        account=draw(st.sampled_from(("anonymous", "registered"))),
        dialect=draw(st.sampled_from(("documented", "adk"))),
        error_status=draw(st.sampled_from(("body", "mapped"))),
        faults=draw(faults(kind, focus)),
        stream=stream,
        timeline=timeline,
        render=render,
        credits_available=draw(st.integers(0, 500)),
    )
