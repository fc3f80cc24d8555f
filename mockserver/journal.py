"""The requests the mock has seen, oldest first, with secrets masked (INTERFACE.md `GET /_mock/journal`)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any, NamedTuple

SECRET_HEADERS = frozenset({"authorization", "cookie", "x-api-key", "proxy-authorization"})


def mask_secret(value: str) -> str:
    """Keep the scheme and the token's kind (`nmv_usr_`, `clm_`), never the secret part."""
    scheme, sep, token = value.partition(" ")
    if not sep:
        token, scheme = value, ""
    for prefix in ("nmv_usr_", "clm_"):
        if token.startswith(prefix):
            token = prefix + "***"
            break
    else:
        token = "***" if token else ""
    return f"{scheme} {token}".strip()


def mask_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key_b, value_b in raw:
        key = key_b.decode("latin-1").lower()
        value = value_b.decode("latin-1")
        out[key] = mask_secret(value) if key in SECRET_HEADERS else value
    return out


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query.decode("latin-1"),
            "status": self.status,
            "code": self.code,
            "headers": mask_headers(self.raw_headers),
            "time": self.at,
            "client": self.client,
        }


class Journal:
    __slots__ = ("_entries", "record")

    def __init__(self, limit: int = 10000) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=limit)
        #: Append one entry (the deque's own append: this runs on every request).
        self.record = self._entries.append

    def clear(self) -> None:
        self._entries.clear()

    def entries(self) -> list[dict[str, Any]]:
        return [entry.as_dict() for entry in self._entries]

    def __len__(self) -> int:
        return len(self._entries)
