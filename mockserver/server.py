"""uvicorn, set up for a mock that runs for hours and meets every client a test suite can produce.

uvicorn closes idle keep-alive connections (`timeout_keep_alive`) but has no limit on the time a
client may take to send its request head, on the size of that head (httptools buffers it all), or
on the number of open connections. `HardenedProtocol` adds them:

- a request head (request line and headers) must be complete within `header_timeout_s` of the
  connection opening or of its first byte on a kept-alive connection: else HTTP 408 and close;
- a head over `max_header_bytes` is HTTP 431 and close, refused while it arrives;
- beyond `max_connections` open connections a new one is answered HTTP 503 and closed at once,
  so descriptors never run out (the default leaves room under the open-files limit).

A body that stops arriving is the app's to time out (`Settings.body_timeout_s`, HTTP 408): only
the app knows whether it is still reading. `MockServer` ends every open stream first when it
shuts down, so that SIGTERM or Ctrl-C with streams open finishes in well under a second, each
stream with its final chunk, without uvicorn's cancellation tracebacks.
"""

from __future__ import annotations

import asyncio
import json
import math
import resource
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: Descriptors kept free for files (uploads, renders, logs) under the open-files limit.
FD_RESERVE = 256
#: Seconds a refused connection is still read (and what comes thrown away) before it is closed:
#: closing with unread input would reset it, and the client could lose the refusal it was sent.
LINGER_S = 1.0
#: The same for a connection over the cap, kept short: those come in floods.
LINGER_OVER_CAP_S = 0.25
#: Seconds uvicorn waits for requests still running at shutdown once the streams have ended.
GRACEFUL_SHUTDOWN_S = 1

Lifespan = Literal["auto", "on", "off"]


def default_max_connections() -> int:
    """The open-files limit less `FD_RESERVE` (at least 16)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 20
    return max(16, soft - FD_RESERVE)


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """Timeouts in real seconds, sizes in bytes (the `nemo-mock serve` flags of the same names)."""

    header_timeout_s: float = 10.0
    keep_alive_s: float = 5.0
    max_header_bytes: int = 64 * 1024
    max_connections: int | None = None  # None: default_max_connections()

    def __post_init__(self) -> None:
        for name in ("header_timeout_s", "keep_alive_s"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a finite number of seconds > 0")
        if self.max_header_bytes < 1024:
            raise ValueError("max_header_bytes must be at least 1024")
        if self.max_connections is not None and self.max_connections < 1:
            raise ValueError("max_connections must be at least 1")

    @property
    def connections(self) -> int:
        return self.max_connections if self.max_connections is not None else default_max_connections()


class _HeadTooLarge(Exception):
    """Raised inside the parser's callbacks to stop it reading an oversized head."""


def _refusal(status: int, reason: str, message: str) -> bytes:
    body = json.dumps({"code": status, "message": message, "data": None}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class HardenedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a head timeout, a head size limit and a connection cap."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()
    max_connections: ClassVar[int] = 0
    _head_timer: asyncio.TimerHandle | None
    _head_bytes: int  # bytes received since the head began (what httptools may be buffering)
    _head_size: int  # the head's parsed size: URL, header names and values
    _in_head: bool
    _refused: bool  # over the cap: never served
    _lingering: bool  # answered with a refusal, closing soon

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer = None
        self._head_bytes = 0
        self._head_size = 0
        self._in_head = True
        self._lingering = False
        self._refused = len(self.connections) >= self.max_connections
        if self._refused:
            transport.write(_refusal(503, "Service Unavailable", "Too many open connections; try again"))
            _linger(transport, LINGER_OVER_CAP_S)
            return
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:
            return
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused or self._lingering:
            return  # read and thrown away until the close
        if self._in_head:
            self._head_bytes += len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self._head_size > self.limits.max_header_bytes:
                self._head_too_large()
            else:
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self._in_head and self._head_bytes > self.limits.max_header_bytes:
            self._head_too_large()  # still incomplete: httptools would go on buffering it

    def _head_too_large(self) -> None:
        self._refuse(
            431,
            "Request Header Fields Too Large",
            f"The request line and headers are over {self.limits.max_header_bytes:,} bytes",
        )

    def send_400_response(self, msg: str) -> None:
        """A request the parser cannot read: the envelope, as every other refusal (U-02)."""
        self._refuse(400, "Bad Request", msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0
        self._head_size = 0
        if self._head_timer is None:
            self._start_head_timer()

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)
        super().on_header(name, value)

    def _count_head(self, size: int) -> None:
        self._head_size += size
        if self._head_size > self.limits.max_header_bytes:
            raise _HeadTooLarge  # stops the parser; data_received answers 431

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._stop_head_timer()
        super().on_headers_complete()

    def _start_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # an answer is still going out: the next request's head waits its turn
        limit = self.limits.header_timeout_s
        self._refuse(408, "Request Timeout", f"The request head did not arrive within {limit:g} s")

    def _refuse(self, status: int, reason: str, message: str) -> None:
        self._stop_head_timer()
        if not self.transport.is_closing() and not self._lingering:
            self._lingering = True
            self.transport.write(_refusal(status, reason, message))
            _linger(self.transport, LINGER_S)


def _linger(transport: asyncio.Transport, seconds: float) -> None:
    """Send what is written and a FIN, keep reading for `seconds`, then close."""
    if transport.can_write_eof():
        transport.write_eof()
    asyncio.get_running_loop().call_later(seconds, transport.close)


def protocol_class(limits: ConnectionLimits) -> type[HardenedProtocol]:
    """`HardenedProtocol` bound to `limits` (uvicorn makes one protocol object per connection)."""
    return type(
        "HardenedProtocol",
        (HardenedProtocol,),
        {"limits": limits, "max_connections": limits.connections},
    )


class MockServer(uvicorn.Server):
    """uvicorn's server, ending the app's open streams (`on_shutdown`) before its own shutdown."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[], None] | None = None) -> None:
        super().__init__(config)
        self.on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.on_shutdown is not None:
            self.on_shutdown()
        await super().shutdown(sockets)


def make_server(
    app: Any,
    limits: ConnectionLimits | None = None,
    *,
    lifespan: Lifespan = "on",
    on_shutdown: Callable[[], None] | None = None,
) -> MockServer:
    """A server for `app` with the mock's connection limits and quiet logs."""
    limits = limits or ConnectionLimits()
    config = uvicorn.Config(
        app,
        interface="asgi3",  # "auto" takes a bound method for an ASGI 2 app
        http=protocol_class(limits),
        log_level="warning",
        access_log=False,
        lifespan=lifespan,
        timeout_keep_alive=limits.keep_alive_s,  # type: ignore[arg-type]  # a float works
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    return MockServer(config, on_shutdown)
