"""The skill's workflows (`client.flows`) against scripted answers on httpx.MockTransport.

Each test scripts the backend per route (answers served in order, the last one repeating), runs a
`Skill` (or `AsyncSkill`) on a FakeClock, and reads the typed messages, the requests and the
clock's waits. The same flows against the real mock are in test_integration.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from client import AsyncClient, Client, ClientConfig, FakeClock, Project
from client.flows import (
    AsyncSkill,
    Failure,
    Message,
    MessageKind,
    Outcome,
    Skill,
    StreamReader,
    detect_language,
    limit_notes,
    looks_like_question,
)
from client.flows.chat import MAY_TAKE_MINUTES
from client.flows.export import RENDERING
from client.flows.reader import RAW_CLIP_READY, STILL_WORKING
from client.flows.skill import QUEUED
from client.remedies import NOTHING_TO_EXPORT, RECOVERY_FAILED, RENDER_FAILED_TWICE
from client.sse import HeartbeatEvent, TextEvent, ToolCallEvent, ToolResultEvent
from conformance.clientcheck.backend import route_of as route_for
from contracts.profiles import load_profile

API = "https://api.test"
CDN = "https://cdn.test"
WEB = "https://web.test"
NEW_SESSION = "That session no longer exists; starting a new session."  # B-SESS-07
TOKEN = "nmv_usr_configured0000"
ANON_TOKEN = "nmv_usr_anon1111"
SID = "5529798706024415232"
NEW_SID = "7000000000000000001"
USER = "usr_paid42"
ANON_USER = "anon_abc123"
CLAIM = "clm_0123456789abcdef"

VIDEO_ONLY = {
    "t": [
        {
            "tt": 0,
            "id": "trk_video",
            "sg": [{"id": "seg_v1", "st": 0, "d": 10000, "m": {"name": "beach at sunset", "src": "gen://1"}}],
        }
    ],
    "d": 10000,
    "m": {"title": "Paradise"},
}
WITH_TITLE = {
    **VIDEO_ONLY,
    "t": [
        *VIDEO_ONLY["t"],
        {
            "tt": 7,
            "id": "trk_title",
            "sg": [
                {
                    "id": "seg_t1",
                    "st": 0,
                    "d": 3000,
                    "m": {
                        "kind": "title",
                        "text": "Paradise Found",
                        "color": "white",
                        "position": "top-center",
                        "animation": "fade-in",
                    },
                }
            ],
        },
    ],
}


# ---------------------------------------------------------------------------- a scripted backend


def envelope(data: Any) -> httpx.Response:
    return httpx.Response(200, json={"code": 0, "data": data})


def failure(code: int, message: str = "refused", status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": message, "data": None})


def state(draft: dict[str, Any] | None, user_id: str = USER, **extra: Any) -> httpx.Response:
    body = {"draft": draft, "video_infos": [], "canvas_config": None, "generated_media": [], **extra}
    return envelope({"session_id": SID, "user_id": user_id, "state": body})


def sse_bytes(*events: dict[str, Any] | None) -> bytes:
    """`data: <json>` blocks; None is the empty `data:` heartbeat (B-SSE-04/06)."""
    return b"".join(
        b"data:\n\n" if e is None else b"data: " + json.dumps(e).encode() + b"\n\n" for e in events
    )


def stream(*events: dict[str, Any] | None) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse_bytes(*events))


class _Broken(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A stream that sends some events and then loses the connection."""

    def __init__(self, head: bytes) -> None:
        self.head = head

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        raise httpx.ReadError("connection reset")

    async def __aiter__(self) -> Any:
        yield self.head
        raise httpx.ReadError("connection reset")


def broken_stream(*events: dict[str, Any] | None) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(
        200, headers={"content-type": "text/event-stream"}, stream=_Broken(sse_bytes(*events))
    )


def heartbeat() -> dict[str, Any]:
    return {"type": "heartbeat"}


def text(content: str) -> dict[str, Any]:
    return {"type": "text", "content": content}


def call(name: str, call_id: str = "c1") -> dict[str, Any]:
    return {"type": "tool_call", "name": name, "args": {}, "call_id": call_id}


def result(name: str, call_id: str = "c1") -> dict[str, Any]:
    return {"type": "tool_result", "name": name, "result": {"status": "success"}, "call_id": call_id}


def render_a(render_id: str, status: str, progress: int, url: str | None = None) -> dict[str, Any]:
    output = {"url": url, "duration": 10.0, "size": 2048} if url else None
    return {"id": render_id, "status": status, "progress": progress, "output": output}


PROJECT = Project(SID, "task_1", CLAIM, USER)
Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


def route_of(request: httpx.Request) -> str:
    """The route a request is for, by client-check's table; anything off the API host is the CDN."""
    if request.url.host != "api.test":
        return "cdn"
    return route_for(request.method, request.url.path)


