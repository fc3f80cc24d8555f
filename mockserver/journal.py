"""The requests the mock has seen, oldest first, with secrets masked (INTERFACE.md `GET /_mock/journal`).

Each entry: method, path, query, headers, status, business code, virtual time, client address,
the session it concerned (when the handler knew one), and the first `BODY_LIMIT` bytes of the
request and response bodies. A stream (`/run_sse`) is entered when its answer starts, marked
open, and completed when it ends: its status stays, its `ended` time and body are filled in.

A ring bounded twice: at most `limit` entries and at most `max_bytes` bytes of what they keep
(path, query, headers, bodies, plus a fixed allowance per entry). The oldest entries leave
first. A path, query or header value longer than `VALUE_LIMIT` bytes is kept cut to that size,
ending in `CUT_MARK`, and such an entry keeps its first `MAX_HEADERS` headers, so one request with
a 1 MB header costs the journal about 1 kB. A body longer than `BODY_LIMIT` is kept cut the same
way; a multipart upload is kept as a one-line description, never its files.

Recording is on every request's path, so it is kept cheap, and cheap here mostly means keeping
few objects alive: an entry holds one tuple, its headers joined into one bytes object, its time,
and the bodies' bytes as the request and the answer already had them. (Keeping each request's
header tuples alive cost more than all the work of recording: bench/README.md.) Masking happens
when the journal is read (`mockserver.masking`, the policy shared with the log and recordings).

Listeners (`subscribe`) hear of each entry as it is appended, and of a stream again when it
ends: the web console's live feed. With nobody listening the append path pays one falsy check.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any, NamedTuple

from mockserver.masking import Masker, mask_header, mask_query, mask_text

#: A path, query or header value is kept up to this many bytes; longer ones are cut.
VALUE_LIMIT = 1024
#: A request or response body is kept up to this many bytes; longer ones are cut.
BODY_LIMIT = 4096
#: Appended to a value that was cut.
CUT_MARK = b"...[cut]"
#: A cut entry keeps at most this many headers.
MAX_HEADERS = 64
#: Entries whose path, query and headers sum to more than this are checked and cut.
ENTRY_LIMIT = 8 * 1024
#: What an entry costs beyond its strings (the tuple, numbers, the deque slot): an estimate.
ENTRY_OVERHEAD = 256
DEFAULT_LIMIT = 10_000
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
#: Distinct paths kept as one shared string each (the routes' paths, mostly); beyond, not shared.
SHARED_PATHS = 4096
#: Recorded requests wait in a batch of at most this many before they are kept (`Journal.record`).
BATCH = 64
#: Joins a header name to its value and one header to the next (neither can hold CR LF).
_SEP = b"\r\n"
_METHODS = {m: m for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")}


def mask_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key_b, value_b in raw:
        key = key_b.decode("latin-1").lower()
        out[key] = mask_header(key, value_b.decode("latin-1"))
    return out


def _cut(value: bytes, limit: int = VALUE_LIMIT) -> bytes:
    return value if len(value) <= limit else value[:limit] + CUT_MARK


def _cut_str(value: str) -> str:
    return value if len(value) <= VALUE_LIMIT else value[:VALUE_LIMIT] + CUT_MARK.decode()


def split_headers(joined: bytes) -> tuple[tuple[bytes, bytes], ...]:
    """The `(name, value)` pairs an entry's joined headers came from."""
    if not joined:
        return ()
    parts = joined.split(_SEP)
    return tuple(zip(parts[::2], parts[1::2], strict=True))


def body_view(kept: bytes | str | None, masker: Masker) -> tuple[Any, bool]:
    """A kept body as the journal shows it, and whether it was cut.

    JSON that was kept whole comes back parsed (secrets masked), anything else as text (masked).
    A description (a multipart upload) is text already.
    """
    if kept is None:
        return None, False
    if isinstance(kept, str):
        return mask_text(kept), False
    cut = kept.endswith(CUT_MARK)
    text = kept.decode("utf-8", "replace")
    masker.learn_json(text)
    text = masker.mask(text)
    if not cut and text.lstrip().startswith(("{", "[")):
        try:  # as strict as the API: no NaN or Infinity (the journal's own answer is JSON)
            return json.loads(text, parse_constant=_not_json, parse_float=_finite), False
        except (ValueError, RecursionError):
            pass
    return text, cut


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text[:20]} is out of range")
    return number


