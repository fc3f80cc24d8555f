"""Fault rules armed through `POST /_mock/faults` (INTERFACE.md).

A rule: `{"method": "POST", "path": "/run_sse", "times": 1, <one effect>}`; `path` may end in
`*` to match a prefix; `times` defaults to 1 (null: every matching request). Effects:
`respond` (answer with a status and JSON instead of the handler), `delay_ms` (wait first, on the
virtual clock), `sse` (`silent`, `drop:K`, `heartbeats_only`, `temporary_issue`) and `render`
(`fail`, `stall`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

EFFECTS = ("respond", "delay_ms", "sse", "render")
SSE_EFFECTS = ("silent", "heartbeats_only", "temporary_issue")
RENDER_EFFECTS = ("fail", "stall")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
RULE_KEYS = frozenset({"method", "path", "times", *EFFECTS})
RESPOND_KEYS = frozenset({"status", "json", "headers"})
#: Statuses HTTP sends without a body (RFC 9110 15.3.5, 15.3.6, 15.4.5): `respond` may not give one `json`.
BODILESS_STATUSES = frozenset({204, 205, 304})
#: Headers that frame the message: the mock sets them itself, a rule may not.
FRAMING_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "trailer", "te"}
)
#: An HTTP field name (RFC 9110 5.1: a token).
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: What a field value may not hold (RFC 9110 5.5): CR, LF, NUL and the other controls but tab.
BAD_HEADER_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
MAX_HEADERS = 32
MAX_HEADER_CHARS = 4096
MAX_PATH_CHARS = 2048
MAX_TIMES = 10**9
#: A delay of one virtual day at most: longer ones only push the clock out of any useful range.
MAX_DELAY_MS = 86_400_000
#: Armed rules at most; a test that needs more has lost track of its rules.
MAX_RULES = 1000


class FaultError(ValueError):
    """A rule that cannot be armed; the message says why."""


@dataclass(slots=True)
class FaultRule:
    id: str
    method: str | None
    path: str
    times: int | None
    effect: str
    value: Any

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "times": self.times,
            self.effect: self.value,
        }


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_rule(raw: object, rule_id: str) -> FaultRule:
    """Validate one rule as sent to the control API."""
    if not isinstance(raw, dict):
        raise FaultError("a fault rule is a JSON object")
    unknown = sorted(str(key)[:40] for key in raw if key not in RULE_KEYS)
    if unknown:
        raise FaultError(f"unknown key(s) {', '.join(unknown)}; a rule has {', '.join(sorted(RULE_KEYS))}")
    path = raw.get("path")
    if (
        not isinstance(path, str)
        or not path.startswith("/")
        or len(path) > MAX_PATH_CHARS
        or not path.isprintable()
        or " " in path
    ):
        raise FaultError(
            f"`path` is required: a URL path starting with '/', at most {MAX_PATH_CHARS} characters"
        )
    method = raw.get("method")
    if method is not None:
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise FaultError(f"`method` must be one of {', '.join(METHODS)}")
        method = method.upper()
    times = raw.get("times", 1)
    if times is not None and (not _is_int(times) or not 1 <= times <= MAX_TIMES):
        raise FaultError(f"`times` is an integer from 1 to {MAX_TIMES}, or null (every request)")
    effects = [name for name in EFFECTS if name in raw]
    if len(effects) != 1:
        raise FaultError(f"a rule has exactly one effect of: {', '.join(EFFECTS)}")
    effect = effects[0]
    value = raw[effect]
    if effect == "respond":
        value = _respond(value)
    elif effect == "delay_ms":
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
            or not 0 <= value <= MAX_DELAY_MS
        ):
            raise FaultError(f"`delay_ms` is a number of milliseconds from 0 to {MAX_DELAY_MS} (one day)")
    elif effect == "sse":
        if not isinstance(value, str) or not (value in SSE_EFFECTS or _drop_count(value) is not None):
            raise FaultError(f"`sse` is one of {', '.join(SSE_EFFECTS)} or drop:K")
    elif effect == "render" and (not isinstance(value, str) or value not in RENDER_EFFECTS):
        raise FaultError(f"`render` is one of {', '.join(RENDER_EFFECTS)}")
    return FaultRule(rule_id, method, path, times, effect, value)


def _respond(value: object) -> dict[str, Any]:
    """A `respond` effect: a final status, headers safe to send, a body only where HTTP has one."""
    if not isinstance(value, dict):
        raise FaultError('`respond` is {"status": S, "json": {...}, "headers": {...}}')
    unknown = sorted(str(key)[:40] for key in value if key not in RESPOND_KEYS)
    if unknown:
        raise FaultError(f"unknown key(s) of `respond`: {', '.join(unknown)}")
    status = value.get("status", 200)
    if not _is_int(status) or not 200 <= status <= 599:
        raise FaultError("`respond.status` is a final HTTP status from 200 to 599")
    payload = value.get("json")
    if status in BODILESS_STATUSES and payload is not None:
        raise FaultError(f"HTTP {status} has no body: leave out `respond.json`")
    headers = value.get("headers") or {}
    if not isinstance(headers, dict) or len(headers) > MAX_HEADERS:
        raise FaultError(f"`respond.headers` is an object of at most {MAX_HEADERS} headers")
    checked: dict[str, str] = {}
    for name, raw_value in headers.items():
        if not HEADER_NAME.fullmatch(name) or len(name) > 256:
            raise FaultError(f"`respond.headers`: {name[:40]!r} is not an HTTP header name")
        if name.lower() in FRAMING_HEADERS:
            raise FaultError(f"`respond.headers`: {name} is set by the server, not by a rule")
        if isinstance(raw_value, bool) or not isinstance(raw_value, str | int | float):
            raise FaultError(f"`respond.headers.{name}` is a string or a number")
        text = str(raw_value)
        if BAD_HEADER_VALUE.search(text) or len(text) > MAX_HEADER_CHARS or not _latin1(text):
            raise FaultError(
                f"`respond.headers.{name}` must be Latin-1 text without CR, LF or other control "
                f"characters, at most {MAX_HEADER_CHARS} characters"
            )
        checked[name] = text
    return {"status": status, "json": payload, "headers": checked}


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _drop_count(value: str) -> int | None:
    head, _, count = value.partition(":")
    if head != "drop" or not count.isdigit():
        return None
    return int(count)


def drop_after(value: str) -> int | None:
    """K of an `sse: drop:K` effect, else None."""
    return _drop_count(value)


class Faults:
    """The armed rules, first match wins; a rule is used up after `times` matches."""

    __slots__ = ("_counter", "rules")

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._counter = 0

    def __bool__(self) -> bool:
        return bool(self.rules)

    def arm(self, raw: object) -> FaultRule:
        if len(self.rules) >= MAX_RULES:
            raise FaultError(f"{MAX_RULES} rules are armed already; DELETE /_mock/faults clears them")
        rule = parse_rule(raw, f"fault_{self._counter + 1}")
        self._counter += 1
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def take(self, method: str, path: str, effects: tuple[str, ...]) -> FaultRule | None:
        """The first rule for this request with one of `effects`, counting one use of it."""
        for rule in self.rules:
            if rule.effect in effects and rule.matches(method, path):
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times == 0:
                        self.rules.remove(rule)
                return rule
        return None