@dataclass
class Backend:
    """Answers per route, in order (the last repeats); every request is recorded."""

    answers: dict[str, list[Answer]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        defaults: dict[str, list[Answer]] = {
            "token": [envelope({"token": ANON_TOKEN, "user_id": ANON_USER, "credits": 100})],
            "session": [envelope({"task_id": "task_1", "session_id": SID, "user_id": USER})],
            "claim": [envelope({"claim_token": CLAIM, "expires_in": 604800})],
            "state": [state(None)],
            "credits": [envelope({"available": 60, "frozen": 40, "total": 100})],
        }
        self.answers = {**defaults, **self.answers}

    def script(self, route: str, *answers: Answer) -> Backend:
        self.answers[route] = list(answers)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        queue = self.answers.get(route_of(request))
        if not queue:
            return failure(404, "no route", status=404)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if callable(answer):
            return answer(request)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    def routes(self) -> list[str]:
        return [route_of(r) for r in self.requests]

    def bodies(self, route: str) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if route_of(r) == route and r.content]


def config(tmp_path: Path | None = None, **changes: Any) -> ClientConfig:
    values: dict[str, Any] = {
        "api_url": API,
        "web_url": WEB,
        "token": TOKEN,
        "client_id": "wf-client-1",
        "config_dir": tmp_path,
        "profile": load_profile(),
    }
    return ClientConfig(**(values | changes))


def skill(
    backend: Backend,
    *,
    project: Project | None = PROJECT,
    clock: FakeClock | None = None,
    cfg: ClientConfig | None = None,
    downloads: Path | None = None,
) -> tuple[Skill, FakeClock]:
    clock = clock or FakeClock()
    client = Client(cfg or config(), transport=httpx.MockTransport(backend), clock=clock)
    return Skill(client, project=project, persist=False, downloads_dir=downloads), clock


def kinds(outcome: Outcome) -> list[MessageKind]:
    return [m.kind for m in outcome.messages]


# ---------------------------------------------------------------------------- the stream reader


def test_still_working_every_two_minutes_of_heartbeats_then_timeout() -> None:
    """B-CLI-06, B-CLI-07, U-04: with the clock standing still each heartbeat counts its interval."""
    reader = StreamReader(heartbeat_interval_s=5.0, started_at=0.0)
    shown: list[tuple[int, str]] = []
    for beat in range(1, 121):
        shown += [(beat, m.text) for m in reader.feed(HeartbeatEvent(), 0.0)]
        if reader.timed_out:
            break
    assert shown == [(24, STILL_WORKING), (48, STILL_WORKING), (72, STILL_WORKING), (96, STILL_WORKING)]
    assert reader.timed_out and beat == 120  # 10 virtual minutes


def test_quiet_time_follows_a_running_clock_and_resets_on_events() -> None:
    """B-CLI-06/07: on a running clock the elapsed time counts even with sparse heartbeats."""
    reader = StreamReader(heartbeat_interval_s=5.0, started_at=100.0)
    assert reader.feed(HeartbeatEvent("empty"), 219.0) == []
    assert [m.text for m in reader.feed(HeartbeatEvent("comment"), 221.0)] == [STILL_WORKING]
    assert reader.feed(ToolCallEvent("edit_multitrack"), 300.0) == []  # not a heartbeat: quiet again
    assert reader.feed(HeartbeatEvent(), 419.0) == []
    assert reader.feed(HeartbeatEvent(), 900.0) == [] and reader.timed_out


def test_texts_are_gui_translated_and_tools_never_shown() -> None:
    """B-CLI-03, B-CLI-04, B-SSE-20: GUI instructions are stripped and become actions; tools stay silent."""
    reader = StreamReader(5.0, 0.0)
    out = reader.feed(TextEvent("Your video is ready. Click the Export button to download it."), 0.0)
    out += reader.feed(ToolCallEvent("edit_multitrack", {"operations": []}), 0.0)
    out += reader.feed(ToolResultEvent("edit_multitrack", {"status": "success"}), 0.0)
    assert [(m.kind, m.text) for m in out] == [(MessageKind.REPLY, "Your video is ready.")]
    assert [a.value for a in reader.actions] == ["export"]
    assert reader.edited and not reader.tool_call_open


def test_trailing_temporary_issue_is_dropped_after_a_normal_reply() -> None:
    """B-CLI-09, B-SSE-12, U-18: trailing noise after a normal reply is ignored; alone it is shown."""
    noise = "I encountered a temporary issue while processing your request. Please try again."
    reader = StreamReader(5.0, 0.0)
    shown = reader.feed(TextEvent("Done: the title is added."), 0.0) + reader.feed(TextEvent(noise), 0.0)
    assert [m.text for m in shown + reader.finish()] == ["Done: the title is added."]

    alone = StreamReader(5.0, 0.0)
    assert alone.feed(TextEvent(noise), 0.0) == []
    assert [m.text for m in alone.finish()] == [noise]

    middle = StreamReader(5.0, 0.0)
    middle.feed(TextEvent("Working on it."), 0.0)
    held = middle.feed(TextEvent(noise), 0.0)
    assert [m.text for m in held + middle.feed(TextEvent("Done."), 0.0)] == [noise, "Done."]


