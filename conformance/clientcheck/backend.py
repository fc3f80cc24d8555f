"""The world's backend, sans I/O: one answer per request, every exchange recorded.

`WorldBackend.handle` turns a request (method, path, headers, body) into an `Answer` (status,
headers, body, or the chunks of an event stream and whether the connection then drops). The
in-process transport (`transport.py`) and the loopback server (`server.py`) only move bytes, so
a world answers the same through both.

How the world answers, beyond the documented shapes:

- an injected fault answers a route's first `times` requests with its code: business codes with
  HTTP 200 or their mapped status (U-01), 400/402/429 with that status and an envelope whose code
  equals it (U-03), 429 with `Retry-After: 30`; on `/run_sse` the error comes before any stream
  (U-09);
- a setup turn (`World.setup`) is answered plainly: no faults, a short generation that puts the
  world's clip on the timeline; its exchanges are kept apart (`setup_exchanges`) and
  `start_request()` begins the judged turn;
- the first `/run_sse` of the judged turn carries the world's stream; a later one (a re-send) runs
  again as a short edit (B-SSE-13), so a client that re-sends still ends;
- the state shows the old draft until the stream opened and `visible_after` more reads went by
  (B-SSE-14); then the new one;
- a submitted render runs its attempt's script; a used id is HTTP 409 (U-14); the output URL sits
  under `/cdn/` on the same origin, and the download endpoint always has the file (B-REN-13).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from contracts.wording import MAPPED_STATUS
from mockserver import events as wire_events
from mockserver.wire import GARBAGE_BLOCK, AdkEncoder, cut_inside, encode_documented

from .drafts import draft_after, draft_before
from .recording import Exchange
from .world import EDIT_TOOL, GENERATION_TOOL, Beats, Calls, Garbage, Returns, Says, StreamItem, World

#: A client that keeps calling after this many requests gets 503s (a loop must still end).
MAX_EXCHANGES = 400
ERROR_MESSAGES = {
    400: "X-Client-Id header is required",
    402: "Export is not available on the free plan",
    429: "Too many requests",
    1001: "Unauthorized: token invalid or expired",
    1002: "Session not found",
    2001: "Insufficient credits",
    4001: "Unsupported file type",
    4002: "File too large",
}
SETUP_ITEMS: tuple[StreamItem, ...] = (
    Says("I'll generate your video now."),
    Calls(GENERATION_TOOL, "setup"),
    Returns(GENERATION_TOOL, "setup"),
    Says("Your video is ready."),
)
RERUN_ITEMS: tuple[StreamItem, ...] = (
    Calls(EDIT_TOOL, "rerun"),
    Returns(EDIT_TOOL, "rerun"),
    Says("Done: I made the change again."),
)
#: A tiny MP4 header and padding: enough for a client to save a file.
MP4_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(2048)
STREAM_HEADERS = (
    ("content-type", "text/event-stream"),
    ("cache-control", "no-cache"),
    ("x-accel-buffering", "no"),
)
_HEARTBEAT_CYCLE: tuple[wire_events.HeartbeatForm, ...] = ("json", "json", "json", "empty", "comment")
_EPOCH = 1_773_187_200.0
_SESSION_BASE = 5_529_798_706_024_415_232


@dataclass(frozen=True, slots=True)
class Answer:
    """A response: `chunks` makes it an event stream, sent one chunk per event; `drop` then breaks it."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    chunks: tuple[bytes, ...] | None = None
    drop: bool = False


def _json_answer(status: int, value: Any, *extra: tuple[str, str]) -> Answer:
    body = json.dumps(value, ensure_ascii=False).encode()
    return Answer(status, (("content-type", "application/json"), *extra), body)


def envelope(data: Any) -> dict[str, Any]:
    return {"code": 0, "message": "success", "data": data}


