"""Hostile requests for the robustness suite (test_robustness.py): what they are, how they are sent,
and what the mock's state is before and after each.

Each case is one request to one route of the app (the control API included), drawn by hypothesis:
a method, hostile path parameters, a query, headers and a body of one input class (raw bytes,
deep nesting, non-finite or huge numbers, odd unicode, JSON of the right shape with hostile
values, malformed multipart, oversized bodies or heads).
"""

from __future__ import annotations

import json
import socket
import string
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import strategies as st
from rawhttp import connect, read_answer
from starlette.routing import Route

from mockserver import control
from mockserver.app import api_routes
from mockserver.backend import Backend
from mockserver.settings import Settings

#: The JSON cap of the server under test: oversized bodies stay cheap to send.
MAX_JSON_BODY = 64 * 1024
#: Over the server's head limit (mockserver.server default 64 kB).
OVERSIZED_HEADER = 70 * 1024
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
#: Every field name the API and the control API read: shaped bodies are built from these.
FIELDS = (
    "task_name", "language", "app_name", "appName", "user_id", "userId", "session_id", "sessionId",
    "new_message", "newMessage", "parts", "text", "id", "draft", "output", "format", "quality", "urls",
    "source_type", "task_id", "seconds", "tier", "credits", "token", "method", "path", "times", "respond",
    "delay_ms", "sse", "render", "status", "json", "headers", "t", "tt", "sg", "st", "d", "m", "width",
    "height", "volume", "color", "kind",
)  # fmt: skip
CLASSES = (
    "raw-bytes",
    "deep-nesting",
    "numbers",
    "odd-unicode",
    "shaped-json",
    "multipart",
    "oversized-body",
    "oversized-head",
    "empty",
)


def routes() -> list[Route]:
    """Every route the mock serves, /_mock included (as the app mounts them, so none is left out)."""
    return [*api_routes(Settings(time_scale=0, legacy_render_paths=True)), *control.routes]


# ---------------------------------------------------------------------------- strategies

ODD = "\u202e\ufeff\u0000\uffff\U0001f3ac/..%?#\\"
odd_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from(ODD), max_size=40
)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, 2**63, -(2**63), 10**18, 10**4000, 1e308, -1e308, 5e-324, -0.0]),
    st.floats(allow_nan=False, allow_infinity=False),
)
leaves = st.one_of(st.none(), st.booleans(), numbers, odd_text, st.just("nmv_usr_" + "a" * 32))
hostile_json = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | odd_text, children, max_size=5)
    ),
    max_leaves=25,
)


def _dumps(value: Any) -> bytes:
    try:
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    except ValueError:  # an int beyond Python's digit limit: send its text another way
        return b"1" + b"0" * 5000


