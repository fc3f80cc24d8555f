"""The client core through both faces, against recorded answers on httpx.MockTransport.

Every test that talks to the API runs twice, once through `Client` and once through `AsyncClient`,
and asserts the same requests and the same models.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from checkout import FIXTURES_DIR
from client import AsyncClient, Client
from client._core import upload_parts
from client.clock import FakeClock
from client.config import ClientConfig
from client.errors import (
    BadRequest,
    ExportBlocked,
    FileTooLarge,
    InsufficientCredits,
    MissingClientId,
    NemoError,
    RateLimited,
    ServerError,
    SessionNotFound,
    StreamTimeout,
    TokenInvalid,
    TransportError,
    UnsupportedFile,
    error_from_response,
)
from client.models import (
    AnonymousToken,
    ClaimToken,
    Credits,
    RenderJob,
    Session,
    State,
    UploadedFile,
    UploadResult,
)
from client.sse import HeartbeatEvent, StreamEvent, TextEvent, ToolCallEvent, ToolResultEvent
from contracts.profiles import load_profile

API = "https://api.test"
TOKEN = "nmv_usr_configured0000"
NEW_TOKEN = "nmv_usr_fresh1111"
CLIENT_ID = "0b8f3c1e-9d2a-4f6b-8c7d-1e2f3a4b5c6d"
SID = "5529798706024415232"
ATTRIBUTION = {"x-skill-source": "nemo-video", "x-skill-version": "1.9", "x-skill-platform": "clawhub"}
DRAFT = {
    "t": [{"tt": 0, "id": "trk_video", "sg": [{"id": "seg_v1", "st": 0, "d": 10000, "m": {"name": "city"}}]}],
    "d": 10000,
    "m": {"title": "Urban Dreams"},
}

FACES = ["sync", "async"]


def make_config(**changes: Any) -> ClientConfig:
    values: dict[str, Any] = {
        "api_url": API,
        "token": TOKEN,
        "client_id": CLIENT_ID,
        "skill_platform": "clawhub",
    }
    return ClientConfig(**(values | changes))


def envelope(data: Any) -> httpx.Response:
    return httpx.Response(200, json={"code": 0, "data": data})


def failure(code: int, message: str, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": message, "data": None}, headers=headers)


ANON = {"token": NEW_TOKEN, "user_id": "anon_abc123", "expires_at": "2026-03-18T00:00:00Z", "credits": 100}


@dataclass
class Backend:
    """Recorded answers per (method, path), served in order; the last one repeats. Records requests."""

    answers: dict[tuple[str, str], list[httpx.Response | Callable[[httpx.Request], httpx.Response]]]
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.answers.get((request.method, request.url.path))
        if not queue:
            return httpx.Response(404, json={"code": 404, "message": "no route", "data": None})
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if callable(answer):
            return answer(request)
        # A fresh copy each time: a response object belongs to the one client that received it.
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


def run(
    face: str, backend: Callable[[httpx.Request], Any], call: Callable[[Any], Any], **options: Any
) -> Any:
    """Make a client of `face` on a MockTransport, apply `call` to it and return the result."""
    config = options.pop("config", None) or make_config()
    clock = options.pop("clock", None) or FakeClock()
    transport = httpx.MockTransport(backend)
    if face == "sync":
        with Client(config, transport=transport, clock=clock, **options) as client:
            return call(client)

    async def main() -> Any:
        async with AsyncClient(config, transport=transport, clock=clock, **options) as client:
            result = call(client)
            return await result if inspect.isawaitable(result) else result

    return asyncio.run(main())


def run_sse(
    face: str, backend: Backend, *, config: ClientConfig | None = None
) -> tuple[list[StreamEvent], bool]:
    """Open run_sse through `face` and collect every event and the truncated flag."""

    def sync_call(client: Client) -> tuple[list[StreamEvent], bool]:
        with client.run_sse(SID, "make a video") as stream:
            return list(stream), stream.truncated

    async def async_call(client: AsyncClient) -> tuple[list[StreamEvent], bool]:
        async with client.run_sse(SID, "make a video") as stream:
            return [event async for event in stream], stream.truncated

    return run(face, backend, sync_call if face == "sync" else async_call, config=config)


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


def assert_api_headers(request: httpx.Request, token: str = TOKEN) -> None:
    """B-AUTH-13, B-ATTR-07: bearer and the three attribution headers on every API call."""
    assert request.headers["authorization"] == f"Bearer {token}"
    for name, value in ATTRIBUTION.items():
        assert request.headers[name] == value
    assert "x-client-id" not in request.headers


# ---------------------------------------------------------------------------- anonymous token


@pytest.mark.parametrize("face", FACES)
def test_anonymous_token_request_and_model(face: str) -> None:
    """B-AUTH-01/03: POST, no body, only X-Client-Id (no bearer, no attribution); all four fields read."""
    backend = Backend({("POST", "/api/auth/anonymous-token"): [envelope(ANON)]})
    result = run(face, backend, lambda c: c.anonymous_token(), config=make_config(token=None))
    assert result == AnonymousToken(NEW_TOKEN, "anon_abc123", "2026-03-18T00:00:00Z", 100)
    (request,) = backend.requests
    assert request.method == "POST" and request.url == f"{API}/api/auth/anonymous-token"
    assert request.content == b""
    assert request.headers["x-client-id"] == CLIENT_ID
    assert "authorization" not in request.headers
    assert not [name for name in request.headers if name.startswith("x-skill-")]
    assert NEW_TOKEN not in repr(result)


@pytest.mark.parametrize("face", FACES)
def test_configured_token_skips_anonymous_call(face: str) -> None:
    """B-AUTH-13: with NEMO_TOKEN set the client never asks for an anonymous token."""
    backend = Backend(
        {("GET", "/api/credits/balance/simple"): [envelope({"available": 1, "frozen": 0, "total": 1})]}
    )
    token = run(face, backend, lambda c: c.ensure_token())
    assert token == TOKEN
    assert backend.requests == []


@pytest.mark.parametrize("face", FACES)
def test_no_token_acquires_one_first(face: str) -> None:
    """B-AUTH-13: without a token the first call gets an anonymous one, then uses it as bearer."""
    backend = Backend(
        {
            ("POST", "/api/auth/anonymous-token"): [envelope(ANON)],
            ("GET", "/api/credits/balance/simple"): [envelope({"available": 100, "frozen": 0, "total": 100})],
        }
    )

    def call(client: Any) -> Any:
        async def both() -> tuple[Any, Any]:
            return await client.credits(), client.token_origin

        return both() if isinstance(client, AsyncClient) else (client.credits(), client.token_origin)

    credits, origin = run(face, backend, call, config=make_config(token=None))
    assert credits == Credits(100, 0, 100)
    assert origin == "anonymous"
    assert backend.paths() == ["POST /api/auth/anonymous-token", "GET /api/credits/balance/simple"]
    assert_api_headers(backend.requests[1], NEW_TOKEN)


@pytest.mark.parametrize("face", FACES)
def test_missing_client_id_makes_one_and_retries(face: str, tmp_path: Path) -> None:
    """B-AUTH-02, B-AUTH-12: HTTP 400 -> a new UUID client id, persisted, and one retry with it."""
    backend = Backend(
        {
            ("POST", "/api/auth/anonymous-token"): [
                failure(400, "X-Client-Id header is required", 400),
                envelope(ANON),
            ]
        }
    )
    config = make_config(token=None, client_id=None, config_dir=tmp_path)
    run(face, backend, lambda c: c.anonymous_token(), config=config)
    first, second = backend.requests
    assert "x-client-id" not in first.headers
    new_id = second.headers["x-client-id"]
    assert re.fullmatch(r"[0-9a-f-]{36}", new_id)
    assert (tmp_path / "client_id").read_text().strip() == new_id


@pytest.mark.parametrize("face", FACES)
def test_missing_client_id_twice_gives_up(face: str) -> None:
    """B-AUTH-02: only one retry with a new id; a second 400 is raised as MissingClientId."""
    backend = Backend({("POST", "/api/auth/anonymous-token"): [failure(400, "bad client id", 400)]})
    with pytest.raises(MissingClientId) as caught:
        run(face, backend, lambda c: c.anonymous_token(), config=make_config(token=None))
    assert len(backend.requests) == 2
    assert caught.value.http_status == 400


# ---------------------------------------------------------------------------- endpoint requests

STATE_DATA = {
    "session_id": SID,
    "task_id": "task_1",
    "user_id": "anon_abc123",
    "state": {
        "draft": DRAFT,
        "video_infos": [{"filename": "video.mp4"}],
        "canvas_config": {"width": 1080, "height": 1920},
        "generated_media": [],
        "video_analyses": [],
    },
}
UPLOAD_DATA = {
    "files": [
        {
            "filename": "video.mp4",
            "file_type": "video",
            "cdn_url": "https://cdn.example.com/videos/xxx/video.mp4",
            "duration": 30.5,
            "width": 1920,
            "height": 1080,
            "fps": 30,
            "hash": "abc123",
        }
    ],
    "session_state_applied": True,
}
UPLOADED = UploadResult(
    (
        UploadedFile(
            "video.mp4",
            "video",
            "https://cdn.example.com/videos/xxx/video.mp4",
            30.5,
            1920,
            1080,
            30,
            "abc123",
        ),
    ),
    True,
)
SHAPE_A_DONE = {
    "id": "render_x",
    "status": "completed",
    "progress": 100,
    "output": {
        "url": "https://static1.nemovideo.ai/render-result/render_x.mp4",
        "duration": 10.0,
        "size": 2048,
    },
}
SHAPE_B_DONE = {
    "success": True,
    "data": {
        "id": "render_x",
        "status": "completed",
        "progress": 100,
        "outputUrl": "https://static1.nemovideo.ai/render-result/render_x.mp4",
        "createdAt": 1773423613616,
        "completedAt": 1773423641222,
    },
}

# name, call, method, path, exact JSON body (None: no body), answer, expected model
ENDPOINTS: list[tuple[str, Callable[[Any], Any], str, str, Any, httpx.Response, Any]] = [
    (
        "claim_token",
        lambda c: c.claim_token("task_1", SID),
        "POST",
        "/api/auth/claim-token",
        {"task_id": "task_1", "session_id": SID},
        envelope({"claim_token": "clm_abc", "expires_in": 604800}),
        ClaimToken("clm_abc", 604800),
    ),
    (
        "create_session",
        lambda c: c.create_session(),
        "POST",
        "/api/tasks/me/with-session/nemo_agent",
        {"task_name": "project", "language": "en"},
        envelope({"task_id": "task_1", "session_id": SID, "user_id": "anon_abc123"}),
        Session("task_1", SID, "anon_abc123"),
    ),
    (
        "create_session_without_language",
        lambda c: c.create_session("My Video Project", language=None),
        "POST",
        "/api/tasks/me/with-session/nemo_agent",
        {"task_name": "My Video Project"},
        envelope({"task_id": "task_1", "session_id": SID}),
        Session("task_1", SID, None),
    ),
    (
        "upload_urls",
        lambda c: c.upload_urls(SID, ["https://example.com/video.mp4"]),
        "POST",
        f"/api/upload-video/nemo_agent/me/{SID}",
        {"urls": ["https://example.com/video.mp4"], "source_type": "url"},
        envelope(UPLOAD_DATA),
        UPLOADED,
    ),
    (
        "credits",
        lambda c: c.credits(),
        "GET",
        "/api/credits/balance/simple",
        None,
        envelope({"available": 25000, "frozen": 40, "total": 25040}),
        Credits(25000, 40, 25040),
    ),
    (
        "state",
        lambda c: c.state(SID),
        "GET",
        f"/api/state/nemo_agent/me/{SID}/latest",
        None,
        envelope(STATE_DATA),
        State(
            raw=STATE_DATA,
            draft=DRAFT,
            video_infos=[{"filename": "video.mp4"}],
            canvas_config={"width": 1080, "height": 1920},
            generated_media=[],
            video_analyses=[],
            user_id="anon_abc123",
            session_id=SID,
            task_id="task_1",
        ),
    ),
    (
        "submit_render",
        lambda c: c.submit_render(SID, DRAFT, "render_x"),
        "POST",
        "/api/render/proxy/lambda",
        {"id": "render_x", "sessionId": SID, "draft": DRAFT, "output": {"format": "mp4", "quality": "high"}},
        httpx.Response(200, json={"id": "render_x", "status": "pending", "progress": 5}),
        RenderJob("render_x", "pending", 5, None, "A"),
    ),
    (
        "get_render",
        lambda c: c.get_render("render_x"),
        "GET",
        "/api/render/proxy/lambda/render_x",
        None,
        httpx.Response(200, json=SHAPE_A_DONE),
        RenderJob(
            "render_x",
            "completed",
            100,
            "https://static1.nemovideo.ai/render-result/render_x.mp4",
            "A",
            10.0,
            2048,
        ),
    ),
    (
        "cancel_render",
        lambda c: c.cancel_render("render_x"),
        "POST",
        "/api/render/proxy/lambda/render_x/cancel",
        None,
        httpx.Response(
            200, json={"success": True, "data": {"id": "render_x", "status": "failed", "progress": 5}}
        ),
        RenderJob("render_x", "failed", 5, None, "B"),
    ),
]


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize(
    ("name", "call", "method", "path", "body", "answer", "expected"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS]
)
def test_endpoint_request_and_model(
    face: str, name: str, call: Any, method: str, path: str, body: Any, answer: httpx.Response, expected: Any
) -> None:
    """B-ENV-05/06/07/08, B-AUTH-19, B-SESS-01/05, B-UPL-03, B-CRED-01, B-STATE-01/02, B-REN-01/05/12:
    exact method, path, headers and JSON body; the answer read into the model."""
    backend = Backend({(method, path): [answer]})
    assert run(face, backend, call) == expected
    (request,) = backend.requests
    assert (request.method, str(request.url)) == (method, API + path)
    assert_api_headers(request)
    assert body_of(request) == body
    if body is not None:
        assert request.headers["content-type"] == "application/json"


def test_both_faces_give_identical_models() -> None:
    """One core, two faces: the same recorded answers give equal models through Client and AsyncClient."""
    results = {}
    for face in FACES:
        outcome = []
        for _, call, method, path, _, answer, _ in ENDPOINTS:
            outcome.append(run(face, Backend({(method, path): [answer]}), call))
        results[face] = outcome
    assert results["sync"] == results["async"]


def test_state_export_readiness() -> None:
    """B-STATE-05: export-ready when draft.t has a track with non-empty sg."""
    state = State.from_data(STATE_DATA)
    assert state.export_ready
    empty = State.from_data({"state": {"draft": {"t": [{"tt": 0, "sg": []}]}}})
    assert not empty.export_ready
    assert not State.from_data({"state": {"draft": None}}).export_ready


@pytest.mark.parametrize("face", FACES)
def test_submit_render_makes_a_fresh_id(face: str) -> None:
    """B-REN-03: without an id the client sends `render_<uuid hex>`, new every time."""
    backend = Backend(
        {
            ("POST", "/api/render/proxy/lambda"): [
                lambda r: httpx.Response(
                    200, json={"id": body_of(r)["id"], "status": "pending", "progress": 5}
                )
            ]
        }
    )
    first = run(face, backend, lambda c: c.submit_render(SID, DRAFT))
    second = run(face, backend, lambda c: c.submit_render(SID, DRAFT))
    assert re.fullmatch(r"render_[0-9a-f]{32}", first.id)
    assert first.id != second.id
    assert body_of(backend.requests[0])["draft"] == DRAFT  # B-REN-19: an object, not a string


@pytest.mark.parametrize("face", FACES)
def test_upload_files_multipart(face: str, tmp_path: Path) -> None:
    """B-UPL-01/02: multipart with one `files` field per file, bearer and attribution headers."""
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    image = tmp_path / "cover.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 100)
    backend = Backend({("POST", f"/api/upload-video/nemo_agent/me/{SID}"): [envelope(UPLOAD_DATA)]})
    assert run(face, backend, lambda c: c.upload_files(SID, [video, str(image)])) == UPLOADED
    (request,) = backend.requests
    assert_api_headers(request)
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    content = request.content
    assert content.count(b'name="files"') == 2
    assert b'filename="clip.mp4"' in content and b'filename="cover.png"' in content
    assert video.read_bytes() in content and image.read_bytes() in content
    assert b"Content-Type: video/mp4" in content and b"Content-Type: image/png" in content


def test_upload_parts_stream_from_disk(tmp_path: Path) -> None:
    """B-UPL-02: files go to httpx as open file objects (streamed in chunks), closed afterwards."""
    path = tmp_path / "big.mov"
    path.write_bytes(b"m" * 10)
    with contextlib.ExitStack() as stack:
        ((field_name, (filename, handle, kind)),) = upload_parts((path,), stack)
        assert (field_name, filename, kind) == ("files", "big.mov", "video/quicktime")
        assert isinstance(handle, io.BufferedReader)
    assert handle.closed


@pytest.mark.parametrize("face", FACES)
def test_upload_of_missing_file_sends_nothing(face: str, tmp_path: Path) -> None:
    backend = Backend({})
    with pytest.raises(FileNotFoundError):
        run(face, backend, lambda c: c.upload_files(SID, [tmp_path / "absent.mp4"]))
    assert backend.requests == []


# ---------------------------------------------------------------------------- render shapes


@pytest.mark.parametrize(
    ("answer", "shape"),
    [
        (SHAPE_A_DONE, "A"),
        (SHAPE_B_DONE, "B"),
        (
            {
                "taskId": "render_x",
                "status": "completed",
                "progress": 100,
                "output": {
                    "url": "https://static1.nemovideo.ai/render-result/render_x.mp4",
                    "duration": 30.5,
                },
            },
            "A",
        ),
    ],
)
@pytest.mark.parametrize("face", FACES)
def test_render_shapes_normalise(face: str, answer: dict[str, Any], shape: str) -> None:
    """B-REN-06 (shape A, incl. the init example with taskId) and B-REN-07 (shape B) give one RenderJob."""
    backend = Backend({("GET", "/api/render/proxy/lambda/render_x"): [httpx.Response(200, json=answer)]})
    job = run(face, backend, lambda c: c.get_render("render_x"))
    assert (job.id, job.status, job.progress, job.shape, job.done) == (
        "render_x",
        "completed",
        100,
        shape,
        True,
    )
    assert job.output_url == "https://static1.nemovideo.ai/render-result/render_x.mp4"
    if shape == "B":
        assert (job.created_at, job.completed_at) == (1773423613616, 1773423641222)


@pytest.mark.parametrize(
    ("answer", "shape"),
    [
        ({"id": "render_x", "status": "pending", "progress": 5}, "A"),
        ({"success": True, "data": {"id": "render_x", "status": "pending", "progress": 5}}, "B"),
        (  # shape A that also satisfies a reader of the API reference (B-REN-04's success + data)
            {
                "id": "render_x",
                "taskId": "render_x",
                "status": "pending",
                "progress": 5,
                "success": True,
                "data": {"id": "render_x", "status": "pending", "progress": 5},
            },
            "A",
        ),
    ],
)
def test_submit_shapes_normalise(answer: dict[str, Any], shape: str) -> None:
    """B-REN-04: the submit answer in either shape reads as the same pending job."""
    job = RenderJob.from_answer(answer)
    assert (job.id, job.status, job.progress, job.output_url, job.shape, job.done) == (
        "render_x",
        "pending",
        5,
        None,
        shape,
        False,
    )


def test_render_failure_reason_and_missing_id() -> None:
    """U-14: a failure reason is kept when given; a poll answer without id takes the polled id."""
    job = RenderJob.from_answer(
        {"status": "failed", "progress": 40, "reason": "encoder crashed"}, render_id="render_y"
    )
    assert (job.id, job.status, job.reason) == ("render_y", "failed", "encoder crashed")
    with pytest.raises(ServerError):
        RenderJob.from_answer({"id": "render_z"})


@pytest.mark.parametrize("face", FACES)
def test_submit_error_envelope(face: str) -> None:
    """B-REN-01, B-ERR-01: a submit answered by an envelope with a nonzero code raises that code's error."""
    backend = Backend({("POST", "/api/render/proxy/lambda"): [failure(1002, "Session not found")]})
    with pytest.raises(SessionNotFound) as caught:
        run(face, backend, lambda c: c.submit_render(SID, DRAFT))
    assert (caught.value.code, caught.value.http_status) == (1002, 200)


