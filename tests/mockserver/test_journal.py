"""The journal: secrets masked by the one policy (B-AUTH-22), bounded in entries and in bytes."""

from __future__ import annotations

import json

from mockserver.journal import BATCH, BODY_LIMIT, CUT_MARK, ENTRY_OVERHEAD, VALUE_LIMIT, Journal, mask_headers
from mockserver.masking import alias_of


def record(journal: Journal, *, path: str = "/x", query: bytes = b"", headers=()) -> None:
    journal.record("GET", path, query, 200, 0, headers, 1.0, "127.0.0.1")


def test_secret_headers_masked_kind_kept() -> None:
    """B-AUTH-22: credential headers and cookies show an alias; other headers stay as they are."""
    token = "nmv_usr_0123456789abcdef"
    headers = mask_headers(
        [
            (b"Authorization", f"Bearer {token}".encode()),
            (b"X-Client-Id", b"abc"),
            (b"Cookie", b"session=1"),
            (b"X-Auth-Token", b"short"),
        ]
    )
    assert headers == {
        "authorization": f"Bearer {alias_of(token)}",
        "x-client-id": "abc",
        "cookie": f"session={alias_of('1')}",
        "x-auth-token": alias_of("short"),
    }
    assert headers["authorization"].startswith("Bearer nmv_usr_MASKED_")
    assert "0123456789abcdef" not in str(headers)


def test_tokens_in_paths_queries_and_any_header_are_masked_when_read() -> None:
    """B-AUTH-22: a user token in a path, a query or an odd header never shows in the journal."""
    journal = Journal()
    token = "nmv_usr_feedfacefeedface"
    claim = "clm_0badc0de0badc0de"
    record(
        journal,
        path=f"/api/state/nemo_agent/{token}/s/latest",
        query=f"token=abc&ct={claim}&page=2".encode(),
        headers=[(b"x-debug", f"sent {token}".encode())],
    )
    (entry,) = journal.entries()
    text = str(entry)
    assert token not in text and claim not in text and "token=abc" not in text
    assert entry["path"] == f"/api/state/nemo_agent/{alias_of(token)}/s/latest"
    assert entry["query"] == f"token={alias_of('abc')}&ct={alias_of(claim)}&page=2"
    assert entry["headers"]["x-debug"] == f"sent {alias_of(token)}"


def test_ring_is_bounded_in_entries_and_bytes() -> None:
    """The oldest entries leave first, by count and by bytes."""
    by_count = Journal(limit=3)
    for index in range(5):
        record(by_count, path=f"/{index}")
    assert [e["path"] for e in by_count.entries()] == ["/2", "/3", "/4"]

    one = Journal()
    record(one, path=f"/{0:099d}")
    assert ENTRY_OVERHEAD + 100 < one.bytes < ENTRY_OVERHEAD + 200  # the path and a little framing
    by_bytes = Journal(limit=10_000, max_bytes=10 * one.bytes)
    for index in range(100):
        record(by_bytes, path=f"/{index:099d}")
    assert len(by_bytes) == 10
    assert by_bytes.bytes <= by_bytes.max_bytes
    assert by_bytes.entries()[-1]["path"] == f"/{99:099d}"


def test_oversized_values_are_cut_to_a_stated_size() -> None:
    """A 1 MB header costs about VALUE_LIMIT bytes; the cut is marked."""
    journal = Journal()
    record(journal, path="/" + "p" * 100_000, query=b"q" * 100_000, headers=[(b"x-big", b"v" * 1_000_000)])
    (entry,) = journal.entries()
    assert journal.bytes < ENTRY_OVERHEAD + 4 * (VALUE_LIMIT + len(CUT_MARK))
    assert entry["headers"]["x-big"] == "v" * VALUE_LIMIT + CUT_MARK.decode()
    assert entry["path"].endswith(CUT_MARK.decode()) and len(entry["path"]) == VALUE_LIMIT + len(CUT_MARK)
    assert len(entry["query"]) == VALUE_LIMIT + len(CUT_MARK)


def test_many_headers_are_kept_to_a_bounded_number() -> None:
    journal = Journal()
    record(journal, headers=[(f"x-{i}".encode(), b"v" * 200) for i in range(1000)])
    (entry,) = journal.entries()
    assert len(entry["headers"]) <= 64


def test_clear_resets_the_byte_count() -> None:
    journal = Journal()
    record(journal)
    journal.clear()
    assert len(journal) == 0 and journal.bytes == 0


