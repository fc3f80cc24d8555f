"""contracts/schemas/*.schema.json: valid Draft 2020-12 schemas with teeth, loaded through contracts.spec."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from contracts.spec import SCHEMA_BASE_URI, load_schema, schema_names, validator

API_SCHEMAS = [
    "draft.schema.json",
    "envelope.schema.json",
    "event-adk.schema.json",
    "event-documented.schema.json",
    "render-shape-a.schema.json",
    "render-shape-b.schema.json",
    "state.schema.json",
]

#: The payloads api-ref v4.4 prints for the stream (B-SSE-05), `{...}` filled in.
DOCUMENTED_EVENTS = [
    '{"type":"text","content":"I\'ll generate your video now..."}',
    '{"type":"tool_call","name":"generate_video_with_seedance","args":{"prompt":"city timelapse"}}',
    '{"type":"tool_result","name":"generate_video_with_seedance","result":{"status":"success"}}',
    '{"type":"heartbeat"}',
]

ADK_TEXT_EVENT: dict[str, Any] = {
    "content": {"role": "model", "parts": [{"text": "I'll generate your video now..."}]},
    "invocationId": "e-6b1f0c52-9d1e-4a57-8c0b-2f3e4d5a6b7c",
    "author": "nemo_agent",
    "actions": {"stateDelta": {}, "artifactDelta": {}, "requestedAuthConfigs": {}},
    "id": "ptcjaZBa",
    "timestamp": 1773423600.125,
}

SEGMENT: dict[str, Any] = {
    "id": "seg_v1",
    "st": 0,
    "d": 10000,
    "m": {"name": "city timelapse", "color": "#1f4e79"},
}


def draft_with(track: dict[str, Any]) -> dict[str, Any]:
    return {"t": [track], "d": 10000, "m": {"title": "Urban Dreams", "width": 1920, "height": 1080}}


def shape_a(**changes: Any) -> dict[str, Any]:
    job = copy.deepcopy(load_schema("render-shape-a")["examples"][0])
    job.update(changes)
    return job


def examples_in(node: Any, fragment: str = "") -> Iterator[tuple[str, Any]]:
    """(fragment, example) for every `examples` list of a schema and its subschemas."""
    if isinstance(node, dict):
        if isinstance(node.get("examples"), list):
            for example in node["examples"]:
                yield fragment, example
        for key, value in node.items():
            if key != "examples":
                yield from examples_in(value, f"{fragment}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from examples_in(value, f"{fragment}/{index}")


# ---------------------------------------------------------------------------- all schemas


def test_api_schemas_are_present() -> None:
    """The API payload schemas exist (B-SSE-05, B-ADK-03, B-STATE-04, B-ENV-06, B-REN-06, B-REN-07)."""
    assert set(API_SCHEMAS) <= set(schema_names())


@pytest.mark.parametrize("name", API_SCHEMAS)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    """Each schema validates against its metaschema and carries its `$id`."""
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{SCHEMA_BASE_URI}{name}"
    assert schema["description"]


@pytest.mark.parametrize("name", API_SCHEMAS)
def test_schema_examples_are_valid(name: str) -> None:
    """Every `examples` entry validates against the subschema holding it (cross-file refs resolve)."""
    for fragment, example in examples_in(load_schema(name)):
        target = f"{name}#{fragment}" if fragment else name
        errors = [error.message for error in validator(target).iter_errors(example)]
        assert not errors, f"{name}#{fragment}: {errors}"


def test_load_schema_accepts_short_names_and_returns_copies() -> None:
    """`draft` and `draft.schema.json` name the same schema; callers cannot corrupt the cache."""
    first = load_schema("draft")
    assert first == load_schema("draft.schema.json")
    first["required"].append("x")
    assert "x" not in load_schema("draft")["required"]
    with pytest.raises(KeyError):
        load_schema("no-such")


# ---------------------------------------------------------------------------- stream events


def test_documented_events_validate() -> None:
    """B-SSE-05: text, tool_call, tool_result and heartbeat as api-ref v4.4 prints them."""
    events = validator("event-documented")
    for payload in DOCUMENTED_EVENTS:
        assert events.is_valid(json.loads(payload)), payload


def test_documented_events_reject_renamed_fields() -> None:
    """B-SSE-05: a renamed field (`text` for `content`, `arguments` for `args`) or an unknown type fails."""
    events = validator("event-documented")
    assert not events.is_valid({"type": "text", "text": "hello"})
    assert not events.is_valid({"type": "tool_call", "name": "edit_multitrack", "arguments": {}})
    assert not events.is_valid({"type": "tool_result", "name": "edit_multitrack", "output": {}})
    assert not events.is_valid({"type": "done"})  # B-SSE-08: no done event


def test_empty_data_heartbeat_is_described_not_validated() -> None:
    """B-SSE-06: the empty `data:` heartbeat is no JSON; the schema says so in its description."""
    schema = load_schema("event-documented")
    with pytest.raises(json.JSONDecodeError):
        json.loads("")
    assert "empty `data:`" in schema["description"]
    assert "empty `data:`" in schema["$defs"]["heartbeat"]["description"]


def test_adk_events_validate() -> None:
    """B-ADK-02..05: camelCase Events with text, functionCall and functionResponse parts."""
    events = validator("event-adk")
    assert events.is_valid(ADK_TEXT_EVENT)
    call = {
        **ADK_TEXT_EVENT,
        "content": {
            "role": "model",
            "parts": [
                {"functionCall": {"id": "af-1", "name": "edit_multitrack", "args": {"text": "Urban Dreams"}}}
            ],
        },
        "longRunningToolIds": ["af-1"],
    }
    response = {
        **ADK_TEXT_EVENT,
        "content": {
            "role": "user",
            "parts": [
                {"functionResponse": {"id": "af-1", "name": "edit_multitrack", "response": {"ok": True}}}
            ],
        },
    }
    partial = {**ADK_TEXT_EVENT, "partial": True}
    finished = {**ADK_TEXT_EVENT, "turnComplete": True}
    failed = {**ADK_TEXT_EVENT, "errorCode": "MALFORMED_FUNCTION_CALL", "errorMessage": "bad call"}
    for event in (call, response, partial, finished, failed):
        assert events.is_valid(event), event


def test_adk_run_error_and_heartbeat() -> None:
    """B-ADK-06: `{"error": "..."}` ends a run; B-ADK-10: heartbeats keep the documented form."""
    events = validator("event-adk")
    assert events.is_valid({"error": "Model overloaded, please retry later."})
    assert not events.is_valid({"error": "x", "detail": "y"})
    assert events.is_valid({"type": "heartbeat"})


def test_adk_events_reject_snake_case_and_missing_ids() -> None:
    """B-ADK-02/03: snake_case keys or a missing `invocationId` are not an ADK Event."""
    events = validator("event-adk")
    snake = {
        ("invocation_id" if key == "invocationId" else key): value for key, value in ADK_TEXT_EVENT.items()
    }
    assert not events.is_valid(snake)
    no_author = {key: value for key, value in ADK_TEXT_EVENT.items() if key != "author"}
    assert not events.is_valid(no_author)
    bad_part = {**ADK_TEXT_EVENT, "content": {"role": "model", "parts": [{"function_call": {"name": "x"}}]}}
    assert not events.is_valid(bad_part)


# ---------------------------------------------------------------------------- draft


def test_draft_segment_without_duration_is_rejected() -> None:
    """B-STATE-04 + docs/design.md: a segment needs `id`, `st`, `d` and `m`."""
    drafts = validator("draft")
    assert drafts.is_valid(draft_with({"tt": 0, "sg": [SEGMENT]}))
    for key in ("id", "st", "d", "m"):
        segment = {name: value for name, value in SEGMENT.items() if name != key}
        assert not drafts.is_valid(draft_with({"tt": 0, "sg": [segment]})), key
    renamed = {"id": "seg_v1", "start": 0, "duration": 10000, "m": {}}
    assert not drafts.is_valid(draft_with({"tt": 0, "sg": [renamed]}))


def test_draft_track_types() -> None:
    """B-STATE-04: `tt` is 0 (video), 1 (audio/BGM) or 7 (text); a track needs `tt` and `sg`."""
    drafts = validator("draft")
    for track_type in (0, 1, 7):
        segment = {**SEGMENT, "m": {"text": "Urban Dreams"}}
        assert drafts.is_valid(draft_with({"tt": track_type, "sg": [segment]})), track_type
    assert not drafts.is_valid(draft_with({"tt": 2, "sg": [SEGMENT]}))
    assert not drafts.is_valid(draft_with({"type": 0, "sg": [SEGMENT]}))
    assert not drafts.is_valid(draft_with({"tt": 0, "segments": [SEGMENT]}))


def test_draft_text_and_audio_segments() -> None:
    """Text segments need `m.text` (B-STATE-07); audio `m.volume` is 0..1 (B-STATE-06)."""
    drafts = validator("draft")
    title = {"id": "seg_t1", "st": 0, "d": 3000, "m": {"kind": "title", "text": "Urban Dreams"}}
    assert drafts.is_valid(draft_with({"tt": 7, "sg": [title]}))
    assert not drafts.is_valid(draft_with({"tt": 7, "sg": [{**title, "m": {"kind": "title"}}]}))
    assert not drafts.is_valid(
        draft_with({"tt": 7, "sg": [{**title, "m": {"kind": "caption", "text": "x"}}]})
    )
    bgm = {"id": "seg_a1", "st": 0, "d": 10000, "m": {"name": "Lo-fi", "volume": 0.35}}
    assert drafts.is_valid(draft_with({"tt": 1, "sg": [bgm]}))
    assert not drafts.is_valid(draft_with({"tt": 1, "sg": [{**bgm, "m": {"name": "Lo-fi", "volume": 35}}]}))


def test_draft_needs_tracks_duration_and_canvas() -> None:
    """B-STATE-04: `t`, `d` and `m` with width and height; extra documented-style keys are tolerated."""
    drafts = validator("draft")
    base = draft_with({"tt": 0, "sg": [SEGMENT]})
    for key in ("t", "d", "m"):
        assert not drafts.is_valid({name: value for name, value in base.items() if name != key}), key
    assert not drafts.is_valid({**base, "m": {"title": "Urban Dreams"}})
    assert drafts.is_valid({**base, "transitions": [], "m": {**base["m"], "aspect_ratio": "16:9"}})


def test_exportable_draft_definition() -> None:
    """B-STATE-05: export-ready when `t` exists and a track has a non-empty `sg`."""
    exportable = validator("draft.schema.json#/$defs/exportableDraft")
    meta = {"width": 1920, "height": 1080}
    assert exportable.is_valid(draft_with({"tt": 0, "sg": [SEGMENT]}))
    assert not exportable.is_valid({"t": [], "d": 0, "m": meta})
    assert not exportable.is_valid({"t": [{"tt": 0, "sg": []}, {"tt": 1, "sg": []}], "d": 0, "m": meta})


# ---------------------------------------------------------------------------- state, envelope, render


def test_state_holds_a_draft_or_null() -> None:
    """B-STATE-02, U-17: the five state keys; `draft` is a draft (checked across files) or null."""
    states = validator("state")
    empty: dict[str, Any] = {
        "draft": None,
        "video_infos": [],
        "canvas_config": None,
        "video_analyses": [],
        "generated_media": [],
    }
    assert states.is_valid(empty)
    assert states.is_valid({**empty, "draft": draft_with({"tt": 0, "sg": [SEGMENT]})})
    assert not states.is_valid({**empty, "draft": {"t": [{"tt": 0, "sg": [{"id": "x"}]}], "d": 0, "m": {}}})
    assert not states.is_valid({key: value for key, value in empty.items() if key != "video_infos"})


def test_state_data_names_the_user() -> None:
    """B-STATE-08: `data` carries `user_id` (for `?bind=`, B-CRED-05) next to session and task ids."""
    data = validator("state.schema.json#/$defs/stateData")
    state: dict[str, Any] = {
        "draft": None,
        "video_infos": [],
        "canvas_config": None,
        "video_analyses": [],
        "generated_media": [],
    }
    ids = {"session_id": "5529798706024415232", "task_id": "task_8f3a2c1d", "user_id": "anon_abc123"}
    assert data.is_valid({**ids, "task_name": "project", "state": state})
    assert not data.is_valid({**ids, "state": {**state, "draft": "not a draft"}})
    for key in ids:
        assert not data.is_valid({**{k: v for k, v in ids.items() if k != key}, "state": state}), key


def test_envelope() -> None:
    """B-ENV-06, B-ERR-01, U-02: `code` 0 with `data`; errors carry `code` and `message`."""
    envelopes = validator("envelope")
    assert envelopes.is_valid({"code": 0, "data": {"available": 100, "frozen": 0, "total": 100}})
    assert envelopes.is_valid({"code": 1001, "message": "Unauthorized", "data": None})
    assert envelopes.is_valid({"code": 429, "message": "Rate limited"})
    assert not envelopes.is_valid({"code": 0})
    assert not envelopes.is_valid({"code": 1001, "msg": "Unauthorized"})
    assert not envelopes.is_valid({"status": 0, "data": {}})
    business = validator("envelope.schema.json#/$defs/businessCode")
    assert all(business.is_valid(code) for code in (1001, 1002, 2001, 4001, 4002))
    assert not business.is_valid(402)


def test_render_shape_a() -> None:
    """B-REN-06, B-REN-09: top-level `status`, URL at `output.url` once completed."""
    jobs = validator("render-shape-a")
    assert jobs.is_valid(shape_a())
    assert jobs.is_valid({"id": "render_1", "status": "pending", "progress": 5})
    without_status = shape_a()
    del without_status["status"]
    assert not jobs.is_valid(without_status)
    assert not jobs.is_valid(shape_a(status="done"))
    completed_without_output = shape_a()
    del completed_without_output["output"]
    assert not jobs.is_valid(completed_without_output)
    assert not jobs.is_valid(shape_a(output={"href": "https://static1.nemovideo.ai/render-result/r.mp4"}))
    assert not jobs.is_valid(shape_a(progress=150))


def test_render_failure_reason() -> None:
    """U-14: a failed job says why in `reason`; a cancelled job is `failed` with reason `cancelled`."""
    jobs = validator("render-shape-a")
    assert jobs.is_valid({"id": "render_1", "status": "failed", "progress": 20, "reason": "cancelled"})
    assert not jobs.is_valid({"id": "render_1", "status": "cancelled", "progress": 20})
    assert not jobs.is_valid({"id": "render_1", "status": "failed", "progress": 20, "reason": 5})
    job_b = validator("render-shape-b")
    failed = {
        "success": True,
        "data": {"id": "render_1", "status": "failed", "progress": 20, "reason": "cancelled"},
    }
    assert job_b.is_valid(failed)


def test_render_shape_b() -> None:
    """B-REN-07, B-REN-04: `{success: true, data: {...}}`; `status` and `outputUrl` inside `data`."""
    jobs = validator("render-shape-b")
    example = load_schema("render-shape-b")["examples"][0]
    assert jobs.is_valid(example)
    assert jobs.is_valid({"success": True, "data": {"id": "render_1", "status": "pending", "progress": 5}})
    assert not jobs.is_valid(shape_a())  # shape A is not shape B
    completed = copy.deepcopy(example)
    del completed["data"]["outputUrl"]
    assert not jobs.is_valid(completed)
    assert not validator("render-shape-a").is_valid(example)  # nor the other way round


def test_render_shape_b_times_are_epoch_ms() -> None:
    """B-REN-07: `createdAt`/`completedAt` are epoch milliseconds, not ISO strings."""
    jobs = validator("render-shape-b.schema.json#/$defs/job")
    job = {"id": "render_1", "status": "processing", "progress": 50, "createdAt": 1773423613616}
    assert jobs.is_valid(job)
    assert jobs.is_valid({**job, "completedAt": None})
    assert not jobs.is_valid({**job, "createdAt": "2026-03-13T17:40:13Z"})