@pytest.mark.parametrize("face", FACES)
def test_export_blocked_402_with_profile_remedy(face: str) -> None:
    """B-REN-16, B-ERR-05: HTTP 402 on submit is ExportBlocked (not credits); remedy per profile."""
    backend = Backend({("POST", "/api/render/proxy/lambda"): [failure(402, "Export requires a plan", 402)]})
    seed = make_config(profile=load_profile("generator-video"))
    with pytest.raises(ExportBlocked) as caught:
        run(face, backend, lambda c: c.submit_render(SID, DRAFT), config=seed)
    assert caught.value.remedy == "Register or upgrade your plan to unlock export."
    with pytest.raises(ExportBlocked) as upstream:
        run(face, backend, lambda c: c.submit_render(SID, DRAFT))
    assert upstream.value.remedy == "Register at nemovideo.com to unlock export."


# ---------------------------------------------------------------------------- error model

BUSINESS = [
    (1002, 404, SessionNotFound),
    (2001, 402, InsufficientCredits),
    (4001, 415, UnsupportedFile),
    (4002, 413, FileTooLarge),
]


@pytest.mark.parametrize("mapped", [False, True], ids=["http200", "mapped"])
@pytest.mark.parametrize(("code", "status", "cls"), BUSINESS)
@pytest.mark.parametrize("face", FACES)
def test_business_codes_with_200_and_mapped_status(
    face: str, code: int, status: int, cls: type[NemoError], mapped: bool
) -> None:
    """B-ERR-01/04, U-01: a body code is recognised with HTTP 200 and with its mapped status alike."""
    http_status = status if mapped else 200
    backend = Backend(
        {("GET", f"/api/state/nemo_agent/me/{SID}/latest"): [failure(code, "nope", http_status)]}
    )
    with pytest.raises(cls) as caught:
        run(face, backend, lambda c: c.state(SID))
    assert (caught.value.code, caught.value.http_status, caught.value.message) == (code, http_status, "nope")
    assert caught.value.remedy
    assert len(backend.requests) == 1  # none of these is retried


