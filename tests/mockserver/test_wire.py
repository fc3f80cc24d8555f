"""Stream events on the wire: the documented SSE dialect and the ADK dialect."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

import contracts
from mockserver.events import Heartbeat, HeartbeatForm, RunError, StreamEvent, Text, ToolCall, ToolResult
from mockserver.wire import AdkEncoder, encode_documented, heartbeat_bytes


def _schema(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((contracts.SCHEMAS_DIR / name).read_text(encoding="utf-8"))
    return document


_DOCUMENTED = _schema("event-documented.schema.json")
_ADK = _schema("event-adk.schema.json")
_REGISTRY = Registry().with_resources(
    [(doc["$id"], Resource.from_contents(doc)) for doc in (_DOCUMENTED, _ADK)]
)
DOCUMENTED_SCHEMA = jsonschema.Draft202012Validator(_DOCUMENTED, registry=_REGISTRY)
ADK_SCHEMA = jsonschema.Draft202012Validator(_ADK, registry=_REGISTRY)

CALL = ToolCall("generate_video_with_seedance", {"prompt": "city timelapse", "duration": 10}, "call_1")
RESULT = ToolResult("generate_video_with_seedance", {"status": "success", "video_id": "v1"}, "call_1")
EVENTS: list[StreamEvent] = [
    Text("I'll generate your video now..."),
    CALL,
    RESULT,
    Heartbeat("json"),
    Heartbeat("empty"),
    Heartbeat("comment"),
    RunError("Generation failed"),
]


def parse_sse(stream: bytes) -> list[str]:
    """The data of each dispatched event, per the SSE parsing rules (any of the three line ends)."""
    events: list[str] = []
    data: list[str] | None = None
    for line in re.split(r"\r\n|\r|\n", stream.decode("utf-8")):
        if line == "":
            if data is not None:
                events.append("\n".join(data))
            data = None
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            assert field == "data", f"unexpected field {field!r} (B-SSE-04)"
            data = [*(data or []), value.removeprefix(" ")]
    return events


# ------------------------------------------------------------------------------ documented dialect


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            Text("I'll generate your video now..."),
            b'data: {"type":"text","content":"I\'ll generate your video now..."}\n\n',
        ),
        (
            CALL,
            b'data: {"type":"tool_call","name":"generate_video_with_seedance",'
            b'"args":{"prompt":"city timelapse","duration":10}}\n\n',
        ),
        (
            RESULT,
            b'data: {"type":"tool_result","name":"generate_video_with_seedance",'
            b'"result":{"status":"success","video_id":"v1"}}\n\n',
        ),
        (Heartbeat("json"), b'data: {"type":"heartbeat"}\n\n'),
        (Heartbeat("empty"), b"data:\n\n"),
        (Heartbeat("comment"), b": keep-alive\n\n"),
        (RunError("Generation failed"), b'data: {"type":"error","message":"Generation failed"}\n\n'),
        (Text("你好，视频已完成"), 'data: {"type":"text","content":"你好，视频已完成"}\n\n'.encode()),
        (Text('two\nlines "quoted"'), b'data: {"type":"text","content":"two\\nlines \\"quoted\\""}\n\n'),
    ],
)
def test_documented_bytes(event: StreamEvent, expected: bytes) -> None:
    """B-SSE-04/05/06: one `data:` line of compact JSON and a blank line; heartbeats in three forms."""
    assert encode_documented(event) == expected


def test_documented_payloads_match_the_schema() -> None:
    """B-SSE-05: text, tool_call, tool_result and JSON heartbeat payloads are documented events."""
    for event in EVENTS[:4]:
        (data,) = parse_sse(encode_documented(event))
        DOCUMENTED_SCHEMA.validate(json.loads(data))


def test_crlf_variant() -> None:
    """B-SSE-04: with CRLF line ends every LF becomes CRLF and readers see the same events."""
    lf = b"".join(encode_documented(event) for event in EVENTS)
    crlf = b"".join(encode_documented(event, line_ending="\r\n") for event in EVENTS)
    assert crlf == lf.replace(b"\n", b"\r\n")
    assert b"\n" not in crlf.replace(b"\r\n", b"")
    assert parse_sse(crlf) == parse_sse(lf)
    cr = b"".join(encode_documented(event, line_ending="\r") for event in EVENTS)
    assert parse_sse(cr) == parse_sse(lf)


def test_stream_as_a_reader_sees_it() -> None:
    """B-SSE-06: the empty heartbeat is an event with empty data; the comment is no event at all."""
    events = parse_sse(b"".join(encode_documented(event) for event in EVENTS))
    assert len(events) == 6
    assert events[4] == ""
    assert json.loads(events[0]) == {"type": "text", "content": "I'll generate your video now..."}
    assert json.loads(events[3]) == {"type": "heartbeat"}


def test_unknown_line_ending_is_refused() -> None:
    """SSE knows only CRLF, LF and CR as line ends."""
    with pytest.raises(ValueError, match="line_ending"):
        encode_documented(Text("x"), line_ending="\n\r")


def test_heartbeats_are_precomputed() -> None:
    """Hot path: a heartbeat costs a dictionary look-up, the same bytes object every time."""
    assert encode_documented(Heartbeat()) is encode_documented(Heartbeat())
    assert heartbeat_bytes("empty", "\r\n") == b"data:\r\n\r\n"


# ------------------------------------------------------------------------------ ADK dialect


def adk_encoder(seed: int = 1, start: float = 1_773_423_600.0) -> AdkEncoder:
    ids = random.Random(seed)
    ticks = iter(start + n * 0.125 for n in range(1000))
    return AdkEncoder(id_source=lambda: f"{ids.getrandbits(64):016x}", clock=lambda: next(ticks))


def adk_objects(encoder: AdkEncoder, events: list[StreamEvent]) -> list[dict[str, Any]]:
    return [json.loads(data) for event in events for data in parse_sse(encoder.encode(event)) if data]


def _keys(value: Any) -> list[str]:
    """All object keys, leaving out tool payloads (their keys are the tool's, not ADK's)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append(key)
            if key not in ("args", "response"):
                found.extend(_keys(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_keys(item))
    return found


def _nulls(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_nulls(v) for v in value.values()) + sum(v is None for v in value.values())
    if isinstance(value, list):
        return sum(_nulls(v) for v in value) + sum(v is None for v in value)
    return 0


UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


def test_adk_events_shape() -> None:
    """B-ADK-02/03/04/10: camelCase Events, no nulls; text role model; functionResponse role user."""
    encoder = adk_encoder()
    call = ToolCall("edit_multitrack", {"operations": [{"op": "title", "params": {"text": None}}]}, "c9")
    result = ToolResult("edit_multitrack", {"status": "success", "changes": ["added Title"]}, "c9")
    text, call_event, result_event = adk_objects(encoder, [Text("Done!"), call, result])
    for obj in (text, call_event, result_event):
        ADK_SCHEMA.validate(obj)
        assert all("_" not in key for key in _keys(obj)), _keys(obj)
        assert _nulls(obj) == 0
        assert re.fullmatch(r"[A-Za-z0-9]{8}", obj["id"])
        assert re.fullmatch(rf"e-{UUID}", obj["invocationId"])
        assert obj["author"] == "nemo_agent"
        assert obj["actions"] == {"stateDelta": {}, "artifactDelta": {}, "requestedAuthConfigs": {}}
        assert isinstance(obj["timestamp"], float)
    assert text["content"] == {"parts": [{"text": "Done!"}], "role": "model"}
    assert "longRunningToolIds" not in text
    function_call = call_event["content"]["parts"][0]["functionCall"]
    assert call_event["content"]["role"] == "model"
    assert re.fullmatch(rf"af-{UUID}", function_call["id"])
    assert function_call["name"] == "edit_multitrack"
    assert function_call["args"] == {"operations": [{"op": "title", "params": {}}]}
    assert call_event["longRunningToolIds"] == [function_call["id"]]
    response = result_event["content"]["parts"][0]["functionResponse"]
    assert result_event["content"]["role"] == "user"
    assert response == {"id": function_call["id"], "name": "edit_multitrack", "response": result.result}
    assert text["invocationId"] == call_event["invocationId"] == result_event["invocationId"]
    assert len({text["id"], call_event["id"], result_event["id"]}) == 3
    assert [o["timestamp"] for o in (text, call_event, result_event)] == [
        1_773_423_600.0,
        1_773_423_600.125,
        1_773_423_600.25,
    ]


def test_adk_heartbeats_and_errors() -> None:
    """B-ADK-06, B-ADK-10: heartbeats stay documented; a run error is `data: {"error": "..."}`."""
    encoder = adk_encoder()
    forms: tuple[HeartbeatForm, ...] = ("json", "empty", "comment")
    for form in forms:
        assert encoder.encode(Heartbeat(form)) == encode_documented(Heartbeat(form))
    assert encoder.encode(RunError("Session expired")) == b'data: {"error": "Session expired"}\n\n'
    (data,) = parse_sse(encoder.encode(RunError("失败")))
    ADK_SCHEMA.validate(json.loads(data))


def test_adk_ids_are_deterministic() -> None:
    """Seeded replay (B-ADK-03 ids): the same id source gives the same bytes; another seed, other ids."""
    events: list[StreamEvent] = [Text("a"), CALL, Heartbeat(), RESULT, Text("b")]

    def stream(seed: int) -> bytes:
        encoder = adk_encoder(seed)
        return b"".join(encoder.encode(event) for event in events)

    first, second, other = stream(5), stream(5), stream(6)
    assert first == second
    assert first != other


def test_adk_invocation_id_and_author_can_be_given() -> None:
    """B-ADK-03: the caller may fix the invocation id and the author."""
    encoder = AdkEncoder(
        id_source=lambda: "0123456789abcdef", clock=lambda: 5.0, author="other_agent", invocation_id="e-fixed"
    )
    (obj,) = adk_objects(encoder, [Text("hi")])
    assert (obj["author"], obj["invocationId"], obj["timestamp"]) == ("other_agent", "e-fixed", 5.0)
