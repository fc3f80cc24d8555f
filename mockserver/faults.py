"""Fault rules armed through `POST /_mock/faults` (INTERFACE.md).

A rule: `{"method": "POST", "path": "/run_sse", "times": 1, <one effect>}`; `path` may end in
`*` to match a prefix; `times` defaults to 1 (null: every matching request). Effects:
`respond` (answer with a status and JSON instead of the handler), `delay_ms` (wait first, on the
virtual clock), `sse` (`silent`, `drop:K`, `heartbeats_only`, `temporary_issue`) and `render`
(`fail`, `stall`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EFFECTS = ("respond", "delay_ms", "sse", "render")
SSE_EFFECTS = ("silent", "heartbeats_only", "temporary_issue")
RENDER_EFFECTS = ("fail", "stall")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


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


def parse_rule(raw: object, rule_id: str) -> FaultRule:
    """Validate one rule as sent to the control API."""
    if not isinstance(raw, dict):
        raise FaultError("a fault rule is a JSON object")
    path = raw.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise FaultError("`path` is required and starts with '/'")
    method = raw.get("method")
    if method is not None:
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise FaultError(f"`method` must be one of {', '.join(METHODS)}")
        method = method.upper()
    times = raw.get("times", 1)
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise FaultError("`times` is a positive integer or null (every request)")
    effects = [name for name in EFFECTS if name in raw]
    if len(effects) != 1:
        raise FaultError(f"a rule has exactly one effect of: {', '.join(EFFECTS)}")
    effect = effects[0]
    value = raw[effect]
    if effect == "respond":
        if not isinstance(value, dict):
            raise FaultError('`respond` is {"status": S, "json": {...}}')
        status = value.get("status", 200)
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise FaultError("`respond.status` is an HTTP status code")
        value = {"status": status, "json": value.get("json"), "headers": value.get("headers") or {}}
        if not isinstance(value["headers"], dict):
            raise FaultError("`respond.headers` is an object")
    elif effect == "delay_ms":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise FaultError("`delay_ms` is a non-negative number")
    elif effect == "sse":
        if not isinstance(value, str) or not (value in SSE_EFFECTS or _drop_count(value) is not None):
            raise FaultError(f"`sse` is one of {', '.join(SSE_EFFECTS)} or drop:K")
    elif effect == "render" and value not in RENDER_EFFECTS:
        raise FaultError(f"`render` is one of {', '.join(RENDER_EFFECTS)}")
    return FaultRule(rule_id, method, path, times, effect, value)


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
        self._counter += 1
        rule = parse_rule(raw, f"fault_{self._counter}")
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