@pytest.mark.parametrize("mapped", [False, True], ids=["http200", "mapped"])
@pytest.mark.parametrize("face", FACES)
def test_token_invalid_without_client_id_is_raised(face: str, mapped: bool) -> None:
    """B-AUTH-14, U-01: 1001 with HTTP 200 or 401; without a client id there is no re-auth."""
    backend = Backend(
        {("GET", "/api/credits/balance/simple"): [failure(1001, "Unauthorized", 401 if mapped else 200)]}
    )
    with pytest.raises(TokenInvalid) as caught:
        run(face, backend, lambda c: c.credits(), config=make_config(client_id=None))
    assert caught.value.code == 1001
    assert len(backend.requests) == 1


@pytest.mark.parametrize(
    ("status", "body", "headers", "operation", "cls", "code"),
    [
        (200, b'{"code":0,"data":{}}', {}, None, None, None),
        (200, b'{"code":"1002","msg":"gone"}', {}, None, SessionNotFound, 1002),
        (401, b"", {}, None, TokenInvalid, 1001),
        (
            400,
            b'{"code":400,"message":"X-Client-Id header is required","data":null}',
            {},
            None,
            MissingClientId,
            400,
        ),
        (400, b'{"code":400,"message":"bad json"}', {}, "create_session", BadRequest, 400),
        (402, b"<html>Payment Required</html>", {}, "submit_render", ExportBlocked, 402),
        (429, b'{"code":429,"message":"slow down"}', {"Retry-After": "30"}, None, RateLimited, 429),
        (404, b'{"detail":"Session not found: 42"}', {}, "run_sse", SessionNotFound, 1002),
        (404, b"", {}, None, NemoError, 404),
        (409, b'{"code":409,"message":"duplicate render id"}', {}, None, NemoError, 409),
        (502, b"<html>Bad Gateway</html>", {}, None, ServerError, 502),
        (200, b'{"success":false,"message":"render rejected"}', {}, None, NemoError, None),
        (200, b'{"code":7777,"message":"odd"}', {}, None, NemoError, 7777),
    ],
)
def test_error_from_response(
    status: int,
    body: bytes,
    headers: dict[str, str],
    operation: str | None,
    cls: type[NemoError] | None,
    code: int | None,
) -> None:
    """B-ERR-01..04, U-01..03, B-ADK-07: codes with any status, plain statuses, HTML and empty bodies."""
    error = error_from_response(status, body, headers, operation=operation)
    if cls is None:
        assert error is None
        return
    assert type(error) is cls
    assert error.code == code
    assert error.http_status == status
    if cls is RateLimited:
        assert isinstance(error, RateLimited) and error.retry_after == 30.0


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>maintenance</html>", headers={"content-type": "text/html"}),
        httpx.Response(200, content=b""),
        httpx.Response(200, json={"code": 0}),
        httpx.Response(503, text="Service Unavailable"),
    ],
)
@pytest.mark.parametrize("face", FACES)
def test_unreadable_answers_are_server_errors(face: str, answer: httpx.Response) -> None:
    """A real backend may send HTML or nothing: the client raises ServerError, never a parsing crash."""
    backend = Backend({("GET", "/api/credits/balance/simple"): [answer]})
    with pytest.raises(ServerError):
        run(face, backend, lambda c: c.credits())


