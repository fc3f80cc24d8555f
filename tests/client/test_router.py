"""The request router (B-CLI-01, B-CLI-02)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client.router import (
    ROUTE_KEYWORDS,
    V44_KEYWORDS,
    Route,
    RouteMatch,
    classify,
    route,
    skips_backend,
)

CASES: list[tuple[str, Route]] = [
    # v1.9 table, each keyword (B-CLI-01)
    ("export", Route.EXPORT),
    ("Please export my video", Route.EXPORT),
    ("把视频导出", Route.EXPORT),
    ("download", Route.EXPORT),
    ("Can I download it now?", Route.EXPORT),
    ("send me the video", Route.EXPORT),
    ("Send me the   video please", Route.EXPORT),
    ("credits", Route.CREDITS),
    ("how many credits do I have left?", Route.CREDITS),
    ("还有多少积分", Route.CREDITS),
    ("What's my balance?", Route.CREDITS),
    ("查一下余额", Route.CREDITS),
    ("status", Route.STATUS),
    ("What's the status?", Route.STATUS),
    ("现在的状态", Route.STATUS),
    ("show tracks", Route.STATUS),
    ("upload", Route.UPLOAD),
    ("I want to upload a clip", Route.UPLOAD),
    ("我要上传素材", Route.UPLOAD),
    # v4.4 extras (B-CLI-02)
    ("现在什么样了", Route.STATUS),
    ("regenerate", Route.CHAT),
    ("重新生成一个", Route.CHAT),
    ("redo the intro", Route.CHAT),
    ("再来一个", Route.CHAT),
    # case-insensitive, next to Chinese text
    ("EXPORT NOW", Route.EXPORT),
    ("export视频", Route.EXPORT),
    ("Show Tracks", Route.STATUS),
    # everything else goes to the backend
    ("make a 10 second city timelapse", Route.CHAT),
    ("add lo-fi background music at 35%", Route.CHAT),
    ("生成一个城市夜景视频", Route.CHAT),
    ("", Route.CHAT),
    # false-positive guards: inflections and video vocabulary
    ("make the exported title bigger", Route.CHAT),
    ("the downloaded clip looks blurry, sharpen it", Route.CHAT),
    ("use the clip I uploaded as the intro", Route.CHAT),
    ("add end credits with the cast names", Route.CHAT),
    ("roll the credits over the last shot", Route.CHAT),
    ("fix the white balance", Route.CHAT),
    ("balance the audio between voice and music", Route.CHAT),
    ("add a phone status bar overlay", Route.CHAT),
    ("加一个手机状态栏", Route.CHAT),
    ("credited to the photographer", Route.CHAT),
    # a real request beside guarded vocabulary still routes
    ("what's my balance after the white balance edit?", Route.CREDITS),
]


@pytest.mark.parametrize(("message", "expected"), CASES)
def test_router_table(message: str, expected: Route) -> None:
    """B-CLI-01, B-CLI-02: documented keywords route to their flow, the rest to SSE."""
    assert route(message) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("redo the export", Route.EXPORT),  # export row comes first
        ("regenerate it, then show the status", Route.CHAT),  # regenerate row before status
        ("upload status?", Route.STATUS),  # status row before upload
        ("download my balance report", Route.EXPORT),  # export before credits
    ],
)
def test_router_precedence_follows_table_order(message: str, expected: Route) -> None:
    """B-CLI-01, B-CLI-02: with several keywords the first table row wins (v4.4 order)."""
    assert route(message) == expected


def test_attached_file_routes_to_upload_whatever_the_text() -> None:
    """B-CLI-01: a sent file goes to the upload flow first."""
    assert route("add this as background music", has_attachment=True) == Route.UPLOAD
    assert route("export", has_attachment=True) == Route.UPLOAD
    assert classify("", has_attachment=True) == RouteMatch(Route.UPLOAD, None)


def test_classify_names_the_keyword() -> None:
    """B-CLI-01: the decision says which keyword made it."""
    assert classify("what's my 余额?") == RouteMatch(Route.CREDITS, "余额")
    assert classify("Send me the video") == RouteMatch(Route.EXPORT, "send me the video")
    assert classify("add a title") == RouteMatch(Route.CHAT, None)


def test_every_table_keyword_routes_to_its_row() -> None:
    """B-CLI-01, B-CLI-02: the data table and the router agree, keyword by keyword."""
    for expected, keywords in ROUTE_KEYWORDS.items():
        for keyword in keywords:
            assert classify(keyword) == RouteMatch(expected, keyword)
            assert route(f"  {keyword.upper()}  ") == expected


def test_keyword_table_holds_v19_and_v44_rows() -> None:
    """B-CLI-01, B-CLI-02: the table is the documented one, v4.4 extras marked."""
    assert list(ROUTE_KEYWORDS) == [Route.EXPORT, Route.CREDITS, Route.CHAT, Route.STATUS, Route.UPLOAD]
    assert set(ROUTE_KEYWORDS[Route.STATUS]) >= {"status", "状态", "show tracks", "现在什么样了"}
    all_keywords = {k for row in ROUTE_KEYWORDS.values() for k in row}
    assert all_keywords >= V44_KEYWORDS
    assert all(isinstance(r, str) for r in Route)
    assert route("export") == "export"  # Route values compare as plain strings


def test_only_chat_touches_the_backend() -> None:
    """B-CLI-01, B-CLI-13: export, credits, status and upload never go to SSE."""
    assert [r for r in Route if not skips_backend(r)] == [Route.CHAT]


@given(st.text(max_size=200), st.booleans())
def test_router_always_answers(message: str, attachment: bool) -> None:
    """B-CLI-01: any text gets a route; nothing raises."""
    assert route(message, has_attachment=attachment) in set(Route)