def test_adk_partial_chunks_give_way_to_the_final_text() -> None:
    """B-ADK-05, B-ADK-13: partial chunks are not the answer; the final text replaces them."""
    reader = StreamReader(5.0, 0.0)
    assert reader.feed(TextEvent("Your vid", partial=True), 0.0) == []
    assert reader.feed(TextEvent("eo is ready", partial=True), 0.0) == []
    assert [m.text for m in reader.feed(TextEvent("Your video is ready."), 0.0)] == ["Your video is ready."]
    assert reader.finish() == []
    cut = StreamReader(5.0, 0.0)
    cut.feed(TextEvent("Half an ", partial=True), 0.0)
    cut.feed(TextEvent("answer", partial=True), 0.0)
    assert [m.text for m in cut.finish()] == ["Half an answer"]


def test_raw_clip_is_reported_when_generation_finishes() -> None:
    """B-CLI-11, B-SSE-11: the end of the generation tool call is the raw clip: say so at once."""
    reader = StreamReader(5.0, 0.0)
    reader.feed(ToolCallEvent("generate_video_with_seedance", call_id="a"), 0.0)
    assert reader.tool_call_open
    out = reader.feed(ToolResultEvent("generate_video_with_seedance", call_id="a"), 0.0)
    assert [m.text for m in out] == [RAW_CLIP_READY] and reader.generated


# ---------------------------------------------------------------------------- message reading


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("做一个海边日落的视频", "zh-CN"),
        ("夕日のビーチの動画を作って", "ja"),
        ("해변 영상을 만들어 줘", "ko"),
        ("Quiero un video de la playa con música", "es"),
        ("Je veux une vidéo de la plage avec musique", "fr"),
        ("Ich möchte ein Video mit Musik und Titel", "de"),
        ("make a 10 second video of a beach at sunset", None),
    ],
)
def test_detect_language(message: str, code: str | None) -> None:
    """B-SESS-02: the session language is the ISO code of the user's first message."""
    assert detect_language(message) == code


def test_session_language_follows_the_profile() -> None:
    """B-SESS-02, B-SESS-05, B-PROF-05: upstream detects; seed 003 sends none; fixed seeds send theirs."""
    backend = Backend()
    upstream, _ = skill(backend, project=None)
    assert upstream.session_language("做一个海边的视频") == "zh-CN"
    assert upstream.session_language("a beach video") == "en"
    seed3 = load_profile("generator-video")
    no_language, _ = skill(backend, project=None, cfg=config(profile=seed3, language=None))
    assert no_language.session_language("做一个视频") is None
    kling = load_profile("text-to-video-kling-ai")
    fixed, _ = skill(backend, project=None, cfg=config(profile=kling, language=kling.session_language))
    assert fixed.session_language("做一个视频") == "en"


def test_question_or_order() -> None:
    """B-CLI-05: only work orders get "This may take a few minutes."."""
    assert looks_like_question("how long does a generation take?")
    assert looks_like_question("What can you do")
    assert looks_like_question("现在可以做什么？")
    assert not looks_like_question("make a 10 second video of a city at night")
    assert not looks_like_question("add a title 'Night Owls'")


def test_honest_limits() -> None:
    """B-CLI-22: aspect ratio needs a regeneration, streaming links, photo edits, local files."""
    assert limit_notes("make it vertical 9:16", has_video=True)[0].startswith("Changing the aspect ratio")
    assert limit_notes("make it vertical 9:16", has_video=False) == []
    assert "YouTube or Spotify" in limit_notes("use the song at https://youtu.be/abc", has_video=True)[0]
    assert "slideshow" in limit_notes("please retouch my photos", has_video=False)[0]
    assert "Send the file in chat" in limit_notes("use ~/Movies/trip.mp4", has_video=False)[0]
    assert limit_notes("add a title 'Paradise Found'", has_video=True) == []


# ---------------------------------------------------------------------------- setup and routing


def test_setup_connects_creates_session_and_gives_the_claim_link(tmp_path: Path) -> None:
    """B-CLI-21, B-SESS-01, B-SESS-09, B-CLI-19, B-AUTH-19, B-SESS-04: setup once, saved for later."""
    backend = Backend()
    cfg = config(tmp_path, token=None)
    client = Client(cfg, transport=httpx.MockTransport(backend), clock=FakeClock())
    outcome = Skill(client).setup()
    assert outcome.ok
    assert outcome.texts() == [
        "Connecting to NemoVideo...",
        "✅ Ready: a new project is open.",
        f"🔗 Open this project in your browser: {WEB}/workspace/claim?ct={CLAIM}",
    ]
    assert backend.routes() == ["token", "session", "claim"]
    assert backend.bodies("session") == [{"task_name": "project", "language": "en"}]
    assert backend.bodies("claim") == [{"task_id": "task_1", "session_id": SID}]
    assert backend.requests[1].url.path == "/api/tasks/me/with-session/nemo_agent"  # B-ENV-07, B-ENV-08
    saved = json.loads((tmp_path / "project.json").read_text())
    assert saved == {"session_id": SID, "task_id": "task_1", "claim_token": CLAIM, "user_id": USER}
    again = Skill(Client(cfg, transport=httpx.MockTransport(backend), clock=FakeClock())).setup()
    assert again.messages == () and backend.routes() == ["token", "session", "claim"]