# ---------------------------------------------------------------------------- retry policy


@pytest.mark.parametrize("face", FACES)
def test_rate_limit_waits_30s_and_retries_once(face: str) -> None:
    """B-ERR-05: 429 -> wait 30 s on the clock, retry once; a second 429 is raised."""
    clock = FakeClock()
    backend = Backend(
        {("GET", "/api/credits/balance/simple"): [failure(429, "rate limited", 429, **{"Retry-After": "5"})]}
    )
    with pytest.raises(RateLimited) as caught:
        run(face, backend, lambda c: c.credits(), clock=clock)
    assert clock.sleeps == [30.0]
    assert len(backend.requests) == 2
    assert caught.value.retry_after == 5.0


@pytest.mark.parametrize("face", FACES)
def test_rate_limit_then_success(face: str) -> None:
    """B-ERR-05, B-AUTH-08: a 429 at anonymous-token is retried after 30 s and the retry can succeed."""
    clock = FakeClock()
    backend = Backend(
        {("POST", "/api/auth/anonymous-token"): [failure(429, "1 token/client/7 days", 429), envelope(ANON)]}
    )
    result = run(face, backend, lambda c: c.anonymous_token(), config=make_config(token=None), clock=clock)
    assert result.token == NEW_TOKEN
    assert clock.sleeps == [30.0]


