"""The reference client's workflows against the real mock (uvicorn on a loopback port, time scale 0).

Each failure path is forced with a fault rule (`POST /_mock/faults`) or the mock's clock
(`POST /_mock/clock/advance`); the client waits on a FakeClock that lets the mock finish its
work (`PacedClock`, conftest.py), so nothing here sleeps for real.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import av
import httpx
import pytest

from checkout import FIXTURES_DIR
from client import AsyncClient, Client, ClientConfig, ExportBlocked, Project
from client.flows import AsyncSkill, Failure, MessageKind, Outcome, Skill
from client.flows.reader import RAW_CLIP_READY, STILL_WORKING
from contracts import wording
from contracts.profiles import load_profile, shipped_profiles
from mockserver.settings import Settings
from mockserver.testing import LiveServer

if TYPE_CHECKING:
    from conftest import Harness, HarnessFactory, PacedClock

pytestmark = pytest.mark.live

WEB = "https://web.test"  # the web base the harness configures
GENERATE = "make a 3 second video of a red car driving at night"
MEDIA = FIXTURES_DIR / "media"


def assert_mp4(path: Path) -> None:
    """A real, playable H.264 file (B-PROF-07)."""
    with av.open(str(path)) as container:
        (video,) = container.streams.video
        assert video.codec_context.name == "h264"
        duration = float(container.duration or 0) / av.time_base
        assert duration > 0


def generate(h: Harness) -> Outcome:
    outcome = h.skill.handle(GENERATE)
    assert outcome.ok, outcome
    return outcome


# ---------------------------------------------------------------------------- the whole journey


@pytest.fixture(
    scope="module",
    params=[
        pytest.param({}, id="shape-A-documented"),
        pytest.param({"render_shape": "B"}, id="shape-B"),
        pytest.param({"dialect": "adk"}, id="adk"),
    ],
)
def variant(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    with LiveServer(Settings(time_scale=0, seed=5, access_log=False, **request.param)) as server:
        yield server


def test_generate_edit_status_export_in_each_shape_and_dialect(
    variant: LiveServer,
    tmp_path: Path,
    harness_factory: HarnessFactory,
    new_paid_token: Callable[[LiveServer], str],
) -> None:
    """B-CLI-01, B-CLI-05, B-CLI-11, B-CLI-12, B-CLI-14, B-CLI-15, B-CLI-19, B-REN-06, B-REN-07, B-ADK-02:
    one project from first message to a delivered MP4, against render shapes A and B and the ADK dialect."""
    variant.reset()
    h = harness_factory(variant, token=new_paid_token(variant))
    first = generate(h)
    texts = first.texts()
    assert texts[:2] == ["Connecting to NemoVideo...", "✅ Ready: a new project is open."]
    assert texts.index("This may take a few minutes.") < texts.index(RAW_CLIP_READY)
    assert first.texts(MessageKind.REPLY), "the backend's texts are shown (GUI-translated)"
    assert first.texts(MessageKind.CHANGE)[0].startswith("✅ Video generated: red car driving at night")
    assert first.texts(MessageKind.SUMMARY)[0].startswith("Timeline (")

    edit = h.skill.handle("add a title 'Paradise Found'")
    assert edit.ok and any("Paradise Found" in t for t in edit.texts(MessageKind.CHANGE))
    assert edit.texts(MessageKind.SUGGESTION)

    status = h.skill.handle("status")
    assert "Paradise Found" in status.texts(MessageKind.SUMMARY)[0]

    out = tmp_path / "night.mp4"
    export = h.skill.export(out)
    assert export.ok, export
    progress = export.texts(MessageKind.PROGRESS)
    assert progress[0] == "⏳ Rendering ~30s" and all(p.endswith("%") for p in progress[1:])
    assert export.file == out and export.texts(MessageKind.FILE)[0].startswith("✅ Video ready!")
    assert export.texts(MessageKind.LINK)[0].startswith(f"🔗 Task details: {WEB}/workspace/claim?ct=clm_")
    assert_mp4(out)
    assert h.clock.sleeps == [30.0] * len(h.clock.sleeps)  # poll cadence (B-REN-10)
    assert not [e for e in h.journal() if e["path"] == "/run_sse" and e["status"] != 200]


# ---------------------------------------------------------------------------- forced failures


def test_rate_limit_once_is_retried_after_30_virtual_seconds(paid: Harness) -> None:
    """B-ERR-05, B-ERR-02, U-03: one 429 -> wait 30 s on the client's clock -> the call succeeds."""
    paid.fault(
        method="GET", path="/api/credits/balance/simple", respond={"status": 429, "json": {"code": 429}}
    )
    outcome = paid.skill.credits()
    assert outcome.ok and paid.clock.sleeps == [30.0]
    assert [e["status"] for e in paid.journal("/api/credits/balance/simple")] == [429, 200]
    assert outcome.texts(MessageKind.CREDITS) == ["💰 Credits: 10000 available (10000 in total)."]