@pytest.mark.parametrize("message", ["credits", "how many credits are left? check my balance", "余额"])
def test_credits_never_reach_the_backend_agent(message: str) -> None:
    """B-CLI-01, B-CLI-13, B-CRED-01/02: the client answers the balance itself."""
    backend = Backend()
    sk, _ = skill(backend)
    outcome = sk.handle(message)
    assert outcome.ok and backend.routes() == ["credits"]
    assert outcome.texts(MessageKind.CREDITS) == [
        "💰 Credits: 60 available, 40 held for work in progress (100 in total)."
    ]


def test_status_shows_the_track_summary_without_the_backend() -> None:
    """B-CLI-01, B-STATE-06: "status" answers with the one-line summary from the state."""
    backend = Backend().script("state", state(WITH_TITLE))
    sk, _ = skill(backend)
    outcome = sk.handle("show tracks")
    assert backend.routes() == ["state"]
    assert outcome.texts(MessageKind.SUMMARY) == [
        'Timeline (2 tracks): 1. Video: beach at sunset (0-10s) 2. Title: "Paradise Found" (0-3s)'
    ]


def test_export_of_an_empty_project_says_generate_first() -> None:
    """B-CLI-14, B-STATE-05, B-CLI-01: no export-ready draft, no render; nothing sent over SSE."""
    backend = Backend().script("state", state({"t": [{"tt": 0, "sg": []}]}))
    sk, _ = skill(backend)
    outcome = sk.handle("export it please")
    assert outcome.failure is Failure.GENERIC
    assert outcome.texts() == [NOTHING_TO_EXPORT]
    assert backend.routes() == ["state"]


def test_upload_word_without_a_file_asks_for_one() -> None:
    """B-CLI-25, B-CLI-01: files are sent in chat or as a URL; no GUI upload button is mentioned."""
    backend = Backend()
    sk, _ = skill(backend)
    outcome = sk.handle("I want to upload my footage")
    assert backend.routes() == []
    (line,) = outcome.texts()
    assert line.startswith("Send the file in chat or give me a URL") and "button" not in line.lower()
    assert "mp4" in line and "wav" in line


def test_upload_with_text_uploads_then_forwards_the_text(tmp_path: Path) -> None:
    """B-CLI-01, B-UPL-02, B-UPL-04: a sent file goes first, then the request about it goes to the agent."""
    song = tmp_path / "song.mp3"
    song.write_bytes(b"ID3" + bytes(64))
    stored = {"filename": "song.mp3", "file_type": "audio", "cdn_url": f"{CDN}/song.mp3", "duration": 1.5}
    backend = (
        Backend()
        .script("upload", envelope({"files": [stored], "session_state_applied": True}))
        .script("sse", stream(text("I added the song as background music.")))
        .script("state", state(VIDEO_ONLY), state(VIDEO_ONLY))
    )
    sk, _ = skill(backend)
    outcome = sk.handle("add this as background music", [song])
    assert outcome.ok
    assert backend.routes() == ["upload", "state", "sse", "state"]
    assert b'name="files"; filename="song.mp3"' in backend.requests[0].content
    assert "📎 Uploaded song.mp3 (audio, 1.5s)" in outcome.texts(MessageKind.UPLOAD)
    (sent,) = backend.bodies("sse")
    assert sent == {  # B-SSE-02, B-ENV-08: the documented body, app_name nemo_agent, user "me"
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": SID,
        "new_message": {"parts": [{"text": "add this as background music"}]},
    }


def test_upload_refuses_streaming_links_and_missing_files(tmp_path: Path) -> None:
    """B-CLI-22, B-CLI-25, B-UPL-03: YouTube links are not sent; a missing file stops the upload."""
    backend = Backend().script("upload", envelope({"files": [{"filename": "a.mp4", "file_type": "video"}]}))
    sk, _ = skill(backend)
    outcome = sk.upload("https://www.youtube.com/watch?v=x", "https://files.test/a.mp4")
    assert outcome.ok and backend.bodies("upload") == [
        {"urls": ["https://files.test/a.mp4"], "source_type": "url"}
    ]
    assert "YouTube or Spotify" in outcome.texts(MessageKind.NOTICE)[0]
    missing = sk.upload(tmp_path / "nope.mp4")
    assert missing.failure is Failure.FILE and "Can't read nope.mp4" in missing.texts(MessageKind.ERROR)[0]


