"""Recording a run: every exchange, written as a JSON line when its response ends.

`RecordingTap` is an ASGI middleware added in front of the mock (or of the recording proxy) only
when recording, so a mock that does not record does no extra work per request. It keeps the
request body (read ahead up to the body limit, so that a body the handler never reads, as with a
`respond` fault, is still recorded), the status, headers and body of the response, and the fault
rules that fired.

SSE events get their virtual times from the moment the mock emits them: `Backend.stream_tap`
wraps the encoder of each turn started inside a recorded request (found through a context
variable). Sending lags emitting at time scale 0, where the clock jumps ahead as soon as the
turn sleeps, so send times would be one heartbeat late. Bytes that no emission accounts for (a
proxied stream) are cut into events at blank lines and timed when their chunk was sent.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import IO, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.backend import Backend
from mockserver.events import StreamEvent
from mockserver.faults import FaultRule, Faults, Fired
from mockserver.masking import Masker
from mockserver.recording.header import mock_header
from mockserver.recording.model import (
    DEFAULT_BODY_LIMIT,
    ELIDED_EDGE,
    EVENT_STREAM,
    EventSplitter,
    Exchange,
    RecordedEvent,
    TurnMarks,
    body_record,
    dumps,
    elided_record,
    is_textual,
)
from mockserver.recording.turns import TurnNotes
from mockserver.scenarios import Scenario

Encode = Callable[[StreamEvent], bytes]
Clock = Callable[[], float]

_current: ContextVar[Capture | None] = ContextVar("nemo_recording_capture", default=None)


def current_capture() -> Capture | None:
    """The exchange being recorded in this request's context, if any."""
    return _current.get()


class BodyBuffer:
    """A body as it streams by: kept whole up to `limit`, else its edges, size and SHA-256."""

    __slots__ = ("data", "digest", "limit", "size", "tail")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.data = bytearray()
        self.tail: bytearray | None = None  # set once the body is over the limit
        self.digest: Any = None

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.size += len(chunk)
        if self.tail is None:
            self.data += chunk
            if len(self.data) > self.limit:
                self.digest = hashlib.sha256(self.data)
                self.tail = self.data[-ELIDED_EDGE:]
                del self.data[ELIDED_EDGE:]
            return
        self.digest.update(chunk)
        self.tail += chunk
        if len(self.tail) > ELIDED_EDGE:
            del self.tail[:-ELIDED_EDGE]

    def record(self, content_type: str | None, masker: Masker) -> dict[str, Any]:
        if self.tail is not None:
            return elided_record(self.size, self.digest.hexdigest(), bytes(self.data), bytes(self.tail))
        data = bytes(self.data)
        if data and is_textual(content_type):
            with contextlib.suppress(UnicodeDecodeError):
                data = masker.mask(data.decode("utf-8")).encode("utf-8")
        return body_record(data, content_type, limit=max(self.limit, len(data)))

    def text(self) -> str | None:
        if self.tail is not None:
            return None
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            return None


class Capture:
    """One exchange while it happens."""

    __slots__ = (
        "at",
        "chunks",
        "emitted",
        "faults",
        "method",
        "opened",
        "path",
        "query",
        "request_body",
        "request_headers",
        "responded_at",
        "response_body",
        "response_headers",
        "running",
        "seq",
        "status",
        "steps_answered",
        "steps_arrived",
        "streaming",
        "turns_running",
    )

    def __init__(
        self, seq: int, opened: int, at: float, scope: Scope, limit: int, running: int | None
    ) -> None:
        self.seq = seq
        self.opened = opened
        self.at = at
        self.running = running
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query = scope.get("query_string", b"").decode("latin-1")
        self.request_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        self.request_body = BodyBuffer(limit)
        self.status: int | None = None
        self.response_headers: list[tuple[str, str]] = []
        self.responded_at: float | None = None
        self.response_body = BodyBuffer(limit)
        self.streaming = False
        self.chunks: list[tuple[float, bytes]] = []  # streams only: what was sent, and when
        self.emitted: list[tuple[float, bytes]] = []  # streams only: what the mock emitted, and when
        self.faults: list[dict[str, Any]] = []
        # Where the mock's turns stood (`TurnNotes`), when the recording notes them.
        self.turns_running: dict[str, int] | None = None
        self.steps_arrived = 0
        self.steps_answered: int | None = None

    def respond(self, message: Message, at: float) -> None:
        self.status = int(message["status"])
        self.response_headers = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])
        ]
        self.responded_at = at
        content_type = self.content_type(self.response_headers) or ""
        self.streaming = content_type.split(";")[0].strip().lower() == EVENT_STREAM

    def body(self, chunk: bytes, at: float) -> None:
        if not chunk:
            return
        if self.streaming:
            self.chunks.append((at, chunk))
        else:
            self.response_body.feed(chunk)

    def note_fault(self, fired: Fired) -> None:
        self.faults.append(fired.note())

    @staticmethod
    def content_type(headers: list[tuple[str, str]]) -> str | None:
        return next((value for key, value in headers if key.lower() == "content-type"), None)

    def events(self, ended: float) -> list[tuple[float, bytes]]:
        """The events the client got: emitted ones with their times, the rest split by blank lines."""
        delivered = b"".join(chunk for _, chunk in self.chunks)
        events: list[tuple[float, bytes]] = []
        pos = 0
        for at, data in self.emitted:
            if not data or not delivered.startswith(data, pos):
                break
            events.append((at, data))
            pos += len(data)
        if pos == len(delivered):
            return events
        splitter = EventSplitter()
        offset = 0
        last = ended
        for at, chunk in self.chunks:
            start, offset = offset, offset + len(chunk)
            if offset <= pos:
                continue
            events += [(at, event) for event in splitter.feed(chunk[max(0, pos - start) :])]
            last = at
        events += [(last, event) for event in splitter.close()]
        return events