def test_a_stream_is_counted_once_and_its_body_when_it_ends() -> None:
    """Open, then complete: one entry; its bytes grow by what it sent; one that left is not counted."""
    journal = Journal(limit=2)
    heard: list[bool] = []
    journal.subscribe(lambda entry: heard.append(entry.stream and entry.ended is None))
    stream = journal.open_stream("POST", "/run_sse", b"", 200, 0, [], 1.0, None, "s1", b'{"a":1}')
    assert journal.entries()[0]["open"] is True and journal.entries()[0]["request_body"] == {"a": 1}
    before = journal.bytes
    journal.complete(stream, 0, b"data: {}\n\n" * 1000, 9.0)
    (entry,) = journal.entries()
    assert entry["open"] is False and entry["ended"] == 9.0 and entry["session"] == "s1"
    assert entry["response_body_cut"] is True and len(entry["response_body"]) <= BODY_LIMIT + len(CUT_MARK)
    assert journal.bytes == before + BODY_LIMIT + len(CUT_MARK)
    assert heard == [True, False]  # told when it opened and when it ended

    gone = journal.open_stream("POST", "/run_sse", b"", 200, 0, [], 10.0, None)
    record(journal, path="/a")
    record(journal, path="/b")  # the ring keeps two: the open stream left it
    bytes_now = journal.bytes
    journal.complete(gone, 0, b"x" * 100, 11.0)
    assert journal.bytes == bytes_now and [e["path"] for e in journal.entries()] == ["/a", "/b"]


def test_recorded_requests_are_seen_at_once_though_kept_in_batches() -> None:
    journal = Journal()
    for index in range(BATCH + 3):
        record(journal, path=f"/{index}")
        assert len(journal) == index + 1
    assert journal.entries()[-1]["path"] == f"/{BATCH + 2}"


def test_bodies_are_cut_on_the_way_in() -> None:
    journal = Journal()
    journal.record("POST", "/x", b"", 200, 0, [], 1.0, None, None, b"{" * 100_000, b"y" * 100_000)
    framing = 200  # field markers, the method, the path, the time, the names of the noted fields
    assert journal.bytes < ENTRY_OVERHEAD + 2 * (BODY_LIMIT + len(CUT_MARK)) + framing
    (entry,) = journal.entries()
    assert entry["request_body_cut"] and entry["response_body_cut"]


def test_a_request_state_holding_an_odd_object_is_still_kept() -> None:
    """What a handler noted is packed with the request's state; a value marshal does not take is
    kept as its text instead of losing the entry (or failing the request)."""
    journal = Journal()
    scope = {
        "method": "GET",
        "path": "/odd",
        "query_string": b"",
        "headers": [(b"x-a", b"1")],
        "client": ("127.0.0.1", 5000),
        "state": {"nemo_status": 201, "nemo_code": 0, "nemo_session": "s1", "odd": object()},
    }
    journal.note(scope, 0, 2.0)
    record(journal, path="/plain")
    first, second = journal.entries()
    assert (first["path"], first["status"], first["code"], first["session"]) == ("/odd", 201, 0, "s1")
    assert first["client"] == "127.0.0.1" and first["headers"] == {"x-a": "1"}
    assert second["path"] == "/plain" and second["status"] == 200


def test_a_status_left_to_the_handler_and_never_noted_is_500() -> None:
    """Status 0 means the handler notes it; a request whose handler noted nothing raised: 500."""
    journal = Journal()
    journal.note({"method": "GET", "path": "/x", "query_string": b"", "headers": []}, 0, 1.0)
    (entry,) = journal.entries()
    assert entry["status"] == 500 and entry["code"] is None and entry["client"] is None


def test_a_body_escaping_a_lone_surrogate_shows_as_text_and_the_journal_stays_utf8() -> None:
    """A JSON body with `"\\ud800"` (which the API refuses) parses to a string UTF-8 cannot carry:
    the journal shows that body as the text it came as, so its own answer still encodes; a body
    with a proper pair still shows parsed."""
    journal = Journal()
    journal.record("POST", "/x", b"", 400, 400, [], 1.0, None, None, b'{"a": "\\ud800"}', None)
    journal.record("POST", "/y", b"", 200, 0, [], 2.0, None, None, b'{"a": "\\ud83d\\ude00"}', None)
    journal.record("POST", "/z", b"", 200, 0, [], 3.0, None, None, "upload: bad\udcff.mp4 (3 bytes)", None)
    lone, pair, described = journal.entries()
    assert lone["request_body"] == '{"a": "\\ud800"}'
    assert pair["request_body"] == {"a": "\U0001f600"}
    assert described["request_body"] == "upload: bad?.mp4 (3 bytes)"
    json.dumps(journal.entries(), ensure_ascii=False).encode("utf-8")  # the journal's answer encodes