# ---------------------------------------------------------------------------- chat


def test_chat_says_it_may_take_minutes_before_the_stream() -> None:
    """B-CLI-05, B-SSE-02: the notice comes before the message is sent, for orders only."""
    order: list[str] = []
    backend = Backend().script("state", state(VIDEO_ONLY))

    def answer(request: httpx.Request) -> httpx.Response:
        order.append("sent")
        return stream(call("edit_multitrack"), result("edit_multitrack"), text("Done."))

    backend.script("sse", answer)
    sk, _ = skill(backend)
    sk.on_message = lambda m: order.append(m.text)
    sk.handle("add a title 'Paradise Found'")
    assert order.index(MAY_TAKE_MINUTES) < order.index("sent")
    question = sk.handle("what can you do?")
    assert MAY_TAKE_MINUTES not in question.texts()


def test_silent_edit_is_reported_from_the_state_diff() -> None:
    """B-CLI-10, B-SSE-09, B-SSE-19, B-CLI-12: no text at all, yet the user hears the concrete change."""
    backend = (
        Backend()
        .script("state", state(VIDEO_ONLY), state(WITH_TITLE))
        .script("sse", stream(call("edit_multitrack"), heartbeat(), result("edit_multitrack")))
    )
    sk, _ = skill(backend)
    outcome = sk.handle("add a title 'Paradise Found'")
    assert outcome.ok
    assert outcome.texts(MessageKind.REPLY) == []
    assert outcome.texts(MessageKind.CHANGE) == [
        "✅ Title added: 'Paradise Found' (white, top-center, fade-in, 0-3s)"
    ]
    (next_steps,) = outcome.texts(MessageKind.SUGGESTION)
    assert next_steps.startswith("Next: ") and next_steps.count(";") in (1, 2)  # 2-3 steps


def test_generation_reports_raw_clip_then_the_tracks_to_keep_or_strip() -> None:
    """B-CLI-11, B-SSE-11, B-STATE-06, B-STATE-03: raw clip first; then all tracks and what
    post-production added."""
    clip = {"id": "video_1", "type": "video", "url": "generated://video_1", "source": "generated"}
    final = {
        **WITH_TITLE,
        "t": [
            *WITH_TITLE["t"],
            {"tt": 1, "sg": [{"st": 0, "d": 10000, "m": {"name": "Lo-fi", "volume": 0.35}}]},
        ],
    }
    backend = (
        Backend()
        .script("state", state(None), state(final, video_infos=[clip], generated_media=[clip]))
        .script(
            "sse",
            stream(
                call("generate_video_with_seedance", "g"),
                *[heartbeat()] * 30,
                result("generate_video_with_seedance", "g"),
                text("Your clip is ready; adding music and a title."),
                call("edit_multitrack", "e"),
                result("edit_multitrack", "e"),
                text("All done! Preview it in the timeline."),
            ),
        )
    )
    sk, _ = skill(backend)
    outcome = sk.handle("make a 10 second video of a beach at sunset")
    texts = outcome.texts()
    assert not [t for t in texts if "Upload added" in t]  # a generated clip in video_infos is no upload
    assert texts.index(STILL_WORKING) < texts.index(RAW_CLIP_READY) < texts.index("All done!")
    assert outcome.texts(MessageKind.CHANGE) == ["✅ Video generated: beach at sunset (0-10s)"]
    (summary,) = outcome.texts(MessageKind.SUMMARY)
    assert summary.startswith("Timeline (3 tracks): 1. Video: beach at sunset (0-10s)")
    (added,) = [t for t in outcome.texts(MessageKind.NOTICE) if t.startswith("Post-production added")]
    assert "music 'Lo-fi' (35%)" in added and "the title 'Paradise Found'" in added and "remove" in added


def test_dropped_stream_recovers_by_polling_without_resending() -> None:
    """B-CLI-17, B-CLI-08, B-SSE-14: no re-send; 30 s then 60 s waits; after 5 unchanged queries, failure."""
    backend = (
        Backend()
        .script("state", state(VIDEO_ONLY))
        .script("sse", stream(text("Working on it."), call("edit_multitrack"), heartbeat()))
    )
    sk, clock = skill(backend)
    outcome = sk.handle("add subtitles")
    assert outcome.failure is Failure.TIMEOUT
    assert clock.sleeps == [30.0, 60.0, 60.0, 60.0, 60.0]
    assert backend.routes().count("sse") == 1
    assert backend.routes().count("state") == 1 + 5
    (error,) = outcome.texts(MessageKind.ERROR)
    assert error == RECOVERY_FAILED.format(waits=error.split("after ", 1)[1].split(":", 1)[0])
    assert error.startswith("No change after 5 checks over ")  # the wait that really happened
    assert "won't send the message again" in outcome.texts(MessageKind.STATUS)[-1]