class Recorder:
    """Writes the header at once, then one line per finished exchange, flushed as it goes."""

    def __init__(
        self,
        out: IO[str],
        header: dict[str, Any],
        *,
        clock: Clock,
        running: Callable[[], int] | None = None,
        owns: bool = False,
        turns: TurnNotes | None = None,
    ) -> None:
        self.out = out
        self.header = header
        self.clock = clock
        self.running = running
        self.turns = turns
        self.body_limit = int(header.get("body_limit", DEFAULT_BODY_LIMIT))
        self.masker = Masker()
        self._owns = owns
        self._seq = 0
        self._tick = 0
        self.exchanges = 0
        self.closed = False
        self._lock = threading.Lock()
        self._write(header)

    @classmethod
    def open(
        cls,
        path: str | Path,
        header: dict[str, Any],
        *,
        clock: Clock,
        running: Callable[[], int] | None = None,
        turns: TurnNotes | None = None,
    ) -> Recorder:
        out = Path(path).open("w", encoding="utf-8")  # noqa: SIM115 (the recorder owns and closes it)
        return cls(out, header, clock=clock, running=running, owns=True, turns=turns)

    @classmethod
    def for_mock(
        cls,
        path: str | Path,
        backend: Backend,
        scenario: Scenario | None = None,
        *,
        body_limit: int = DEFAULT_BODY_LIMIT,
    ) -> Recorder:
        """A recording of `backend`'s run, on its virtual clock; `attach` it before starting."""
        header = mock_header(backend, scenario, body_limit=body_limit)
        return cls.open(
            path,
            header,
            clock=backend.clock.now,
            running=lambda: len(backend.operations),
            turns=TurnNotes(backend),
        )

    def _write(self, record: dict[str, Any]) -> None:
        with self._lock:
            self.out.write(dumps(record) + "\n")
            self.out.flush()

    def begin(self, scope: Scope) -> Capture:
        self._seq += 1
        self._tick += 1
        running = None if self.running is None else self.running()
        capture = Capture(self._seq, self._tick, self.clock(), scope, self.body_limit, running)
        if self.turns is not None:
            capture.turns_running = self.turns.running()
            capture.steps_arrived = self.turns.passed
        return capture

    def answered(self, capture: Capture) -> None:
        """The answer starts: note how far the turns had got (their steps may shape it)."""
        if self.turns is not None:
            capture.steps_answered = self.turns.passed

    def tap_stream(self, encode: Encode) -> Encode:
        """`Backend.stream_tap`: note each event of a turn started in a recorded request."""
        capture = _current.get()
        if capture is None:
            return encode
        clock = self.clock
        emitted = capture.emitted

        def tapped(event: StreamEvent) -> bytes:
            data = encode(event)
            emitted.append((clock(), data))
            return data

        return tapped

    def finish(self, capture: Capture) -> Exchange:
        """Mask the exchange's secrets and write it."""
        ended = self.clock()
        self._tick += 1
        masker = self.masker
        masker.learn_headers(capture.request_headers)
        masker.learn_query(capture.query)
        masker.learn_headers(capture.response_headers)
        for buffer in (capture.request_body, capture.response_body):
            text = buffer.text()
            if text:
                masker.learn_json(text)
        request_type = Capture.content_type(capture.request_headers)
        response_type = Capture.content_type(capture.response_headers)
        events = None
        if capture.streaming:
            events = [RecordedEvent(at, _mask_bytes(masker, data)) for at, data in capture.events(ended)]
        exchange = Exchange(
            seq=capture.seq,
            opened=capture.opened,
            closed=self._tick,
            at=capture.at,
            responded_at=capture.responded_at,
            ended=ended,
            method=capture.method,
            path=capture.path,
            query=masker.mask_query(capture.query),
            request_headers=masker.mask_headers(capture.request_headers),
            request_body=capture.request_body.record(request_type, masker),
            status=capture.status,
            response_headers=masker.mask_headers(capture.response_headers),
            response_body=None if capture.streaming else capture.response_body.record(response_type, masker),
            events=events,
            faults=capture.faults,
            running=capture.running,
            turns=self._turn_marks(capture),
        )
        if not self.closed:
            self._write(exchange.to_record())
            self.exchanges += 1
        return exchange

    def _turn_marks(self, capture: Capture) -> TurnMarks | None:
        if self.turns is None or capture.turns_running is None:
            return None
        start, passed = self.turns.take()
        return TurnMarks(
            running=capture.turns_running,
            arrived=capture.steps_arrived,
            answered=capture.steps_answered,
            ended=self.turns.passed,
            passed_from=start,
            passed=passed,
        )

    def close(self) -> None:
        """Write the `end` record (a recording without one was cut short) and close the file."""
        if self.closed:
            return
        self._write({"record": "end", "exchanges": self.exchanges, "at": self.clock()})
        self.closed = True
        if self._owns:
            self.out.close()


