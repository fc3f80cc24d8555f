"""The journal's listeners (run-time scenario steps hear each entry as it is kept) and its readers by
mark (the web console's live feed takes what is new with `latest`)."""

from __future__ import annotations

from mockserver.journal import Journal, JournalEntry


def record(journal: Journal, path: str) -> None:
    journal.record("GET", path, b"", 200, 0, [(b"host", b"127.0.0.1")], 1.0, "127.0.0.1")


def test_listeners_hear_new_entries_until_they_unsubscribe() -> None:
    journal = Journal()
    heard: list[JournalEntry] = []
    also: list[str] = []
    record(journal, "/before")
    unsubscribe = journal.subscribe(heard.append)
    journal.subscribe(lambda entry: also.append(entry.path))
    record(journal, "/a")
    record(journal, "/b")
    assert [entry.path for entry in heard] == ["/a", "/b"]
    assert also == ["/a", "/b"]
    assert heard[0].raw_headers == ((b"host", b"127.0.0.1"),)
    unsubscribe()
    record(journal, "/c")
    assert [entry.path for entry in heard] == ["/a", "/b"]
    assert also == ["/a", "/b", "/c"]
    assert len(journal.listeners) == 1


def test_nobody_listening_leaves_an_empty_tuple() -> None:
    """The append path tests `listeners` once: with nobody listening it is an empty tuple."""
    journal = Journal()
    heard: list[JournalEntry] = []
    listener = heard.append
    journal.unsubscribe(listener)  # not listening: no error
    assert journal.listeners == ()
    journal.subscribe(listener)
    journal.unsubscribe(listener)
    assert journal.listeners == ()
    record(journal, "/x")
    assert heard == []


def test_an_entry_dropped_from_the_ring_was_still_heard() -> None:
    journal = Journal(limit=1)
    heard: list[str] = []
    journal.subscribe(lambda entry: heard.append(entry.path))
    record(journal, "/a")
    record(journal, "/b")
    assert heard == ["/a", "/b"]
    assert [entry["path"] for entry in journal.entries()] == ["/b"]


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def note(self, entry: JournalEntry) -> None:
        self.count += 1


def test_a_bound_method_unsubscribes_by_a_fresh_reference() -> None:
    """`obj.method` makes a new object each time: unsubscribing one must still find the other."""
    journal = Journal()
    counter = Counter()
    journal.subscribe(counter.note)
    journal.unsubscribe(counter.note)
    assert journal.listeners == ()
    record(journal, "/a")
    assert counter.count == 0


def test_a_reader_takes_what_was_kept_since_its_mark() -> None:
    """`latest(mark, limit)`: the newest `limit` entries kept after `mark`, how many more there were,
    and the mark for next time; requests still waiting in a batch count; a clear keeps marks valid."""
    journal = Journal(limit=100)
    mark = journal.serial
    for index in range(150):  # more than the ring keeps, across batches
        journal.record("GET", f"/{index}", b"", 200, 0, [], float(index), None)
    mark, skipped, newest = journal.latest(mark, 5)
    assert [entry.path for entry in newest] == [f"/{index}" for index in range(145, 150)]
    assert skipped == 145 and mark == 150
    stream = journal.open_stream("POST", "/run_sse", b"", 200, 0, [], 150.0, None)
    journal.record("GET", "/last", b"", 200, 0, [], 151.0, None)
    mark, skipped, newest = journal.latest(mark, 10)
    assert newest[0] is stream and [entry.path for entry in newest] == ["/run_sse", "/last"]
    assert (mark, skipped) == (152, 0)
    assert journal.latest(mark, 10) == (152, 0, [])
    journal.clear()
    journal.record("GET", "/fresh", b"", 200, 0, [], 152.0, None)
    mark, skipped, newest = journal.latest(mark, 10)
    assert [entry.path for entry in newest] == ["/fresh"] and (mark, skipped) == (153, 0)