def test_expired_token_is_renewed_with_the_same_client_id(harness: Harness) -> None:
    """B-AUTH-05, B-AUTH-07, B-AUTH-14, U-08: after 7 days the token is 1001; re-auth, same account."""
    assert harness.skill.setup().ok
    harness.advance(7 * 86400 + 1)
    outcome = harness.skill.handle("status")
    assert outcome.ok and outcome.texts(MessageKind.SUMMARY) == ["Timeline (0 tracks): empty"]
    tokens = harness.journal("/api/auth/anonymous-token")
    assert len(tokens) == 2 and {e["headers"]["x-client-id"] for e in tokens} == {"itest-client-0001"}
    states = harness.journal("/api/state/nemo_agent/me/" + harness.skill.project.session_id + "/latest")  # type: ignore[union-attr]
    assert [e["code"] for e in states] == [1001, 0]


def test_unknown_session_gets_a_new_session(paid: Harness) -> None:
    """B-SESS-07, B-ERR-05, U-16: a saved session the backend does not know -> new session, then the chat."""
    h = paid
    h.skill.project = Project("5529798706024415232", "task_gone", None, None)
    outcome = h.skill.handle("what can you do?")
    assert outcome.ok
    assert outcome.texts()[0] == "That session no longer exists; starting a new session."
    assert h.skill.project is not None and h.skill.project.session_id != "5529798706024415232"
    assert outcome.texts(MessageKind.REPLY)
    assert len(h.journal("/run_sse")) == 1


def test_silent_edit_gets_a_concrete_summary(paid: Harness) -> None:
    """B-CLI-10, B-SSE-09: the edit stream carries no text; the state diff names the change."""
    generate(paid)
    paid.fault(method="POST", path="/run_sse", sse="silent")
    outcome = paid.skill.handle("add a title 'Paradise Found'")
    assert outcome.ok and outcome.texts(MessageKind.REPLY) == []
    (change,) = outcome.texts(MessageKind.CHANGE)
    assert change.startswith("✅ Title changed:") and change.endswith("→ 'Paradise Found'")


@pytest.mark.parametrize(
    ("question", "language"),
    [("what can you do?", "en"), ("你能做什么？", "zh")],
)
def test_the_mocks_noise_is_not_shown_in_either_language(
    mock: LiveServer, harness_factory: HarnessFactory, question: str, language: str
) -> None:
    """B-SSE-12, B-CLI-09, U-18: the mock ends a normal reply with its "temporary issue" text in the
    language of the conversation, and the client hides exactly that text."""
    h = harness_factory(mock)
    assert h.skill.handle(question).ok  # the session speaks the question's language (B-SESS-02)
    session = h.skill.project
    assert session is not None and h.client.token
    h.fault(method="POST", path="/run_sse", sse="temporary_issue")
    spec = h.client.run_sse_request(session.session_id, question, 30.0)
    raw = httpx.post(spec.url, json=spec.json, headers=spec.headers, timeout=30).text
    lines = [line[5:] for line in raw.splitlines() if line.startswith("data:") and line[5:].strip()]
    data = [json.loads(line) for line in lines]
    texts = [event["content"] for event in data if event.get("type") == "text"]
    assert len(texts) >= 2 and texts[-1] == wording.TEMPORARY_ISSUE[language]

    h.fault(method="POST", path="/run_sse", sse="temporary_issue")
    outcome = h.skill.handle(question)
    assert outcome.ok and outcome.texts(MessageKind.REPLY)
    shown = " ".join(m.text for m in outcome.messages)
    assert not wording.TEMPORARY_ISSUE_MENTION.search(shown), shown


def test_stream_dropped_mid_generation_is_recovered_by_polling(paid: Harness) -> None:
    """B-CLI-17, B-CLI-08, B-SSE-14: the stream is cut after 3 events; the state shows the result."""
    paid.fault(method="POST", path="/run_sse", sse="drop:3")
    outcome = paid.skill.handle(GENERATE)
    assert outcome.ok, outcome
    assert any("won't send the message again" in t for t in outcome.texts(MessageKind.STATUS))
    assert paid.clock.sleeps[0] == 30.0
    assert outcome.texts(MessageKind.CHANGE)[0].startswith("✅ Video generated: red car driving at night")
    assert len(paid.journal("/run_sse")) == 1  # never re-sent


