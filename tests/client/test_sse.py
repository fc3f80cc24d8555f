"""The SSE parser against recorded streams of both dialects, fed whole, in chunks and byte by byte."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkout import FIXTURES_DIR
from client.sse import (
    AsyncEventStream,
    ErrorEvent,
    EventStream,
    HeartbeatEvent,
    SSEParser,
    StreamEvent,
    TextEvent,
    ToolCallEvent,
    ToolResultEvent,
    UnknownEvent,
    events_from_data,
    parse_events,
)

SSE_DIR = FIXTURES_DIR / "sse"
SEEDANCE = "generate_video_with_seedance"
ADK_CALL_ID = "af-1b6f0c4e-7d2a-4f0e-9c1a-2e5d7b8a9c01"


def fixture_bytes(name: str) -> bytes:
    return (SSE_DIR / name).read_bytes()


def _adk_actions_only_raw() -> str:
    line = next(
        line for line in fixture_bytes("adk-generation.txt").decode().split("\n") if "clip_1.mp4" in line
    )
    return line.removeprefix("data: ")


EXPECTED: dict[str, list[StreamEvent]] = {
    "documented-generation.txt": [
        TextEvent("I'll generate a 10-second city timelapse for you. This may take a few minutes."),
        ToolCallEvent(
            SEEDANCE,
            {"prompt": "city timelapse at dusk, neon lights", "duration": 10, "aspect_ratio": "9:16"},
        ),
        HeartbeatEvent("json"),
        HeartbeatEvent("empty"),
        HeartbeatEvent("json"),
        ToolResultEvent(SEEDANCE, {"status": "success", "video_url": "generated://clip_1", "duration": 10}),
        TextEvent("✅ Your raw clip is ready: a 10s city timelapse. Adding post-production…"),
        ToolCallEvent(
            "edit_multitrack",
            {"operations": [{"op": "add_title", "text": "Urban Dreams"}, {"op": "add_bgm", "name": "Lo-fi"}]},
        ),
        HeartbeatEvent("json"),
        ToolResultEvent("edit_multitrack", {"status": "success", "tracks": 3}),
        TextEvent(
            "Done! I added the title “Urban Dreams” and Lo-fi background music. "
            "Preview in timeline, then click the Export button to download."
        ),
    ],
    "documented-edit-silent-crlf.txt": [
        ToolCallEvent(
            "edit_multitrack",
            {
                "operations": [
                    {
                        "op": "add_title",
                        "text": "Paradise Found",
                        "color": "white",
                        "position": "top-center",
                        "animation": "fade-in",
                        "duration_ms": 3000,
                    }
                ]
            },
        ),
        HeartbeatEvent("json"),
        HeartbeatEvent("empty"),
        ToolResultEvent("edit_multitrack", {"status": "success"}),
    ],
    "documented-multiline-comments.txt": [
        HeartbeatEvent("comment"),
        TextEvent("Working on your subtitles."),
        HeartbeatEvent("comment"),
        HeartbeatEvent("empty"),
        ToolCallEvent("edit_multitrack", {"operations": [{"op": "add_subtitles", "language": "zh-CN"}]}),
        HeartbeatEvent("json"),
        UnknownEvent("not json at all"),
        UnknownEvent('{"type":"progress","value":50}'),
        HeartbeatEvent("empty"),
        ToolResultEvent("edit_multitrack", {"status": "success"}),
        UnknownEvent("line one\nline two"),
        TextEvent("字幕已添加 — subtitles added."),
    ],
    "adk-generation.txt": [
        TextEvent("I'll generate ", partial=True),
        TextEvent("your video now.", partial=True),
        TextEvent("I'll generate your video now."),
        TextEvent("Starting generation."),
        ToolCallEvent(SEEDANCE, {"prompt": "sunset over the sea", "duration": 8}, ADK_CALL_ID),
        HeartbeatEvent("json"),
        HeartbeatEvent("empty"),
        ToolResultEvent(SEEDANCE, {"status": "success", "video_url": "generated://clip_1"}, ADK_CALL_ID),
        UnknownEvent(_adk_actions_only_raw()),
        TextEvent("✅ Your 8s sunset clip is ready. Click Export when you like it."),
    ],
    "adk-error.txt": [
        TextEvent("Let me add background music."),
        ToolCallEvent("edit_multitrack", {"operations": [{"op": "add_bgm"}]}, "af-0c3e"),
        ErrorEvent("Model overloaded, please retry later."),
    ],
    "truncated-mid-event.txt": [
        TextEvent("Adding the title now."),
        ToolCallEvent("edit_multitrack", {"operations": [{"op": "add_title"}]}),
        HeartbeatEvent("json"),
    ],
}


def test_every_recorded_stream_has_expectations() -> None:
    """Every file under fixtures/sse is asserted below (B-SSE-04, B-ADK-02)."""
    assert sorted(p.name for p in SSE_DIR.glob("*.txt")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_stream_parsed_whole(name: str) -> None:
    """B-SSE-04/05/06, B-ADK-02..06: each recorded stream yields exactly these typed events."""
    assert parse_events([fixture_bytes(name)]) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_stream_fed_byte_by_byte(name: str) -> None:
    """B-SSE-04: incremental parsing, even with CRLF and UTF-8 sequences split, gives the same events."""
    data = fixture_bytes(name)
    assert parse_events(data[i : i + 1] for i in range(len(data))) == EXPECTED[name]


@pytest.mark.parametrize("size", [2, 3, 7, 64])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_stream_fed_in_chunks(name: str, size: int) -> None:
    """B-SSE-04: any chunking of the bytes gives the same events."""
    data = fixture_bytes(name)
    assert parse_events(data[i : i + size] for i in range(0, len(data), size)) == EXPECTED[name]


def test_text_chunks_parse_like_bytes() -> None:
    """The parser also takes decoded text lines, as an httpx `iter_lines` would give."""
    text = fixture_bytes("documented-generation.txt").decode()
    assert parse_events(text.splitlines(keepends=True)) == EXPECTED["documented-generation.txt"]


@pytest.mark.parametrize("ending", ["\r", "\r\n"])
def test_cr_and_crlf_line_ends(ending: str) -> None:
    """B-SSE-04 (WHATWG): CR alone and CRLF end lines like LF, also fed byte by byte."""
    data = fixture_bytes("documented-generation.txt").decode().replace("\n", ending).encode()
    assert parse_events([data]) == EXPECTED["documented-generation.txt"]
    assert parse_events(data[i : i + 1] for i in range(len(data))) == EXPECTED["documented-generation.txt"]


def test_silent_edit_has_no_text_event() -> None:
    """B-SSE-09: the silent edit stream ends after the tool_result, with no text at all."""
    events = parse_events([fixture_bytes("documented-edit-silent-crlf.txt")])
    assert not any(isinstance(event, TextEvent) for event in events)
    assert isinstance(events[-1], ToolResultEvent)


def test_truncated_stream_drops_partial_event_and_says_so() -> None:
    """A stream cut inside an event never emits it; complete streams are not flagged."""
    stream = EventStream([fixture_bytes("truncated-mid-event.txt")])
    assert list(stream) == EXPECTED["truncated-mid-event.txt"]
    assert stream.truncated is True
    whole = EventStream([fixture_bytes("documented-generation.txt")])
    list(whole)
    assert whole.truncated is False


def test_complete_data_line_without_blank_line_is_not_emitted() -> None:
    """WHATWG: an event is dispatched only by a blank line; a final unterminated event is discarded."""
    stream = EventStream([b'data: {"type":"text","content":"hi"}\n'])
    assert list(stream) == []
    assert stream.truncated is True


def test_final_cr_ends_the_last_line() -> None:
    """A CR at the very end of the stream still ends the line it closes."""
    assert parse_events([b'data: {"type":"heartbeat"}\r\r']) == [HeartbeatEvent("json")]


def test_leading_bom_is_ignored() -> None:
    """WHATWG: a UTF-8 BOM before the first line is dropped."""
    assert parse_events([b"\xef\xbb\xbf", b'data: {"type":"heartbeat"}\n\n']) == [HeartbeatEvent("json")]


def test_fields_other_than_data_are_ignored() -> None:
    """U-05: `event:`, `id:`, `retry:` and unknown fields neither break nor change the payload."""
    raw = b'id: 7\nevent: message\nretry: 10\nfoo: bar\ndata: {"type":"text","content":"ok"}\n\n'
    assert parse_events([raw]) == [TextEvent("ok")]
    assert parse_events([b"event: ping\n\n"]) == []


def test_error_event_field_with_plain_text() -> None:
    """An `event: error` with non-JSON data is read as an error, not as unknown data."""
    assert parse_events([b"event: error\ndata: upstream failed\n\n"]) == [ErrorEvent("upstream failed")]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ('{"type":"error","message":"quota"}', [ErrorEvent("quota")]),  # the mock's documented-dialect error
        ('{"error":{"message":"boom"}}', [ErrorEvent("boom")]),  # B-ADK-06 with an object
        ('{"type":"text","content":5}', [UnknownEvent('{"type":"text","content":5}')]),
        (
            '{"type":"tool_call","name":"x","args":[1]}',
            [UnknownEvent('{"type":"tool_call","name":"x","args":[1]}')],
        ),
        ('{"type":"tool_call","name":"x"}', [ToolCallEvent("x", {})]),
        ("[1,2]", [UnknownEvent("[1,2]")]),
        ('"just a string"', [UnknownEvent('"just a string"')]),
        ("   ", [HeartbeatEvent("empty")]),
        (
            '{"author":"nemo_agent","errorCode":"MALFORMED","errorMessage":"bad call"}',
            [ErrorEvent("bad call")],
        ),
        (
            '{"content":{"parts":[{"text":"thinking","thought":true},{"text":"answer"}]},"author":"a"}',
            [UnknownEvent('{"text":"thinking","thought":true}'), TextEvent("answer")],
        ),
        ('{"content":{"parts":[{"functionCall":{"name":"f"}}]}}', [ToolCallEvent("f", {})]),
    ],
)
def test_payloads_of_both_dialects(data: str, expected: list[StreamEvent]) -> None:
    """B-SSE-05, B-ADK-04/06, B-ADK-03: dialect detected per event; odd payloads become UnknownEvent."""
    assert events_from_data(data) == expected


def test_adk_event_with_several_parts_gives_several_events() -> None:
    """B-ADK-04: a text part and a functionCall part in one Event are two typed events, in order."""
    event = {
        "content": {
            "role": "model",
            "parts": [{"text": "a"}, {"functionCall": {"id": "af-1", "name": "g", "args": {}}}],
        },
        "author": "nemo_agent",
        "partial": False,
    }
    assert events_from_data(json.dumps(event)) == [TextEvent("a"), ToolCallEvent("g", {}, "af-1")]


def test_async_stream_matches_sync() -> None:
    """The async face's parser gives the same events as the sync one (byte by byte)."""

    async def chunks(data: bytes) -> AsyncIterator[bytes]:
        for i in range(len(data)):
            yield data[i : i + 1]

    async def collect(name: str) -> tuple[list[StreamEvent], bool]:
        stream = AsyncEventStream(chunks(fixture_bytes(name)))
        events = [event async for event in stream]
        return events, stream.truncated

    for name, expected in EXPECTED.items():
        events, truncated = asyncio.run(collect(name))
        assert events == expected
        assert truncated is (name == "truncated-mid-event.txt")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(min_value=1, max_value=40), max_size=30))
def test_parser_never_raises_and_chunking_is_invisible(data: bytes, cuts: list[int]) -> None:
    """Never raise on any input (invalid JSON -> UnknownEvent); chunk boundaries never change the events."""
    whole = parse_events([data])
    chunks, pos = [], 0
    for cut in cuts:
        chunks.append(data[pos : pos + cut])
        pos += cut
    chunks.append(data[pos:])
    assert parse_events(chunks) == whole


def test_parser_feed_returns_events_as_they_complete() -> None:
    """Incremental: an event is returned by the feed() that completes it, not earlier."""
    parser = SSEParser()
    assert parser.feed(b'data: {"type":"text",') == []
    assert parser.feed(b'"content":"hi"}\n') == []
    assert parser.feed(b"\n") == [TextEvent("hi")]
    assert parser.feed(b": ping\n") == [HeartbeatEvent("comment")]
    assert parser.close() == []
    assert parser.truncated is False
