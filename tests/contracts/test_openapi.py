"""contracts/openapi.yaml: valid OpenAPI 3.1 that describes every documented operation."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from contracts import BEHAVIOURS_PATH, OPENAPI_PATH, SCHEMAS_DIR
from contracts.spec import (
    OPENAPI_URI,
    component_validator,
    documented_operations,
    load_openapi,
    load_schema,
    operation,
    registry,
    schema_names,
)

#: The documented (method, path) pairs (B-AUTH-01, B-AUTH-19, B-SESS-01, B-SSE-01, B-UPL-01,
#: B-CRED-01, B-STATE-01, B-REN-01, B-REN-05, B-REN-12, B-REN-13), by operationId.
DOCUMENTED_OPERATIONS: dict[str, tuple[str, str]] = {
    "anonymousToken": ("POST", "/api/auth/anonymous-token"),
    "claimToken": ("POST", "/api/auth/claim-token"),
    "createSession": ("POST", "/api/tasks/{user_id}/with-session/nemo_agent"),
    "runSse": ("POST", "/run_sse"),
    "uploadFiles": ("POST", "/api/upload-video/nemo_agent/{user_id}/{session_id}"),
    "getCredits": ("GET", "/api/credits/balance/simple"),
    "getState": ("GET", "/api/state/nemo_agent/{user_id}/{session_id}/latest"),
    "submitRender": ("POST", "/api/render/proxy/lambda"),
    "getRender": ("GET", "/api/render/proxy/lambda/{render_id}"),
    "cancelRender": ("POST", "/api/render/proxy/lambda/{render_id}/cancel"),
    "downloadRender": ("GET", "/api/render/proxy/{render_id}/download"),
}

#: Which component mirrors which schema file ("" = the file's root) or `$defs` entry.
MIRRORED_COMPONENTS: dict[str, dict[str, str]] = {
    "draft.schema.json": {
        "": "Draft",
        "exportableDraft": "ExportableDraft",
        "draftMeta": "DraftMeta",
        "track": "DraftTrack",
        "trackMeta": "DraftTrackMeta",
        "videoTrack": "DraftVideoTrack",
        "audioTrack": "DraftAudioTrack",
        "textTrack": "DraftTextTrack",
        "segment": "DraftSegment",
        "videoSegment": "DraftVideoSegment",
        "audioSegment": "DraftAudioSegment",
        "textSegment": "DraftTextSegment",
    },
    "state.schema.json": {
        "": "SessionState",
        "stateData": "StateData",
        "canvasConfig": "CanvasConfig",
        "videoInfo": "VideoInfo",
    },
    "envelope.schema.json": {
        "": "Envelope",
        "success": "SuccessEnvelope",
        "error": "ErrorEnvelope",
        "businessCode": "BusinessCode",
        "httpCode": "HttpErrorCode",
    },
    "event-documented.schema.json": {
        "": "DocumentedEvent",
        "text": "DocumentedTextEvent",
        "toolCall": "DocumentedToolCallEvent",
        "toolResult": "DocumentedToolResultEvent",
        "heartbeat": "DocumentedHeartbeatEvent",
    },
    "event-adk.schema.json": {
        "": "AdkStreamItem",
        "event": "AdkEvent",
        "content": "AdkContent",
        "part": "AdkPart",
        "functionCall": "AdkFunctionCall",
        "functionResponse": "AdkFunctionResponse",
        "actions": "AdkEventActions",
        "runError": "AdkRunError",
    },
    "render-shape-a.schema.json": {
        "": "RenderShapeA",
        "status": "RenderStatus",
        "output": "RenderOutput",
        "submit": "RenderSubmitShapeA",
    },
    "render-shape-b.schema.json": {"": "RenderShapeB", "job": "RenderShapeBJob"},
}

#: One rule id per row of the disagreements table that some `x-disagreements` entry must name.
DISAGREEMENT_RULES = {
    "B-AUTH-05",  # token expiry
    "B-AUTH-10",  # token limits
    "B-AUTH-16",  # anonymous scopes
    "B-AUTH-03",  # anonymous-token response fields
    "B-SESS-03",  # create-session response
    "B-SSE-03",  # run_sse user_id
    "B-ENV-07",  # user path segment
    "B-REN-07",  # render poll shape
    "B-REN-04",  # render submit response
    "B-REN-10",  # poll cadence
    "B-REN-17",  # render endpoints
    "B-REN-12",  # cancel endpoint
    "B-ATTR-08",  # missing attribution headers
    "B-REN-16",  # 402 wording
    "B-CRED-06",  # 2001 registration URL
    "B-UPL-08",  # upload size cap
    "B-SESS-05",  # session language
    "B-UPL-09",  # recommended vs accepted types
    "B-SSE-16",  # client SSE hard timeout
    "B-CLI-07",  # heartbeat-only timeout
    "B-CLI-18",  # disconnect recovery
    "B-ATTR-04",  # X-Skill-Platform
    "B-ENV-04",  # requires.env
    "B-LINK-01",  # browser link
    "B-SSE-18",  # stage signals
}
#: Schema files that describe no API payload, so the OpenAPI document does not mirror them.
NOT_ON_THE_WIRE = {"profile.schema.json", "har-1.2.schema.json"}
RULE_ID = re.compile(r"^B-[A-Z]+-\d{2}$")
CITED_ID = re.compile(r"(?<![\w-])(B-[A-Z]+-\d+|U-\d+)(?!\w)")
ATTRIBUTION_HEADERS = {"X-Skill-Source", "X-Skill-Version", "X-Skill-Platform"}


def deref(document: dict[str, Any], node: Any) -> Any:
    """The object a local `$ref` points to (repeatedly), or the node itself."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def validator_at(json_pointer: str) -> Draft202012Validator:
    """A validator for the subschema at `json_pointer` inside the OpenAPI document."""
    return Draft202012Validator(
        {"$ref": f"{OPENAPI_URI}#{quote(json_pointer, safe='/~')}"},
        registry=registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, str(index)))