class JournalEntry(NamedTuple):
    """One finished request: an immutable tuple holding few objects (see the module docstring)."""

    method: str
    path: str
    query: bytes
    status: int
    code: int | None
    headers: bytes  # CR LF-joined name, value, name, value... (`split_headers`)
    at: float
    client: str | None
    session: str | None = None
    request_body: bytes | str | None = None
    response_body: bytes | None = None

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return split_headers(self.headers)

    @property
    def stream(self) -> bool:
        return False

    @property
    def ended(self) -> float | None:
        return self.at

    @property
    def size(self) -> int:
        return _size(self)

    def as_dict(self) -> dict[str, Any]:
        return _as_dict(self)


class StreamEntry:
    """A stream: entered open when its answer starts, completed (`Journal.complete`) when it ends."""

    __slots__ = (*JournalEntry._fields, "ended", "kept")
    stream = True
    method: str
    path: str
    query: bytes
    status: int
    code: int | None
    headers: bytes
    at: float
    client: str | None
    session: str | None
    request_body: bytes | str | None
    response_body: bytes | None

    def __init__(self, *fields: Any) -> None:
        for name, value in zip(JournalEntry._fields, (*fields, None), strict=True):
            setattr(self, name, value)
        self.ended: float | None = None
        #: Still in the ring (its bytes counted there); cleared when it leaves.
        self.kept = True

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return split_headers(self.headers)

    @property
    def size(self) -> int:
        return _size(self)

    def as_dict(self) -> dict[str, Any]:
        return _as_dict(self)


Entry = JournalEntry | StreamEntry


def _size(entry: Any) -> int:
    size = ENTRY_OVERHEAD + len(entry.path) + len(entry.query) + len(entry.headers)
    if entry.request_body is not None:
        size += len(entry.request_body)
    if entry.response_body is not None:
        size += len(entry.response_body)
    return size


def _as_dict(entry: Any) -> dict[str, Any]:
    raw = split_headers(entry.headers)
    masker = Masker()
    masker.learn_headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)
    request_body, request_cut = body_view(entry.request_body, masker)
    response_body, response_cut = body_view(entry.response_body, masker)
    out: dict[str, Any] = {
        "method": entry.method,
        "path": mask_text(entry.path),
        "query": mask_query(entry.query.decode("latin-1")),
        "status": entry.status,
        "code": entry.code,
        "headers": mask_headers(raw),
        "time": entry.at,
        "client": entry.client,
        "session": entry.session,
        "request_body": request_body,
        "response_body": response_body,
        "stream": entry.stream,
        "open": entry.stream and entry.ended is None,
        "ended": entry.ended,
    }
    if request_cut:
        out["request_body_cut"] = True
    if response_cut:
        out["response_body_cut"] = True
    return out


#: Told of each entry as it is appended (and of a stream again when it ends), on the request's
#: path: it must be quick and must not raise.
Listener = Callable[[Entry], None]


