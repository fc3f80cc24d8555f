"""The server and the document agree on what a request body is: a body the request schema admits is
never refused as malformed, and one it does not admit is HTTP 400 with the field named (U-12).

Each case is sent to a live mock and judged against the same component of contracts/openapi.yaml.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import quote

import pytest

from contracts.spec import component_validator, load_openapi
from mockserver.media import render as media_render

TEXT = {"parts": [{"text": "what can you do?"}]}


def run_body(session_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": session_id,
        "new_message": TEXT,
    }
    body.update(changes)
    return body


RUN_CASES = {
    "plain": {},
    "ADK fields": {"streaming": True, "state_delta": None, "invocation_id": "e-1"},
    "streaming not a boolean": {"streaming": "yes"},
    "state_delta not an object": {"state_delta": 5},
    "an empty part beside a text": {"new_message": {"parts": [{"text": "hi"}, {"text": ""}]}},
    "a part without text": {"new_message": {"parts": [{"text": "hi"}, {"inline": 1}]}},
    "two parts": {"new_message": {"parts": [{"text": "add a title"}, {"text": "'Urban Dreams'"}]}},
    "another app": {"app_name": "other_agent"},
    "a long part": {"new_message": {"parts": [{"text": "x" * 20001}]}},
}


@pytest.mark.parametrize("changes", RUN_CASES.values(), ids=list(RUN_CASES))
def test_run_sse_bodies(paid, changes: dict[str, Any]) -> None:
    """B-SSE-02, B-ADK-01, B-ENV-08, U-12: RunSseRequest decides; a refusal names the field."""
    session_id, _ = paid.session()
    body = run_body(session_id, **changes)
    valid = component_validator("RunSseRequest").is_valid(body)
    with paid.http.stream("POST", "/run_sse", json=body, headers=paid.headers) as answer:
        answer.read()
    if valid:
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
    else:
        assert answer.status_code == 400 and answer.json()["code"] == 400, answer.text
        assert "`" in answer.json()["message"]


def draft() -> dict[str, Any]:
    return {
        "t": [{"tt": 0, "id": "trk", "sg": [{"id": "s", "st": 0, "d": 2000, "m": {"color": "#1f4e79"}}]}],
        "d": 2000,
        "m": {"width": 320, "height": 240},
    }


def with_draft(edit: Any) -> dict[str, Any]:
    changed = draft()
    edit(changed)
    return {"draft": changed}


RENDER_CASES = {
    "plain": {},
    "a free-form id": {"id": "my export (1)"},
    "an id with a slash": {"id": "a/b"},
    "a dot id": {"id": "."},
    "a dot-dot id": {"id": ".."},
    "a blank id": {"id": "   "},
    "an id of 129 characters": {"id": "r" * 129},
    "another format": {"output": {"format": "gif"}},
    "a numeric quality": {"output": {"format": "mp4", "quality": 5}},
    "full output": {"output": {"format": "mp4", "quality": "high", "resolution": "1080p", "fps": 30}},
    "no canvas size": with_draft(lambda d: d.pop("m")),
    "a canvas too wide": with_draft(lambda d: d["m"].update(width=4097)),
    "a one-pixel canvas": with_draft(lambda d: d["m"].update(height=1)),
    "a segment of an hour": with_draft(lambda d: d["t"][0]["sg"][0].update(d=3_600_000)),
    "a draft of two hours": with_draft(lambda d: d.update(d=7_200_000)),
    "a fractional start": with_draft(lambda d: d["t"][0]["sg"][0].update(st=0.5)),
    "no segment at all": with_draft(lambda d: d["t"][0].update(sg=[])),
    "an unknown track type": with_draft(lambda d: d["t"][0].update(tt=3)),
}


@pytest.mark.parametrize("changes", RENDER_CASES.values(), ids=list(RENDER_CASES))
def test_render_submit_bodies(paid, changes: dict[str, Any]) -> None:
    """B-REN-01/02/03, B-STATE-05, U-12, U-19: RenderSubmitRequest decides; an accepted id is one that
    the poll, cancel and download paths can carry."""
    session_id, _ = paid.session()
    body = {"id": "render_ok", "sessionId": session_id, "draft": draft(), **changes}
    valid = component_validator("RenderSubmitRequest").is_valid(body)
    answer = paid.post("/api/render/proxy/lambda", json=body)
    if valid:
        assert answer.status_code == 200 and answer.json()["success"] is True, answer.text
        cancelled = paid.post(f"/api/render/proxy/lambda/{quote_segment(body['id'])}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["id"] == body["id"]
    else:
        assert answer.status_code == 400 and answer.json()["code"] == 400, answer.text


def quote_segment(value: str) -> str:
    return quote(value, safe="")


def test_render_limits_are_the_renderers() -> None:
    """B-REN-11: the request schema's limits are the renderer's own, so an admitted draft renders."""
    components = load_openapi()["components"]["schemas"]
    meta = components["RenderableDraft"]["properties"]["m"]["properties"]
    assert meta["width"]["maximum"] == meta["height"]["maximum"] == media_render.MAX_SIDE
    assert components["RenderableDraft"]["properties"]["d"]["maximum"] == media_render.MAX_DURATION_S * 1000
    segment = components["RenderableSegment"]["properties"]
    assert segment["st"]["maximum"] + segment["d"]["maximum"] == media_render.MAX_DURATION_S * 1000


def test_a_state_draft_is_renderable(paid) -> None:
    """B-REN-19, B-STATE-05: a generated state's draft, sent as it is, fits the request schema."""
    session_id, _ = paid.session()
    paid.chat(session_id, "Generate a 10-second city timelapse video")
    paid.chat(session_id, "add a title 'Urban Dreams'")
    state_draft = copy.deepcopy(paid.state(session_id)["draft"])
    assert component_validator("RenderableDraft").is_valid(state_draft)


