"""The requests the mock has seen, oldest first, with secrets masked (INTERFACE.md `GET /_mock/journal`).

Each entry: method, path, query, headers, status, business code, virtual time, client address,
the session it concerned (when the handler knew one), and the first `BODY_LIMIT` bytes of the
request and response bodies. A stream (`/run_sse`) is entered when its answer starts, marked
open, and completed when it ends: its status stays, its `ended` time and body are filled in.

A ring bounded twice: at most `limit` entries and at most `max_bytes` bytes of what they keep
(an entry's packed size, below, plus a fixed allowance per entry; a stream, kept unpacked, counts
its path, query, headers and bodies). The oldest entries leave first. In an entry over
`PACKED_LIMIT` (`ENTRY_LIMIT` of line and headers, room for two cut bodies), a path, query or
header value longer than `VALUE_LIMIT` bytes is kept cut to that size, ending in `CUT_MARK`, and
the entry keeps its first `MAX_HEADERS` headers, so one request with a 1 MB header costs the
journal about 1 kB. A body longer than `BODY_LIMIT` is kept cut the same way; a multipart upload
is kept as a one-line description, never its files.

Recording is on every request's path, and what it costs there is mostly not the work but the
objects it keeps alive: ten thousand requests' headers, strings and numbers, each freed again when
the ring moves on, showed in the request rate more than the recording itself (bench/README.md).
So the middleware hands over the request's scope (`note`); requests wait in a batch of `BATCH`;
then each is packed with `marshal` (its line, headers, time, client and the state in which its
handler noted status, code, session and bodies) and the batch is joined into one bytes object,
its entries' packed sizes into one array. Reading unpacks, and only then reads what was noted.
Masking happens when the journal is read (`mockserver.masking`, the policy shared with the log
and recordings).

Listeners (`subscribe`) hear of each entry as it is kept, and of a stream again when it ends
(run-time scenario steps); while one listens, each request is kept at once. A reader that can
wait (the web console's live feed) instead takes what is new from a mark (`latest`, `serial`)
and hears only of streams that end (`watch_streams`), so the request path stays as it is.
"""

from __future__ import annotations

import json
import marshal
from array import array
from collections import deque
from collections.abc import Callable, Iterable, MutableMapping
from itertools import chain, repeat
from typing import Any, NamedTuple

from mockserver import strictjson
from mockserver.masking import Masker, mask_header, mask_query, mask_text

#: A path, query or header value is kept up to this many bytes; longer ones are cut.
VALUE_LIMIT = 1024
#: A request or response body is kept up to this many bytes; longer ones are cut.
BODY_LIMIT = 4096
#: Appended to a value that was cut.
CUT_MARK = b"...[cut]"
#: A cut entry keeps at most this many headers.
MAX_HEADERS = 64
#: Bytes of path, query and headers an entry keeps before it is cut (see `PACKED_LIMIT`).
ENTRY_LIMIT = 8 * 1024
#: What an entry costs beyond its strings (the tuple, numbers, the deque slot): an estimate.
ENTRY_OVERHEAD = 256
DEFAULT_LIMIT = 10_000
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
#: Recorded requests wait in a batch of at most this many before they are kept (`Journal.record`).
BATCH = 64
#: The marshal format entries are packed in (2: no back-references, the quickest to write).
PACKING = 2
#: An entry packing to more than this has its line and headers cut (`ENTRY_LIMIT`), leaving room
#: for two cut bodies and the packing's own framing.
PACKED_LIMIT = ENTRY_LIMIT + 2 * (BODY_LIMIT + len(CUT_MARK)) + 1024


def mask_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key_b, value_b in raw:
        key = key_b.decode("latin-1").lower()
        out[key] = mask_header(key, value_b.decode("latin-1"))
    return out


def _cut(value: bytes, limit: int = VALUE_LIMIT) -> bytes:
    return value if len(value) <= limit else value[:limit] + CUT_MARK


def bounded(body: bytes | str) -> bytes | str:
    """A body as the journal keeps it: its first `BODY_LIMIT` bytes, cut marked."""
    if len(body) <= BODY_LIMIT:
        return body
    return _cut(body, BODY_LIMIT) if isinstance(body, bytes) else body[:BODY_LIMIT]


def _cut_str(value: str) -> str:
    return value if len(value) <= VALUE_LIMIT else value[:VALUE_LIMIT] + CUT_MARK.decode()


