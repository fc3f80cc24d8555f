"""The request router: decide, before anything reaches the backend, who handles a user message.

The skill's router table (B-CLI-01, v1.9 §2) sends export, credits, status and upload requests to
the client's own flows; everything else goes to the backend agent over SSE. v4.4 added
"regenerate"/"重新生成"/"redo"/"再来一个" (explicitly SSE) and "现在什么样了" (status) (B-CLI-02).

Matching rules:

- case-insensitive; English keywords match whole words only, so "exported", "downloaded",
  "uploaded" or "statuses" do not trigger a flow ("make the exported title bigger" is an edit);
  Chinese keywords match anywhere (Chinese has no word boundaries);
- a message sent with a file routes to upload first: the file must reach the session before
  anything can use it (the workflow may forward the accompanying text afterwards);
- otherwise the first row of `ROUTE_KEYWORDS` with a keyword in the message wins, in the v4.4
  table order: export, credits, regenerate (chat), status, upload. So "redo the export" exports,
  "regenerate it and show status" goes to the backend, "upload status" shows the status;
- a few phrases where a keyword is part of video vocabulary rather than a request are masked
  first (`CONTENT_PHRASES`): "end credits", "white balance", "balance the audio", "status bar".
  This keeps an editing request such as "add rolling credits" away from the balance query.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class Route(StrEnum):
    """Where a user message goes (B-CLI-01)."""

    EXPORT = "export"  # the client's render flow (v1.9 §3.5)
    CREDITS = "credits"  # the client's balance query (v1.9 §3.3)
    STATUS = "status"  # the client's state query and track summary (v1.9 §3.4)
    UPLOAD = "upload"  # the client's upload flow (v1.9 §3.2)
    CHAT = "chat"  # the backend agent over /run_sse (v1.9 §3.1)


#: Router rows in precedence order (first match wins). v1.9 rows plus the v4.4 extras (B-CLI-02).
ROUTE_KEYWORDS: Mapping[Route, tuple[str, ...]] = MappingProxyType(
    {
        Route.EXPORT: ("export", "导出", "download", "send me the video"),
        Route.CREDITS: ("credits", "积分", "balance", "余额"),
        Route.CHAT: ("regenerate", "重新生成", "redo", "再来一个"),
        Route.STATUS: ("status", "状态", "现在什么样了", "show tracks"),
        Route.UPLOAD: ("upload", "上传"),
    }
)

#: The keywords that only the v4.4 router had (B-CLI-02); the rest are the v1.9 table (B-CLI-01).
V44_KEYWORDS: frozenset[str] = frozenset({"regenerate", "重新生成", "redo", "再来一个", "现在什么样了"})

#: Phrases in which a router keyword names video content, not a request for a flow.
CONTENT_PHRASES: tuple[str, ...] = (
    r"(?:end|opening|closing|ending|rolling|scrolling|movie|film)\s+credits",
    r"credits\s+(?:roll|rolling|scene|sequence|screen|text)",
    r"roll(?:ing)?\s+(?:the\s+)?credits",
    r"(?:white|colou?r|audio|sound|stereo|tonal|volume|mix)\s+balance",
    r"balance\s+(?:the|out)\b",
    r"status\s+bars?",
    r"状态栏",
)

_CONTENT_RE = re.compile("|".join(f"(?:{p})" for p in CONTENT_PHRASES), re.IGNORECASE)


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    words = keyword.split()
    body = r"\s+".join(re.escape(w) for w in words)
    if keyword.isascii():
        # ASCII-only guards: `\b` would treat a following Chinese character as part of the word.
        body = rf"(?<![A-Za-z0-9_]){body}(?![A-Za-z0-9_])"
    return re.compile(body, re.IGNORECASE)


_ROWS: tuple[tuple[Route, tuple[tuple[str, re.Pattern[str]], ...]], ...] = tuple(
    (route_, tuple((kw, _keyword_pattern(kw)) for kw in keywords))
    for route_, keywords in ROUTE_KEYWORDS.items()
)


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """A routing decision and the keyword that made it (None: attachment or default)."""

    route: Route
    keyword: str | None


def classify(message: str, *, has_attachment: bool = False) -> RouteMatch:
    """Route a user message and say why (B-CLI-01, B-CLI-02)."""
    if has_attachment:
        return RouteMatch(Route.UPLOAD, None)
    text = _CONTENT_RE.sub(" ", message)
    for route_, keywords in _ROWS:
        for keyword, pattern in keywords:
            if pattern.search(text):
                return RouteMatch(route_, keyword)
    return RouteMatch(Route.CHAT, None)


def route(message: str, *, has_attachment: bool = False) -> Route:
    """Where a user message goes: a client flow or the backend agent (B-CLI-01, B-CLI-02)."""
    return classify(message, has_attachment=has_attachment).route


def skips_backend(route_: Route) -> bool:
    """True for the flows the client handles itself; they never touch SSE (B-CLI-01, B-CLI-13)."""
    return route_ is not Route.CHAT
