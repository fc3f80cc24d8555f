"""Carrying out `connection` faults and stream resets: bytes and closes below HTTP.

`faults.py` decides that a connection breaks and how; this module does it to the socket. The
server's protocol (`server.HardenedProtocol`) puts the connection's transport in the request
scope under `TRANSPORT`; without one (an in-process ASGI client) there is no connection to break,
and the request fails with `ConnectionBroken` instead.

What the peer sees (WireMock's names for the same faults):

- `empty_response`: the connection closes before a byte of answer (a FIN);
- `malformed_chunk`: a 200 head announcing a chunked body, a chunk header that is not hex, a close;
- `random_data_then_close`: seeded random bytes where the status line should be, then a close;
- `connection_reset`: a TCP reset (SO_LINGER 0), no answer at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import Any

from starlette.types import Receive, Scope, Send

#: The scope key holding the connection's asyncio transport (set by the server's protocol).
TRANSPORT = "nemo.transport"
#: Journalled for a request whose connection was broken instead of answered (nginx's 444).
NO_RESPONSE = 444
MALFORMED_CHUNK = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    b'zz\r\n{"success": tr\r\n'
)


class ConnectionBroken(ConnectionError):
    """A connection fault fired where there is no socket (an in-process client)."""


def transport_of(scope: Scope) -> Any:
    return scope.get(TRANSPORT)


def reset(transport: Any) -> None:
    """Close with a TCP reset: the peer's next read fails with ECONNRESET."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # not a TCP socket: a plain abort is all there is
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def break_connection(scope: Scope, receive: Receive, send: Send, kind: str, data: bytes) -> None:
    """Break the request's connection as `kind` says (`faults.CONNECTION_EFFECTS`)."""
    transport = transport_of(scope)
    if transport is None:
        raise ConnectionBroken(f"connection fault {kind}: no socket to break (in-process client)")
    if kind == "connection_reset":
        reset(transport)
    else:
        if kind == "malformed_chunk":
            transport.write(MALFORMED_CHUNK)
        elif kind == "random_data_then_close":
            transport.write(data)
        transport.close()
    await wait_gone(receive)
    # The server drops sends on a gone connection; the journal and log see 444 ("no response").
    await send({"type": "http.response.start", "status": NO_RESPONSE, "headers": []})


async def wait_gone(receive: Receive) -> None:
    """Until the server has noticed the connection is gone (so it answers nothing itself)."""
    while (await receive())["type"] != "http.disconnect":
        await asyncio.sleep(0)
