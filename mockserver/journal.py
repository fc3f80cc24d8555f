"""The requests the mock has seen, oldest first, with secrets masked (INTERFACE.md `GET /_mock/journal`).

A ring bounded twice: at most `limit` entries and at most `max_bytes` bytes of what they keep
(path, query, header names and values, plus a fixed allowance per entry). The oldest entries
leave first. A path, query or header value longer than `VALUE_LIMIT` bytes is kept cut to that
size, ending in `CUT_MARK`, and such an entry keeps its first `MAX_HEADERS` headers, so one
request with a 1 MB header costs the journal about 1 kB.
The journal keeps no bodies.

Listeners (`subscribe`) hear of each entry as it is appended: the web console's live feed. With
nobody listening the append path pays one falsy check for them.

Recording is on every request's path, so it is kept cheap: the raw header tuple is kept as it
came, its size is summed in C, and only an oversized entry is cut; masking happens when the
journal is read (`mockserver.masking`, the policy shared with the log and recordings).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any, NamedTuple

from mockserver.masking import mask_header, mask_query, mask_text

#: A path, query or header value is kept up to this many bytes; longer ones are cut.
VALUE_LIMIT = 1024
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


def mask_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key_b, value_b in raw:
        key = key_b.decode("latin-1").lower()
        out[key] = mask_header(key, value_b.decode("latin-1"))
    return out


def _cut(value: bytes) -> bytes:
    return value if len(value) <= VALUE_LIMIT else value[:VALUE_LIMIT] + CUT_MARK


def _cut_str(value: str) -> str:
    return value if len(value) <= VALUE_LIMIT else value[:VALUE_LIMIT] + CUT_MARK.decode()


class JournalEntry(NamedTuple):
    """One request. A tuple, cheap to make on every request; headers are kept raw and masked
    when the journal is read (masking costs, reading is rare)."""

    method: str
    path: str
    query: bytes
    status: int
    code: int | None
    raw_headers: tuple[tuple[bytes, bytes], ...]
    at: float
    client: str | None
    size: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": mask_text(self.path),
            "query": mask_query(self.query.decode("latin-1")),
            "status": self.status,
            "code": self.code,
            "headers": mask_headers(self.raw_headers),
            "time": self.at,
            "client": self.client,
        }


#: Told of each entry as it is appended, on the request's path: it must be quick and must not raise.
Listener = Callable[[JournalEntry], None]


class Journal:
    __slots__ = ("_entries", "bytes", "limit", "listeners", "max_bytes")

    def __init__(self, limit: int = DEFAULT_LIMIT, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if limit < 1 or max_bytes < 1:
            raise ValueError("the journal keeps at least one entry and one byte")
        self._entries: deque[JournalEntry] = deque()
        self.limit = limit
        self.max_bytes = max_bytes
        #: Bytes the kept entries account for (see the module docstring).
        self.bytes = 0
        #: Who hears of new entries (`subscribe`); a tuple, so that the append path only tests it.
        self.listeners: tuple[Listener, ...] = ()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(entry)` for each entry appended from now on; returns the unsubscribe."""
        self.listeners = (*self.listeners, listener)
        return lambda: self.unsubscribe(listener)

    def unsubscribe(self, listener: Listener) -> None:
        """Stop calling `listener` (no error if it was not listening).

        Compared by equality, not identity: each `obj.method` is a new bound-method object."""
        self.listeners = tuple(known for known in self.listeners if known != listener)

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
    ) -> None:
        """Append one request, cutting what is oversized and dropping the oldest beyond the bounds."""
        # A tuple, so the entry holds only atoms: the collector untracks it instead of
        # rescanning 10,000 kept entries (that showed in the request rate).
        raw = tuple(headers)
        size = ENTRY_OVERHEAD + len(path) + len(query) + sum(map(len, chain.from_iterable(raw)))
        if size > ENTRY_LIMIT:  # rare: only then is anything cut or counted again
            path, query = _cut_str(path), _cut(query)
            raw = tuple((_cut(key), _cut(value)) for key, value in raw[:MAX_HEADERS])
            size = ENTRY_OVERHEAD + len(path) + len(query) + sum(map(len, chain.from_iterable(raw)))
        entries = self._entries
        entry = JournalEntry(method, path, query, status, code, raw, at, client, size)
        entries.append(entry)
        self.bytes += size
        while self.bytes > self.max_bytes or len(entries) > self.limit:
            self.bytes -= entries.popleft().size
        if self.listeners:
            for listener in self.listeners:
                listener(entry)

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0

    def entries(self) -> list[dict[str, Any]]:
        return [entry.as_dict() for entry in self._entries]

    def __len__(self) -> int:
        return len(self._entries)
