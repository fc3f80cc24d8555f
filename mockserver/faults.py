"""Fault rules armed through `POST /_mock/faults` (INTERFACE.md).

A rule: `{"method": "POST", "path": "/run_sse", "times": 1, <one effect>}`; `path` may end in
`*` to match a prefix; `times` defaults to 1 (null: every matching request). When a rule fires:
`after` skips the first N matches, `probability` fires on a seeded draw, `window` limits it to a
span of virtual time (`{"from_s": A, "until_s": B}`, seconds since the clock's start), `match`
narrows it to requests with given headers or JSON body fields (`{"headers": {...}, "json": {...}}`).

Effects (`EFFECTS`): `respond` (a status and JSON instead of the handler), `delay_ms` (wait first,
on the virtual clock), `latency` (a seeded log-normal wait), `statuses` (status flapping),
`connection` (the connection breaks: `CONNECTION_EFFECTS`), `sse` (the stream of `/run_sse`
misbehaves: `SSE_EFFECTS` and `STREAM_FORMS`) and `render` (`fail`, `stall`).

This module alone decides whether a rule fires and what it does (`Faults.fire`, `stream_fault`);
the middleware, the stream and the handlers carry the decision out.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

#: Every effect a rule may have, in the order the docs list them (the web console lists these).
EFFECTS = ("respond", "delay_ms", "latency", "statuses", "connection", "sse", "render")
#: Effects decided before the handler runs, for any route.
REQUEST_EFFECTS = ("respond", "delay_ms", "latency", "statuses", "connection")
#: `sse` values without a parameter.
SSE_EFFECTS = ("silent", "heartbeats_only", "temporary_issue", "buffered")
#: `sse` values with parameters: the form, and the parameters it takes (K events, S seconds, B bytes/s).
STREAM_FORMS = {
    "drop": ("K",),
    "truncate": ("K",),
    "reset": ("K",),
    "stall": ("K", "S"),
    "duplicate": ("K",),
    "garbage": ("K",),
    "heartbeat_gap": ("S",),
    "slow": ("B",),
}
#: Stream faults that change the bytes on the wire rather than the events a turn emits.
WIRE_FORMS = frozenset({"truncate", "reset", "stall", "duplicate", "garbage", "slow", "buffered"})
#: `connection` values: how the connection breaks instead of an answer (WireMock's four faults).
CONNECTION_EFFECTS = ("empty_response", "malformed_chunk", "random_data_then_close", "connection_reset")
LATENCY_DISTRIBUTIONS = ("lognormal",)
RENDER_EFFECTS = ("fail", "stall")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
RULE_KEYS = frozenset(
    {"method", "path", "times", "after", "probability", "window", "match", "cycle", *EFFECTS}
)
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
MAX_DELAY_S = MAX_DELAY_MS / 1000
#: A stream fault acts at most this many events in (no turn emits more than a few hundred).
MAX_EVENTS = 100_000
#: `slow:B`: from 1 byte per second to 100 MB per second.
MAX_RATE = 100_000_000
MAX_SIGMA = 10.0
MAX_STATUSES = 100
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
    after: int = 0
    probability: float | None = None
    window: tuple[float | None, float | None] | None = None
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: dict[str, Any] = field(default_factory=dict)
    cycle: bool = False
    seen: int = 0  # matches so far (for `after`)
    fired: int = 0  # times fired so far (for `statuses`)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "times": self.times,
            self.effect: self.value,
        }
        if self.after:
            out["after"] = self.after
        if self.probability is not None:
            out["probability"] = self.probability
        if self.window is not None:
            out["window"] = {"from_s": self.window[0], "until_s": self.window[1]}
        if self.headers or self.body:
            out["match"] = {"headers": dict(self.headers), "json": dict(self.body)}
        if self.effect == "statuses":
            out["cycle"] = self.cycle
        return out


@dataclass(frozen=True, slots=True)
class StreamFault:
    """An `sse` value taken apart: `kind` and its parameters (K events, S virtual seconds, B bytes/s)."""

    kind: str
    k: int = 0
    s: float = 0.0
    b: int = 0

    @property
    def on_wire(self) -> bool:
        """Carried out by the stream's writer (`api/sse.py`); the rest by the turn (`operations.py`)."""
        return self.kind in WIRE_FORMS