def test_heartbeats_only_time_out_after_ten_minutes_then_recover(paid: Harness) -> None:
    """B-CLI-06, B-CLI-07, B-CLI-17, U-04: "Still working" every 2 min, timeout at 10 min, recovery."""
    paid.fault(method="POST", path="/run_sse", sse="heartbeats_only")
    outcome = paid.skill.handle(GENERATE)
    assert outcome.ok, outcome
    assert outcome.texts(MessageKind.PROGRESS).count(STILL_WORKING) == 4
    assert outcome.texts(MessageKind.REPLY) == []
    assert any("10 minutes" in t for t in outcome.texts(MessageKind.STATUS))
    assert outcome.texts(MessageKind.CHANGE)[0].startswith("✅ Video generated")


def test_render_failure_is_retried_with_a_new_id(paid: Harness, tmp_path: Path) -> None:
    """B-CLI-16, B-REN-03, B-REN-09: the first render fails; one retry with a fresh id delivers."""
    generate(paid)
    paid.fault(method="POST", path="/api/render/proxy/lambda", render="fail")
    outcome = paid.skill.export(tmp_path / "retry.mp4")
    assert outcome.ok, outcome
    assert "retrying once with a new id" in outcome.texts(MessageKind.STATUS)[0]
    renders = paid.server.backend.renders
    assert len(renders) == 2 and sorted(job.status for job in renders.values()) == ["completed", "failed"]
    assert_mp4(tmp_path / "retry.mp4")


def test_export_without_attribution_headers_is_refused_with_the_plan_message(
    mock: LiveServer, harness_factory: HarnessFactory
) -> None:
    """B-ATTR-08, B-REN-16, U-15, B-ERR-05: an anonymous export without X-Skill-* is 402: a plan limit."""

    def strip_attribution(request: httpx.Request) -> None:
        for name in ("X-Skill-Source", "X-Skill-Version", "X-Skill-Platform"):
            request.headers.pop(name, None)

    http = httpx.Client(event_hooks={"request": [strip_attribution]}, timeout=30)
    h = harness_factory(mock, http_client=http)
    generate(h)
    outcome = h.skill.export()
    assert outcome.failure is Failure.PLAN and outcome.error_code == 402
    (line,) = outcome.texts(MessageKind.ERROR)
    assert "subscription limit, not credits" in line and f"register at {WEB}" in line
    http.close()


def test_402_fault_on_export_gives_the_subscription_message(paid: Harness) -> None:
    """B-REN-16, B-ERR-02: a 402 on render submit is never retried and never called a credits issue."""
    generate(paid)
    paid.fault(
        method="POST",
        path="/api/render/proxy/lambda",
        respond={"status": 402, "json": {"code": 402, "message": "Export not in plan", "data": None}},
    )
    outcome = paid.skill.export()
    assert outcome.failure is Failure.PLAN
    # The profile's own sentence, for a registered user too (B-ERR-05: "Register at nemovideo.com").
    assert outcome.texts(MessageKind.ERROR) == [
        f"Export needs a plan upgrade: register at {WEB} to unlock export "
        "(this is a subscription limit, not credits)."
    ]
    assert len(paid.journal("/api/render/proxy/lambda")) == 1


@pytest.mark.parametrize("profile", shipped_profiles())
def test_each_profile_words_the_402_and_the_top_up_itself(
    mock: LiveServer, harness_factory: HarnessFactory, new_paid_token: Callable[..., str], profile: str
) -> None:
    """B-PROF-01..06, B-ERR-05, B-CRED-05, B-REN-16: a Skill on a profile tells a registered user out of
    credits that profile's top-up sentence, and a blocked export its 402 sentence; the raised error
    carries the sentence as written."""
    words = load_profile(profile)
    h = harness_factory(mock, token=new_paid_token(mock, 100), profile=words)  # one generation, no edit
    generate(h)
    edit = h.skill.handle("add a title 'Paradise Found'")
    top_up = words.top_up_remedy.rstrip(".").replace("nemovideo.com", WEB)
    assert (edit.failure, edit.error_code) == (Failure.CREDITS, 2001)
    assert edit.texts(MessageKind.ERROR) == [f"Out of credits. {top_up}."]

    h.fault(method="POST", path="/api/render/proxy/lambda", respond={"status": 402, "json": {"code": 402}})
    export = h.skill.export()
    (line,) = export.texts(MessageKind.ERROR)
    unlock = words.export_blocked_remedy.rstrip(".").replace("nemovideo.com", WEB)
    assert (export.failure, export.error_code) == (Failure.PLAN, 402)
    assert unlock.lower() in line.lower() and "subscription limit, not credits" in line

    h.fault(method="POST", path="/api/render/proxy/lambda", respond={"status": 402, "json": {"code": 402}})
    with pytest.raises(ExportBlocked) as blocked:
        h.client.submit_render(h.skill.project.session_id, {"t": []})  # type: ignore[union-attr]
    assert blocked.value.remedy == words.export_blocked_remedy