def schema_examples(document: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(where, pointer to the schema, example) for every example next to a schema."""
    for path, node in walk(document):
        if not isinstance(node, dict) or not isinstance(node.get("schema"), dict):
            continue
        schema_pointer = pointer(*path, "schema")
        if "example" in node:
            yield "/".join(path), schema_pointer, node["example"]
        for name, example in (node.get("examples") or {}).items():
            yield f"{'/'.join(path)}/examples/{name}", schema_pointer, deref(document, example)["value"]


def translate_refs(node: Any, current_file: str) -> Any:
    """A schema file fragment as its mirrored component: file references become component references."""
    if isinstance(node, dict):
        translated: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref":
                target, _, fragment = value.partition("#")
                definition = fragment.removeprefix("/$defs/") if fragment not in ("", "/") else ""
                name = MIRRORED_COMPONENTS[target or current_file][definition]
                translated[key] = f"#/components/schemas/{name}"
            else:
                translated[key] = translate_refs(value, current_file)
        return translated
    if isinstance(node, list):
        return [translate_refs(value, current_file) for value in node]
    return node


def link(operation_id: str, status: str, name: str) -> dict[str, Any]:
    _, _, op = operation(operation_id)
    links = op["responses"][status].get("links", {})
    assert name in links, f"{operation_id} {status} has no link {name!r}; has {sorted(links)}"
    return links[name]


def response_schema_has_pointer(document: dict[str, Any], schema: Any, json_pointer: str) -> bool:
    """Whether `schema` (following $ref, allOf, oneOf, anyOf) describes the property path."""
    schema = deref(document, schema)
    parts = [part for part in json_pointer.split("/") if part]
    if not parts:
        return True
    branches = [
        deref(document, branch) for key in ("allOf", "oneOf", "anyOf") for branch in schema.get(key, [])
    ]
    for candidate in [schema, *branches]:
        properties = candidate.get("properties", {})
        if parts[0] in properties and response_schema_has_pointer(
            document, properties[parts[0]], "/".join(parts[1:])
        ):
            return True
    return any(response_schema_has_pointer(document, branch, json_pointer) for branch in branches)


# ---------------------------------------------------------------------------- document


def test_openapi_is_valid_openapi_31() -> None:
    """The whole document validates as OpenAPI 3.1 (B-ENV-06 envelope, every area)."""
    document = load_openapi()
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_every_documented_operation_is_described() -> None:
    """The 11 documented (method, path) pairs are all in openapi.yaml and nothing else is
    (B-AUTH-01, B-AUTH-19, B-SESS-01, B-SSE-01, B-UPL-01, B-CRED-01, B-STATE-01, B-REN-01/05/12/13)."""
    described = documented_operations()
    missing = [pair for pair in DOCUMENTED_OPERATIONS.values() if pair not in described]
    assert not missing, f"openapi.yaml lacks {missing}"
    assert sorted(described) == sorted(DOCUMENTED_OPERATIONS.values())


@pytest.mark.parametrize("operation_id", sorted(DOCUMENTED_OPERATIONS))
def test_operation_ids(operation_id: str) -> None:
    """Every operation has its agreed operationId and names the rules it follows (x-rules)."""
    method, path, op = operation(operation_id)
    assert (method, path) == DOCUMENTED_OPERATIONS[operation_id]
    assert op["x-rules"] and all(RULE_ID.match(rule) for rule in op["x-rules"])


def test_attribution_headers_on_every_call_but_the_anonymous_token() -> None:
    """B-ATTR-07: X-Skill-Source/Version/Platform on every call; B-AUTH-01: not on the anonymous token."""
    document = load_openapi()
    for operation_id in DOCUMENTED_OPERATIONS:
        _, _, op = operation(operation_id)
        headers = {
            deref(document, parameter)["name"]
            for parameter in op.get("parameters", [])
            if deref(document, parameter)["in"] == "header"
        }
        if operation_id == "anonymousToken":
            assert headers == {"X-Client-Id"}
        else:
            assert headers >= ATTRIBUTION_HEADERS, operation_id
    for name in ("SkillSource", "SkillVersion", "SkillPlatform"):
        assert document["components"]["parameters"][name]["x-required-by-skill"] is True


def test_anonymous_token_needs_client_id_and_no_bearer() -> None:
    """B-AUTH-01, B-AUTH-02, B-AUTH-13: no security on the token call, X-Client-Id required,
    400 without it and 429 with Retry-After (B-AUTH-08, U-03); bearer everywhere else."""
    document = load_openapi()
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    _, _, op = operation("anonymousToken")
    assert op["security"] == []
    client_id = deref(document, op["parameters"][0])
    assert (client_id["name"], client_id["required"]) == ("X-Client-Id", True)
    assert client_id["schema"]["maxLength"] == 64  # B-AUTH-11
    assert deref(document, op["responses"]["400"])["content"]["application/json"]["example"]["code"] == 400
    rate_limited = deref(document, op["responses"]["429"])
    assert "Retry-After" in rate_limited["headers"]
    assert rate_limited["content"]["application/json"]["example"]["code"] == 429
    for operation_id in DOCUMENTED_OPERATIONS.keys() - {"anonymousToken"}:
        assert "security" not in operation(operation_id)[2], operation_id


def test_anonymous_token_response_fields() -> None:
    """B-AUTH-03, B-AUTH-04: `token` (nmv_usr_), `user_id` (anon_), `expires_at` (ISO-8601), `credits`."""
    tokens = component_validator("AnonymousToken")
    _, _, op = operation("anonymousToken")
    data = op["responses"]["200"]["content"]["application/json"]["example"]["data"]
    assert tokens.is_valid(data)
    assert tokens.is_valid({**data, "expires_at": None})  # option token_ttl 0 (B-AUTH-05)
    assert not tokens.is_valid({**data, "expires_at": "in seven days"})
    assert not tokens.is_valid({**data, "token": "clm_4e9b2f7a"})
    assert not tokens.is_valid({key: value for key, value in data.items() if key != "user_id"})


def test_user_path_segment_is_me() -> None:
    """B-ENV-07: the user path parameter's example is `me`; the caller's own id is also allowed."""
    user_id = load_openapi()["components"]["parameters"]["UserId"]
    assert user_id["example"] == "me"
    assert "anon_abc123" in user_id["schema"]["examples"]


def test_business_errors_are_described_both_ways() -> None:
    """U-01: business codes come in a 200 envelope by default and with mapped statuses as an option."""
    document = load_openapi()
    mapped = {"401": 1001, "404": 1002, "413": 4002, "415": 4001}
    _, _, upload = operation("uploadFiles")
    ok_schema = upload["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"$ref": "#/components/schemas/BusinessError"} in ok_schema["oneOf"]
    for status, code in mapped.items():
        example = deref(document, upload["responses"][status])["content"]["application/json"]["example"]
        assert example["code"] == code
    blocked = component_validator("ExportBlockedError")  # B-REN-16: HTTP 402 in either mode
    assert blocked.is_valid(
        {"code": 402, "message": "Register at nemovideo.com to unlock export.", "data": None}
    )
    assert not blocked.is_valid({"code": 2001, "message": "Insufficient credits", "data": None})
    credits = component_validator("InsufficientCreditsError")  # B-CRED-05: 2001 as HTTP 402 when mapped
    assert credits.is_valid({"code": 2001, "message": "Insufficient credits", "data": None})
    assert not credits.is_valid({"code": 1001, "message": "Unauthorized", "data": None})
    business = component_validator("BusinessError")
    assert business.is_valid({"code": 1002, "message": "Session not found", "data": None})
    assert not business.is_valid({"code": 0, "message": "ok", "data": {}})
    assert not business.is_valid({"code": 1002, "msg": "Session not found"})  # U-02: `message`


# ---------------------------------------------------------------------------- operations


def test_run_sse_streams_and_references_the_event_schemas() -> None:
    """B-SSE-04/05/06, B-ADK-02, U-09: 200 is text/event-stream, or a JSON envelope before the stream;
    both event dialects are named; the examples parse into valid events (empty data = heartbeat)."""
    document = load_openapi()
    _, _, op = operation("runSse")
    content = op["responses"]["200"]["content"]
    assert set(content) == {"text/event-stream", "application/json"}
    dialects = op["x-event-schemas"]
    assert set(dialects) == {"documented", "adk"}
    for dialect in dialects.values():
        component = dialect["component"].removeprefix("#/components/schemas/")
        assert component in document["components"]["schemas"]
        assert dialect["file"].removeprefix("schemas/") in schema_names()
    validators = {
        "documented": component_validator("DocumentedEvent"),
        "adk": component_validator("AdkStreamItem"),
    }
    assert content["text/event-stream"]["schema"] == {"$ref": "#/components/schemas/SseEvent"}
    for name, example in content["text/event-stream"]["x-stream-examples"].items():
        lines = [line for line in example["value"].split("\n") if line]
        assert lines and all(line.startswith("data:") for line in lines)
        for line in lines:
            data = line.removeprefix("data:").strip()
            if data:
                event = json.loads(data)
                assert validators[name].is_valid(event), (name, event)
            else:
                with pytest.raises(json.JSONDecodeError):
                    json.loads(data)  # the empty heartbeat is no JSON (B-SSE-06)


def test_run_sse_request_is_snake_case() -> None:
    """B-SSE-02, B-SSE-03, B-ADK-01: snake_case body, only session_id and new_message required."""
    run = component_validator("RunSseRequest")
    message = {"parts": [{"text": "add a title"}]}
    assert run.is_valid(
        {"app_name": "nemo_agent", "user_id": "me", "session_id": "55", "new_message": message}
    )
    assert run.is_valid({"session_id": "55", "new_message": message})  # user_id absent (c74ec3b)
    assert not run.is_valid({"appName": "nemo_agent", "sessionId": "55", "newMessage": message})


def test_upload_takes_multipart_files_and_json_urls() -> None:
    """B-UPL-02, B-UPL-03, B-UPL-04, B-UPL-13: `files` array of binaries, or `{urls, source_type: url}`."""
    document = load_openapi()
    _, _, op = operation("uploadFiles")
    content = op["requestBody"]["content"]
    form = deref(document, content["multipart/form-data"]["schema"])
    assert form["properties"]["files"]["type"] == "array"
    assert form["properties"]["files"]["items"]["format"] == "binary"
    urls = component_validator("UploadUrlsRequest")
    assert urls.is_valid({"urls": ["https://example.com/video.mp4"], "source_type": "url"})
    assert not urls.is_valid({"urls": ["https://example.com/video.mp4"], "source_type": "file"})
    uploaded = component_validator("UploadedFile")
    file_info = content["application/json"]["example"]  # the request; the response example follows
    assert file_info["source_type"] == "url"
    response = op["responses"]["200"]["content"]["application/json"]["example"]["data"]["files"][0]
    assert uploaded.is_valid(response)
    renamed = {("url" if key == "cdn_url" else key): value for key, value in response.items()}
    assert not uploaded.is_valid(renamed)


def test_state_response_names_session_task_and_user() -> None:
    """B-STATE-02, B-STATE-08: data.state with its five keys plus data.session_id/task_id/user_id."""
    state = component_validator("StateResponse")
    _, _, op = operation("getState")
    example = op["responses"]["200"]["content"]["application/json"]["example"]
    assert state.is_valid(example)
    for key in ("session_id", "task_id", "user_id", "state"):
        broken = json.loads(json.dumps(example))
        del broken["data"][key]
        assert not state.is_valid(broken), key
    for key in ("draft", "video_infos", "canvas_config", "video_analyses", "generated_media"):
        broken = json.loads(json.dumps(example))
        del broken["data"]["state"][key]
        assert not state.is_valid(broken), key


def test_render_submit_body() -> None:
    """B-REN-01, B-REN-19, B-ENV-05: `sessionId` camelCase, `draft` an object, `output` optional."""
    submit = component_validator("RenderSubmitRequest")
    _, _, op = operation("submitRender")
    body = op["requestBody"]["content"]["application/json"]["example"]
    assert submit.is_valid(body)
    assert submit.is_valid({key: value for key, value in body.items() if key != "output"})
    snake = {("session_id" if key == "sessionId" else key): value for key, value in body.items()}
    assert not submit.is_valid(snake)
    assert not submit.is_valid({**body, "draft": json.dumps(body["draft"])})


@pytest.mark.parametrize("operation_id", ["submitRender", "getRender"])
def test_render_answers_in_either_shape(operation_id: str) -> None:
    """B-REN-06, B-REN-07: the render responses admit shape A and shape B; the disagreement is recorded."""
    document = load_openapi()
    _, _, op = operation(operation_id)
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    branches = list(schema["oneOf"])
    for branch in schema["oneOf"]:  # the submit answer groups its two shapes in one anyOf
        branches += deref(document, branch).get("anyOf", [])
    refs = {branch["$ref"].rsplit("/", 1)[1] for branch in branches}
    assert "RenderShapeB" in refs and refs & {"RenderShapeA", "RenderSubmitShapeA"}
    rules = {rule for entry in op["x-disagreements"] for rule in entry["rules"]}
    assert {"B-REN-06", "B-REN-07"} <= rules


def test_every_submit_answer_is_the_documented_one() -> None:
    """B-REN-04, U-14: in either shape the submit answer is `{success: true, data: {id, status, progress}}`,
    and shape A keeps its top-level fields beside it; a top-level-only answer is no submit answer."""
    answer = component_validator("RenderSubmitAnswer")
    _, _, op = operation("submitRender")
    examples = op["responses"]["200"]["content"]["application/json"]["examples"]
    for example in examples.values():
        assert answer.is_valid(example["value"]), example["summary"]
    shape_a = examples["shapeA"]["value"]
    assert component_validator("RenderShapeA").is_valid(shape_a)
    assert not answer.is_valid({"id": "render_1", "status": "pending", "progress": 5})


def test_download_is_an_mp4() -> None:
    """B-REN-13: the download fallback answers the file itself; U-14: 409 before completion."""
    _, path, op = operation("downloadRender")
    assert "/lambda/" not in path
    assert op["responses"]["200"]["content"]["video/mp4"]["schema"]["format"] == "binary"
    assert op["responses"]["409"]["content"]["application/json"]["example"]["code"] == 409


def test_duplicate_render_id_is_a_conflict() -> None:
    """B-REN-03, U-14: a reused render id is HTTP 409 (code 409), apart from a malformed body's 400."""
    _, _, op = operation("submitRender")
    refused = op["responses"]["409"]["content"]["application/json"]
    assert refused["example"]["code"] == 409
    assert op["responses"]["400"]["content"]["application/json"]["example"]["code"] == 400


# ---------------------------------------------------------------------------- links


def test_links_follow_the_export_flow() -> None:
    """B-AUTH-13, B-SESS-04, B-CLI-14: token -> session -> state -> render submit -> poll -> download."""
    assert link("anonymousToken", "200", "CreateSessionWithToken")["parameters"] == {
        "header.Authorization": "Bearer {$response.body#/data/token}"
    }
    to_state = link("createSession", "200", "GetState")
    assert to_state["operationId"] == "getState"
    assert to_state["parameters"]["path.session_id"] == "$response.body#/data/session_id"
    to_render = link("getState", "200", "SubmitRender")
    assert to_render["operationId"] == "submitRender"
    assert to_render["requestBody"]["draft"] == "$response.body#/data/state/draft"
    assert to_render["requestBody"]["sessionId"] == "$response.body#/data/session_id"
    to_poll = link("submitRender", "200", "GetRender")
    assert to_poll["parameters"] == {"path.render_id": "$response.body#/data/id"}  # not from a refusal
    to_download = link("getRender", "200", "DownloadRender")
    assert to_download["operationId"] == "downloadRender"
    assert to_download["parameters"] == {"path.render_id": "$request.path.render_id"}


def test_links_from_a_session() -> None:
    """B-SSE-02, B-UPL-01, B-SESS-09: a new session leads to run_sse, upload and the claim token."""
    assert (
        link("createSession", "200", "RunSse")["requestBody"]["session_id"]
        == "$response.body#/data/session_id"
    )
    assert link("createSession", "200", "UploadFiles")["parameters"]["path.session_id"].endswith("session_id")
    claim = link("createSession", "200", "ClaimToken")["requestBody"]
    assert claim == {
        "task_id": "$response.body#/data/task_id",
        "session_id": "$response.body#/data/session_id",
    }


def test_link_expressions_point_at_described_fields() -> None:
    """Every `$response.body#/...` in a link names a field of that response's schema (no renamed field)."""
    document = load_openapi()
    expression = re.compile(r"\$response\.body#(/[^}\s]*)")
    checked = 0
    for operation_id in DOCUMENTED_OPERATIONS:
        _, _, op = operation(operation_id)
        for status, response in op["responses"].items():
            response = deref(document, response)
            for name, definition in response.get("links", {}).items():
                assert definition["operationId"] in DOCUMENTED_OPERATIONS, name
                schema = response["content"]["application/json"]["schema"]
                for _, value in walk(definition):
                    if isinstance(value, str):
                        for json_pointer in expression.findall(value):
                            assert response_schema_has_pointer(document, schema, json_pointer), (
                                f"{operation_id} {status} link {name}: {json_pointer}"
                            )
                            checked += 1
    assert checked >= 8


# ---------------------------------------------------------------------------- examples and schemas


def test_every_example_matches_its_schema() -> None:
    """Examples are realistic: each media-type, parameter and header example validates."""
    document = load_openapi()
    found = list(schema_examples(document))
    assert len(found) >= 25
    for where, schema_pointer, example in found:
        errors = [error.message for error in validator_at(schema_pointer).iter_errors(example)]
        assert not errors, f"{where}: {errors}"


def test_component_schema_examples_are_valid() -> None:
    """JSON Schema `examples` inside components validate against the subschema that holds them."""
    document = load_openapi()
    checked = 0
    for path, node in walk(document["components"]["schemas"], ("components", "schemas")):
        if isinstance(node, dict) and isinstance(node.get("examples"), list) and path[-2] != "properties":
            for example in node["examples"]:
                errors = [error.message for error in validator_at(pointer(*path)).iter_errors(example)]
                assert not errors, f"{'/'.join(path)}: {errors}"
                checked += 1
    assert checked >= 10


def test_mirrored_components_agree_with_the_schema_files() -> None:
    """The components that duplicate schemas/*.schema.json equal them, references rewritten."""
    components = load_openapi()["components"]["schemas"]
    for file_name, definitions in MIRRORED_COMPONENTS.items():
        schema = load_schema(file_name)
        for definition, component in definitions.items():
            if definition:
                source = schema["$defs"][definition]
            else:
                source = {
                    key: value for key, value in schema.items() if key not in ("$schema", "$id", "$defs")
                }
            # `x-twin-when` says which served document keeps the component (mockserver.served_openapi).
            mirrored = {key: value for key, value in components[component].items() if key != "x-twin-when"}
            assert mirrored == translate_refs(source, file_name), f"{component} != {file_name}"


def test_every_schema_definition_is_mirrored() -> None:
    """No schema file or definition is left out of the OpenAPI components."""
    assert set(MIRRORED_COMPONENTS) <= set(schema_names())
    assert set(schema_names()) - set(MIRRORED_COMPONENTS) <= NOT_ON_THE_WIRE
    for file_name, definitions in MIRRORED_COMPONENTS.items():
        assert set(definitions) == {"", *load_schema(file_name).get("$defs", {})}, file_name


# ---------------------------------------------------------------------------- disagreements


def test_disagreements_are_well_formed() -> None:
    """Every `x-disagreements` entry names its topic, its rule ids, the default and the option."""
    entries = [
        entry
        for path, node in walk(load_openapi())
        if path and path[-1] == "x-disagreements"
        for entry in node
    ]
    assert len(entries) >= len(DISAGREEMENT_RULES)
    for entry in entries:
        assert set(entry) == {"topic", "rules", "default", "option"}, entry
        assert entry["rules"] and all(RULE_ID.match(rule) for rule in entry["rules"]), entry
        assert entry["default"] and entry["option"], entry


def test_disagreements_cover_the_table() -> None:
    """Each row of the disagreements table (B-AUTH-05 ... B-SSE-18) is recorded somewhere."""
    named = {
        rule
        for path, node in walk(load_openapi())
        if path and path[-1] == "x-disagreements"
        for entry in node
        for rule in entry["rules"]
    }
    assert named >= DISAGREEMENT_RULES, sorted(DISAGREEMENT_RULES - named)


def test_undocumented_questions_are_well_formed() -> None:
    """`x-undocumented` entries name a U-NN question and what this description admits."""
    entries = [
        entry
        for path, node in walk(load_openapi())
        if path and path[-1] == "x-undocumented"
        for entry in node
    ]
    assert {entry["question"] for entry in entries} >= {"U-01", "U-02", "U-03", "U-14", "U-17"}
    for entry in entries:
        assert re.match(r"^U-\d{2}$", entry["question"]), entry
        assert entry.get("contract"), entry


def test_cited_rule_ids_exist_in_the_catalogue() -> None:
    """Every B-/U- id that openapi.yaml and the API schemas cite is a rule of behaviours.yaml."""
    catalogue = yaml.safe_load(BEHAVIOURS_PATH.read_text(encoding="utf-8"))
    known = {rule["id"] for rule in catalogue["rules"]}
    texts = [OPENAPI_PATH.read_text(encoding="utf-8")]
    texts += [(SCHEMAS_DIR / name).read_text(encoding="utf-8") for name in MIRRORED_COMPONENTS]
    cited = {rule_id for text in texts for rule_id in CITED_ID.findall(text)}
    assert len(cited) > 100
    assert cited <= known, sorted(cited - known)