def test_a_render_named_in_any_script_has_an_ascii_url(paid) -> None:
    """B-REN-14, U-19: the output URL of a render whose id is not ASCII is still a URI, and it serves."""
    session_id, _ = paid.session()
    body = {"id": "rendu_été_1", "sessionId": session_id, "draft": draft()}
    assert paid.post("/api/render/proxy/lambda", json=body).status_code == 200
    for _ in range(3):
        job = paid.get(f"/api/render/proxy/lambda/{quote_segment(body['id'])}").json()
    url = job["output"]["url"]
    assert job["status"] == "completed" and url.isascii()
    video = paid.http.get(url)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"


SESSION_CASES = {
    "no body": None,
    "an empty object": {},
    "a blank name": {"task_name": "   "},
    "a name and a language": {"task_name": "p", "language": "zh-CN"},
    "a number for a name": {"task_name": 7},
    "a language of 36 characters": {"language": "x" * 36},
}


@pytest.mark.parametrize("body", SESSION_CASES.values(), ids=list(SESSION_CASES))
def test_create_session_bodies(user, body: Any) -> None:
    """B-SESS-05, B-SESS-06, U-12: CreateSessionRequest decides; the body is optional and a blank name
    is `project`."""
    valid = body is None or component_validator("CreateSessionRequest").is_valid(body)
    kwargs = {} if body is None else {"json": body}
    answer = user.post("/api/tasks/me/with-session/nemo_agent", **kwargs)
    if valid:
        assert answer.status_code == 200 and answer.json()["code"] == 0, answer.text
        session_id = answer.json()["data"]["session_id"]
        named = user.get(f"/api/state/nemo_agent/me/{session_id}/latest").json()["data"]["task_name"]
        assert named == ((body or {}).get("task_name", "").strip() or "project")
    else:
        assert answer.status_code == 400, answer.text


@pytest.mark.parametrize(
    "body",
    [
        {"task_id": "", "session_id": "1"},
        {"task_id": "t", "session_id": ""},
        {"task_id": "t" * 257, "session_id": "1"},
    ],
)
def test_claim_token_bodies_the_schema_refuses(user, body: dict[str, Any]) -> None:
    """B-AUTH-19, U-12: an empty or over-long id is a malformed request (400), not an unknown session."""
    assert not component_validator("ClaimTokenRequest").is_valid(body)
    answer = user.post("/api/auth/claim-token", json=body)
    assert answer.status_code == 400 and answer.json()["code"] == 400
