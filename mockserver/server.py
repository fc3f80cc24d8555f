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

from mockserver.breakage import TRANSPORT

#: Descriptors kept free for files (uploads, renders, logs) under the open-files limit.
FD_RESERVE = 256
#: A refused connection is still read (and what comes thrown away) until the client has sent
#: nothing for LINGER_IDLE_S, at most LINGER_MAX_S: closing with unread input would reset it, and
#: the client, still sending its body, could lose the refusal it was sent (nginx's lingering close).
LINGER_IDLE_S = 2.0
LINGER_MAX_S = 30.0
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
    max_header_bytes: ClassVar[int] = ConnectionLimits().max_header_bytes
    # One timer per connection, armed when it opens and re-armed only when it fires: setting and
    # cancelling a timer for every request would show in the request rate.
    _head_timer: asyncio.TimerHandle | None
    _head_started: float  # loop time the current head began (or the connection opened)
    _head_bytes: int  # bytes of earlier chunks since the head began (what httptools may be buffering)
    _feeding: int  # size of the chunk being parsed
    _in_head: bool
    _refused: bool  # over the cap: never served
    _lingering: bool  # answered with a refusal, closing soon
    _linger_until: float
    _last_data: float

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer = None
        self._head_bytes = 0
        self._feeding = 0
        self._in_head = True
        self._refused = len(self.connections) >= self.max_connections
        # A refused connection only lingers: what it sends is read and thrown away.
        self._lingering = self._refused
        if self._refused:
            transport.write(_refusal(503, "Service Unavailable", "Too many open connections; try again"))
            _linger(transport, LINGER_OVER_CAP_S)
            return
        super().connection_made(_Lingering(transport, self))  # type: ignore[arg-type]
        self._head_started = self.loop.time()
        self._arm(self.limits.header_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:
            return
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            self._last_data = self.loop.time()
            return  # read and thrown away until the close
        self._feeding = len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self._head_over_limit():
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
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes:
                self._head_too_large()  # still incomplete: httptools would go on buffering it

    def _head_over_limit(self) -> bool:
        """Whether the head parsed so far is over the limit: counted only when the bytes received
        say it could be (a head comes within its chunks), so a common request pays one comparison."""
        limit = self.max_header_bytes
        if self._head_bytes + self._feeding <= limit:
            return False
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers or ())
        return size > limit

    def _head_too_large(self) -> None:
        self._refuse(
            431,
            "Request Header Fields Too Large",
            f"The request line and headers are over {self.limits.max_header_bytes:,} bytes",
        )

    def send_400_response(self, msg: str) -> None:
        """A request the parser cannot read: the envelope, as every other refusal (U-02)."""
        self._refuse(400, "Bad Request", msg)

    # The parser's callbacks run for every request: the parent is called by name (cheaper than
    # super()) and the size check costs one comparison unless the head could be over the limit.
    def on_message_begin(self) -> None:
        HttpToolsProtocol.on_message_begin(self)
        self._in_head = True
        self._head_bytes = 0
        self._head_started = self.loop.time()

    def on_headers_complete(self) -> None:
        self._in_head = False
        if self._head_bytes + self._feeding > self.max_header_bytes and self._head_over_limit():
            raise _HeadTooLarge  # stops the parser; data_received answers 431
        # Connection faults (`breakage.py`) act on the socket itself; the request's task has not
        # started yet, so it sees the scope with this key.
        transport: Any = self.transport
        self.scope[TRANSPORT] = transport._transport if isinstance(transport, _Lingering) else transport  # type: ignore[literal-required]
        HttpToolsProtocol.on_headers_complete(self)

    def _arm(self, delay: float) -> None:
        self._head_timer = self.loop.call_later(delay, self._check_head)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _check_head(self) -> None:
        """408 for a head that has taken too long; else look again when the current one could."""
        self._head_timer = None
        timeout = self.limits.header_timeout_s
        if not self._in_head:
            self._arm(timeout)
            return
        waited = self.loop.time() - self._head_started
        if waited < timeout:
            self._arm(timeout - waited)
        elif self.cycle is not None and not self.cycle.response_complete:
            self._arm(timeout)  # an answer is still going out: the next head waits its turn
        else:
            self._refuse(408, "Request Timeout", f"The request head did not arrive within {timeout:g} s")

    def _refuse(self, status: int, reason: str, message: str) -> None:
        self._disarm()
        if not self.transport.is_closing() and not self._lingering:
            self.transport.write(_refusal(status, reason, message))
            self.linger()

    def linger(self) -> None:
        """Send what is written and a FIN, then read and throw away until the client is done."""
        self._lingering = True
        transport: Any = self.transport
        raw = transport._transport if isinstance(transport, _Lingering) else transport
        if raw.can_write_eof():
            raw.write_eof()
        raw.resume_reading()
        now = self.loop.time()
        self._last_data = now
        self._linger_until = now + LINGER_MAX_S
        self.loop.call_later(LINGER_IDLE_S, self._linger_check)

    def _linger_check(self) -> None:
        now = self.loop.time()
        idle = now - self._last_data
        if idle >= LINGER_IDLE_S or now >= self._linger_until:
            self.transport.close()
        else:
            self.loop.call_later(min(LINGER_IDLE_S - idle, self._linger_until - now), self._linger_check)


class _Lingering:
    """The connection's transport, closing gently when an answer ends while the request body is
    still coming (a 413 by Content-Length, a 408): an abrupt close would reset the connection and
    the client could lose the answer. Everything else is the transport's own."""

    __slots__ = ("_protocol", "_transport", "is_closing", "write")

    def __init__(self, transport: asyncio.Transport, protocol: HardenedProtocol) -> None:
        self._transport = transport
        self._protocol = protocol
        # What every request calls, bound once: a lookup through __getattr__ shows in the request rate.
        self.write = transport.write
        self.is_closing = transport.is_closing

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def close(self) -> None:
        protocol, transport = self._protocol, self._transport
        cycle = protocol.cycle
        if cycle is not None and cycle.more_body and not protocol._lingering and not transport.is_closing():
            protocol.linger()
        else:
            transport.close()


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
        {
            "limits": limits,
            "max_connections": limits.connections,
            "max_header_bytes": limits.max_header_bytes,
        },
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
