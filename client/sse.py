"""`/run_sse` streams, parsed incrementally into typed events, in both wire dialects.

Why a small decoder of our own rather than httpx-sse's: `httpx_sse.SSEDecoder` drops comment lines
(`: keep-alive`), which the twin needs as one of the heartbeat forms (B-SSE-06, U-04), and it
follows the WHATWG rule that an event whose data is empty is not dispatched, which would hide the
documented empty `data:` heartbeat. Everything else follows the WHATWG event-stream rules: lines
end in LF, CRLF or CR (even split across chunks); a leading BOM is dropped; `data:` lines join
with `\\n`; one space after the colon is removed; `event:`, `id:`, `retry:` and unknown fields are
read and otherwise ignored (U-05); an event is dispatched on a blank line only, so an event cut off
by the end of the stream is never emitted (`truncated` tells the caller it happened).

Each dispatched event's data is read in the dialect it is written in, detected per event:
documented `{"type": ...}` payloads (B-SSE-04/05/06) or ADK Event objects (B-ADK-02..06), where
one event with several parts yields several typed events. Nothing here raises on bad input: what
cannot be read becomes an UnknownEvent.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import AsyncGenerator, AsyncIterable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

HeartbeatForm = Literal["json", "empty", "comment"]


@dataclass(frozen=True, slots=True)
class TextEvent:
    """Text of the backend agent (B-SSE-05); `partial` marks an ADK streaming chunk (B-ADK-05)."""

    content: str
    partial: bool = False


@dataclass(frozen=True, slots=True)
class ToolCallEvent:
    """The backend calls a tool (B-SSE-05, B-ADK-04); never shown to the user (B-CLI-04)."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    call_id: str | None = None


@dataclass(frozen=True, slots=True)
class ToolResultEvent:
    """A tool finished (B-SSE-05, B-ADK-04)."""

    name: str
    result: Any = None
    call_id: str | None = None


@dataclass(frozen=True, slots=True)
class HeartbeatEvent:
    """A keep-alive (B-SSE-06): `{"type":"heartbeat"}`, an empty `data:`, or a comment line."""

    form: HeartbeatForm = "json"


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """A run that failed inside the stream (B-ADK-06)."""

    message: str


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """Data the client could not read as any known event; `raw` is the event's data text."""

    raw: str


StreamEvent = TextEvent | ToolCallEvent | ToolResultEvent | HeartbeatEvent | ErrorEvent | UnknownEvent

_EOL = re.compile(r"\r\n|\r|\n")


class SSEParser:
    """Feed it chunks (bytes or text) as they arrive; it returns the events they complete."""

    __slots__ = ("_buffer", "_data", "_decoder", "_dirty", "_event_type", "_started", "truncated")

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._data: list[str] = []
        self._event_type = ""
        self._dirty = False  # a field line was read since the last dispatch
        self._started = False
        self.truncated = False

    def feed(self, chunk: bytes | str) -> list[StreamEvent]:
        """Parse `chunk`; return the events completed by it, in order."""
        text = self._decoder.decode(chunk) if isinstance(chunk, bytes | bytearray) else chunk
        return self._feed_text(text)

    def close(self) -> list[StreamEvent]:
        """End of stream: a final CR still ends a line; an unfinished event is dropped."""
        events = self._feed_text(self._decoder.decode(b"", final=True))
        if self._buffer.endswith("\r"):
            self._buffer = self._buffer[:-1]
            events.extend(self._line(self._buffer))
            self._buffer = ""
        if self._buffer or self._dirty:
            self.truncated = True
        self._buffer = ""
        self._reset()
        return events

    def _feed_text(self, text: str) -> list[StreamEvent]:
        if not text:
            return []
        if not self._started:
            self._started = True
            text = text.removeprefix("\ufeff")
        # The buffer holds no line end, except maybe a final CR that could be half of a CRLF.
        scan_from = len(self._buffer) - 1 if self._buffer.endswith("\r") else len(self._buffer)
        buffer = self._buffer + text
        events: list[StreamEvent] = []
        start = 0
        for match in _EOL.finditer(buffer, scan_from):
            if match.group() == "\r" and match.end() == len(buffer):
                break  # wait: the next chunk may start with LF
            events.extend(self._line(buffer[start : match.start()]))
            start = match.end()
        self._buffer = buffer[start:]
        return events

    def _line(self, line: str) -> list[StreamEvent]:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return [HeartbeatEvent("comment")]
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        self._dirty = True
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event_type = value
        # `id`, `retry` and unknown fields: read, ignored (U-05).
        return []

    def _dispatch(self) -> list[StreamEvent]:
        if not self._data:
            self._reset()
            return []
        data, event_type = "\n".join(self._data), self._event_type
        self._reset()
        return events_from_data(data, event_type)

    def _reset(self) -> None:
        self._data = []
        self._event_type = ""
        self._dirty = False


