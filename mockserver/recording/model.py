"""The recording file: JSON Lines, one record per line, written as a run goes.

1. a `header`: format and version, where the exchanges came from (`mock` or `proxy`), the mock's
   settings (seed, time scale, dialect ...), its profile, the scenario armed at start (its fault
   rules, steps and accounts), the virtual clock at the start and the body size limit;
2. one `exchange` per request, written when its response has ended: the request (method, path,
   query, headers, body), the response (status, headers, and either a body or, for
   `text/event-stream`, the SSE events each with its virtual time `at`), the fault rules that
   fired on it, the virtual times it started, answered and ended, two ticks of one counter
   (`opened`, `closed`) that order the starts and ends of overlapping exchanges, and (mock runs)
   how many turns were still running when the request arrived and, in `turns`, where each was:
   the mock's turns wait only at numbered points (`operations.TurnGate`); `turns` holds each
   running turn's count of points passed, the run-wide count when the request arrived, was
   answered and ended, and the turns that passed points since the previous exchange was written
   (their order run-wide: the recording's turn schedule, `Recording.schedule`);
3. an `end` record when the run stops cleanly.

Bodies are `{"size": N, "text": ...}` (UTF-8 text), `{"size": N, "base64": ...}` (binary) or, over
the size limit, `{"size": N, "sha256": ..., "elided": true, "head": ..., "tail": ...}` (the first
and last bytes, base64). Secrets are masked before anything is written (`masking`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "nemo-mock-recording"
VERSION = 1
#: Bodies up to this size are kept whole (`nemo-mock serve --record-body-limit`).
DEFAULT_BODY_LIMIT = 4 * 1024 * 1024
#: What an elided body keeps of its start and its end.
ELIDED_EDGE = 64 * 1024
EVENT_STREAM = "text/event-stream"
_TEXT_TYPES = re.compile(r"^(text/|application/(json|[\w.+-]*\+json|x-www-form-urlencoded|xml|x-ndjson))")


class RecordingError(ValueError):
    """A file that is not a readable recording; the message says which line and why."""


# ---------------------------------------------------------------------------- bodies


def is_textual(content_type: str | None) -> bool:
    return content_type is None or bool(_TEXT_TYPES.match(content_type.strip().lower()))


def body_record(data: bytes, content_type: str | None, limit: int = DEFAULT_BODY_LIMIT) -> dict[str, Any]:
    """A body as it is stored: text, base64, or (over `limit`) elided to its edges and digest."""
    if len(data) > limit:
        return elided_record(
            len(data), hashlib.sha256(data).hexdigest(), data[:ELIDED_EDGE], data[-ELIDED_EDGE:]
        )
    if is_textual(content_type) or not data:
        try:
            return {"size": len(data), "text": data.decode("utf-8")}
        except UnicodeDecodeError:
            pass
    return {"size": len(data), "base64": base64.b64encode(data).decode("ascii")}


def elided_record(size: int, sha256: str, head: bytes, tail: bytes) -> dict[str, Any]:
    return {
        "size": size,
        "sha256": sha256,
        "elided": True,
        "head": base64.b64encode(head).decode("ascii"),
        "tail": base64.b64encode(tail).decode("ascii"),
    }


def body_bytes(record: dict[str, Any] | None) -> bytes:
    """The bytes of a stored body; an elided one comes back as its edges around zero bytes."""
    if not record:
        return b""
    if "text" in record:
        return str(record["text"]).encode("utf-8")
    if "base64" in record:
        return base64.b64decode(record["base64"])
    head = base64.b64decode(record.get("head", ""))
    tail = base64.b64decode(record.get("tail", ""))
    size = int(record.get("size", len(head) + len(tail)))
    if len(head) >= size:
        return head[:size]
    overlap = len(head) + len(tail) - size
    if overlap >= 0:  # the edges meet: the body is known whole
        return head + tail[overlap:]
    return head + bytes(-overlap) + tail


def digest_of(data: bytes) -> str:
    """`sha256:<hex> (<n> bytes)`: how binary and elided bodies are compared."""
    return f"sha256:{hashlib.sha256(data).hexdigest()} ({len(data)} bytes)"


def body_digest(record: dict[str, Any] | None) -> str:
    """`digest_of` a stored body, elided ones included."""
    if record and record.get("elided"):
        return f"sha256:{record['sha256']} ({record['size']} bytes)"
    return digest_of(body_bytes(record))


# ---------------------------------------------------------------------------- SSE events


class EventSplitter:
    """Cuts an SSE byte stream into events: each ends with a blank line (LF, CRLF or CR endings).

    Fed chunks as they arrive; a `\\r` at the end of a chunk may be the start of `\\r\\n`, so the
    splitter waits for the next byte (or `close()`) before deciding.
    """

    __slots__ = ("_buffer", "_line_start", "_scan")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._scan = 0  # where scanning resumes
        self._line_start = 0  # start of the line being scanned

    def feed(self, chunk: bytes) -> list[bytes]:
        self._buffer += chunk
        return self._cut(final=False)

    def close(self) -> list[bytes]:
        """The events still held, then what the stream left unfinished (if anything) as the last item."""
        events = self._cut(final=True)
        if self._buffer:
            events.append(bytes(self._buffer))
        self._buffer.clear()
        self._scan = self._line_start = 0
        return events

    def _cut(self, *, final: bool) -> list[bytes]:
        events: list[bytes] = []
        buf = self._buffer
        i = self._scan
        start = 0
        line_start = self._line_start
        while i < len(buf):
            byte = buf[i]
            if byte == 0x0D:  # CR
                if i + 1 == len(buf) and not final:
                    break  # undecided: CR or CRLF
                end = i + 2 if i + 1 < len(buf) and buf[i + 1] == 0x0A else i + 1
            elif byte == 0x0A:
                end = i + 1
            else:
                i += 1
                continue
            if i == line_start:  # an empty line: the event ends here
                events.append(bytes(buf[start:end]))
                start = end
            line_start = end
            i = end
        del buf[:start]
        self._scan = i - start
        self._line_start = line_start - start
        return events


def split_events(data: bytes) -> list[bytes]:
    """All events of a complete stream, plus an unfinished tail as the last item if there is one."""
    splitter = EventSplitter()
    return splitter.feed(data) + splitter.close()


# ---------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """One SSE event as it went over the wire, at its virtual time."""

    at: float
    data: bytes

    def to_record(self) -> dict[str, Any]:
        return {"at": self.at, **_event_body(self.data)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RecordedEvent:
        return cls(float(record["at"]), body_bytes(record))


def _event_body(data: bytes) -> dict[str, Any]:
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}


@dataclass(frozen=True, slots=True)
class TurnMarks:
    """Where the mock's turns stood around one exchange (recordings of the mock only).

    A turn waits only at numbered points (its start, each return from the virtual clock); the
    run counts every point any turn passes. `arrived`, `answered` and `ended` are that count when
    the request arrived, its answer started and it ended; `running` maps each turn running at
    arrival to the points it had passed; `passed` lists, from run-wide point `passed_from` on, the
    turn that passed each point since the previous exchange record was written.
    """

    running: dict[str, int]
    arrived: int
    answered: int | None
    ended: int
    passed_from: int
    passed: list[str]

    def to_record(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "arrived": self.arrived,
            "answered": self.answered,
            "ended": self.ended,
            "passed": {"from": self.passed_from, "turns": self.passed},
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> TurnMarks:
        passed = record.get("passed") or {}
        return cls(
            running={str(op): int(n) for op, n in (record.get("running") or {}).items()},
            arrived=int(record["arrived"]),
            answered=None if record.get("answered") is None else int(record["answered"]),
            ended=int(record["ended"]),
            passed_from=int(passed.get("from", 0)),
            passed=[str(op) for op in passed.get("turns", [])],
        )


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its response, as read back from a recording."""

    seq: int
    opened: int
    closed: int
    at: float
    responded_at: float | None
    ended: float
    method: str
    path: str
    query: str
    request_headers: list[tuple[str, str]]
    request_body: dict[str, Any]
    status: int | None  # None: the server never answered
    response_headers: list[tuple[str, str]]
    response_body: dict[str, Any] | None  # None for event streams
    events: list[RecordedEvent] | None  # only for event streams
    faults: list[dict[str, Any]] = field(default_factory=list)
    running: int | None = None  # turns running on the mock when the request arrived
    turns: TurnMarks | None = None  # where those turns stood (mock recordings)

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    def header(self, name: str, *, response: bool = True) -> str | None:
        name = name.lower()
        pairs = self.response_headers if response else self.request_headers
        return next((value for key, value in pairs if key.lower() == name), None)

    @property
    def streamed(self) -> bool:
        return self.events is not None

    def response_bytes(self) -> bytes:
        if self.events is not None:
            return b"".join(event.data for event in self.events)
        return body_bytes(self.response_body)

    def to_record(self) -> dict[str, Any]:
        response: dict[str, Any] = {
            "status": self.status,
            "headers": [list(p) for p in self.response_headers],
        }
        if self.events is not None:
            response["events"] = [event.to_record() for event in self.events]
        else:
            response["body"] = self.response_body
        return {
            "record": "exchange",
            "seq": self.seq,
            "opened": self.opened,
            "closed": self.closed,
            "at": self.at,
            "responded_at": self.responded_at,
            "ended": self.ended,
            "request": {
                "method": self.method,
                "path": self.path,
                "query": self.query,
                "headers": [list(p) for p in self.request_headers],
                "body": self.request_body,
            },
            "response": response,
            "faults": self.faults,
            **({} if self.running is None else {"running": self.running}),
            **({} if self.turns is None else {"turns": self.turns.to_record()}),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Exchange:
        request = record["request"]
        response = record["response"]
        events = response.get("events")
        return cls(
            seq=int(record["seq"]),
            opened=int(record.get("opened", 2 * int(record["seq"]))),
            closed=int(record.get("closed", 2 * int(record["seq"]) + 1)),
            at=float(record["at"]),
            responded_at=None if record.get("responded_at") is None else float(record["responded_at"]),
            ended=float(record.get("ended", record["at"])),
            method=str(request["method"]),
            path=str(request["path"]),
            query=str(request.get("query", "")),
            request_headers=[(str(k), str(v)) for k, v in request.get("headers", [])],
            request_body=request.get("body") or {"size": 0, "text": ""},
            status=None if response.get("status") is None else int(response["status"]),
            response_headers=[(str(k), str(v)) for k, v in response.get("headers", [])],
            response_body=None if events is not None else response.get("body"),
            events=None if events is None else [RecordedEvent.from_record(e) for e in events],
            faults=list(record.get("faults", [])),
            running=None if record.get("running") is None else int(record["running"]),
            turns=None if record.get("turns") is None else TurnMarks.from_record(record["turns"]),
        )


@dataclass(slots=True)
class Recording:
    """A whole recording: its header and its exchanges in the order they started."""

    header: dict[str, Any]
    exchanges: list[Exchange]
    complete: bool = False  # an `end` record was found
    name: str = "recording"

    @property
    def source(self) -> str:
        return str(self.header.get("source", "mock"))

    @property
    def time_scale(self) -> float:
        return float(self.header.get("clock", {}).get("time_scale", 0.0))

    @property
    def clock_start(self) -> float | None:
        start = self.header.get("clock", {}).get("start")
        return None if start is None else float(start)

    def schedule(self) -> list[str] | None:
        """The order in which the run's turns passed their points (`TurnMarks`), or None when the
        recording does not say (a proxy recording, or one made before turns were noted)."""
        marks = [exchange.turns for exchange in self.exchanges if exchange.turns is not None]
        if not marks:
            return None
        order: list[str] = []
        for mark in sorted(marks, key=lambda m: m.passed_from):
            start = mark.passed_from
            order[start : start + len(mark.passed)] = mark.passed
        return order

    def origins(self) -> list[str]:
        """Every `scheme://host:port` the recorded run was reached at, or its upstream."""
        found: list[str] = []
        upstream = self.header.get("upstream")
        if upstream:
            found.append(str(upstream).rstrip("/"))
        for exchange in self.exchanges:
            host = exchange.header("host", response=False)
            if host and f"http://{host}" not in found:
                found.append(f"http://{host}")
        return found


def header_record(**fields: Any) -> dict[str, Any]:
    return {"record": "header", "format": FORMAT, "version": VERSION, **fields}


def dumps(record: dict[str, Any]) -> str:
    """One line of the file (compact, non-ASCII kept, no trailing newline)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def read_records(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) of each line; a torn last line (a crash mid-write) is skipped.

    Only a line after a record can be torn: a file whose first line is no JSON is no recording.
    """
    name = Path(path).name
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    seen = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            if not seen:
                raise RecordingError(
                    f"{name}:{number}: not a {FORMAT} file (this line is not JSON)"
                ) from None
            if number == len(lines):
                return
            raise RecordingError(f"{name}:{number}: not JSON ({exc})") from None
        if not isinstance(record, dict):
            what = (
                "a record is a JSON object" if seen else f"not a {FORMAT} file (this line is no JSON object)"
            )
            raise RecordingError(f"{name}:{number}: {what}")
        seen = True
        yield number, record


def load_recording(path: str | Path) -> Recording:
    """Read a recording; `RecordingError` says what is wrong with a file that is not one."""
    name = Path(path).name
    header: dict[str, Any] | None = None
    exchanges: list[Exchange] = []
    complete = False
    try:
        records = list(read_records(path))
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise RecordingError(f"{name}: not a UTF-8 text file") from None
    for number, record in records:
        kind = record.get("record")
        if header is None:
            if kind != "header" or record.get("format") != FORMAT:
                raise RecordingError(f"{name}:{number}: not a {FORMAT} file (no header line)")
            if record.get("version") != VERSION:
                raise RecordingError(f"{name}: format version {record.get('version')} (this reads {VERSION})")
            header = record
        elif kind == "exchange":
            try:
                exchanges.append(Exchange.from_record(record))
            except (KeyError, TypeError, ValueError) as exc:
                raise RecordingError(f"{name}:{number}: malformed exchange ({exc!r})") from None
        elif kind == "end":
            complete = True
    if header is None:
        raise RecordingError(f"{name}: empty file, no recording header")
    exchanges.sort(key=lambda exchange: exchange.seq)
    return Recording(header, exchanges, complete, name)
