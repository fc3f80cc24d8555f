"""The SSE reader of `nemo-contract check`: blocks as they arrive, and the verdict on each stream."""

from __future__ import annotations

import json

import pytest

from conformance.check.sse import Block, EventJudge, iter_blocks, run_request


def judge(raw: bytes, dialect: str | None = "documented", *, chunk: int = 7) -> EventJudge:
    """Feed `raw` in small chunks, as a live stream arrives, and close it."""
    reader = EventJudge(dialect)
    for block in iter_blocks(raw[i : i + chunk] for i in range(0, len(raw), chunk)):
        reader.feed(block)
    reader.closed = True
    return reader


def broken(reader: EventJudge) -> dict[str, str]:
    return {o.rule_id: o.failure for o in reader.verdict() if o.failure is not None}


def held(reader: EventJudge) -> set[str]:
    return {o.rule_id for o in reader.verdict() if o.failure is None}


def event(payload: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


TEXT = event({"type": "text", "content": "I'll generate your video now."})
CALL = event({"type": "tool_call", "name": "generate_video_with_seedance", "args": {"duration": 10}})
RESULT = event(
    {"type": "tool_result", "name": "generate_video_with_seedance", "result": {"status": "success"}}
)
EDIT_CALL = event({"type": "tool_call", "name": "edit_multitrack", "args": {"op": "add_title"}})
EDIT_RESULT = event({"type": "tool_result", "name": "edit_multitrack", "result": {"status": "success"}})
HEARTBEAT = event({"type": "heartbeat"})
EMPTY_HEARTBEAT = b"data:\n\n"


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_blocks_split_on_every_line_ending(ending: bytes) -> None:
    """B-SSE-04: LF, CRLF and CR all end a line, also when a CRLF is split between chunks."""
    raw = (TEXT + HEARTBEAT + EMPTY_HEARTBEAT).replace(b"\n", ending)
    for size in (1, 2, 5, len(raw)):
        blocks = list(iter_blocks(raw[i : i + size] for i in range(0, len(raw), size)))
        assert [b.lines for b in blocks] == [
            ['data: {"type": "text", "content": "I\'ll generate your video now."}'],
            ['data: {"type": "heartbeat"}'],
            ["data:"],
        ]
        assert all(b.complete for b in blocks)


def test_a_stream_that_stops_inside_an_event_is_truncated() -> None:
    """B-SSE-04: an event without its blank line is reported, not silently dropped."""
    blocks = list(iter_blocks([TEXT, b'data: {"type":"te']))
    assert blocks[-1] == Block(['data: {"type":"te'], complete=False)
    reader = judge(TEXT + b'data: {"type":"text","content":"x"}\n')
    assert "B-SSE-04" in broken(reader)


def test_a_generation_with_both_heartbeat_forms_holds() -> None:
    """B-SSE-04/05/06/08/09: a well-formed generation stream breaks no rule."""
    reader = judge(TEXT + CALL + HEARTBEAT + EMPTY_HEARTBEAT + RESULT + TEXT)
    assert broken(reader) == {}
    assert {"B-SSE-04", "B-SSE-05", "B-SSE-06", "B-SSE-08", "B-SSE-09"} <= held(reader)
    assert (reader.heartbeats, reader.empty_heartbeats) == (2, 1)
    assert reader.texts and reader.tool_calls == ["generate_video_with_seedance"]


def test_a_generation_without_heartbeats_breaks_keep_alive() -> None:
    """B-SSE-06: minutes of generation work with no keep-alive at all."""
    assert "B-SSE-06" in broken(judge(TEXT + CALL + RESULT + TEXT))


def test_a_text_less_edit_must_still_carry_tool_events() -> None:
    """B-SSE-09: a silent edit ends after its tool_result; a stream with nothing at all is broken."""
    assert broken(judge(EDIT_CALL + HEARTBEAT + EDIT_RESULT)) == {}
    assert "B-SSE-09" in broken(judge(HEARTBEAT + EMPTY_HEARTBEAT))


@pytest.mark.parametrize("field", [b"event: message\n", b"id: 7\n", b"retry: 3000\n"])
def test_event_id_and_retry_fields_are_refused(field: bytes) -> None:
    """B-SSE-04, U-05: no `event:`, `id:` or `retry:` on any event."""
    failures = broken(judge(field + TEXT + EDIT_CALL + EDIT_RESULT))
    assert "B-SSE-04" in failures and field.split(b":")[0].decode() in failures["B-SSE-04"]


def test_an_event_is_one_data_line_and_comments_are_no_events() -> None:
    """B-SSE-04: one data line per event; U-04: comment lines are allowed."""
    assert "B-SSE-04" in broken(judge(b"data: {}\ndata: {}\n\n" + TEXT))
    reader = judge(b": keep-alive\n\n" + TEXT)
    assert broken(reader) == {} and "U-04" in held(reader)


def test_a_done_event_breaks_the_end_by_closing() -> None:
    """B-SSE-08: the server only closes the stream; a done event is not part of the contract."""
    failures = broken(judge(TEXT + event({"type": "done"})))
    assert "B-SSE-08" in failures and "B-SSE-05" in failures


def test_an_open_stream_is_reported() -> None:
    """B-SSE-08: a stream the server never closed."""
    reader = EventJudge("documented")
    reader.feed(next(iter_blocks([TEXT])))
    reader.problem = "no event and no end for 30 s"
    assert broken(reader)["B-SSE-08"] == "no event and no end for 30 s"


def test_events_are_validated_against_the_dialect() -> None:
    """B-SSE-05: a documented event missing its fields, or a data line that is no JSON."""
    assert "B-SSE-05" in broken(judge(event({"type": "tool_call", "args": {}}) + TEXT))
    assert "B-SSE-05" in broken(judge(b"data: not json\n\n" + TEXT))


def adk(parts: list[dict[str, object]], role: str = "model", author: str = "nemo_agent") -> bytes:
    return event(
        {
            "id": "Xq3bT9vK",
            "invocationId": "e-6b1f0c52",
            "author": author,
            "timestamp": 1773423600.1,
            "content": {"role": role, "parts": parts},
        }
    )


def test_adk_streams_are_read_by_their_own_schema() -> None:
    """B-ADK-03/04: ADK events, a function response as role user by the agent; heartbeats stay (B-ADK-10)."""
    raw = (
        adk([{"functionCall": {"id": "af-1", "name": "edit_multitrack", "args": {}}}])
        + HEARTBEAT
        + adk([{"functionResponse": {"id": "af-1", "name": "edit_multitrack", "response": {}}}], role="user")
        + adk([{"text": "Done!"}])
    )
    reader = judge(raw, dialect=None)
    assert reader.dialect == "adk"
    assert broken(reader) == {}
    assert {"B-ADK-03", "B-ADK-04"} <= held(reader)
    assert reader.tool_calls == ["edit_multitrack"] and reader.texts == ["Done!"]


def test_adk_function_response_as_model_and_events_after_an_error_are_broken() -> None:
    """B-ADK-04: role user for a function response; B-ADK-06: the stream ends after a run error."""
    wrong_role = adk([{"functionResponse": {"name": "edit_multitrack", "response": {}}}], role="model")
    assert "B-ADK-04" in broken(judge(wrong_role, dialect="adk"))
    after_error = event({"error": "Generation failed"}) + adk([{"text": "still talking"}])
    assert "B-ADK-06" in broken(judge(after_error, dialect="adk"))
    assert "B-ADK-06" in held(judge(event({"error": "Generation failed"}), dialect="adk"))


def test_the_run_request_has_every_user_id_form() -> None:
    """B-SSE-02/03: the documented body, with `user_id` as me, the caller's id, or absent."""
    body = run_request("5529798706024415232", "hello")
    assert body["app_name"] == "nemo_agent" and body["user_id"] == "me"
    assert body["new_message"] == {"role": "user", "parts": [{"text": "hello"}]}
    assert run_request("1", "hi", user_id="anon_x")["user_id"] == "anon_x"
    assert "user_id" not in run_request("1", "hi", user_id=None)
