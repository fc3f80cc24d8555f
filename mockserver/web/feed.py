"""The live feed: new journal entries, batched, to the open consoles and workspace pages.

The feed reads the journal rather than listening to it: while a page is open, every `FLUSH_S` it
takes the entries kept since its last look (`Journal.latest`), masks and serialises them once, and
the same bytes go to every console (twenty consoles cost one serialisation, not twenty). So the
request path is the same with consoles open as with none: requests are still kept in batches,
and nothing runs per request for the feed (a listener per request cost the API a quarter of its
throughput under load: bench/README.md, row 5). Only a stream's end is heard as it happens
(`Journal.watch_streams`): the console completes that stream's row. Under load a batch sends its
newest `MAX_BATCH` entries and says how many it skipped: masking every entry of 10,000 requests a
second would cost the API a tenth of its throughput, and no one reads that many rows live (the
journal keeps them all: `GET /_mock/journal`). A console that cannot keep up is told it lost
entries and reloads, rather than holding memory without bound.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

from mockserver.backend import Backend
from mockserver.journal import Entry, Journal

#: How long a batch gathers before it goes out: the console shows a request well within a second.
FLUSH_S = 0.1
#: Entries a batch sends at most (the newest); it counts the others as skipped.
MAX_BATCH = 100
#: Batches a console may have waiting before it is told it lost some.
QUEUE_BATCHES = 256
#: An SSE comment keeps idle connections (and proxies) open this often.
KEEPALIVE_S = 15.0
#: A console opens with at most this many of the latest entries.
SNAPSHOT_ENTRIES = 1000


def sse(event: str, data: object) -> bytes:
    """One Server-Sent Event; JSON data holds no raw newline, so it fits one `data:` line."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


class Feed:
    """The journal's new entries for the pages open on one server."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._consoles: set[asyncio.Queue[bytes | None]] = set()
        self._watchers: set[Callable[[], None]] = set()
        #: Streams that ended since the last batch (heard as they end: their rows are completed).
        self._ended: list[Entry] = []
        #: The journal's `serial` at the last look.
        self._mark = 0
        self._stop_streams: Callable[[], None] | None = None
        self._flush_handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Set at server shutdown: every feed ends (`close`).
        self.closed = False

    @property
    def listening(self) -> bool:
        return bool(self._consoles or self._watchers)

    def _stream_ended(self, entry: Entry) -> None:
        """The journal tells of a stream that ended (on its request's path: only an append)."""
        self._ended.append(entry)

    def _flush(self) -> None:
        """Send what the journal kept since the last look (and the streams that ended), then look
        again in `FLUSH_S` while a page is open."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        self._flush_handle = None
        if self._stop_streams is None:  # no page open (the first one is opening: attached already)
            return
        self._mark, skipped, batch = self.journal.latest(self._mark, MAX_BATCH)
        if self._ended:  # a stream both new and ended goes once, as it is now
            batch += [entry for entry in self._ended if not any(entry is new for new in batch)]
            self._ended = []
        if batch or skipped:
            if self._consoles:
                chunk = sse("entries", [entry.as_dict() for entry in batch])
                if skipped:
                    chunk += sse("skipped", skipped)
                for queue in list(self._consoles):
                    try:
                        queue.put_nowait(chunk)
                    except asyncio.QueueFull:
                        queue.get_nowait()  # make room for the news that entries were lost
                        queue.put_nowait(b"event: lost\ndata: {}\n\n")
            for watcher in list(self._watchers):
                watcher()
        if self._loop is not None:
            self._flush_handle = self._loop.call_later(FLUSH_S, self._flush)

    def _attach(self) -> None:
        if not self.listening:
            self._loop = asyncio.get_running_loop()
            self.journal.flush()
            self._mark = self.journal.serial
            self._stop_streams = self.journal.watch_streams(self._stream_ended)
            self._flush_handle = self._loop.call_later(FLUSH_S, self._flush)

    def _detach(self) -> None:
        if not self.listening:
            if self._stop_streams is not None:
                self._stop_streams()
                self._stop_streams = None
            self._ended.clear()
            if self._flush_handle is not None:
                self._flush_handle.cancel()
                self._flush_handle = None

    def close(self) -> None:
        """Server shutdown: every open feed ends now (they would otherwise hold the shutdown up)."""
        self.closed = True
        for queue in list(self._consoles):
            while queue.full():
                queue.get_nowait()
            queue.put_nowait(None)
        for watcher in list(self._watchers):
            watcher()

    # ------------------------------------------------------------------ consoles

    async def console_stream(self) -> AsyncIterator[bytes]:
        """The console's SSE stream: a `snapshot` of the latest entries, then `entries` batches.

        Subscribing and taking the snapshot happen in one step of the loop: no entry is missed or
        sent twice.
        """
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE_BATCHES)
        self._attach()
        self._flush()  # what is pending is in the snapshot: the others get it now, this one not again
        self._consoles.add(queue)
        try:
            yield sse("snapshot", self.journal.entries()[-SNAPSHOT_ENTRIES:])
            while not self.closed:
                try:
                    chunk = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    chunk = b": keep-alive\n\n"
                if chunk is None:
                    return
                yield chunk
        finally:
            self._consoles.discard(queue)
            self._detach()

    # ------------------------------------------------------------------ other pages

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback()` after each batch of new entries; returns the function that stops it."""
        self._attach()
        self._watchers.add(callback)

        def stop() -> None:
            self._watchers.discard(callback)
            self._detach()

        return stop


def feed_of(state: object, backend: Backend) -> Feed:
    """The app's one feed (kept on `app.state`), ended with the backend's other streams at shutdown."""
    feed: Feed | None = getattr(state, "web_feed", None)
    if feed is None or feed.journal is not backend.journal:
        feed = Feed(backend.journal)
        backend.stream_enders.append(feed.close)
        setattr(state, "web_feed", feed)  # noqa: B010 - app.state is a plain attribute bag
    return feed
