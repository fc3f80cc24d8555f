"""GET /openapi.json describes the running server: its error mode, render shape, dialect, profile, URL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from contracts.profiles import load_profile
from contracts.spec import component_validator, load_openapi
from mockserver.served_openapi import served_document
from mockserver.settings import Settings
from mockserver.testing import LiveServer

BASE = "http://127.0.0.1:8080/"
UPLOAD = "/api/upload-video/nemo_agent/{user_id}/{session_id}"
MAPPED_ONLY = {"401", "413", "415"}


def served(**settings: Any) -> dict[str, Any]:
    return served_document(Settings(**settings), BASE)


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def deref(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A response or schema itself, not its `$ref`."""
    while "$ref" in node:
        kind, name = node["$ref"].removeprefix("#/components/").split("/")
        node = document["components"][kind][name]
    return node


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, op in item.items():
            yield f"{method.upper()} {path}", op


SETTINGS = {
    "default": {},
    "mapped": {"error_status": "mapped"},
    "shape B": {"render_shape": "B"},
    "ADK": {"dialect": "adk"},
    "ADK mapped": {"dialect": "adk", "error_status": "mapped"},
    "strict": {"strict_attribution": True},
}


@pytest.mark.parametrize("settings", SETTINGS.values(), ids=list(SETTINGS))
def test_every_served_document_is_valid_and_whole(settings: dict[str, Any]) -> None:
    """B-ENV-06: a valid OpenAPI 3.1 document, every reference resolving, no `x-twin-when` left."""
    document = served(**settings)
    validate(document)
    text = json.dumps(document)
    assert "x-twin-when" not in text
    for ref in set(refs(document)):
        kind, name = ref.removeprefix("#/components/").split("/")
        assert name in document["components"][kind], ref
    assert document["servers"] == [{"url": BASE.rstrip("/"), "description": "This nemo-mock."}]


def test_body_mode_answers_business_errors_with_200() -> None:
    """U-01, B-ERR-01: body mode documents the codes in a 200 and none of the mapped statuses."""
    document = served()
    for name, op in operations(document):
        assert not MAPPED_ONLY & set(op["responses"]), name
    schema = document["paths"][UPLOAD]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"$ref": "#/components/schemas/BusinessError"} in schema["oneOf"]
    run = document["paths"]["/run_sse"]["post"]["responses"]
    assert set(run["200"]["content"]) == {"text/event-stream", "application/json"}  # U-09
    assert "402" not in run and "404" not in run
    submit = document["paths"]["/api/render/proxy/lambda"]["post"]["responses"]
    assert deref(document, submit["402"])["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ExportBlockedError"
    )


def test_mapped_mode_answers_business_errors_with_their_statuses() -> None:
    """U-01, B-CRED-05, B-UPL-07: mapped mode has no business error in a 200 and every mapped status."""
    document = served(error_status="mapped")
    assert "BusinessError" not in document["components"]["schemas"]
    assert "BusinessError" not in json.dumps(document["paths"])
    upload = document["paths"][UPLOAD]["post"]["responses"]
    assert {"401", "404", "413", "415"} <= set(upload)
    run = document["paths"]["/run_sse"]["post"]["responses"]
    assert set(run["200"]["content"]) == {"text/event-stream"}
    assert deref(document, run["402"])["content"]["application/json"]["schema"]["$ref"].endswith(
        "/InsufficientCreditsError"
    )
    not_found = run["404"]["content"]["application/json"]
    assert not_found["schema"]["oneOf"] == [{"$ref": "#/components/schemas/SessionNotFoundError"}]


@pytest.mark.parametrize(
    ("shape", "kept", "gone"), [("A", "RenderShapeA", "RenderShapeB"), ("B", "RenderShapeB", "RenderShapeA")]
)
def test_one_render_shape(shape: str, kept: str, gone: str) -> None:
    """B-REN-04, B-REN-06, B-REN-07: only the configured shape is described, examples included."""
    document = served(render_shape=shape)
    schemas = document["components"]["schemas"]
    assert kept in schemas and gone not in schemas
    for path in ("/api/render/proxy/lambda", "/api/render/proxy/lambda/{render_id}"):
        for op in document["paths"][path].values():
            examples = op["responses"]["200"]["content"]["application/json"]["examples"]
            assert set(examples) == {f"shape{shape}"}
    answer = document["paths"]["/api/render/proxy/lambda"]["post"]["responses"]["200"]["content"]
    value = answer["application/json"]["examples"][f"shape{shape}"]["value"]
    assert value["success"] is True and value["data"]["status"] == "pending"  # B-REN-04 either way


