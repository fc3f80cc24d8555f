"""The journal's listeners: the live feed of the web console hears each entry as it is appended."""

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
