"""`GET /_mock/journal?...`: which journal entries a query selects, and its bad values as one message.

Filters (all optional, combined with AND) work on what `Journal.entries()` returns:
`method` (`POST`), `path` (exact, or a prefix when it ends in `*`), `status` (HTTP status),
`code` (business code), `session` (the session the request concerned: the handler's note, or
the id named in the path or the query), `stream` (`true`/`false`: event streams only or none),
`open` (`true`: streams still running), `since`
(virtual epoch seconds: entries at or after it), `limit` (at most this many, oldest first, 1 to
`MAX_LIMIT`). The answer carries `total`, the number of entries that match before `limit`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_LIMIT = 100_000
PARAMS = ("method", "path", "status", "code", "session", "stream", "open", "since", "limit")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_METHOD = re.compile(r"[A-Za-z]{1,16}")


class QueryError(ValueError):
    """A bad filter; the message names it and what it takes."""


def _integer(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"`{name}` is an integer from {low} to {high}, got {raw!r}") from None
    if not low <= value <= high:
        raise QueryError(f"`{name}` is an integer from {low} to {high}, got {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class JournalQuery:
    method: str | None = None
    path: str | None = None
    status: int | None = None
    code: int | None = None
    session: str | None = None
    stream: bool | None = None
    open: bool | None = None
    since: float | None = None
    limit: int | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str], keys: list[str]) -> JournalQuery:
        unknown = sorted(set(keys) - set(PARAMS))
        if unknown:
            raise QueryError(f"unknown journal filter `{unknown[0]}`; filters: {', '.join(PARAMS)}")
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise QueryError(f"journal filter `{repeated[0]}` given more than once")
        values: dict[str, Any] = {}
        if "method" in params:
            if not _METHOD.fullmatch(params["method"]):
                raise QueryError(f"`method` is an HTTP method such as GET or POST, got {params['method']!r}")
            values["method"] = params["method"].upper()
        if "path" in params:
            if not params["path"].startswith("/"):
                raise QueryError("`path` starts with / (and may end in * to match a prefix)")
            values["path"] = params["path"]
        if "status" in params:
            values["status"] = _integer("status", params["status"], 100, 599)
        if "code" in params:
            values["code"] = _integer("code", params["code"], -(2**31), 2**31 - 1)
        if "session" in params:
            if not params["session"]:
                raise QueryError("`session` is a session id")
            values["session"] = params["session"]
        for flag in ("stream", "open"):
            if flag in params:
                if params[flag].lower() not in _BOOLEANS:
                    raise QueryError(f"`{flag}` is true or false, got {params[flag]!r}")
                values[flag] = _BOOLEANS[params[flag].lower()]
        if "since" in params:
            try:
                since = float(params["since"])
            except ValueError:
                since = math.nan
            if not math.isfinite(since):
                raise QueryError(f"`since` is a virtual time in epoch seconds, got {params['since']!r}")
            values["since"] = since
        if "limit" in params:
            values["limit"] = _integer("limit", params["limit"], 1, MAX_LIMIT)
        return cls(**values)

    def matches(self, entry: dict[str, Any]) -> bool:
        if self.method is not None and entry["method"] != self.method:
            return False
        if self.path is not None:
            path: str = entry["path"]
            if self.path.endswith("*"):
                if not path.startswith(self.path[:-1]):
                    return False
            elif path != self.path:
                return False
        if self.status is not None and entry["status"] != self.status:
            return False
        if self.code is not None and entry["code"] != self.code:
            return False
        if (
            self.session is not None
            and entry.get("session") != self.session
            and self.session not in f"{entry['path']}?{entry.get('query', '')}"
        ):
            return False
        if self.stream is not None and bool(entry.get("stream")) != self.stream:
            return False
        if self.open is not None and bool(entry.get("open")) != self.open:
            return False
        return self.since is None or entry["time"] >= self.since

    def select(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """`{"entries": [...], "total": N}`: the matches, oldest first, cut to `limit`."""
        found = [entry for entry in entries if self.matches(entry)]
        shown = found if self.limit is None else found[: self.limit]
        return {"entries": shown, "total": len(found)}
