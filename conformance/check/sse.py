"""`/run_sse` conformance, read event by event from the live stream (httpx streaming, never buffered).

Each block is judged as it arrives: a single `data:` line and no `event:`/`id:`/`retry:` field
(B-SSE-04, U-05); comment lines are allowed (U-04); the JSON of a data line matches the event
schema of the dialect (B-SSE-05, B-ADK-03); a heartbeat may be `{"type":"heartbeat"}` or an empty
`data:` line (B-SSE-06). When the server closes the stream the turn is judged as a whole: no done
event, the server closed it (B-SSE-08); a text-less stream still carries tool events (B-SSE-09);
a generation, which works for minutes, carries keep-alives (B-SSE-06).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.check.checks import Outcome, broken, check_exchange, held
from conformance.check.exchange import Exchange
from conformance.check.target import TURN_SECONDS, Target
from contracts.spec import validator

GENERATE_TOOL = "generate_video_with_seedance"  # B-SSE-07
EDIT_TOOL = "edit_multitrack"  # B-SSE-07
#: Payload types that would be a done event, which the stream must not have (B-SSE-08).
END_EVENT_TYPES = frozenset(
    {"done", "end", "complete", "completed", "finish", "finished", "stream_end", "close"}
)
FORBIDDEN_FIELDS = ("event", "id", "retry")  # B-SSE-04, U-05
EVENT_SCHEMAS = {"documented": ("event-documented", "B-SSE-05"), "adk": ("event-adk", "B-ADK-03")}
#: Read timeout against the mock, whose turns finish at once at time scale 0 or after a clock advance.
MOCK_READ_TIMEOUT_S = 30.0


# ---------------------------------------------------------------------------- the wire


@dataclass(slots=True)
class Block:
    """The lines of one SSE block (up to a blank line); `complete` False when the stream ended inside it."""

    lines: list[str]
    complete: bool = True

    def fields(self) -> list[tuple[str, str]]:
        """(name, value) of each non-comment line, as the SSE spec splits them."""
        out = []
        for line in self.lines:
            if line.startswith(":"):
                continue
            name, colon, value = line.partition(":")
            if colon and value.startswith(" "):
                value = value[1:]
            out.append((name, value))
        return out

    @property
    def comment_only(self) -> bool:
        return all(line.startswith(":") for line in self.lines)


def iter_blocks(chunks: Iterable[bytes]) -> Iterator[Block]:
    """SSE blocks from a byte stream, as soon as each is complete; any of CRLF, LF and CR ends a line."""
    buffer = b""
    lines: list[str] = []
    for chunk in chunks:
        buffer += chunk
        while True:
            cut = _line_end(buffer)
            if cut is None:
                break
            end, width = cut
            line, buffer = buffer[:end], buffer[end + width :]
            if line:
                lines.append(line.decode("utf-8", "replace"))
            elif lines:
                yield Block(lines)
                lines = []
    if buffer.endswith(b"\r"):  # the stream ended: a last lone CR ends its line after all
        line, buffer = buffer[:-1], b""
        if line:
            lines.append(line.decode("utf-8", "replace"))
        elif lines:
            yield Block(lines)
            lines = []
    if buffer:
        lines.append(buffer.decode("utf-8", "replace"))
    if lines:
        yield Block(lines, complete=False)


def _line_end(buffer: bytes) -> tuple[int, int] | None:
    """Where the first line of `buffer` ends and how wide its terminator is; None if not yet known."""
    lf = buffer.find(b"\n")
    cr = buffer.find(b"\r")
    if cr == -1 or (lf != -1 and lf < cr):
        return None if lf == -1 else (lf, 1)
    if cr == len(buffer) - 1:
        return None  # a CR at the end may be the first half of a CRLF
    return (cr, 2) if buffer[cr + 1 : cr + 2] == b"\n" else (cr, 1)


# ---------------------------------------------------------------------------- one turn


@dataclass
class Turn:
    """What one `/run_sse` call gave: a stream (judged event by event) or a JSON refusal."""

    exchange: Exchange
    dialect: str | None = None
    texts: list[str] = field(default_factory=list)
    tool_calls: list[str] = field(default_factory=list)
    tool_results: list[str] = field(default_factory=list)
    heartbeats: int = 0
    empty_heartbeats: int = 0
    run_error: str | None = None
    closed: bool = False  # the server ended the stream
    problem: str | None = None  # transport trouble while reading
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def streamed(self) -> bool:
        return self.exchange.status == 200 and self.exchange.media_type == "text/event-stream"

    @property
    def text_less(self) -> bool:
        return self.streamed and not self.texts

    @property
    def tools(self) -> list[str]:
        return self.tool_calls + self.tool_results


OnOpen = Callable[[httpx.Response], None]


def run_request(session_id: str, text: str, user_id: str | None = "me") -> dict[str, Any]:
    """The documented run body (B-SSE-02); `user_id` None leaves it out (B-SSE-03)."""
    body: dict[str, Any] = {"app_name": "nemo_agent", "session_id": session_id}
    if user_id is not None:
        body["user_id"] = user_id
    body["new_message"] = {"role": "user", "parts": [{"text": text}]}
    return body


def stream_turn(
    target: Target,
    body: dict[str, Any],
    *,
    token: str | None = None,
    on_open: OnOpen | None = None,
    headers: dict[str, str] | None = None,
) -> Turn:
    """Send one turn and read its answer incrementally; `on_open` runs once the headers are in."""
    read_timeout = MOCK_READ_TIMEOUT_S if target.has_control else TURN_SECONDS
    timeout = httpx.Timeout(target.timeout_s, read=read_timeout)
    request_headers = {**target.headers(token), "Accept": "text/event-stream", **(headers or {})}
    raw = bytearray()
    reader: EventJudge | None = None
    try:
        with target.http.stream(
            "POST", "/run_sse", json=body, headers=request_headers, timeout=timeout
        ) as response:
            if on_open is not None:
                on_open(response)
            media = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if response.status_code != 200 or media != "text/event-stream":
                response.read()
                turn = Turn(Exchange.from_httpx(response, "runSse"))
                turn.outcomes += check_exchange(turn.exchange)
                return turn
            reader = EventJudge(target.dialect)
            deadline = time.monotonic() + TURN_SECONDS
            for block in iter_blocks(_recording(response.iter_bytes(), raw)):
                reader.feed(block)
                if time.monotonic() > deadline:
                    reader.problem = f"the stream was still open after {TURN_SECONDS:.0f} s"
                    break
            else:
                reader.closed = True
            turn = Turn(Exchange.from_httpx(response, "runSse", body=bytes(raw)))
    except httpx.TimeoutException as exc:
        if reader is None:
            raise
        reader.problem = f"no event and no end for {read_timeout:.0f} s ({type(exc).__name__})"
        turn = Turn(Exchange.from_httpx(response, "runSse", body=bytes(raw)))
    except httpx.RemoteProtocolError as exc:
        if reader is None:
            raise
        reader.problem = f"the connection broke instead of closing: {exc}"
        turn = Turn(Exchange.from_httpx(response, "runSse", body=bytes(raw)))
    reader.fill(turn)
    turn.outcomes += check_exchange(turn.exchange) + reader.verdict()
    return turn


def _recording(chunks: Iterable[bytes], into: bytearray) -> Iterator[bytes]:
    for chunk in chunks:
        into += chunk
        yield chunk


# ---------------------------------------------------------------------------- judging events


class EventJudge:
    """Judges the blocks of one stream as they come, then the stream as a whole."""

    def __init__(self, dialect: str | None) -> None:
        self.dialect = dialect  # None: read it off the first JSON event
        self.outcomes: list[Outcome] = []
        self.texts: list[str] = []
        self.tool_calls: list[str] = []
        self.tool_results: list[str] = []
        self.heartbeats = 0
        self.empty_heartbeats = 0
        self.run_error: str | None = None
        self.after_error = 0
        self.end_event: str | None = None
        self.truncated = False
        self.closed = False
        self.problem: str | None = None

    def feed(self, block: Block) -> None:
        if not block.complete:
            self.truncated = True
        if block.comment_only:
            self.outcomes.append(held("U-04"))  # comment lines are allowed, and are no events
            return
        fields = block.fields()
        names = {name for name, _ in fields}
        bad = sorted(names & set(FORBIDDEN_FIELDS))
        data = [value for name, value in fields if name == "data"]
        if bad:
            self.outcomes.append(broken("B-SSE-04", f"an event carries {', '.join(f'{n}:' for n in bad)}"))
        elif len(data) != 1:
            what = "no data line" if not data else f"{len(data)} data lines"
            self.outcomes.append(broken("B-SSE-04", f"an event has {what}: {block.lines[:3]}"))
        else:
            self.outcomes.append(held("B-SSE-04"))
        if data:
            self._payload("\n".join(data))

    def _payload(self, data: str) -> None:
        if self.run_error is not None:
            self.after_error += 1
        if data == "":
            self.heartbeats += 1  # B-SSE-06: the empty form
            self.empty_heartbeats += 1
            self.outcomes.append(held("B-SSE-06"))
            return
        try:
            payload = json.loads(data)
        except ValueError:
            self.outcomes.append(broken("B-SSE-05", f"a data line is no JSON: {data[:80]!r}"))
            return
        if self.dialect is None:
            self.dialect = "documented" if isinstance(payload, dict) and "type" in payload else "adk"
        schema, rule_id = EVENT_SCHEMAS.get(self.dialect, EVENT_SCHEMAS["documented"])
        errors = list(validator(schema).iter_errors(payload))
        if errors:
            self.outcomes.append(
                broken(rule_id, f"event {data[:80]} fails {schema}: {errors[0].message[:100]}")
            )
        else:
            self.outcomes.append(held(rule_id))
        if isinstance(payload, dict):
            self._classify(payload)

    def _classify(self, payload: dict[str, Any]) -> None:
        kind = payload.get("type")
        if kind == "heartbeat":
            self.heartbeats += 1
            self.outcomes.append(held("B-SSE-06"))
        elif kind == "text":
            self.texts.append(str(payload.get("content", "")))
        elif kind == "tool_call":
            self.tool_calls.append(str(payload.get("name", "")))
        elif kind == "tool_result":
            self.tool_results.append(str(payload.get("name", "")))
        elif isinstance(kind, str) and kind.lower() in END_EVENT_TYPES:
            self.end_event = kind
        elif "error" in payload and self.dialect == "adk":
            self.run_error = str(payload["error"])
        elif self.dialect == "adk":
            self._classify_adk(payload)

    def _classify_adk(self, payload: dict[str, Any]) -> None:
        content = payload.get("content")
        if not isinstance(content, dict):
            return
        for part in content.get("parts") or []:
            if not isinstance(part, dict):
                continue
            if isinstance(part.get("text"), str):
                self.texts.append(part["text"])
            if isinstance(part.get("functionCall"), dict):
                self.tool_calls.append(str(part["functionCall"].get("name", "")))
            if isinstance(part.get("functionResponse"), dict):
                self.tool_results.append(str(part["functionResponse"].get("name", "")))
                # B-ADK-04: a function response has role user but the agent as author.
                if content.get("role") == "user" and payload.get("author") != "user":
                    self.outcomes.append(held("B-ADK-04"))
                else:
                    self.outcomes.append(
                        broken(
                            "B-ADK-04", "a functionResponse event is not role user with the agent as author"
                        )
                    )

    def verdict(self) -> list[Outcome]:
        """The stream as a whole, once it ended."""
        out = list(self.outcomes)
        if self.end_event is not None:
            out.append(broken("B-SSE-08", f"the stream sent a {self.end_event!r} event; it must only close"))
        elif self.problem is not None:
            out.append(broken("B-SSE-08", self.problem))
        elif self.truncated:
            out.append(broken("B-SSE-04", "the stream ended inside an event (no blank line after it)"))
        elif self.closed:
            out.append(held("B-SSE-08"))
        if self.run_error is not None:
            if self.after_error:
                out.append(broken("B-ADK-06", f"{self.after_error} events followed the run error"))
            else:
                out.append(held("B-ADK-06"))
        if self.closed and self.problem is None and self.run_error is None:
            if not self.texts and not (self.tool_calls or self.tool_results):
                out.append(broken("B-SSE-09", "a stream without text carried no tool events either"))
            else:
                out.append(held("B-SSE-09"))
            if GENERATE_TOOL in self.tool_calls:
                if self.heartbeats:
                    out.append(held("B-SSE-06"))
                else:
                    out.append(broken("B-SSE-06", "a generation, minutes of work, sent no heartbeat"))
        return out

    def fill(self, turn: Turn) -> None:
        turn.dialect = self.dialect
        turn.texts = self.texts
        turn.tool_calls = self.tool_calls
        turn.tool_results = self.tool_results
        turn.heartbeats = self.heartbeats
        turn.empty_heartbeats = self.empty_heartbeats
        turn.run_error = self.run_error
        turn.closed = self.closed and self.problem is None
        turn.problem = self.problem