def test_anonymous_user_out_of_credits_gets_the_bind_link(harness: Harness) -> None:
    """B-CRED-03, B-CRED-05, B-CLI-20, B-ERR-05: 100 credits pay one generation; the edit is 2001."""
    generate(harness)
    outcome = harness.skill.handle("add a title 'Paradise Found'")
    assert outcome.failure is Failure.CREDITS and outcome.error_code == 2001
    user_id = harness.skill.project.user_id  # type: ignore[union-attr]
    assert user_id is not None and user_id.startswith("anon_")
    assert outcome.texts(MessageKind.ERROR) == [
        f"Out of credits. Register at {WEB}/register?bind={user_id} to keep your work and get more credits."
    ]


# ---------------------------------------------------------------------------- upload


def test_upload_files_and_refusals(
    tmp_path: Path,
    new_paid_token: Callable[[LiveServer], str],
    paced_clock: Callable[[LiveServer], PacedClock],
) -> None:
    """B-UPL-02, B-UPL-04, B-UPL-07, B-UPL-08, B-ERR-05: stored files are listed; a wrong type names
    the formats; a file over the profile's cap is told to compress or trim."""
    skill_md = tmp_path / "tiny" / "SKILL.md"
    skill_md.parent.mkdir()
    skill_md.write_text("---\nname: tiny-cap\nversion: '1.0'\nnemo:\n  upload_cap_mb: 0.01\n---\n# tiny\n")
    profile = load_profile(skill_md)
    with LiveServer(Settings(time_scale=0, seed=3, access_log=False, profile=profile)) as server:
        config = ClientConfig(
            api_url=server.url, web_url=WEB, token=new_paid_token(server), client_id="upl-1", profile=profile
        )
        with Client(config, clock=paced_clock(server)) as client:
            skill = Skill(client, persist=False)
            small = skill.upload(MEDIA / "still.png")
            assert small.ok and small.texts(MessageKind.UPLOAD)[0].startswith("📎 Uploaded still.png (image")
            text_file = tmp_path / "notes.txt"
            text_file.write_text("not a video")
            wrong = skill.upload(text_file)
            assert wrong.failure is Failure.FILE and wrong.error_code == 4001
            assert wrong.texts(MessageKind.ERROR)[0].startswith("Unsupported file type. Supported: mp4")
            big = skill.upload(MEDIA / "tone-1s.wav")  # 16 KB, over the 0.01 MB cap
            assert big.failure is Failure.FILE and big.error_code == 4002
            assert "Compress or trim" in big.texts(MessageKind.ERROR)[0]
            status = skill.status()
            assert "Uploaded files: still.png." in status.texts(MessageKind.NOTICE)


# ---------------------------------------------------------------------------- the async face


def test_async_skill_against_the_live_mock(
    mock: LiveServer,
    new_paid_token: Callable[[LiveServer], str],
    paced_clock: Callable[[LiveServer], PacedClock],
) -> None:
    """B-CLI-11, B-CLI-13: the asyncio face runs the same workflows over a real server."""
    token = new_paid_token(mock)

    async def main() -> tuple[Outcome, Outcome]:
        config = ClientConfig(api_url=mock.url, web_url=WEB, token=token, client_id="async-1")
        async with AsyncClient(config, clock=paced_clock(mock)) as client:
            skill = AsyncSkill(client, persist=False)
            made = await skill.handle(GENERATE)
            credits = await skill.handle("credits")
            return made, credits

    made, credits = asyncio.run(main())
    assert made.ok and RAW_CLIP_READY in made.texts(MessageKind.STATUS)
    assert credits.texts(MessageKind.CREDITS) == ["💰 Credits: 9900 available (9900 in total)."]