def events_from_data(data: str, event_type: str = "") -> list[StreamEvent]:
    """The typed events one SSE event's data stands for, in either dialect."""
    if not data.strip():
        return [HeartbeatEvent("empty")]
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError):
        if event_type == "error":
            return [ErrorEvent(data.strip())]
        return [UnknownEvent(data)]
    if not isinstance(payload, Mapping):
        return [UnknownEvent(data)]
    if isinstance(payload.get("type"), str):
        return [_documented_event(payload, data)]
    if "error" in payload and not isinstance(payload.get("content"), Mapping):
        return [ErrorEvent(_error_text(payload["error"]))]  # B-ADK-06
    if isinstance(payload.get("content"), Mapping) or _ADK_KEYS & payload.keys():
        return _adk_events(payload, data)
    return [UnknownEvent(data)]


def _documented_event(payload: Mapping[str, Any], raw: str) -> StreamEvent:
    """B-SSE-05: text, tool_call, tool_result, heartbeat."""
    kind = payload["type"]
    if kind == "heartbeat":
        return HeartbeatEvent("json")
    if kind == "text":
        content = payload.get("content", payload.get("text"))
        if isinstance(content, str):
            return TextEvent(content, partial=payload.get("partial") is True)
    elif kind in ("tool_call", "tool_result"):
        name = payload.get("name")
        call_id = payload.get("call_id", payload.get("id"))
        call_id = call_id if isinstance(call_id, str) else None
        if isinstance(name, str):
            if kind == "tool_result":
                return ToolResultEvent(name, payload.get("result"), call_id)
            args = payload.get("args", {})
            if isinstance(args, Mapping):
                return ToolCallEvent(name, dict(args), call_id)
    elif kind == "error":
        return ErrorEvent(_error_text(payload.get("message", payload.get("content", payload.get("error")))))
    return UnknownEvent(raw)


_ADK_KEYS = frozenset({"invocationId", "author", "turnComplete", "errorCode", "errorMessage"})


def _adk_events(payload: Mapping[str, Any], raw: str) -> list[StreamEvent]:
    """B-ADK-03/04/05: one typed event per part; a part the client does not know is UnknownEvent."""
    events: list[StreamEvent] = []
    partial = payload.get("partial") is True
    content = payload.get("content")
    parts = content.get("parts") if isinstance(content, Mapping) else None
    for part in parts if isinstance(parts, list) else []:
        events.append(_adk_part(part, partial))
    if payload.get("errorCode") is not None or payload.get("errorMessage") is not None:
        events.append(ErrorEvent(_error_text(payload.get("errorMessage") or payload.get("errorCode"))))
    return events or [UnknownEvent(raw)]


def _adk_part(part: Any, partial: bool) -> StreamEvent:
    if isinstance(part, Mapping):
        text = part.get("text")
        if isinstance(text, str) and part.get("thought") is not True:
            return TextEvent(text, partial=partial)
        call = part.get("functionCall")
        if isinstance(call, Mapping) and isinstance(call.get("name"), str):
            args = call.get("args")
            call_id = call.get("id")
            return ToolCallEvent(
                call["name"],
                dict(args) if isinstance(args, Mapping) else {},
                call_id if isinstance(call_id, str) else None,
            )
        response = part.get("functionResponse")
        if isinstance(response, Mapping) and isinstance(response.get("name"), str):
            call_id = response.get("id")
            return ToolResultEvent(
                response["name"], response.get("response"), call_id if isinstance(call_id, str) else None
            )
    return UnknownEvent(json.dumps(part, ensure_ascii=False, separators=(",", ":")))


def _error_text(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, Mapping):
        for key in ("message", "detail", "error"):
            if isinstance(value.get(key), str) and value[key].strip():
                return str(value[key]).strip()
    if value is None or value == "":
        return "The run failed."
    return json.dumps(value, ensure_ascii=False)


class EventStream:
    """Typed events from an iterable of chunks; `truncated` once the stream ended mid-event."""

    __slots__ = ("_events", "_parser")

    def __init__(self, chunks: Iterable[bytes | str]) -> None:
        self._parser = SSEParser()
        self._events = self._run(chunks)

    def _run(self, chunks: Iterable[bytes | str]) -> Generator[StreamEvent, None, None]:
        for chunk in chunks:
            yield from self._parser.feed(chunk)
        yield from self._parser.close()

    @property
    def truncated(self) -> bool:
        return self._parser.truncated

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> StreamEvent:
        return next(self._events)

    def close(self) -> None:
        self._events.close()


class AsyncEventStream:
    """The async mirror of EventStream."""

    __slots__ = ("_events", "_parser")

    def __init__(self, chunks: AsyncIterable[bytes | str]) -> None:
        self._parser = SSEParser()
        self._events = self._run(chunks)

    async def _run(self, chunks: AsyncIterable[bytes | str]) -> AsyncGenerator[StreamEvent, None]:
        async for chunk in chunks:
            for event in self._parser.feed(chunk):
                yield event
        for event in self._parser.close():
            yield event

    @property
    def truncated(self) -> bool:
        return self._parser.truncated

    def __aiter__(self) -> AsyncEventStream:
        return self

    async def __anext__(self) -> StreamEvent:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        await self._events.aclose()


def parse_events(chunks: Iterable[bytes | str]) -> list[StreamEvent]:
    """Every complete event of a finished stream (for recorded streams and tests)."""
    return list(EventStream(chunks))
