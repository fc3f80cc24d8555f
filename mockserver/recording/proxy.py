"""`nemo-mock record --upstream URL`: a recording proxy in front of a real backend (or the mock).

Every request goes upstream unchanged (the user's own token included; only the recording masks
it) and every answer comes back unchanged, chunk by chunk as it arrives: an SSE stream reaches
the client event by event, never buffered. `RecordingTap` in front writes the exchanges; times
are the real clock (epoch seconds), which is the virtual clock at scale 1.

Upstream is asked for identity encoding, so that recorded bodies are readable and their tokens
can be masked. An upstream that cannot be reached is answered with HTTP 502 and the error
envelope naming it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.recording.header import proxy_header
from mockserver.recording.model import DEFAULT_BODY_LIMIT
from mockserver.recording.recorder import Recorder, RecordingTap

log = logging.getLogger("nemo-mock")

#: Hop-by-hop headers (RFC 9110 7.6.1) and the ones the proxy sets itself.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)
#: Streams may stay quiet for minutes between heartbeats (B-SSE-16: clients wait up to 15 min).
UPSTREAM_TIMEOUT = httpx.Timeout(connect=10.0, read=None, write=60.0, pool=None)


class RecordingProxy:
    """An ASGI app that forwards every request to `upstream` and streams the answer back."""

    def __init__(self, upstream: str, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not upstream.startswith(("http://", "https://")):
            raise ValueError(f"the upstream is an http(s) URL, got {upstream!r}")
        self.upstream = upstream.rstrip("/")
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport, timeout=UPSTREAM_TIMEOUT, follow_redirects=False
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._forward(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        url = self.upstream + raw_path.decode("latin-1")
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        headers = [
            (key.decode("latin-1"), value.decode("latin-1"))
            for key, value in scope["headers"]
            if key.decode("latin-1").lower() not in HOP_BY_HOP | {"accept-encoding"}
        ]
        headers.append(("accept-encoding", "identity"))
        names = {key.lower() for key, _ in scope["headers"]}
        has_body = b"content-length" in names or b"transfer-encoding" in names
        client = self.client()
        request = client.build_request(
            scope["method"], url, headers=headers, content=_body(receive) if has_body else None
        )
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            await _bad_gateway(send, f"Upstream {self.upstream} did not answer: {exc or type(exc).__name__}")
            return
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (key, value)
                        for key, value in response.headers.raw
                        if key.decode("latin-1").lower() not in HOP_BY_HOP
                    ],
                }
            )
            relay = asyncio.ensure_future(_relay(response, send))
            gone = asyncio.ensure_future(_disconnected(receive))
            try:
                await asyncio.wait({relay, gone}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (relay, gone):
                    task.cancel()
                await asyncio.gather(relay, gone, return_exceptions=True)
        finally:
            await response.aclose()


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def _relay(response: httpx.Response, send: Send) -> None:
    """Each chunk on as it arrives (an SSE stream is never held back)."""
    try:
        async for chunk in response.aiter_raw():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except httpx.HTTPError as exc:  # the upstream broke off: end the answer where it stopped
        log.warning("upstream broke off %s: %s", response.request.url, exc)
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _disconnected(receive: Receive) -> None:
    message: Message = await receive()
    while message["type"] != "http.disconnect":
        message = await receive()


async def _bad_gateway(send: Send, message: str) -> None:
    data = json.dumps({"code": 502, "message": message, "data": None}).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 502,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": data})


def recording_proxy(
    upstream: str,
    out: str | Path,
    *,
    body_limit: int = DEFAULT_BODY_LIMIT,
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[ASGIApp, Recorder]:
    """The proxy app with its recorder in front, writing to `out`; close the recorder when done."""
    proxy = RecordingProxy(upstream, transport=transport)  # a bad URL fails before the file is made
    header = proxy_header(upstream, start=time.time(), body_limit=body_limit)
    recorder = Recorder.open(out, header, clock=time.time)
    app: Any = RecordingTap(proxy, recorder)
    return app, recorder