def body_view(kept: bytes | str | None, masker: Masker) -> tuple[Any, bool]:
    """A kept body as the journal shows it, and whether it was cut.

    JSON that was kept whole comes back parsed (secrets masked), anything else as text (masked).
    A description (a multipart upload) is text already.
    """
    if kept is None:
        return None, False
    if isinstance(kept, str):  # a lone surrogate (from a file name, say) could not go out as UTF-8
        return mask_text(kept.encode("utf-8", "replace").decode("utf-8")), False
    cut = kept.endswith(CUT_MARK)
    text = kept.decode("utf-8", "replace")
    masker.learn_json(text)
    text = masker.mask(text)
    if not cut and text.lstrip().startswith(("{", "[")):
        try:  # as strict as the API: no NaN or Infinity (the journal's own answer is JSON)
            value = strictjson.loads(text)
        except (ValueError, RecursionError):
            return text, cut
        if strictjson.SURROGATE_ESCAPE.search(text) is None or _utf8_safe(value):
            return value, False
        # An escaped lone surrogate (`"\ud800"`, refused by the API as well): shown as the text it
        # came as, since the parsed string could not go out as UTF-8.
    return text, cut


def _utf8_safe(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class JournalEntry(NamedTuple):
    """One finished request, as the journal gives it to listeners and readers."""

    method: str
    path: str
    query: bytes
    status: int
    code: int | None
    headers: tuple[tuple[bytes, bytes], ...]
    at: float
    client: str | None
    session: str | None = None
    request_body: bytes | str | None = None
    response_body: bytes | None = None

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return tuple(map(tuple, self.headers))  # type: ignore[arg-type]

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

    __slots__ = (*JournalEntry._fields, "ended", "kept", "size")
    stream = True
    method: str
    path: str
    query: bytes
    status: int
    code: int | None
    headers: tuple[tuple[bytes, bytes], ...]
    at: float
    client: str | None
    session: str | None
    request_body: bytes | str | None
    response_body: bytes | None

    def __init__(self, *fields: Any) -> None:
        for name, value in zip(JournalEntry._fields, fields, strict=True):
            setattr(self, name, value)
        self.size = _size(self)
        self.ended: float | None = None
        #: Still in the ring (its bytes counted there); cleared when it leaves.
        self.kept = True

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return self.headers

    def as_dict(self) -> dict[str, Any]:
        return _as_dict(self)


Entry = JournalEntry | StreamEntry
#: An entry as packed: method, path, query, status (0: noted in the state), headers, time,
#: the client's (host, port), the request's state (what the handler noted).
Packed = tuple[str, str, bytes, int, Any, float, Any, Any]


def _size(entry: Any) -> int:
    return _fields_size(entry.path, entry.query, entry.headers, entry.request_body, entry.response_body)


def _fields_size(
    path: str,
    query: bytes,
    headers: Iterable[tuple[bytes, bytes]],
    asked: bytes | str | None,
    answered: bytes | None,
) -> int:
    size = ENTRY_OVERHEAD + len(path) + len(query) + sum(map(len, chain.from_iterable(headers)))
    if asked is not None:
        size += len(asked)
    if answered is not None:
        size += len(answered)
    return size


def _as_dict(entry: Any) -> dict[str, Any]:
    raw = entry.headers
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


def _cut_entry(
    path: str, query: bytes, headers: Iterable[tuple[bytes, bytes]]
) -> tuple[str, bytes, tuple[tuple[bytes, bytes], ...]]:
    """An oversized entry's line and headers, cut (see the module docstring)."""
    kept = tuple((_cut(key), _cut(value)) for key, value in list(headers)[:MAX_HEADERS])
    return _cut_str(path), _cut(query), kept


def _plain(value: Any) -> Any:
    """A field as marshal takes it (the handlers note plain values; this is the safety net)."""
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return str(value)


def _pack(fields: Packed) -> bytes:
    """One entry's fields as marshal bytes (a value marshal does not take is kept as its text)."""
    try:
        return marshal.dumps(fields, PACKING)
    except ValueError:
        return marshal.dumps(tuple(map(_plain, fields)), PACKING)


def _cut_packed(fields: Packed) -> Packed:
    """An oversized entry's fields with its line and headers cut (see the module docstring)."""
    method, path, query, status, headers, at, client, state = fields
    path, query, kept = _cut_entry(path, query, headers)
    return (method, path, query, status, kept, at, client, state)


def _unpacked(fields: Packed) -> JournalEntry:
    """An entry from its packed fields: what the handler noted is read from the request's state."""
    method, path, query, status, headers, at, client, state = fields
    if state:
        get = state.get
        code, session = get("nemo_code"), get("nemo_session")
        asked, answered = get("nemo_body"), get("nemo_reply")
        status = status or get("nemo_status") or 500
    else:
        code = session = asked = answered = None
        status = status or 500  # nothing noted: the app raised before answering
    return JournalEntry(
        method,
        path,
        query,
        status,
        code,
        tuple(map(tuple, headers)),
        at,
        client[0] if client else None,
        session,
        asked,
        answered,
    )


class Batch:
    """Entries kept together: each packed with `marshal`, joined into one bytes object, with their
    packed sizes; the first `skip` have left the ring."""

    __slots__ = ("blob", "count", "sizes", "skip")

    def __init__(self, parts: list[bytes]) -> None:
        self.blob = b"".join(parts)
        self.sizes = array("l", map(len, parts))
        self.count = len(parts)
        self.skip = 0

    def entries(self, newest: int | None = None) -> list[JournalEntry]:
        """The entries still in the ring, oldest first; only the `newest` ones when given."""
        first = self.skip if newest is None else max(self.skip, self.count - newest)
        view = memoryview(self.blob)
        offset = sum(self.sizes[:first])
        out = []
        for size in self.sizes[first:]:
            out.append(_unpacked(marshal.loads(view[offset : offset + size])))
            offset += size
        return out


#: Told of each entry as it is kept (and of a stream again when it ends), on the request's path
#: (`watch_streams` listeners: only of streams that end):
#: it must be quick and must not raise.
Listener = Callable[[Entry], None]


class Journal:
    __slots__ = (
        "_bytes",
        "_count",
        "_ring",
        "limit",
        "listeners",
        "max_bytes",
        "pending",
        "serial",
        "stream_listeners",
    )

    def __init__(self, limit: int = DEFAULT_LIMIT, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if limit < 1 or max_bytes < 1:
            raise ValueError("the journal keeps at least one entry and one byte")
        self._ring: deque[Batch | StreamEntry] = deque()
        #: Requests not yet kept (`note`, `record`, `flush`). The same list for the journal's
        #: life: the middleware appends to it directly (see `RequestChores`).
        self.pending: list[tuple[Any, ...]] = []
        self._count = 0
        self._bytes = 0
        self.limit = limit
        self.max_bytes = max_bytes
        #: Who hears of new entries (`subscribe`); a tuple, so that the append path only tests it.
        self.listeners: tuple[Listener, ...] = ()
        #: Who hears only of streams that end (`watch_streams`): readers that take the rest with `latest`.
        self.stream_listeners: tuple[Listener, ...] = ()
        #: How many entries were ever kept (a clear does not reset it): a reader's mark for `latest`.
        self.serial = 0

    def watch_streams(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(entry)` for each stream that ends from now on; returns the unsubscribe.

        Unlike `subscribe`, this leaves the request path as it is (requests are still kept in
        batches): for a reader that takes new entries with `latest` when it likes (the live feed)."""
        self.stream_listeners = (*self.stream_listeners, listener)

        def stop() -> None:
            self.stream_listeners = tuple(known for known in self.stream_listeners if known != listener)

        return stop

    def latest(self, since: int, limit: int) -> tuple[int, int, list[Entry]]:
        """The entries kept after the mark `since` (a `serial` read earlier): the new mark, how many
        of them are not given, and the newest `limit` of them still in the ring, oldest first."""
        self.flush()
        new = self.serial - since
        want = min(new, limit, self._count)
        newest: list[Entry] = []
        for item in reversed(self._ring):
            if len(newest) >= want:
                break
            if isinstance(item, StreamEntry):
                newest.append(item)
            else:
                newest.extend(reversed(item.entries(newest=want - len(newest))))
        newest.reverse()
        return self.serial, max(0, new - len(newest)), newest

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(entry)` for each entry kept from now on; returns the unsubscribe."""
        self.flush()  # the new listener hears of what comes next, not of what waited
        self.listeners = (*self.listeners, listener)
        return lambda: self.unsubscribe(listener)

    def unsubscribe(self, listener: Listener) -> None:
        """Stop calling `listener` (no error if it was not listening).

        Compared by equality, not identity: each `obj.method` is a new bound-method object."""
        self.listeners = tuple(known for known in self.listeners if known != listener)

    def note(self, scope: MutableMapping[str, Any], status: int, at: float) -> None:
        """A request ended (the middleware's call): its ASGI scope, its status (0: the handler
        noted it in the scope's state as `nemo_status`; none noted means the app raised: 500),
        when it began.

        The fields are packed from the scope, with the state in which the handler noted its
        answer (`nemo_code`, `nemo_session`, `nemo_body`, `nemo_reply`, bodies already cut), when
        the batch is kept: the request path pays one append."""
        pending = self.pending
        pending.append((scope, status, at))
        if len(pending) >= BATCH or self.listeners:
            self.flush()

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
        """A finished request given field by field (as `note` reads them from a scope)."""
        state: dict[str, Any] = {"nemo_code": code}
        if session is not None:
            state["nemo_session"] = session
        if request_body is not None:
            state["nemo_body"] = bounded(request_body)
        if response_body is not None:
            state["nemo_reply"] = _cut(response_body, BODY_LIMIT)
        scope = {
            "method": method,
            "path": path,
            "query_string": query,
            "headers": list(headers),
            "client": None if client is None else (client, 0),
            "state": state,
        }
        self.note(scope, status or 500, at)

    def flush(self) -> None:
        """Keep every request still waiting: one batch, packed (reading the journal does this)."""
        pending = self.pending
        if not pending:
            return
        # The request path's share of the journal: one tuple per request, packed while its parts
        # are still fresh; everything else (the status noted, the session, the client's host) is
        # read from it when the journal is read.
        fields: list[Packed] = [
            (
                r["method"],
                r["path"],
                r["query_string"],
                status,
                r["headers"],
                at,
                r.get("client"),
                r.get("state"),
            )
            for r, status, at in pending
        ]
        pending.clear()
        try:
            parts = list(map(marshal.dumps, fields, repeat(PACKING)))
        except ValueError:  # a value of a type marshal does not take: that entry is kept as text
            parts = list(map(_pack, fields))
        if max(map(len, parts)) > PACKED_LIMIT:  # rare: cut the line and headers of the big ones
            for index, part in enumerate(parts):
                if len(part) > PACKED_LIMIT:
                    fields[index] = _cut_packed(fields[index])
                    parts[index] = _pack(fields[index])
        batch = Batch(parts)
        self._ring.append(batch)
        self._count += batch.count
        self.serial += batch.count
        self._bytes += sum(batch.sizes) + batch.count * ENTRY_OVERHEAD
        if self.listeners:
            for entry in map(_unpacked, fields):
                for listener in self.listeners:
                    listener(entry)
        self._trim()

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
        if request_body is not None:
            request_body = bounded(request_body)
        raw = tuple(headers)
        if _fields_size(path, query, raw, None, None) > ENTRY_LIMIT:
            path, query, raw = _cut_entry(path, query, raw)
        entry = StreamEntry(method, path, query, status, code, raw, at, client, session, request_body, None)
        self._ring.append(entry)
        self._count += 1
        self.serial += 1
        self._bytes += entry.size
        self._trim()
        if self.listeners:
            for listener in self.listeners:
                listener(entry)
        return entry

    def complete(
        self, entry: StreamEntry, code: int | None, response_body: bytes | None, ended: float
    ) -> None:
        """A stream ended: its code, the first `BODY_LIMIT` bytes it sent, when it ended."""
        if entry.ended is not None:
            return
        self.flush()
        if response_body is not None:
            response_body = _cut(response_body, BODY_LIMIT)
        before = entry.size
        entry.code = code
        entry.response_body = response_body
        entry.ended = ended
        entry.size = _size(entry)
        if entry.kept:
            self._bytes += entry.size - before
            self._trim()
        for listener in self.listeners + self.stream_listeners:
            listener(entry)

    def _trim(self) -> None:
        """The oldest entries leave until both bounds hold."""
        ring = self._ring
        while self._count > self.limit or self._bytes > self.max_bytes:
            oldest = ring[0]
            if isinstance(oldest, StreamEntry):
                ring.popleft()
                oldest.kept = False
                self._count -= 1
                self._bytes -= oldest.size
                continue
            # As many as the count bound asks for at once; one at a time for the bytes bound.
            take = max(1, min(self._count - self.limit, oldest.count - oldest.skip))
            self._bytes -= sum(oldest.sizes[oldest.skip : oldest.skip + take]) + take * ENTRY_OVERHEAD
            self._count -= take
            oldest.skip += take
            if oldest.skip >= oldest.count:
                ring.popleft()

    def clear(self) -> None:
        self.pending.clear()
        for item in self._ring:
            if isinstance(item, StreamEntry):
                item.kept = False
        self._ring.clear()
        self._count = 0
        self._bytes = 0

    def kept(self) -> list[Entry]:
        """Every entry kept, oldest first (unpacked: for readers, not for the request path)."""
        self.flush()
        out: list[Entry] = []
        for item in self._ring:
            if isinstance(item, StreamEntry):
                out.append(item)
            else:
                out.extend(item.entries())
        return out

    def entries(self) -> list[dict[str, Any]]:
        return [entry.as_dict() for entry in self.kept()]

    def __len__(self) -> int:
        self.flush()
        return self._count

    @property
    def bytes(self) -> int:  # last in the class: the name would hide the type for annotations
        """Bytes the kept entries account for (see the module docstring)."""
        self.flush()
        return self._bytes