def test_broken_connection_recovers_and_reports_the_change() -> None:
    """B-CLI-17, B-SSE-14: the state changed after the disconnect: report it, stop polling."""
    backend = (
        Backend()
        .script("state", state(VIDEO_ONLY), state(VIDEO_ONLY), state(WITH_TITLE))
        .script("sse", broken_stream(call("edit_multitrack"), heartbeat()))
    )
    sk, clock = skill(backend)
    outcome = sk.handle("add a title 'Paradise Found'")
    assert outcome.ok
    assert clock.sleeps == [30.0, 60.0]
    assert outcome.texts(MessageKind.CHANGE) == [
        "✅ Title added: 'Paradise Found' (white, top-center, fade-in, 0-3s)"
    ]
    assert backend.routes().count("sse") == 1


def test_heartbeats_only_for_ten_minutes_is_a_timeout() -> None:
    """B-CLI-06, B-CLI-07, B-CLI-17: four "Still working" notices, then recovery at 10 virtual minutes."""
    backend = (
        Backend()
        .script("state", state(VIDEO_ONLY), state(WITH_TITLE))
        .script("sse", stream(*[heartbeat()] * 150))
    )
    sk, clock = skill(backend)
    outcome = sk.handle("add a title 'Paradise Found'")
    assert outcome.texts(MessageKind.PROGRESS).count(STILL_WORKING) == 4
    assert any("10 minutes" in t for t in outcome.texts(MessageKind.STATUS))
    assert clock.sleeps == [30.0] and outcome.ok


def test_gui_actions_are_done_or_offered() -> None:
    """B-CLI-03: "check your billing" shows the balance; "click Export" becomes an offer, not a render."""
    backend = (
        Backend()
        .script("state", state(VIDEO_ONLY))
        .script(
            "sse", stream(text("You have some credits left; check your billing page. Then click Export."))
        )
    )
    sk, _ = skill(backend)
    outcome = sk.handle("anything else to do with it")
    assert "submit" not in backend.routes()
    assert outcome.texts(MessageKind.CREDITS) and "Say 'export'" in outcome.texts(MessageKind.NOTICE)[-1]
    assert outcome.texts(MessageKind.REPLY) == ["You have some credits left."]


def test_in_stream_error_is_reported() -> None:
    """B-ADK-06: a run error inside the stream ends the turn with the backend's message."""
    backend = Backend().script("sse", stream({"error": "model overloaded"}))
    sk, _ = skill(backend)
    outcome = sk.handle("make a video of a cat")
    assert outcome.failure is Failure.SERVER
    assert outcome.texts(MessageKind.ERROR) == ["The backend reported an error: model overloaded"]


# ---------------------------------------------------------------------------- errors (B-ERR-05)


def test_unknown_session_starts_a_new_one_and_says_so() -> None:
    """B-SESS-07, B-ERR-05: 1002 -> a new session, the user is told, the request goes on there."""
    backend = (
        Backend()
        .script("state", failure(1002, "Session not found"), state(None))
        .script("session", envelope({"task_id": "task_2", "session_id": NEW_SID, "user_id": USER}))
    )
    sk, _ = skill(backend)
    outcome = sk.handle("status")
    assert outcome.ok
    assert outcome.texts()[0] == NEW_SESSION
    assert sk.project is not None and sk.project.session_id == NEW_SID
    assert backend.routes() == ["state", "session", "claim", "state"]


def test_out_of_credits_anonymous_gets_the_bind_link_registered_a_top_up() -> None:
    """B-CRED-05, B-CLI-20, B-ERR-05: 2001 -> ?bind=<anonymous id>, or "top up" for a registered user."""
    backend = (
        Backend()
        .script("state", state(VIDEO_ONLY, user_id=ANON_USER))
        .script("sse", failure(2001, "Insufficient credits"))
    )
    anon, _ = skill(backend, project=Project(SID, "task_1", CLAIM, None))
    outcome = anon.handle("add subtitles")
    assert outcome.failure is Failure.CREDITS and outcome.error_code == 2001
    assert outcome.texts(MessageKind.ERROR) == [
        f"Out of credits. Register at {WEB}/register?bind={ANON_USER} to keep your work and get more credits."
    ]
    backend.script("state", state(VIDEO_ONLY))
    registered, _ = skill(backend)
    assert registered.handle("add subtitles").texts(MessageKind.ERROR) == [
        f"Out of credits. Top up at {WEB}."
    ]


def test_expired_token_is_renewed_and_the_call_repeated() -> None:
    """B-AUTH-14, B-AUTH-07, B-ERR-05: 1001 -> a token for the same client id, then the call again."""
    backend = Backend().script(
        "credits", failure(1001, "Token expired"), envelope({"available": 5, "total": 5})
    )
    sk, _ = skill(backend)
    outcome = sk.credits()
    assert outcome.ok and backend.routes() == ["credits", "token", "credits"]
    assert backend.requests[1].headers["x-client-id"] == "wf-client-1"
    assert backend.requests[2].headers["authorization"] == f"Bearer {ANON_TOKEN}"