class Journal:
    __slots__ = ("_bytes", "_entries", "_paths", "_pending", "limit", "listeners", "max_bytes")

    def __init__(self, limit: int = DEFAULT_LIMIT, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if limit < 1 or max_bytes < 1:
            raise ValueError("the journal keeps at least one entry and one byte")
        self._entries: deque[Entry] = deque()
        #: Recorded requests not yet kept (`record`, `flush`): the fields as the middleware gave them.
        self._pending: list[tuple[Any, ...]] = []
        self._paths: dict[str, str] = {}
        self.limit = limit
        self.max_bytes = max_bytes
        self._bytes = 0
        #: Who hears of new entries (`subscribe`); a tuple, so that the append path only tests it.
        self.listeners: tuple[Listener, ...] = ()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(entry)` for each entry appended from now on; returns the unsubscribe."""
        self.flush()  # the new listener hears of what comes next, not of what waited
        self.listeners = (*self.listeners, listener)
        return lambda: self.unsubscribe(listener)

    def unsubscribe(self, listener: Listener) -> None:
        """Stop calling `listener` (no error if it was not listening).

        Compared by equality, not identity: each `obj.method` is a new bound-method object."""
        self.listeners = tuple(known for known in self.listeners if known != listener)

    def _keep(self, raw: tuple[Any, ...]) -> JournalEntry:
        """What an entry keeps of a recorded request: shared strings, headers joined, bounded."""
        method, path, query, status, code, headers, at, client, session, request_body, response_body = raw
        method = _METHODS.get(method, method)
        shared = self._paths.get(path)
        if shared is not None:
            path = shared
        elif len(self._paths) < SHARED_PATHS and len(path) <= VALUE_LIMIT:
            self._paths[path] = path
        joined = _SEP.join(chain.from_iterable(headers))
        if len(joined) + len(path) + len(query) > ENTRY_LIMIT:  # rare: only then is anything cut
            path, query = _cut_str(path), _cut(query)
            cut = [(_cut(key), _cut(value)) for key, value in split_headers(joined)[:MAX_HEADERS]]
            joined = _SEP.join(chain.from_iterable(cut))
        return JournalEntry(
            method, path, query, status, code, joined, at, client, session, request_body, response_body
        )

    def record(
        self,
        method: str,
        path: str,
        query: bytes,
        status: int,
        code: int | None,
        headers: Iterable[tuple[bytes, bytes]],
        at: float,
        client: str | None,
        session: str | None = None,
        request_body: bytes | str | None = None,
        response_body: bytes | None = None,
    ) -> None:
        """Append one finished request, cut where oversized; the oldest leave beyond the bounds.

        The request waits in a short batch (`BATCH`) and is kept with the others of its batch
        when the batch is full or the journal is read: the work of keeping it is done in a
        tight loop instead of on each request's path. Its bodies are cut here already, so a
        batch never holds more than `BATCH` times a cut entry."""
        if request_body is not None and len(request_body) > BODY_LIMIT:
            request_body = (
                _cut(request_body, BODY_LIMIT)
                if isinstance(request_body, bytes)
                else request_body[:BODY_LIMIT]
            )
        if response_body is not None and len(response_body) > BODY_LIMIT:
            response_body = _cut(response_body, BODY_LIMIT)
        pending = self._pending
        pending.append(
            (method, path, query, status, code, headers, at, client, session, request_body, response_body)
        )
        if len(pending) >= BATCH or self.listeners:
            self.flush()

    def flush(self) -> None:
        """Keep every recorded request still waiting in the batch (reading the journal does this)."""
        pending = self._pending
        if not pending:
            return
        self._pending = []
        kept = [self._keep(raw) for raw in pending]
        entries = self._entries
        entries.extend(kept)
        self._bytes += sum(map(_size, kept))
        self._trim()
        if self.listeners:
            for entry in kept:
                for listener in self.listeners:
                    listener(entry)

    def open_stream(
        self,
        method: str,
        path: str,
        query: bytes,
        status: int,
        code: int | None,
        headers: Iterable[tuple[bytes, bytes]],
        at: float,
        client: str | None,
        session: str | None = None,
        request_body: bytes | str | None = None,
    ) -> StreamEntry:
        """Enter a stream whose answer just started; `complete` it when it ends."""
        self.flush()
        if request_body is not None and len(request_body) > BODY_LIMIT:
            request_body = (
                _cut(request_body, BODY_LIMIT)
                if isinstance(request_body, bytes)
                else request_body[:BODY_LIMIT]
            )
        kept = self._keep(
            (method, path, query, status, code, headers, at, client, session, request_body, None)
        )
        entry = StreamEntry(*kept[:-1])
        self._append(entry)
        return entry

    def complete(
        self, entry: StreamEntry, code: int | None, response_body: bytes | None, ended: float
    ) -> None:
        """A stream ended: its code, the first `BODY_LIMIT` bytes it sent, when it ended."""
        if entry.ended is not None:
            return
        self.flush()
        if response_body is not None and len(response_body) > BODY_LIMIT:
            response_body = _cut(response_body, BODY_LIMIT)
        before = entry.size
        entry.code = code
        entry.response_body = response_body
        entry.ended = ended
        if entry.kept:
            self._bytes += entry.size - before
            self._trim()
        if self.listeners:
            for listener in self.listeners:
                listener(entry)

    def _append(self, entry: Entry) -> None:
        self._entries.append(entry)
        self._bytes += _size(entry)
        self._trim()
        if self.listeners:
            for listener in self.listeners:
                listener(entry)

    def _trim(self) -> None:
        entries = self._entries
        while self._bytes > self.max_bytes or len(entries) > self.limit:
            gone = entries.popleft()
            self._bytes -= _size(gone)
            if type(gone) is StreamEntry:
                gone.kept = False

    def clear(self) -> None:
        self._pending = []
        for entry in self._entries:
            if type(entry) is StreamEntry:
                entry.kept = False
        self._entries.clear()
        self._paths.clear()
        self._bytes = 0

    def entries(self) -> list[dict[str, Any]]:
        self.flush()
        return [entry.as_dict() for entry in self._entries]

    def __len__(self) -> int:
        self.flush()
        return len(self._entries)

    @property
    def bytes(self) -> int:  # last in the class: the name would hide the type for annotations
        """Bytes the kept entries account for (see the module docstring)."""
        self.flush()
        return self._bytes