@pytest.mark.parametrize("dialect", ["documented", "adk"])
def test_stream_events_in_the_dialect(dialect: str) -> None:
    """B-SSE-04/05/06, B-ADK-02, B-ADK-07: an event's data is the dialect's event JSON or empty."""
    document = served(dialect=dialect)
    data = document["components"]["schemas"]["SseEvent"]["properties"]["data"]["anyOf"]
    contents = [branch["contentSchema"]["$ref"] for branch in data if "contentSchema" in branch]
    expected = "DocumentedEvent" if dialect == "documented" else "AdkStreamItem"
    assert contents == [f"#/components/schemas/{expected}"]
    stream = document["paths"]["/run_sse"]["post"]["responses"]["200"]["content"]["text/event-stream"]
    event_schema = component_validator(expected)
    for example in stream["examples"].values():
        assert component_validator("SseEvent").is_valid(example["value"])
        if example["value"]["data"]:
            assert event_schema.is_valid(json.loads(example["value"]["data"]))
    assert ("AdkErrorDetail" in document["components"]["schemas"]) == (dialect == "adk")


def test_uploads_follow_the_profile() -> None:
    """B-UPL-05, B-UPL-08, U-13: the profile's formats as part media types and in the URL pattern; its cap."""
    profile = load_profile("text-to-video-kling-ai")
    document = served_document(Settings(profile=profile), BASE)
    upload = document["paths"][UPLOAD]["post"]
    extensions = [ext for exts in profile.accepted_formats.values() for ext in exts]
    media = upload["requestBody"]["content"]["multipart/form-data"]["encoding"]["files"]["contentType"]
    assert "video/mp4" in media and "image/png" in media and len(media.split(", ")) == len(extensions)
    assert upload["x-upload-cap-bytes"] == profile.upload_cap_bytes
    assert f"{profile.upload_cap_bytes // (1024 * 1024)} MB" in upload["description"]
    pattern = document["components"]["schemas"]["UploadUrlsRequest"]["properties"]["urls"]["items"]["pattern"]
    assert re.fullmatch(pattern, "https://example.com/video.MP4?sig=1")
    assert not re.fullmatch(pattern, "https://example.com/notes.pdf")
    assert not re.fullmatch(pattern, "https://example.com/video.mp4*")


def test_strict_attribution_requires_the_source_header() -> None:
    """B-ATTR-07, B-ATTR-08: with strict attribution X-Skill-Source is a required header."""
    assert served()["components"]["parameters"]["SkillSource"]["required"] is False
    assert served(strict_attribution=True)["components"]["parameters"]["SkillSource"]["required"] is True


def test_the_v44_limits_take_no_client_id() -> None:
    """B-AUTH-02, B-AUTH-10: X-Client-Id is required under the v1.9 limits, optional under v4.4's."""
    assert served()["components"]["parameters"]["ClientId"]["required"] is True
    assert served(rate_limits="v44")["components"]["parameters"]["ClientId"]["required"] is False


def test_the_full_contract_stays_in_the_repository() -> None:
    """The narrowing never touches contracts/openapi.yaml: it still describes every shape."""
    served(error_status="mapped", render_shape="B")
    full = load_openapi()["components"]["schemas"]
    assert {"BusinessError", "RenderShapeA", "RenderShapeB", "AdkErrorDetail"} <= set(full)


@pytest.mark.live
@pytest.mark.parametrize("settings", [{}, {"error_status": "mapped", "render_shape": "B"}])
def test_the_live_server_serves_its_own_document(settings: dict[str, Any]) -> None:
    """U-01, B-REN-06/07: /openapi.json of a live mock is the document of its settings at its URL."""
    with LiveServer(Settings(time_scale=0, access_log=False, **settings)) as server:
        answer = httpx.get(f"{server.url}/openapi.json")
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        document = answer.json()
        assert document == json.loads(json.dumps(served_document(server.backend.settings, server.url + "/")))
    assert document["servers"][0]["url"] == server.url
    assert document["info"]["x-twin-served"]["error_status"] == settings.get("error_status", "body")
    Draft202012Validator.check_schema(document["components"]["schemas"]["RenderSubmitRequest"])
