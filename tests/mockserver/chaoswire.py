"""A `/run_sse` turn read on a bare socket: the exact bytes, and how the connection ended."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.mockserver.rawhttp import connect, head


@dataclass
class Wire:
    """What came over the socket: the head, the de-chunked body, and how it ended."""

    head: bytes
    body: bytes
    terminated: bool  # the chunked terminator came
    reset: bool  # the peer reset the connection
    raw: bytes

    def events(self) -> list[bytes]:
        return [block for block in self.body.split(b"\n\n") if block]


def dechunk(data: bytes) -> tuple[bytes, bool]:
    """The payload of a chunked body and whether its terminator came (a cut body: False)."""
    out = b""
    pos = 0
    while True:
        end = data.find(b"\r\n", pos)
        if end < 0:
            return out, False
        size = int(data[pos:end].split(b";")[0], 16)
        if size == 0:
            return out, data[end + 2 : end + 4] == b"\r\n"
        chunk = data[end + 2 : end + 2 + size]
        out += chunk
        if len(chunk) < size:
            return out, False
        pos = end + 2 + size + 2


def exchange(url: str, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes | None:
    """Everything the server sends for one request until it closes; None if it reset instead."""
    sock = connect(url)
    try:
        sock.sendall(head(method, path, url, {**headers, "Content-Length": str(len(body))}) + body)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                return data if data else None
            if not chunk:
                return data
            data += chunk
    finally:
        sock.close()


def run_turn(url: str, token: str, session_id: str, text: str) -> Wire:
    payload: dict[str, Any] = {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": session_id,
        "new_message": {"parts": [{"text": text}]},
    }
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "text/event-stream",
        "Connection": "close",
    }
    sock = connect(url)
    raw = b""
    reset = False
    try:
        data = json.dumps(payload).encode()
        sock.sendall(head("POST", "/run_sse", url, {**headers, "Content-Length": str(len(data))}) + data)
        while True:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                reset = True
                break
            if not chunk:
                break
            raw += chunk
    finally:
        sock.close()
    head_bytes, _, rest = raw.partition(b"\r\n\r\n")
    body, terminated = dechunk(rest)
    return Wire(head_bytes, body, terminated, reset, raw)
