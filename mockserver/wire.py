"""Stream events as bytes on the wire: the documented dialect and the Google ADK dialect.

Documented dialect (api-ref v4.4, B-SSE-04/05/06): each event is one `data:` line with compact
JSON, then a blank line; no `event:`, `id:` or `retry:` fields. Heartbeats come in three forms:

- ``json``    -> ``data: {"type":"heartbeat"}``
- ``empty``   -> ``data:`` with nothing after the colon (not even a space), which SSE readers
  see as an event with empty data (B-SSE-06);
- ``comment`` -> ``: keep-alive``, an SSE comment that readers drop (U-04 allows for it).

A `RunError` has no documented form; this dialect sends ``{"type":"error","message":...}``,
which is the twin's own (undocumented) choice, so clients can be tested against it.

ADK dialect (B-ADK-02..06, B-ADK-10): ADK `Event` objects in camelCase with null fields
left out; heartbeats stay in the documented forms; a run error is ``data: {"error": "..."}``
as ADK's server writes it. No event here carries an artifact delta, so the content/actions
split of B-ADK-08 never arises.

Encoding is on the hot path (thousands of concurrent streams): heartbeats are precomputed
byte strings and the documented JSON is assembled from pre-encoded pieces.
"""

from __future__ import annotations

import json
import string
import uuid
from collections.abc import Callable
from typing import Any

from mockserver.events import Heartbeat, HeartbeatForm, RunError, StreamEvent, Text, ToolCall, ToolResult

LINE_ENDINGS = ("\n", "\r\n", "\r")  # all three end a line in SSE
#: The `garbage:K` stream fault's block: non-UTF-8 bytes in a field name and a line without a
#: colon. Neither is a `data` field, so an SSE reader dispatches no event for it.
GARBAGE_BLOCK = b"data\xff\xfe: \xc3\x28\nbroken line without a colon\n\n"
DEFAULT_AUTHOR = "nemo_agent"  # B-ENV-08: the agent's name
EVENT_ID_LENGTH = 8  # like ADK's `Event.new_id()`, e.g. "ptcjaZBa" (B-ADK-03)
_ID_ALPHABET = string.ascii_letters + string.digits