@pytest.mark.parametrize("face", FACES)
def test_token_invalid_reauths_with_same_client_id(face: str) -> None:
    """B-AUTH-07/14: 1001 -> anonymous-token with the same X-Client-Id, then the call with the new token."""
    backend = Backend(
        {
            ("GET", f"/api/state/nemo_agent/me/{SID}/latest"): [
                failure(1001, "token expired"),
                envelope(STATE_DATA),
            ],
            ("POST", "/api/auth/anonymous-token"): [envelope(ANON)],
        }
    )

    def call(client: Any) -> Any:
        async def both() -> tuple[Any, Any]:
            return await client.state(SID), client.token

        return both() if isinstance(client, AsyncClient) else (client.state(SID), client.token)

    state, token = run(face, backend, call)
    assert state.session_id == SID
    assert token == NEW_TOKEN
    assert backend.paths() == [
        f"GET /api/state/nemo_agent/me/{SID}/latest",
        "POST /api/auth/anonymous-token",
        f"GET /api/state/nemo_agent/me/{SID}/latest",
    ]
    assert backend.requests[1].headers["x-client-id"] == CLIENT_ID
    assert_api_headers(backend.requests[0], TOKEN)
    assert_api_headers(backend.requests[2], NEW_TOKEN)


@pytest.mark.parametrize("face", FACES)
def test_token_invalid_reauths_only_once(face: str) -> None:
    """B-AUTH-14 (v4.4: if re-auth does not help, ask the user): a second 1001 is raised."""
    backend = Backend(
        {
            ("GET", "/api/credits/balance/simple"): [failure(1001, "token expired", 401)],
            ("POST", "/api/auth/anonymous-token"): [envelope(ANON)],
        }
    )
    with pytest.raises(TokenInvalid):
        run(face, backend, lambda c: c.credits())
    assert len(backend.requests) == 3