@dataclass(frozen=True, slots=True)
class Fired:
    """A rule that fired and what it does this time: `action` is the effect's value for this request
    (a drawn latency in seconds, the status of this turn of a flapping rule, ...)."""

    rule: FaultRule
    action: Any

    def note(self) -> dict[str, Any]:
        """What a recording keeps of it: the rule's id, its effect and what it did."""
        out: dict[str, Any] = {"id": self.rule.id, self.rule.effect: self.rule.value}
        if self.action is not self.rule.value:
            out["action"] = self.action
        return out


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def stream_fault(value: str) -> StreamFault | None:
    """An `sse` value as a `StreamFault`, or None when it is not one."""
    if value in SSE_EFFECTS:
        return StreamFault(value)
    kind, _, rest = value.partition(":")
    params = STREAM_FORMS.get(kind)
    if params is None:
        return None
    parts = rest.split(":")
    if len(parts) != len(params):
        return None
    k, s, b = 0, 0.0, 0
    for name, text in zip(params, parts, strict=True):
        if name in ("K", "B"):
            if not text.isdigit():
                return None
            number = int(text)
            if kind == "drop":  # accepted as it always was: any count, 0 included
                return StreamFault(kind, number)
            low = 0 if kind == "reset" else 1
            if not low <= number <= (MAX_EVENTS if name == "K" else MAX_RATE):
                return None
            if name == "K":
                k = number
            else:
                b = number
        else:
            try:
                s = float(text)
            except ValueError:
                return None
            if not math.isfinite(s) or not 0 < s <= MAX_DELAY_S:
                return None
    return StreamFault(kind, k, s, b)


def drop_after(value: str) -> int | None:
    """K of an `sse: drop:K` effect, else None."""
    fault = stream_fault(value)
    return fault.k if fault is not None and fault.kind == "drop" else None


def _sse_help() -> str:
    forms = ", ".join(f"{kind}:{':'.join(params)}" for kind, params in STREAM_FORMS.items())
    return (
        f"`sse` is one of {', '.join(SSE_EFFECTS)} or {forms} "
        f"(K events from 1 to {MAX_EVENTS}, S virtual seconds above 0 up to {MAX_DELAY_S:g}, "
        f"B bytes per second from 1 to {MAX_RATE})"
    )


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
    value = _effect(effect, raw[effect])
    cycle = raw.get("cycle", False)
    if not isinstance(cycle, bool) or (cycle and effect != "statuses"):
        raise FaultError("`cycle` is true or false, and only with `statuses`")
    rule = FaultRule(rule_id, method, path, times, effect, value, cycle=cycle)
    _when(rule, raw)
    return rule


def _effect(effect: str, value: Any) -> Any:
    if effect == "respond":
        return _respond(value)
    if effect == "delay_ms":
        if not _is_number(value) or not 0 <= value <= MAX_DELAY_MS:
            raise FaultError(f"`delay_ms` is a number of milliseconds from 0 to {MAX_DELAY_MS} (one day)")
    elif effect == "latency":
        return _latency(value)
    elif effect == "statuses":
        if (
            not isinstance(value, list)
            or not 1 <= len(value) <= MAX_STATUSES
            or not all(_is_int(status) and 200 <= status <= 599 for status in value)
        ):
            raise FaultError(
                f"`statuses` is a list of 1 to {MAX_STATUSES} HTTP statuses from 200 to 599 "
                "(a 2xx lets the handler answer)"
            )
        return list(value)
    elif effect == "connection":
        if value not in CONNECTION_EFFECTS:
            raise FaultError(f"`connection` is one of {', '.join(CONNECTION_EFFECTS)}")
    elif effect == "sse":
        if not isinstance(value, str) or stream_fault(value) is None:
            raise FaultError(_sse_help())
    elif effect == "render" and (not isinstance(value, str) or value not in RENDER_EFFECTS):
        raise FaultError(f"`render` is one of {', '.join(RENDER_EFFECTS)}")
    return value