IdSource = Callable[[], str]
"""`id_source()` returns fresh random hex digits, e.g. `lambda: f"{rng.getrandbits(64):016x}"`."""
Clock = Callable[[], float]
"""Virtual epoch seconds."""


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _without_nulls(value: Any) -> Any:
    """ADK leaves null fields out (B-ADK-02); tool args and results get the same treatment."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _heartbeats(line_ending: str) -> dict[HeartbeatForm, bytes]:
    end = (line_ending * 2).encode()
    return {
        "json": b'data: {"type":"heartbeat"}' + end,
        "empty": b"data:" + end,
        "comment": b": keep-alive" + end,
    }


_HEARTBEATS: dict[str, dict[HeartbeatForm, bytes]] = {ending: _heartbeats(ending) for ending in LINE_ENDINGS}
_TERMINATORS: dict[str, bytes] = {ending: (ending * 2).encode() for ending in LINE_ENDINGS}
_DATA = b"data: "


def heartbeat_bytes(form: HeartbeatForm = "json", line_ending: str = "\n") -> bytes:
    """The precomputed bytes of one heartbeat (B-SSE-06)."""
    return _HEARTBEATS[line_ending][form]


def documented_payload(event: Text | ToolCall | ToolResult | RunError) -> str:
    """The JSON of one documented-dialect event (B-SSE-05); compact, non-ASCII kept."""
    if isinstance(event, Text):
        return f'{{"type":"text","content":{_compact(event.content)}}}'
    if isinstance(event, ToolCall):
        return f'{{"type":"tool_call","name":{_compact(event.name)},"args":{_compact(event.args)}}}'
    if isinstance(event, ToolResult):
        return f'{{"type":"tool_result","name":{_compact(event.name)},"result":{_compact(event.result)}}}'
    if isinstance(event, RunError):
        return f'{{"type":"error","message":{_compact(event.message)}}}'  # undocumented: the twin's form
    raise TypeError(f"not a stream event: {event!r}")


def encode_documented(event: StreamEvent, *, line_ending: str = "\n") -> bytes:
    """One event in the documented dialect: `data: <json>` and a blank line (B-SSE-04..06).

    `line_ending` "\\r\\n" (or "\\r") replaces every line end, for clients that must cope
    with any of the three SSE line terminators.
    """
    try:
        terminator = _TERMINATORS[line_ending]
    except KeyError:
        raise ValueError(f"line_ending must be one of {LINE_ENDINGS!r}") from None
    if isinstance(event, Heartbeat):
        return _HEARTBEATS[line_ending][event.form]
    return _DATA + documented_payload(event).encode() + terminator


class AdkEncoder:
    """Encodes one run's events as ADK Event objects (B-ADK-02..06, B-ADK-10).

    One encoder per run: it holds the invocation id and maps the plan's call ids to ADK
    function-call ids (`af-<uuid>`), so a functionResponse carries the id of its call.
    Ids come from `id_source` and timestamps from `clock`, so a seeded caller gets the same
    bytes every time.
    """

    __slots__ = ("_clock", "_function_ids", "_id_source", "author", "invocation_id")

    def __init__(
        self,
        *,
        id_source: IdSource,
        clock: Clock,
        author: str = DEFAULT_AUTHOR,
        invocation_id: str | None = None,
    ) -> None:
        self._id_source = id_source
        self._clock = clock
        self._function_ids: dict[str, str] = {}
        self.author = author
        self.invocation_id = invocation_id or f"e-{self._uuid()}"

    def _bits(self, count: int) -> int:
        """`count` random bits, from as many `id_source()` calls as that takes."""
        digits = ""
        while len(digits) * 4 < count:
            digits += self._id_source()
        return int(digits, 16) & ((1 << count) - 1)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._bits(128), version=4))

    def _event_id(self) -> str:
        bits = self._bits(48)  # 62**8 < 2**48: eight base-62 digits
        chars = []
        for _ in range(EVENT_ID_LENGTH):
            bits, digit = divmod(bits, len(_ID_ALPHABET))
            chars.append(_ID_ALPHABET[digit])
        return "".join(chars)

    def function_id(self, call_id: str) -> str:
        """The ADK id (`af-<uuid>`) standing for a plan's call id, drawn on first use."""
        found = self._function_ids.get(call_id)
        if found is None:
            found = self._function_ids[call_id] = f"af-{self._uuid()}"
        return found

    def event_object(self, event: Text | ToolCall | ToolResult) -> dict[str, Any]:
        """The ADK Event for a text, tool call or tool result, keys in ADK's own order."""
        long_running: list[str] | None = None
        if isinstance(event, Text):
            content: dict[str, Any] = {"parts": [{"text": event.content}], "role": "model"}
        elif isinstance(event, ToolCall):
            function_id = self.function_id(event.call_id)
            call = {"id": function_id, "args": _without_nulls(event.args), "name": event.name}
            content = {"parts": [{"functionCall": call}], "role": "model"}
            long_running = [function_id]
        elif isinstance(event, ToolResult):
            response = {
                "id": self.function_id(event.call_id),
                "name": event.name,
                "response": _without_nulls(event.result),
            }
            # B-ADK-04: a function response has role user, but the agent stays the author.
            content = {"parts": [{"functionResponse": response}], "role": "user"}
        else:
            raise TypeError(f"no ADK event for {event!r}")
        obj: dict[str, Any] = {
            "content": content,
            "invocationId": self.invocation_id,
            "author": self.author,
            "actions": {"stateDelta": {}, "artifactDelta": {}, "requestedAuthConfigs": {}},
        }
        if long_running is not None:
            obj["longRunningToolIds"] = long_running
        obj["id"] = self._event_id()
        obj["timestamp"] = float(self._clock())
        return obj

    def encode(self, event: StreamEvent) -> bytes:
        """One event in the ADK dialect, as `data: <json>` and a blank line."""
        if isinstance(event, Heartbeat):
            return _HEARTBEATS["\n"][event.form]  # ADK has none: the documented forms (B-ADK-10)
        if isinstance(event, RunError):
            # ADK's server writes `{"error": "<message>"}` with json.dumps' default spacing (B-ADK-06).
            return _DATA + json.dumps({"error": event.message}, ensure_ascii=False).encode() + b"\n\n"
        return _DATA + _compact(self.event_object(event)).encode() + b"\n\n"


def cut_inside(event: bytes) -> bytes:
    """The first half of an encoded event's line (at least a byte): inside it, never its blank line.

    What the `truncate:K` stream fault sends of the K-th event."""
    line = event.rstrip(b"\r\n")
    return line[: max(1, len(line) // 2)]