@st.composite
def bodies(draw: st.DrawFn, kind: str) -> tuple[bytes | Iterator[bytes], dict[str, str]]:
    """A body of one input class and the headers it comes with."""
    json_type = {
        "Content-Type": draw(st.sampled_from(["application/json", "application/json; charset=utf-8"]))
    }
    if kind == "raw-bytes":
        ctype = draw(st.sampled_from(["application/json", "text/plain", "application/octet-stream", ""]))
        return draw(st.binary(max_size=2048)), {"Content-Type": ctype} if ctype else {}
    if kind == "deep-nesting":
        depth = draw(st.integers(min_value=60, max_value=20_000))
        opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}"), (b'{"draft":[', b"]}")]))
        return opener * depth + b"1" + closer * depth, json_type
    if kind == "numbers":
        token = draw(
            st.sampled_from(
                [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e99999", b"1" + b"0" * 5000, b"0.1e-99999"]
            )
        )
        key = draw(st.sampled_from(FIELDS)).encode()
        return b'{"' + key + b'": ' + token + b', "seconds": ' + token + b"}", json_type
    if kind == "odd-unicode":
        escapes = draw(
            st.sampled_from([b"\\ud800", b"\\udfff\\ud800", b"\\u0000", b"\\ud83c\\udfac", b"\\uFFFF"])
        )
        raw = draw(st.sampled_from([b"\xed\xa0\x80", b"\xff\xfe", b"\xef\xbb\xbf", b"\xc3\xa9", b""]))
        key = draw(st.sampled_from(FIELDS)).encode()
        return b'{"' + key + b'": "' + escapes + raw + b'"}', json_type
    if kind == "shaped-json":
        value = draw(st.dictionaries(st.sampled_from(FIELDS), hostile_json, max_size=6))
        return _dumps(value), json_type
    if kind == "multipart":
        boundary = draw(
            st.text(
                alphabet=string.ascii_letters + string.digits + "'()+_,-./:=? <>\"", min_size=0, max_size=300
            )
        )
        filename = draw(odd_text)
        field_name = draw(st.sampled_from(["files", "file", "other", ""]))
        content = draw(st.binary(max_size=512))
        pieces = [
            f"--{boundary}\r\n".encode(),
            f'Content-Disposition: form-data; name="{field_name}"; filename="{filename}"\r\n\r\n'.encode(
                "utf-8", "surrogatepass"
            ),
            content,
        ]
        if draw(st.booleans()):
            pieces.append(f"\r\n--{boundary}--\r\n".encode())
        body = b"".join(draw(st.permutations(pieces)) if draw(st.booleans()) else pieces)
        declared = draw(
            st.sampled_from(
                [
                    f"multipart/form-data; boundary={boundary}",
                    "multipart/form-data",
                    "multipart/form-data; boundary=",
                ]
            )
        )
        return body, {"Content-Type": declared}
    if kind == "oversized-body":
        size = MAX_JSON_BODY + draw(st.integers(min_value=1, max_value=4096))
        if draw(st.booleans()):
            return b"[" + b"0," * (size // 2) + b"0]", json_type
        chunk = b" " * 8192

        def chunked() -> Iterator[bytes]:  # no Content-Length: counted while it arrives
            for _ in range(size // len(chunk) + 1):
                yield chunk

        return chunked(), json_type
    return b"", {}


header_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=80
)


@dataclass
class Case:
    route: str
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | Iterator[bytes]
    kind: str


@st.composite
def cases(draw: st.DrawFn, all_routes: list[Route], auth: dict[str, str]) -> Case:
    route = draw(st.sampled_from(all_routes))
    methods = sorted(route.methods or {"GET"})
    method = (
        draw(st.sampled_from(methods) | st.sampled_from(METHODS))
        if draw(st.integers(0, 9)) == 0
        else draw(st.sampled_from(methods))
    )
    params = {
        name: draw(st.sampled_from(["me", "render_1", "1"]) | odd_text.filter(bool))
        for name in route.param_convertors
    }
    path = route.path
    for name, value in params.items():
        path = path.replace(f"{{{name}:path}}", quote(value, safe="/")).replace(
            f"{{{name}}}", quote(value, safe="")
        )
    query = draw(st.sampled_from(["", "?token=nmv_usr_x", "?a=%ZZ&b=\u00e9", "?" + "q" * 3000, "?ct=&&=="]))
    kind = draw(st.sampled_from(CLASSES))
    body, headers = draw(bodies("empty" if method in ("GET", "HEAD") and draw(st.booleans()) else kind))
    who = draw(st.sampled_from(["auth", "none", "garbage"]))
    if who == "auth":
        headers.update(auth)
    elif who == "garbage":
        headers["Authorization"] = draw(header_values)
    extra = draw(
        st.dictionaries(
            st.sampled_from(
                [
                    "Origin",
                    "X-Client-Id",
                    "X-Skill-Source",
                    "Accept",
                    "Cookie",
                    "X-Auth-Token",
                    "Sec-Fetch-Site",
                    "Content-Type",
                ]
            ),
            header_values,
            max_size=3,
        )
    )
    headers.update(extra)
    if kind == "oversized-head":
        headers["X-Big"] = "v" * OVERSIZED_HEADER
    return Case(route.path, method, path + query, headers, body, kind)


# ---------------------------------------------------------------------------- state


def snapshot(backend: Backend) -> tuple[Any, ...]:
    """Ledger, accounts and tokens, sessions, renders, faults and clock (the journal aside)."""
    accounts = backend.accounts
    return (
        tuple(
            sorted(
                (uid, a.tier, a.ledger.available, a.ledger.frozen, len(a.ledger.holds))
                for uid, a in accounts.accounts.items()
            )
        ),
        tuple(sorted((t.value, t.revoked) for t in accounts.tokens.values())),
        tuple(
            sorted(
                (
                    sid,
                    s.owner,
                    s.turns,
                    s.running,
                    json.dumps(s.draft, sort_keys=True),
                    len(s.video_infos),
                )
                for sid, s in backend.sessions.sessions.items()
            )
        ),
        tuple(sorted((rid, j.owner, j.status, j.progress, j.reads) for rid, j in backend.renders.items())),
        tuple(json.dumps(rule.describe(), sort_keys=True) for rule in backend.faults.rules),
        backend.clock.now(),
        len(backend.operations),
        tuple(sorted(backend.assets)),
        tuple(sorted(backend.renders.files)),
    )


# ---------------------------------------------------------------------------- outcomes


@dataclass
class Tally:
    """Per input class: cases tried, clean refusals, accepted, 500s, hangs, closed by the server."""

    rows: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, kind: str, outcome: str) -> None:
        self.rows.setdefault(kind, Counter())[outcome] += 1
        self.rows[kind]["tried"] += 1

    def table(self) -> str:
        columns = ("tried", "refused", "accepted", "closed", "500", "hang")
        lines = ["| input class | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
        for kind in [*CLASSES, *(k for k in self.rows if k not in CLASSES)]:
            row = self.rows.get(kind, Counter())
            lines.append(f"| {kind} | " + " | ".join(str(row[c]) for c in columns) + " |")
        return "\n".join(lines)


def raw_exchange(url: str, payload: bytes) -> bytes:
    """Bytes straight onto the socket (request-line fuzz): what the server answers, until it closes."""
    host, _, port = url.removeprefix("http://").partition(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def send_raw(base_url: str, case: Case) -> httpx.Response:
    """The case written byte for byte, for what httpx refuses to send (a header value of spaces,
    say); the answer read back into an httpx.Response."""
    body = case.body if isinstance(case.body, bytes) else b"".join(case.body)
    lines = [f"{case.method} {case.url} HTTP/1.1", f"Host: {base_url.removeprefix('http://')}"]
    lines += [f"{name}: {value}" for name, value in case.headers.items()]
    lines += [f"Content-Length: {len(body)}", "Connection: close"]
    payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    with connect(base_url, timeout=30) as sock:
        sock.sendall(payload)
        answer = read_answer(sock)
    if answer.headers.get("transfer-encoding") == "chunked":
        answer.body = b""  # a stream: its status is what counts here
    return httpx.Response(answer.status, headers=answer.headers, content=answer.body)


def send(http: httpx.Client, case: Case) -> httpx.Response:
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in case.headers.items()]
    return http.request(case.method, case.url, headers=headers, content=case.body)
