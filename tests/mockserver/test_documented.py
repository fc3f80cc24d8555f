"""The reading of documented examples (tests/mockserver/documented.py): the comparison must be able
to fail, or the documented-examples test proves nothing (B-ENV-06, B-SSE-04)."""

from __future__ import annotations

import pytest
from documented import (
    ANY_NUMBER,
    ANY_OBJECT,
    documented_json,
    mismatches,
    placeholder_form,
    responses_in_comments,
    sse_events,
    table_rows,
)


def test_documented_json_reads_elisions_and_stand_ins() -> None:
    assert documented_json('{"code":0,"data":{"token":"nmv_usr_xxx","credits":100,...}}') == {
        "code": 0,
        "data": {"token": "nmv_usr_xxx", "credits": 100},
    }
    assert documented_json('{"code":0,"data":{"available":XXX,"frozen":XX,"total":XXX}}')["data"] == {
        "available": ANY_NUMBER,
        "frozen": ANY_NUMBER,
        "total": ANY_NUMBER,
    }
    assert documented_json('{"type":"tool_call","args":{...}}')["args"] is ANY_OBJECT


def test_placeholders_keep_their_literal_parts() -> None:
    form = placeholder_form("nmv_usr_xxx")
    assert form is not None and form.fullmatch("nmv_usr_5654ff") and not form.fullmatch("clm_5654ff")
    assert placeholder_form("video.mp4") is None
    assert placeholder_form("...") is not None and placeholder_form("anon_abc123") is not None


@pytest.mark.parametrize(
    ("documented", "actual", "complaint"),
    [
        (
            '{"code":0,"data":{"credits":100}}',
            {"code": 0, "data": {}},
            "data.credits: documented key missing",
        ),
        ('{"code":0,"data":{"credits":100}}', {"code": 0, "data": {"credits": 99}}, "documented 100, got 99"),
        ('{"code":0,"data":{"credits":100}}', {"code": 0, "data": {"credits": "100"}}, "documented number"),
        ('{"success":true}', {"success": 1}, "documented boolean"),
        ('{"data":{"token":"nmv_usr_xxx"}}', {"data": {"token": "clm_1"}}, "not of the form"),
        ('{"data":{"available":XXX}}', {"data": {"available": True}}, "documented XXX"),
        ('{"data":{"args":{...}}}', {"data": {"args": []}}, "documented {...}"),
        ('{"files":[{"a":1},{"a":2}]}', {"files": [{"a": 1}]}, "documented 2 item(s), got 1"),
        ('{"status":"pending"}', {"status": "processing"}, "documented 'pending', got 'processing'"),
    ],
)
def test_mismatches_name_what_differs(documented: str, actual: object, complaint: str) -> None:
    problems = mismatches(documented_json(documented), actual)
    assert problems and complaint in problems[0], problems


def test_a_superset_with_the_same_values_holds() -> None:
    documented = documented_json('{"code":0,"data":{"token":"nmv_usr_xxx","credits":100,...}}')
    actual = {
        "code": 0,
        "message": "success",
        "data": {"token": "nmv_usr_1", "credits": 100, "user_id": "anon_1"},
    }
    assert mismatches(documented, actual) == []
    assert mismatches(documented_json('{"fps":30}'), {"fps": 30.0}) == []  # one JSON number type


def test_vary_compares_type_and_form_only() -> None:
    documented = documented_json('{"data":{"session_id":"5529798706024415232","total":25040}}')
    actual = {"data": {"session_id": "17", "total": 100}}
    assert mismatches(documented, actual, {"data.session_id": r"\d+", "data.total": None}) == []
    assert mismatches(documented, {"data": {"session_id": "s17", "total": 100}}, {"data.session_id": r"\d+"})
    assert mismatches(documented, {"data": {"session_id": "17", "total": "100"}}, {"data.total": None})


def test_stream_events_are_data_lines_and_blank_lines() -> None:
    assert sse_events('data: {"type":"heartbeat"}\n\ndata:\n\n') == ['{"type":"heartbeat"}', ""]
    with pytest.raises(ValueError, match="not a data: line"):
        sse_events('event: done\ndata: {"type":"text"}\n\n')


def test_answers_in_comments_and_table_rows() -> None:
    shell = 'curl -s "$API/x"\n# → {"code":0}\n'
    assert responses_in_comments(shell) == ['{"code":0}']
    table = "| Code | Meaning |\n|---|---|\n| 0 | Success |\nheartbeat / empty data: | Keep waiting |\n"
    assert table_rows(table) == [["0", "Success"], ["heartbeat / empty data:", "Keep waiting"]]