# ---------------------------------------------------------------------------- run_sse

SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8"}


def sse_answer(name: str) -> httpx.Response:
    return httpx.Response(200, headers=SSE_HEADERS, content=(FIXTURES_DIR / "sse" / name).read_bytes())


@pytest.mark.parametrize("face", FACES)
def test_run_sse_request_and_events(face: str) -> None:
    """B-SSE-01/02/05: exact body, Accept header, bearer and attribution; events typed as they arrive."""
    backend = Backend({("POST", "/run_sse"): [sse_answer("documented-edit-silent-crlf.txt")]})
    events, truncated = run_sse(face, backend)
    (request,) = backend.requests
    assert str(request.url) == f"{API}/run_sse"
    assert_api_headers(request)
    assert request.headers["accept"] == "text/event-stream"
    assert request.headers["content-type"] == "application/json"
    assert body_of(request) == {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": SID,
        "new_message": {"parts": [{"text": "make a video"}]},
    }
    assert [type(event) for event in events] == [
        ToolCallEvent,
        HeartbeatEvent,
        HeartbeatEvent,
        ToolResultEvent,
    ]
    assert truncated is False


@pytest.mark.parametrize(
    "answer",
    [failure(1001, "token expired"), failure(1001, "token expired", 401), failure(429, "slow down", 429)],
)
@pytest.mark.parametrize("face", FACES)
def test_run_sse_is_never_retried(face: str, answer: httpx.Response) -> None:
    """B-CLI-08, B-SSE-13: run_sse is sent once; 1001 and 429 are raised without re-auth, wait or resend."""
    clock = FakeClock()
    backend = Backend(
        {("POST", "/run_sse"): [answer], ("POST", "/api/auth/anonymous-token"): [envelope(ANON)]}
    )

    def call(client: Any) -> Any:
        async def go() -> None:
            async with client.run_sse(SID, "make a video") as stream:
                [event async for event in stream]

        if isinstance(client, AsyncClient):
            return go()
        with client.run_sse(SID, "make a video") as stream:
            list(stream)

    with pytest.raises((TokenInvalid, RateLimited)):
        run(face, backend, call, clock=clock)
    assert backend.paths() == ["POST /run_sse"]
    assert clock.sleeps == []


