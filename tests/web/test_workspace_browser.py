"""The workspace page a claim link opens, in a real browser (B-CLI-19, B-AUTH-20/21/22)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from web_api import anonymous, paid
from web_browser import artifacts_dir

from mockserver.testing import LiveServer

pytestmark = pytest.mark.live

SCRIPT = Path(sys.executable).with_name("nemo-client")
GENERATE = "make a 3 second video of a blue boat on a lake"
TASK_LINK = re.compile(r"🔗 Task details: (\S+)")


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def run_client(server: LiveServer, config_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEMO_", "SKILL_"))}
    env.update(NEMO_API_URL=server.url, NEMO_CONFIG_DIR=str(config_dir), NEMO_TIME_SCALE="0")
    done = subprocess.run(
        [str(SCRIPT), *argv], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_claim_link_printed_by_a_real_export_opens_the_project(
    page: Page, server: LiveServer, tmp_path: Path
) -> None:
    """B-CLI-19, B-AUTH-20, B-ENV-02: `nemo-client export` against the local mock (NEMO_WEB_URL unset)
    prints a claim link on the mock itself; it opens the project: its title, the draft's segments on
    the timeline, the chat turn, and the render's MP4 playing in a <video> of the draft's duration."""
    config = tmp_path / "config"
    run_client(server, config, "chat", GENERATE)
    export = run_client(server, config, "export", "--out", str(tmp_path / "boat.mp4"))
    (link,) = TASK_LINK.findall(export.stdout)
    assert link.startswith(f"{server.url}/workspace/claim?ct=clm_")

    response = page.goto(link)
    assert response is not None and response.status == 200
    (session,) = server.backend.sessions.sessions.values()
    draft = session.draft
    assert draft is not None
    expect(page.locator("h1#project-title")).to_have_text(draft["m"]["title"])

    # The timeline: one row per track, one block per segment, each labelled.
    segments = [seg for track in draft["t"] for seg in track["sg"]]
    expect(page.locator("#timeline .track")).to_have_count(len(draft["t"]))
    expect(page.locator("#timeline .segment")).to_have_count(len(segments))
    for seg in segments:
        block = page.locator(f'#timeline .segment[data-segment-id="{seg["id"]}"]')
        expect(block).to_have_attribute("data-start", str(seg["st"] / 1000))
        expect(block).to_have_attribute("data-duration", str(seg["d"] / 1000))
    expect(page.locator("#chat .turn")).to_have_count(1)
    expect(page.locator("#chat .said.user")).to_have_text(f"You: {GENERATE}")

    # The render: completed, its MP4 loads and plays for the draft's duration.
    expect(page.locator("#renders .render-status")).to_have_text("completed")
    video = page.locator("#renders video")
    expect(video).to_have_count(1)
    page.wait_for_function("document.querySelector('#renders video').readyState >= 2")
    duration = video.evaluate("v => v.duration")
    fps = draft["m"].get("fps", 30)
    assert abs(duration - draft["d"] / 1000) <= 1 / fps + 1e-6, (duration, draft["d"])
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("document.querySelector('#renders video').currentTime > 0")
    assert video.evaluate("v => v.error") is None
    # The generated draft has music (tt 1): its AAC track is one Chromium decodes.
    assert any(track["tt"] == 1 and track["sg"] for track in draft["t"])
    page.wait_for_function("document.querySelector('#renders video').webkitAudioDecodedByteCount > 0")
    video.evaluate("v => v.pause()")
    page.screenshot(path=str(artifacts_dir() / "workspace.png"), full_page=True)


def test_the_page_follows_the_session_live(page: Page, server: LiveServer, http: httpx.Client) -> None:
    """B-SESS-08: a turn that ends while the page is open appears without a reload, with what it
    changed in the draft."""
    caller = paid(http)
    session_id, task_id = caller.session("live project")
    page.goto(f"{server.url}/workspace/claim?ct={caller.claim(session_id, task_id)}")
    expect(page.locator("#live-status")).to_have_text("Following the project live.")
    expect(page.locator("#chat .turn")).to_have_count(0)
    caller.chat(session_id, "make a video about the sea")
    expect(page.locator("#chat .turn")).to_have_count(1, timeout=5000)
    expect(page.locator("#timeline .segment").first).to_be_visible()
    caller.chat(session_id, "remove the music")
    expect(page.locator("#chat .turn")).to_have_count(2, timeout=5000)
    expect(page.locator('#chat .turn[data-turn="2"] .changes li').first).to_contain_text("BGM")


def test_refused_links_get_a_page_with_the_right_status(
    page: Page, server: LiveServer, http: httpx.Client
) -> None:
    """B-AUTH-20, B-AUTH-21, B-AUTH-22: a claim token opens only its own project; an unknown, expired,
    foreign or user-token link, and the old `token=` form, get an HTML page saying why, never JSON."""
    owner = paid(http)
    session_id, task_id = owner.session()
    ct = owner.claim(session_id, task_id)
    other = anonymous(http, "someone-else")
    other_session, _ = other.session()
    base = f"{server.url}/workspace/claim"
    cases = [
        (f"{base}?ct=clm_{'0' * 32}", 404, "Unknown project link"),
        (f"{base}?token=&task={task_id}&session={session_id}", 400, "This link is in an old form"),
        (f"{base}?token={owner.token}", 400, "This link is in an old form"),
        (f"{base}?ct={owner.token}", 400, "This link holds a sign-in token"),
        (f"{base}?ct={ct}&session={other_session}", 403, "This link opens another project"),
        (f"{base}", 400, "This link has no claim token"),
    ]
    for url, status, heading in cases:
        response = page.goto(url)
        assert response is not None and response.status == status, url
        assert response.headers["content-type"].startswith("text/html")
        expect(page.locator("h1")).to_have_text(heading)
        assert owner.token not in page.content()
    # The token itself still works until it expires (7 days on the virtual clock) ...
    assert page.goto(f"{base}?ct={ct}").status == 200  # type: ignore[union-attr]
    # ... and grants no API access (B-AUTH-21).
    assert (
        http.get("/api/credits/balance/simple", headers={"Authorization": f"Bearer {ct}"}).json()["code"]
        == 1001
    )
    server.call(server.backend.clock.advance, 7 * 86400 + 1)
    response = page.goto(f"{base}?ct={ct}")
    assert response is not None and response.status == 410
    expect(page.locator("h1")).to_have_text("This project link has expired")
    page.screenshot(path=str(artifacts_dir() / "refusal.png"))


def test_hostile_titles_and_messages_stay_text(page: Page, server: LiveServer, http: httpx.Client) -> None:
    """What users typed is shown as text: a title or message holding markup injects nothing."""
    hostile_title = '<img src=x onerror="window.__injected=1">"\'&'
    hostile_message = "make a video about <script>window.__injected=2</script> the sea"
    caller = paid(http)
    session_id, task_id = caller.session(hostile_title)
    caller.chat(session_id, hostile_message)
    server.wait_idle()
    url = f"{server.url}/workspace/claim?ct={caller.claim(session_id, task_id)}"
    raw = http.get(url).text
    assert "<script>window.__injected" not in raw and "<img src=x" not in raw
    assert "&lt;script&gt;window.__injected=2&lt;/script&gt;" in raw
    page.goto(url)
    expect(page.locator("#chat .said.user")).to_have_text(f"You: {hostile_message}")
    assert page.evaluate("window.__injected") is None
    assert page.locator("#main img, #main script").count() == 0