def _latency(value: object) -> dict[str, Any]:
    shape = '`latency` is {"distribution": "lognormal", "median_ms": M, "sigma": S}'
    if not isinstance(value, dict) or set(value) - {"distribution", "median_ms", "sigma"}:
        raise FaultError(shape)
    if value.get("distribution", "lognormal") not in LATENCY_DISTRIBUTIONS:
        raise FaultError(f"{shape}; distributions: {', '.join(LATENCY_DISTRIBUTIONS)}")
    median, sigma = value.get("median_ms"), value.get("sigma", 0.0)
    if not _is_number(median) or not 0 < median <= MAX_DELAY_MS:
        raise FaultError(f"{shape}: `median_ms` above 0, at most {MAX_DELAY_MS}")
    if not _is_number(sigma) or not 0 <= sigma <= MAX_SIGMA:
        raise FaultError(f"{shape}: `sigma` from 0 to {MAX_SIGMA:g}")
    return {"distribution": "lognormal", "median_ms": median, "sigma": sigma}


def _when(rule: FaultRule, raw: Mapping[str, Any]) -> None:
    """`after`, `probability`, `window` and `match`: when a matching rule fires."""
    after = raw.get("after", 0)
    if not _is_int(after) or not 0 <= after <= MAX_TIMES:
        raise FaultError(f"`after` is the number of matches to skip, from 0 to {MAX_TIMES}")
    rule.after = after
    probability = raw.get("probability")
    if probability is not None and (not _is_number(probability) or not 0 < probability <= 1):
        raise FaultError("`probability` is a number above 0, at most 1")
    rule.probability = probability
    window = raw.get("window")
    if window is not None:
        if not isinstance(window, dict) or not window or set(window) - {"from_s", "until_s"}:
            raise FaultError('`window` is {"from_s": A, "until_s": B}: virtual seconds since the start')
        start, end = window.get("from_s"), window.get("until_s")
        for bound in (start, end):
            if bound is not None and (not _is_number(bound) or bound < 0):
                raise FaultError("`window` bounds are virtual seconds since the start, 0 or more")
        if start is not None and end is not None and end <= start:
            raise FaultError("`window.until_s` must come after `window.from_s`")
        rule.window = (start, end)
    match = raw.get("match")
    if match is not None:
        if not isinstance(match, dict) or set(match) - {"headers", "json"}:
            raise FaultError('`match` is {"headers": {name: value}, "json": {field: value}}')
        headers = match.get("headers") or {}
        body = match.get("json") or {}
        if not isinstance(headers, dict) or not all(
            isinstance(name, str) and HEADER_NAME.fullmatch(name) and isinstance(text, str)
            for name, text in headers.items()
        ):
            raise FaultError("`match.headers` maps header names to string values")
        if not isinstance(body, dict) or len(body) > MAX_HEADERS:
            raise FaultError("`match.json` maps top-level JSON body fields to the values they must have")
        rule.headers = {name.lower(): text for name, text in headers.items()}
        rule.body = dict(body)


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


def flapped(status: int) -> dict[str, Any]:
    """The `respond` effect of a `statuses` rule's non-2xx turn."""
    message = f"HTTP {status} from a fault rule (status flapping)"
    return {"status": status, "json": {"code": status, "message": message}, "headers": {}}


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


Headers = Sequence[tuple[bytes, bytes]]