@pytest.mark.parametrize("face", FACES)
def test_run_sse_missing_session_before_stream(face: str) -> None:
    """B-SESS-07, B-ADK-07, U-09: an error before any stream starts is raised as its error."""
    backend = Backend(
        {("POST", "/run_sse"): [httpx.Response(404, json={"detail": f"Session not found: {SID}"})]}
    )
    with pytest.raises(SessionNotFound):
        run_sse(face, backend)


def _cut_stream(face: str, error: Exception) -> Any:
    first = b'data: {"type":"text","content":"Adding the title."}\n\ndata: {"type":"heart'

    def chunks() -> Iterator[bytes]:
        yield first
        raise error

    async def achunks() -> AsyncIterator[bytes]:
        yield first
        raise error

    return chunks() if face == "sync" else achunks()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (httpx.RemoteProtocolError("peer closed connection"), TransportError),
        (httpx.ReadTimeout("idle"), StreamTimeout),
    ],
)
@pytest.mark.parametrize("face", FACES)
def test_run_sse_broken_mid_stream(face: str, error: Exception, expected: type[NemoError]) -> None:
    """B-CLI-17, B-SSE-16: complete events arrive, then the break is raised (disconnect or silence)."""
    seen: list[StreamEvent] = []

    def call(client: Any) -> Any:
        async def go() -> None:
            async with client.run_sse(SID, "x") as stream:
                async for event in stream:
                    seen.append(event)

        if isinstance(client, AsyncClient):
            return go()
        with client.run_sse(SID, "x") as stream:
            for event in stream:
                seen.append(event)

    backend = Backend(
        {
            ("POST", "/run_sse"): [
                lambda r: httpx.Response(200, headers=SSE_HEADERS, content=_cut_stream(face, error))
            ]
        }
    )
    with pytest.raises(expected):
        run(face, backend, call)
    assert seen == [TextEvent("Adding the title.")]


@pytest.mark.parametrize("face", FACES)
def test_run_sse_truncated_stream(face: str) -> None:
    """A stream closed inside an event: complete events only, and `truncated` is set."""
    backend = Backend({("POST", "/run_sse"): [sse_answer("truncated-mid-event.txt")]})
    events, truncated = run_sse(face, backend)
    assert len(events) == 3
    assert truncated is True


# ---------------------------------------------------------------------------- downloads