def route_of(method: str, path: str) -> str:
    """The world's name for the endpoint at `path` ("unknown" when there is none)."""
    if path == "/api/auth/anonymous-token":
        return "token"
    if path == "/api/auth/claim-token":
        return "claim"
    if path.startswith("/api/tasks/"):
        return "session"
    if path == "/run_sse":
        return "sse"
    if path.startswith("/api/state/"):
        return "state"
    if path.startswith("/api/credits/"):
        return "credits"
    if path.startswith("/api/upload-video/"):
        return "upload"
    if path == "/api/render/proxy/lambda":
        return "submit"
    if path.startswith("/api/render/proxy/lambda/"):
        return "cancel" if path.endswith("/cancel") else "poll"
    if path.startswith("/api/render/proxy/") and path.endswith("/download"):
        return "download"
    if path.startswith("/cdn/"):
        return "cdn"
    return "unknown"


def anonymous_token(n: int) -> str:
    """The n-th anonymous token a world hands out."""
    return f"nmv_usr_clientcheck_anon_{n:04d}"


class WorldBackend:
    """Answers requests as `world` says and records each exchange."""

    def __init__(self, world: World, base_url: str) -> None:
        self.world = world
        self.base_url = base_url.rstrip("/")
        self.exchanges: list[Exchange] = []
        self.setup_exchanges: list[Exchange] = []
        self.in_setup = world.setup is not None
        self._setup_streamed = False
        self._fault_left = {f.route: f.times for f in world.faults}
        self._tokens = 0
        self._sessions = 0
        self._streams = 0
        self._reads_since_stream = 0
        self._renders: dict[str, list[int]] = {}  # render id -> [attempt index, polls so far]
        self._events = itertools.count()

    # ------------------------------------------------------------------ entry point

    def start_request(self) -> None:
        """The setup turn is over: from now on the world answers (and records) the request's turn."""
        self.in_setup = False

    def handle(
        self,
        method: str,
        url_or_path: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        at: float | None = None,
    ) -> Answer:
        """The answer to one request; the exchange is appended to `exchanges`."""
        path = urlsplit(url_or_path).path or "/"
        route = route_of(method, path)
        parsed = _parse_json(body)
        lowered = {k.lower(): v for k, v in headers.items()}
        answer, code, tag, fault = self._answer(method.upper(), route, path, parsed)
        recording = self.setup_exchanges if self.in_setup else self.exchanges
        recording.append(
            Exchange(
                route=route,
                method=method.upper(),
                path=path,
                status=answer.status,
                code=code,
                fault=fault,
                tag=tag,
                client_id=lowered.get("x-client-id"),
                body=parsed,
                at=at,
            )
        )
        return answer

    def _answer(self, method: str, route: str, path: str, body: Any) -> tuple[Answer, int, str, bool]:
        if len(self.exchanges) + len(self.setup_exchanges) >= MAX_EXCHANGES:
            return self._error(503, "Too many requests in one run", status=503), 503, "", False
        left = 0 if self.in_setup else self._fault_left.get(route, 0)
        if left > 0:
            self._fault_left[route] = left - 1
            fault = self.world.fault(route)
            assert fault is not None
            tag = "refused" if route == "sse" else ""
            return self._fault_answer(fault.code), fault.code, tag, True
        handler = getattr(self, f"_{route}", None)
        if handler is None:
            return self._error(404, f"No route for {method} {path}", status=404), 404, "", False
        answer, tag = handler(method, path, body)
        code = _answer_code(answer)
        return answer, code, tag, False

    # ------------------------------------------------------------------ errors

    def _fault_answer(self, code: int) -> Answer:
        if code in MAPPED_STATUS:
            status = MAPPED_STATUS[code] if self.world.error_status == "mapped" else 200
            return self._error(code, ERROR_MESSAGES[code], status=status)
        extra = (("retry-after", "30"),) if code == 429 else ()
        return self._error(code, ERROR_MESSAGES.get(code, "Request failed"), status=code, extra=extra)

    @staticmethod
    def _error(code: int, message: str, *, status: int, extra: tuple[tuple[str, str], ...] = ()) -> Answer:
        return _json_answer(status, {"code": code, "message": message, "data": None}, *extra)

    # ------------------------------------------------------------------ auth and sessions

    def _token(self, method: str, path: str, body: Any) -> tuple[Answer, str]:
        self._tokens += 1
        data = {
            "token": anonymous_token(self._tokens),
            "user_id": self.world.user_id,
            "credits": 100,
            "expires_at": "2026-03-18T00:00:00Z",
        }
        return _json_answer(200, envelope(data)), ""

    def _session(self, method: str, path: str, body: Any) -> tuple[Answer, str]:
        self._sessions += 1
        data = {
            "task_id": f"task_{self._sessions}",
            "session_id": str(_SESSION_BASE + self._sessions),
            "user_id": self.world.user_id,
        }
        return _json_answer(200, envelope(data)), ""

    def _claim(self, method: str, path: str, body: Any) -> tuple[Answer, str]:
        data = {"claim_token": f"clm_clientcheck{self._sessions:04d}", "expires_in": 604800}
        return _json_answer(200, envelope(data)), ""

    def _credits(self, method: str, path: str, body: Any) -> tuple[Answer, str]:
        available = self.world.credits_available
        data = {"available": available, "frozen": 40, "total": available + 40}
        return _json_answer(200, envelope(data)), ""

    def _upload(self, method: str, path: str, body: Any) -> tuple[Answer, str]:
        stored = {
            "filename": "clip.mp4",
            "file_type": "video",
            "cdn_url": f"{self.base_url}/cdn/clip.mp4",
            "duration": 12.5,
            "width": 1920,
            "height": 1080,
        }
        return _json_answer(200, envelope({"files": [stored], "session_state_applied": True})), ""

    # ------------------------------------------------------------------ state and stream

    def _state(self, method: str, path: str, body: Any) -> tuple[Answer, str]:
        timeline = self.world.timeline
        shows_change = False
        if self.in_setup:
            draft = draft_before(timeline) if self._setup_streamed else None
            return self._state_answer(path, draft), "before"
        if self._streams:
            self._reads_since_stream += 1
            shows_change = (
                timeline.change != "none"
                and timeline.visible_after is not None
                and self._reads_since_stream > timeline.visible_after
            )
        draft = draft_after(timeline) if shows_change else draft_before(timeline)
        return self._state_answer(path, draft), "after" if shows_change else "before"

    def _state_answer(self, path: str, draft: dict[str, Any] | None) -> Answer:
        parts = path.strip("/").split("/")
        session_id = parts[4] if len(parts) > 4 else "unknown"
        data = {
            "session_id": session_id,
            "task_id": f"task_{max(self._sessions, 1)}",
            "user_id": self.world.user_id,
            "state": {
                "draft": draft,
                "video_infos": [],
                "canvas_config": {"width": 1080, "height": 1920, "aspect_ratio": "9:16"} if draft else None,
                "video_analyses": [],
                "generated_media": [],
            },
        }
        return _json_answer(200, envelope(data))

    def _sse(self, method: str, path: str, body: Any) -> tuple[Answer, str]:
        stream = self.world.stream
        if self.in_setup:
            self._setup_streamed = True
            items, drop = SETUP_ITEMS, False
        else:
            self._streams += 1
            if self._streams == 1 and stream is not None:
                items, drop = stream.items, stream.end == "drop"
                if stream.end == "truncate" and items:
                    chunks = self._encode(items)
                    cut = (*chunks[:-1], cut_inside(chunks[-1]))
                    return Answer(200, STREAM_HEADERS, chunks=cut), "stream"
            else:
                items, drop = RERUN_ITEMS, False
        return Answer(200, STREAM_HEADERS, chunks=self._encode(items), drop=drop), "stream"

    def _encode(self, items: tuple[StreamItem, ...]) -> tuple[bytes, ...]:
        events: list[wire_events.StreamEvent | bytes] = []
        for item in items:
            if isinstance(item, Garbage):
                events.append(GARBAGE_BLOCK)
            elif isinstance(item, Says):
                events.append(wire_events.Text(item.text))
            elif isinstance(item, Calls):
                events.append(wire_events.ToolCall(item.tool, {}, item.call_id))
            elif isinstance(item, Returns):
                events.append(wire_events.ToolResult(item.tool, {"status": "success"}, item.call_id))
            elif isinstance(item, Beats):
                for k in range(item.count):
                    form = _HEARTBEAT_CYCLE[k % len(_HEARTBEAT_CYCLE)] if item.form == "mixed" else item.form
                    events.append(wire_events.Heartbeat(form))
        if self.world.dialect == "adk":
            encoder = AdkEncoder(id_source=lambda: f"{next(self._events):016x}", clock=lambda: _EPOCH)
            return tuple(e if isinstance(e, bytes) else encoder.encode(e) for e in events)
        return tuple(e if isinstance(e, bytes) else encode_documented(e) for e in events)

    # ------------------------------------------------------------------ renders

    def _submit(self, method: str, path: str, body: Any) -> tuple[Answer, str]:
        render_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(render_id, str) or not render_id:
            return self._error(400, "id is required", status=400), ""
        if render_id in self._renders:
            return self._error(409, f"Render id already used: {render_id}", status=409), ""  # U-14
        self._renders[render_id] = [len(self._renders), 0]
        job = self._job(render_id, "pending", 5)
        if "success" not in job:  # shape A: the documented answer beside the top-level fields (B-REN-04)
            job = {"success": True, "data": {"id": render_id, "status": "pending", "progress": 5}, **job}
        return _json_answer(200, job), "pending"

    def _poll(self, method: str, path: str, body: Any) -> tuple[Answer, str]:
        render_id = path.removeprefix("/api/render/proxy/lambda/")
        job = self._renders.get(render_id)
        if job is None:
            return self._error(404, f"No render {render_id}", status=404), ""
        job[1] += 1
        attempt = self.world.attempt(job[0])
        polls = job[1]
        status: str
        if attempt.end != "stalled" and polls >= attempt.polls:
            status = attempt.end
            progress = 100 if status == "completed" else 40
        else:
            status = "processing"
            progress = min(90, 10 + 20 * polls) if attempt.end != "stalled" else 50
        return _json_answer(200, self._job(render_id, status, progress)), status

    def _cancel(self, method: str, path: str, body: Any) -> tuple[Answer, str]:
        render_id = path.removeprefix("/api/render/proxy/lambda/").removesuffix("/cancel")
        return _json_answer(200, self._job(render_id, "failed", 0, reason="cancelled")), "failed"

    def _job(self, render_id: str, status: str, progress: int, reason: str | None = None) -> dict[str, Any]:
        """A render job in the world's shape (B-REN-04/06/07)."""
        url = f"{self.base_url}/cdn/{render_id}.mp4"
        if status == "failed" and reason is None:
            reason = "render worker crashed"
        render = self.world.render
        if render is not None and render.shape == "B":
            data: dict[str, Any] = {
                "id": render_id,
                "status": status,
                "progress": progress,
                "createdAt": int(_EPOCH * 1000),
            }
            if status == "completed":
                data["outputUrl"] = url
                data["completedAt"] = int(_EPOCH * 1000) + 30_000
            if reason is not None:
                data["reason"] = reason
            return {"success": True, "data": data}
        job: dict[str, Any] = {"id": render_id, "status": status, "progress": progress}
        if status == "completed":
            job["output"] = {"url": url, "duration": 10.0, "size": len(MP4_BYTES)}
        if reason is not None:
            job["reason"] = reason
        return job

    def _download(self, method: str, path: str, body: Any) -> tuple[Answer, str]:
        return Answer(200, (("content-type", "video/mp4"),), MP4_BYTES), "file"

    def _cdn(self, method: str, path: str, body: Any) -> tuple[Answer, str]:
        render = self.world.render
        if render is not None and not render.cdn_ok:
            return Answer(404, (("content-type", "text/plain"),), b"not found"), "missing"
        return Answer(200, (("content-type", "video/mp4"),), MP4_BYTES), "file"


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _answer_code(answer: Answer) -> int:
    """0 for a success, else the envelope's code or the HTTP status."""
    if answer.chunks is not None:
        return 0
    if not 200 <= answer.status < 300:
        parsed = _parse_json(answer.body)
        code = parsed.get("code") if isinstance(parsed, dict) else None
        return code if isinstance(code, int) and code else answer.status
    return 0
