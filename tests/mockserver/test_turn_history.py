"""Each session keeps its turns (the workspace page's chat): message, replies, draft before and after."""

from __future__ import annotations

from conftest import User

from mockserver.testing import LiveServer


def test_turns_keep_message_replies_and_drafts(mock: LiveServer, paid: User) -> None:
    """B-SESS-08: the draft persists between messages; each turn records what it changed."""
    session_id, _ = paid.session()
    paid.chat(session_id, "make a video about the sea")
    mock.wait_idle()
    paid.chat(session_id, "add a title")
    mock.wait_idle()
    session = mock.backend.sessions.sessions[session_id]
    first, second = session.history
    assert (first.text, second.text) == ("make a video about the sea", "add a title")
    assert first.kind == "generate" and second.kind == "edit"
    assert first.draft_before is None
    assert first.draft_after is not None and first.draft_after is second.draft_before
    assert second.draft_after == paid.state(session_id)["draft"]
    assert first.finished_at is not None and first.failed is None
    assert first.replies and all(isinstance(reply, str) and reply for reply in first.replies)


def test_a_silent_fault_leaves_no_replies(mock: LiveServer, paid: User) -> None:
    """B-SSE-09: a turn whose stream carries no text shows none; its draft still changed."""
    session_id, _ = paid.session()
    paid.chat(session_id, "make a video about the sea")
    mock.wait_idle()
    armed = paid.http.post("/_mock/faults", json={"method": "POST", "path": "/run_sse", "sse": "silent"})
    assert armed.status_code == 200, armed.text
    paid.chat(session_id, "remove the music")
    mock.wait_idle()
    turn = mock.backend.sessions.sessions[session_id].history[-1]
    assert turn.replies == () and turn.silent
    assert turn.draft_after != turn.draft_before
