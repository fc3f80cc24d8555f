"""A world as an in-process httpx transport: the fault-injecting scripted backend.

`WorldTransport` is an `httpx.BaseTransport` (like `httpx.MockTransport`) over a `WorldBackend`.
Each request is stamped with the client's clock, so the documented waits (30 s before a 429
retry, 30 s then 60 s between recovery queries) can be read off the recording. A dropped stream
delivers its events, then raises `httpx.ReadError` as a reset connection does.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from client.clock import Clock

from .backend import Answer, WorldBackend


class DroppingStream(httpx.SyncByteStream):
    """Yields the stream's events one chunk each; `drop` then loses the connection."""

    def __init__(self, chunks: tuple[bytes, ...], drop: bool) -> None:
        self.chunks = chunks
        self.drop = drop

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.drop:
            raise httpx.ReadError("connection reset by the world")


class WorldTransport(httpx.BaseTransport):
    """Answers every request from `backend`, at the time `clock` shows."""

    def __init__(self, backend: WorldBackend, clock: Clock | None = None) -> None:
        self.backend = backend
        self.clock = clock

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        at = self.clock.now() if self.clock is not None else None
        answer = self.backend.handle(request.method, str(request.url), request.headers, body, at=at)
        return to_response(answer)


def to_response(answer: Answer) -> httpx.Response:
    headers = list(answer.headers)
    if answer.chunks is not None:
        return httpx.Response(
            answer.status, headers=headers, stream=DroppingStream(answer.chunks, answer.drop)
        )
    return httpx.Response(answer.status, headers=headers, content=answer.body)