def test_a_token_refused_twice_asks_the_user_to_reconfigure() -> None:
    """B-AUTH-14, B-ERR-05: when the renewed token fails too, the user must act (exit category auth)."""
    backend = Backend().script("credits", failure(1001, "Token expired"))
    sk, _ = skill(backend)
    outcome = sk.credits()
    assert outcome.failure is Failure.AUTH
    assert outcome.texts(MessageKind.ERROR) == [
        "Your NEMO_TOKEN is invalid, expired or revoked; "
        f"create a new one under Settings → API Tokens at {WEB}."
    ]


def test_rate_limit_waits_30_seconds_once_then_reports() -> None:
    """B-ERR-05, B-ERR-02: 429 -> 30 s on the clock and one retry; a second 429 is reported."""
    backend = Backend().script("credits", failure(429, "Too many requests", status=429))
    sk, clock = skill(backend)
    outcome = sk.credits()
    assert clock.sleeps == [30.0] and backend.routes() == ["credits", "credits"]
    assert outcome.failure is Failure.SERVER and outcome.texts(MessageKind.ERROR) == [
        "Rate limited; wait 30 s and retry."
    ]


def test_upload_errors_name_formats_and_compression(tmp_path: Path) -> None:
    """B-UPL-07, B-ERR-05: 4001 -> the accepted formats; 4002 -> compress or trim (with the cap)."""
    clip = tmp_path / "notes.txt"
    clip.write_text("hello")
    backend = Backend().script("upload", failure(4001, "Unsupported file type"), failure(4002, "Too large"))
    sk, _ = skill(backend)
    refused = sk.upload(clip)
    assert refused.failure is Failure.FILE and refused.error_code == 4001
    assert refused.texts(MessageKind.ERROR)[0].startswith("Unsupported file type. Supported: mp4, mov, avi")
    too_big = sk.upload(clip)
    assert too_big.texts(MessageKind.ERROR) == [
        "File too large (limit 500 MB). Compress or trim it, then send it again."
    ]


def test_no_message_ever_carries_a_token() -> None:
    """B-AUTH-22, B-CLI-21: backend text that echoes a token is masked; links carry only the claim token."""
    backend = (
        Backend()
        .script("state", state(VIDEO_ONLY))
        .script("sse", stream(text(f"Your token {TOKEN} works fine.")))
    )
    sk, _ = skill(backend)
    outcome = sk.handle("does my token work")
    assert all("nmv_usr_" not in m.text or "nmv_usr_***" in m.text for m in outcome.messages)
    assert TOKEN not in str(outcome)


# ---------------------------------------------------------------------------- export