@pytest.mark.parametrize("face", FACES)
def test_download_render_streams_to_disk(face: str, tmp_path: Path) -> None:
    """B-REN-13: the fallback download path, bearer and attribution, the bytes written to out_path."""
    payload = b"\x00\x00\x00\x18ftypisom" + b"v" * 5000
    backend = Backend(
        {
            ("GET", "/api/render/proxy/render_x/download"): [
                httpx.Response(200, content=payload, headers={"content-type": "video/mp4"})
            ]
        }
    )
    out = tmp_path / "out" / "video.mp4"
    assert run(face, backend, lambda c: c.download_render("render_x", out)) == out
    assert out.read_bytes() == payload
    assert sorted(p.name for p in out.parent.iterdir()) == ["video.mp4"]
    assert_api_headers(backend.requests[0])


@pytest.mark.parametrize("face", FACES)
def test_download_error_leaves_no_file(face: str, tmp_path: Path) -> None:
    """U-14: a JSON error instead of the file raises and writes nothing."""
    backend = Backend(
        {("GET", "/api/render/proxy/render_x/download"): [failure(404, "render not finished", 404)]}
    )
    out = tmp_path / "video.mp4"
    with pytest.raises(NemoError):
        run(face, backend, lambda c: c.download_render("render_x", out))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("face", FACES)
def test_download_url_keeps_the_token_at_home(face: str, tmp_path: Path) -> None:
    """B-AUTH-22: output.url on a CDN is fetched without the bearer; a URL on the API origin gets it."""
    backend = Backend(
        {
            ("GET", "/render-result/render_x.mp4"): [
                httpx.Response(200, content=b"cdn", headers={"content-type": "video/mp4"})
            ],
            ("GET", "/files/render_x.mp4"): [
                httpx.Response(200, content=b"api", headers={"content-type": "video/mp4"})
            ],
        }
    )
    cdn = run(
        face,
        backend,
        lambda c: c.download_url(
            "https://static1.nemovideo.ai/render-result/render_x.mp4", tmp_path / "a.mp4"
        ),
    )
    own = run(face, backend, lambda c: c.download_url(f"{API}/files/render_x.mp4", tmp_path / "b.mp4"))
    assert (cdn.read_bytes(), own.read_bytes()) == (b"cdn", b"api")
    assert "authorization" not in backend.requests[0].headers
    assert backend.requests[1].headers["authorization"] == f"Bearer {TOKEN}"


# ---------------------------------------------------------------------------- secrets and transport


@pytest.mark.parametrize("face", FACES)
def test_no_token_in_error_text(face: str) -> None:
    """B-AUTH-22, B-CLI-21: a token echoed by the backend is masked in message, str and repr."""
    backend = Backend(
        {
            ("GET", "/api/credits/balance/simple"): [
                failure(4001, f"bad file for {TOKEN} and nmv_usr_other", 200)
            ]
        }
    )
    with pytest.raises(UnsupportedFile) as caught:
        run(face, backend, lambda c: c.credits())
    for text in (str(caught.value), repr(caught.value), caught.value.message, caught.value.remedy):
        assert "nmv_usr_" not in text.replace("nmv_usr_***", "")
        assert TOKEN not in text


@pytest.mark.parametrize("face", FACES)
def test_transport_failure(face: str) -> None:
    """A connection failure is a TransportError with a remedy, never an httpx exception; no token in it."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused while sending {TOKEN}")

    with pytest.raises(TransportError) as caught:
        run(face, refuse, lambda c: c.credits())
    assert TOKEN not in str(caught.value)
    assert caught.value.remedy


@pytest.mark.parametrize("face", FACES)
def test_run_sse_acquires_a_token_first(face: str) -> None:
    """B-AUTH-13: without a token, run_sse gets an anonymous one before it opens the stream."""
    backend = Backend(
        {
            ("POST", "/api/auth/anonymous-token"): [envelope(ANON)],
            ("POST", "/run_sse"): [sse_answer("adk-error.txt")],
        }
    )
    events, _ = run_sse(face, backend, config=make_config(token=None))
    assert backend.paths() == ["POST /api/auth/anonymous-token", "POST /run_sse"]
    assert_api_headers(backend.requests[1], NEW_TOKEN)
    assert len(events) == 3


@pytest.mark.parametrize("face", FACES)
def test_run_sse_stop_early(face: str) -> None:
    """Leaving the stream after the first event closes it cleanly (the caller may stop reading any time)."""

    def call(client: Any) -> Any:
        async def go() -> StreamEvent:
            async with client.run_sse(SID, "x") as stream:
                async for event in stream:
                    return event
            raise AssertionError("no event")

        if isinstance(client, AsyncClient):
            return go()
        with client.run_sse(SID, "x") as stream:
            return next(iter(stream))

    backend = Backend({("POST", "/run_sse"): [sse_answer("documented-generation.txt")]})
    assert isinstance(run(face, backend, call), TextEvent)