def _header(headers: Headers, name: str) -> str | None:
    raw = name.encode("latin-1")
    for key, value in headers:
        if key.lower() == raw:
            return value.decode("latin-1")
    return None


class Faults:
    """The armed rules, first match wins; a rule is used up after firing `times` times.

    `fire` decides: does a rule fire for this request, and what exactly does it do this time.
    The draws (`probability`, `latency`, `random_data_then_close`) come from one seeded source,
    so a run with the same seed and the same requests fires the same way.
    """

    __slots__ = ("_counter", "clock_start", "rng", "rules", "seed")

    def __init__(self, seed: int | str = 0) -> None:
        self.rules: list[FaultRule] = []
        self._counter = 0
        self.seed = seed
        self.rng = random.Random(f"{seed}:faults")
        self.clock_start = 0.0

    def __bool__(self) -> bool:
        return bool(self.rules)

    @property
    def needs_body(self) -> bool:
        """Whether a request-level rule matches on a JSON body field (the middleware then reads it)."""
        return any(rule.body and rule.effect in REQUEST_EFFECTS for rule in self.rules)

    def arm(self, raw: object) -> FaultRule:
        if len(self.rules) >= MAX_RULES:
            raise FaultError(f"{MAX_RULES} rules are armed already; DELETE /_mock/faults clears them")
        rule = parse_rule(raw, f"fault_{self._counter + 1}")
        self._counter += 1
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()
        self.rng = random.Random(f"{self.seed}:faults")

    def take(self, method: str, path: str, effects: tuple[str, ...]) -> FaultRule | None:
        """The first rule for this request with one of `effects` that fires (no headers, no body)."""
        fired = self.fire(effects, method, path)
        return fired.rule if fired is not None else None

    def fire(
        self,
        effects: tuple[str, ...],
        method: str,
        path: str,
        headers: Headers = (),
        body: object = None,
        now: float | None = None,
    ) -> Fired | None:
        """The first rule with one of `effects` that fires for this request, counting one use of it."""
        for rule in self.rules:
            if rule.effect not in effects or not rule.matches(method, path):
                continue
            if not self._applies(rule, headers, body, now):
                continue
            rule.seen += 1
            if rule.seen <= rule.after:
                continue
            if rule.probability is not None and self.rng.random() >= rule.probability:
                continue
            action = self._action(rule)
            rule.fired += 1
            if rule.times is not None:
                rule.times -= 1
                if rule.times == 0:
                    self.rules.remove(rule)
            spent = rule.effect == "statuses" and not rule.cycle and rule.fired >= len(rule.value)
            if spent and rule in self.rules:
                self.rules.remove(rule)
            return self._fired(rule, action)
        return None

    def _fired(self, rule: FaultRule, action: Any) -> Fired:
        """A hook for subclasses that note what fired (a recording)."""
        return Fired(rule, action)

    def _applies(self, rule: FaultRule, headers: Headers, body: object, now: float | None) -> bool:
        if rule.window is not None:
            if now is None:
                return False
            elapsed = now - self.clock_start
            start, end = rule.window
            if (start is not None and elapsed < start) or (end is not None and elapsed >= end):
                return False
        for name, text in rule.headers.items():
            if _header(headers, name) != text:
                return False
        if rule.body:
            if not isinstance(body, dict):
                return False
            for key, expected in rule.body.items():
                if key not in body or body[key] != expected:
                    return False
        return True

    def _action(self, rule: FaultRule) -> Any:
        if rule.effect == "latency":
            spec = rule.value
            seconds = spec["median_ms"] * math.exp(spec["sigma"] * self.rng.gauss(0.0, 1.0)) / 1000
            return min(seconds, MAX_DELAY_S)
        if rule.effect == "statuses":
            return rule.value[rule.fired % len(rule.value)]
        if rule.effect == "connection" and rule.value == "random_data_then_close":
            return self.rng.randbytes(self.rng.randint(16, 256))
        return rule.value