def test_export_shape_b_with_progress_download_fallback_and_link(tmp_path: Path) -> None:
    """B-CLI-14, B-CLI-15, B-REN-07, B-REN-10, B-REN-13, B-CLI-19: the whole export in shape B."""
    submitted: list[str] = []

    def submit(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        submitted.append(body["id"])
        assert body["sessionId"] == SID and body["draft"] == VIDEO_ONLY
        return httpx.Response(200, json={"success": True, "data": {"id": body["id"], "status": "pending"}})

    def poll(status: str, progress: int, url: str | None = None) -> httpx.Response:
        data: dict[str, Any] = {"id": "x", "status": status, "progress": progress}
        if url:
            data["outputUrl"] = url
        return httpx.Response(200, json={"success": True, "data": data})

    mp4 = b"\x00\x00\x00\x18ftypmp42" + bytes(4096)
    backend = (
        Backend()
        .script("state", state(VIDEO_ONLY))
        .script("submit", submit)
        .script("poll", poll("processing", 50), poll("completed", 100, f"{CDN}/render.mp4"))
        .script("cdn", httpx.Response(404, text="gone"))
        .script("download", httpx.Response(200, headers={"content-type": "video/mp4"}, content=mp4))
    )
    sk, clock = skill(backend, downloads=tmp_path)
    outcome = sk.handle("send me the video")
    assert outcome.ok and clock.sleeps == [30.0, 30.0]
    assert outcome.texts(MessageKind.PROGRESS) == [RENDERING, "⏳ 50%"]
    assert outcome.file == tmp_path / f"{submitted[0]}.mp4" and outcome.file.read_bytes() == mp4
    assert outcome.texts(MessageKind.FILE)[0].startswith("✅ Video ready! ")
    assert outcome.texts(MessageKind.LINK) == [f"🔗 Task details: {WEB}/workspace/claim?ct={CLAIM}"]
    assert backend.routes() == ["state", "submit", "poll", "poll", "cdn", "download"]
    assert "authorization" not in backend.requests[4].headers  # no token to a CDN


def test_render_failure_is_retried_once_with_a_new_id(tmp_path: Path) -> None:
    """B-CLI-16, B-REN-03: a failed render -> one retry with a fresh id; twice -> "try again later"."""
    ids: list[str] = []

    def submit(request: httpx.Request) -> httpx.Response:
        ids.append(json.loads(request.content)["id"])
        return httpx.Response(200, json=render_a(ids[-1], "pending", 5))

    backend = (
        Backend()
        .script("state", state(VIDEO_ONLY))
        .script("submit", submit)
        .script(
            "poll",
            httpx.Response(200, json={"id": "r", "status": "failed", "progress": 40, "reason": "boom"}),
        )
    )
    sk, _ = skill(backend, downloads=tmp_path)
    outcome = sk.export(tmp_path / "out.mp4")
    assert outcome.failure is Failure.SERVER
    assert len(ids) == 2 and ids[0] != ids[1] and all(i.startswith("render_") for i in ids)
    assert "retrying once with a new id" in outcome.texts(MessageKind.STATUS)[0]
    assert outcome.texts(MessageKind.ERROR) == [f"{RENDER_FAILED_TWICE} The second try failed (boom)."]


def test_render_that_never_finishes_stops_after_max_polls(tmp_path: Path) -> None:
    """B-REN-10, B-CLI-16: 10 polls 30 s apart per attempt, then one retry, then a timeout."""
    backend = (
        Backend()
        .script("state", state(VIDEO_ONLY))
        .script(
            "submit", lambda r: httpx.Response(200, json=render_a(json.loads(r.content)["id"], "pending", 5))
        )
        .script("poll", httpx.Response(200, json=render_a("r", "processing", 50)))
    )
    sk, clock = skill(backend, downloads=tmp_path)
    outcome = sk.export()
    assert outcome.failure is Failure.TIMEOUT
    assert clock.sleeps == [30.0] * 20 and backend.routes().count("poll") == 20
    assert outcome.texts(MessageKind.PROGRESS) == [RENDERING, "⏳ 50%", "⏳ 50%"]


def test_export_blocked_402_is_a_plan_limit_not_credits(tmp_path: Path) -> None:
    """B-REN-16, B-ATTR-08, B-ERR-05: 402 -> the subscription message, no retry."""
    backend = (
        Backend()
        .script("state", state(VIDEO_ONLY))
        .script("submit", failure(402, "Export not available on the free plan", status=402))
    )
    sk, _ = skill(backend, downloads=tmp_path)
    outcome = sk.export()
    assert outcome.failure is Failure.PLAN and backend.routes().count("submit") == 1
    (line,) = outcome.texts(MessageKind.ERROR)
    assert "subscription limit, not credits" in line and f"register at {WEB} to unlock export" in line


# ---------------------------------------------------------------------------- the async face


class GatedClock(FakeClock):
    """A FakeClock whose async waits last until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def asleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await self.gate.wait()


def test_async_skill_runs_the_same_flows_and_queues_a_second_request() -> None:
    """B-CLI-12, B-CLI-08: the asyncio face gives the same outcome; a request made during another
    is acknowledged and queued behind it."""

    def make_backend() -> Backend:
        return (
            Backend()
            .script("state", state(VIDEO_ONLY), state(WITH_TITLE))
            .script(
                "sse",
                failure(429, "slow down", status=429),  # a 30 s wait: the first request yields mid-way
                stream(call("edit_multitrack"), result("edit_multitrack")),
            )
        )

    sync_outcome = skill(make_backend())[0].handle("add a title 'Paradise Found'")

    async def main() -> tuple[Outcome, Outcome]:
        backend = make_backend()
        clock = GatedClock()
        client = AsyncClient(config(), transport=httpx.MockTransport(backend), clock=clock)
        sk = AsyncSkill(client, project=Project(SID, "task_1", CLAIM, USER), persist=False)
        first = asyncio.create_task(sk.handle("add a title 'Paradise Found'"))
        while not clock.sleeps:  # the first request now waits out its 429, holding the turn
            await asyncio.sleep(0)
        second = asyncio.create_task(sk.handle("credits"))
        await asyncio.sleep(0)
        clock.gate.set()
        outcomes = await asyncio.gather(first, second)
        await client.aclose()
        return outcomes[0], outcomes[1]

    first, second = asyncio.run(main())
    assert first == sync_outcome
    assert second.texts()[0] == QUEUED and second.texts(MessageKind.CREDITS)


def test_messages_are_typed_and_streamed_as_they_come() -> None:
    """B-CLI-21: the callback sees each message before the request ends, in the outcome's order."""
    seen: list[Message] = []
    backend = Backend()
    sk, _ = skill(backend)
    sk.on_message = seen.append
    outcome = sk.credits()
    assert tuple(seen) == outcome.messages and all(isinstance(m.kind, MessageKind) for m in seen)