def _mask_bytes(masker: Masker, data: bytes) -> bytes:
    try:
        return masker.mask(data.decode("utf-8")).encode("utf-8")
    except UnicodeDecodeError:
        return data


class RecordingTap:
    """ASGI middleware that records every HTTP exchange passing through it."""

    def __init__(self, app: ASGIApp, recorder: Recorder) -> None:
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        recorder = self.recorder
        clock = recorder.clock
        capture = recorder.begin(scope)
        receive = await _read_ahead(receive, capture)

        async def send_noted(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                capture.respond(message, clock())
                recorder.answered(capture)
            elif kind == "http.response.body":
                capture.body(message.get("body", b""), clock())
            elif kind == "http.response.pathsend":  # a file sent by path: read it for the record
                capture.body(Path(message["path"]).read_bytes(), clock())
            await send(message)

        token = _current.set(capture)
        try:
            await self.app(scope, receive, send_noted)
        finally:
            _current.reset(token)
            recorder.finish(capture)


async def _read_ahead(receive: Receive, capture: Capture) -> Receive:
    """Read the request body up to the limit now, and hand it on unchanged afterwards."""
    buffered: list[Message] = []
    body = capture.request_body
    while True:
        message = await receive()
        buffered.append(message)
        if message["type"] != "http.request":
            break
        body.feed(message.get("body", b""))
        if not message.get("more_body", False) or body.size > body.limit:
            break

    async def receive_rest() -> Message:
        if buffered:
            return buffered.pop(0)
        message = await receive()
        if message["type"] == "http.request":
            body.feed(message.get("body", b""))
        return message

    return receive_rest


class NotedFaults(Faults):
    """The backend's fault rules, noting on the recorded exchange each rule that fires."""

    __slots__ = ()

    def _fired(self, rule: FaultRule, action: Any) -> Fired:
        fired = super()._fired(rule, action)
        capture = _current.get()
        if capture is not None:
            capture.note_fault(fired)
        return fired


def attach(app: Any, backend: Backend, recorder: Recorder) -> None:
    """Record everything `app` (a Starlette app over `backend`, not yet started) serves.

    Attach before arming any fault rule (a scenario's included), so that every rule is noted.
    """
    if backend.faults.rules:
        raise ValueError("attach the recorder before arming fault rules")
    noted = NotedFaults(backend.faults.seed)
    noted.clock_start = backend.faults.clock_start
    backend.faults = noted
    backend.stream_tap = recorder.tap_stream
    if recorder.turns is not None:
        backend.turn_gate = recorder.turns.gate
    app.add_middleware(RecordingTap, recorder=recorder)
