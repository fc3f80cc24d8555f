"""Any ASGI app (a replay, a recording proxy) on uvicorn on a free loopback port, in a thread.

    with ThreadedServer(ReplayApp(load_recording(path), time_scale=0)) as server:
        httpx.get(server.url + "/_replay/status")

One implementation for every such server: `mockserver.testing.ThreadedServer`.
"""

from __future__ import annotations

from mockserver.testing import ThreadedServer

__all__ = ["ThreadedServer"]
