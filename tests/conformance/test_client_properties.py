"""The client-side contract suite (`conformance.clientcheck`): worlds, properties, the reference client.

Three layers:

- the worlds hypothesis draws answer in the shapes the schemas fix (envelope, state, render
  shapes A and B, stream events in both dialects), whatever faults they inject;
- each property, on hand-made interactions: it holds for the documented reaction and breaks
  for the undocumented one, naming the rule;
- the reference client (`client.flows.Skill`) driven in-process through generated worlds on a
  FakeClock keeps every property: both render shapes, business errors with HTTP 200 or error
  statuses, heartbeat mixes, silent edits, a drop at any event, bursts of 429, slow renders.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from client import Client, ClientConfig, FakeClock
from client.flows import Skill
from conformance.clientcheck import check_client, judge, run_reference, worlds
from conformance.clientcheck.backend import WorldBackend, route_of
from conformance.clientcheck.properties import PROPERTIES, Property, property_named
from conformance.clientcheck.recording import Exchange, Interaction
from conformance.clientcheck.runners import IN_PROCESS_API
from conformance.clientcheck.strategies import (
    ALL_KINDS,
    BUSINESS_CODES,
    EVENT_TYPES,
    HTTP_CODES,
    RENDER_ENDS,
    SETUP_MESSAGE,
    Focus,
)
from conformance.clientcheck.transport import WorldTransport, to_response
from conformance.clientcheck.world import (
    TEMPORARY_ISSUE_TEXTS,
    Account,
    Beats,
    Calls,
    ErrorStatus,
    Fault,
    Garbage,
    Render,
    RenderAttempt,
    Request,
    Returns,
    Says,
    Stream,
    Timeline,
    World,
    expected_notices,
    heard_items,
    interrupted,
)
from contracts.profiles import load_profile
from contracts.spec import validator
from mockserver.wire import GARBAGE_BLOCK

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

EDIT = Request("chat", "add a title 'Golden Hour'")
TITLE = Timeline("city timelapse", "title", "Golden Hour", 0)
SILENT_EDIT = Stream((Calls("edit_multitrack"), Returns("edit_multitrack")))


def violations(world: World, interaction: Interaction) -> list[str]:
    return [f"{v.property.name}: {v.problem}" for v in judge(world, interaction)]


def check(name: str, world: World, interaction: Interaction) -> str | None:
    """The problem `name` finds, or None; fails the test when the property does not apply."""
    verdict = property_named(name)(world, interaction)
    assert verdict.applies, f"{name} does not apply"
    return verdict.problem


def ex(
    route: str, status: int = 200, code: int = 0, *, tag: str = "", at: float | None = None, **kw: Any
) -> Exchange:
    return Exchange(route, "GET", f"/{route}", status, code, tag=tag, at=at, **kw)


def fault(route: str, code: int, at: float | None = None) -> Exchange:
    status = code if code < 1000 else 200
    return Exchange(
        route, "POST", f"/{route}", status, code, fault=True, at=at, tag="refused" if route == "sse" else ""
    )


def sse(text: str = "add a title 'Golden Hour'", tag: str = "stream") -> Exchange:
    body = {"new_message": {"parts": [{"text": text}]}}
    return Exchange("sse", "POST", "/run_sse", 200, tag=tag, body=body)


# ---------------------------------------------------------------------------- worlds and schemas


def test_strategies_take_codes_statuses_and_events_from_the_schemas() -> None:
    """B-ERR-01, B-ERR-02, B-REN-09, B-SSE-05: fault codes, render ends, event types: from the schemas."""
    assert BUSINESS_CODES == (1001, 1002, 2001, 4001, 4002)
    assert HTTP_CODES == (400, 402, 429)
    assert RENDER_ENDS == ("completed", "failed", "stalled")
    assert set(EVENT_TYPES) == {"text", "tool_call", "tool_result", "heartbeat"}


class ValidatingTransport(WorldTransport):
    """A WorldTransport that checks every answer against the schema of its endpoint."""

    def __init__(self, backend: WorldBackend, clock: FakeClock) -> None:
        super().__init__(backend, clock)
        self.problems: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.backend.handle(request.method, str(request.url), request.headers, request.read())
        route = route_of(request.method, request.url.path)
        if answer.chunks is not None:
            schema = "event-adk" if self.backend.world.dialect == "adk" else "event-documented"
            for chunk in answer.chunks:
                if chunk == GARBAGE_BLOCK or not chunk.endswith(b"\n\n"):
                    continue  # the stream faults' invalid block and cut event: not events at all
                data = chunk.decode().strip()
                if data.startswith("data:") and data[5:].strip():
                    self._validate(schema, json.loads(data[5:]), route)
        elif dict(answer.headers).get("content-type") == "application/json":
            self._json(route, json.loads(answer.body))
        return to_response(answer)

    def _validate(self, schema: str, value: Any, where: str) -> None:
        for error in validator(schema).iter_errors(value):
            self.problems.append(f"{where}: {error.message}")

    def _json(self, route: str, value: Any) -> None:
        render = self.backend.world.render
        if route in ("submit", "poll", "cancel") and "code" not in value:
            self._validate(
                "render-shape-b" if render and render.shape == "B" else "render-shape-a", value, route
            )
            return
        self._validate("envelope", value, route)
        if route == "state" and value.get("code") == 0:
            self._validate("state#/$defs/stateData", value["data"], route)


@FAST
@given(worlds(ALL_KINDS))
def test_every_world_answers_in_the_documented_shapes(world: World) -> None:
    """B-ENV-06, B-ERR-01, B-REN-06, B-REN-07, B-SSE-05, B-STATE-02, U-01, U-03: every answer of every
    generated world, faults included, validates against its schema."""
    with tempfile.TemporaryDirectory() as downloads:
        problems = answer_problems(world, Path(downloads))
    assert problems == []


def answer_problems(world: World, downloads: Path) -> list[str]:
    backend = WorldBackend(world, IN_PROCESS_API)
    clock = FakeClock()
    transport = ValidatingTransport(backend, clock)
    config = ClientConfig(
        api_url=IN_PROCESS_API, token=world.user_token, client_id="cc-1", profile=load_profile()
    )
    with Client(config, transport=transport, clock=clock) as client:
        skill = Skill(client, persist=False, downloads_dir=downloads)
        if world.setup:
            skill.handle(world.setup)
            backend.start_request()
        skill.handle(world.request.text, (world.request.attachment,) if world.request.attachment else ())
    return transport.problems


def test_a_world_describes_itself_as_one_json_line() -> None:
    """B-CLI-17: a failing world is printed in full, compactly, for the report."""
    world = World(
        EDIT, faults=(Fault("sse", 429, 2),), stream=Stream((Beats(30, "mixed"),), "drop"), timeline=TITLE
    )
    summary = json.loads(world.describe())
    assert summary["faults"] == [["sse", 429, 2]]
    assert summary["stream"] == ["beats: 30 mixed", "drop"]
    assert summary["timeline"]["change"] == "title: Golden Hour"


def test_notices_due_follow_virtual_minutes_of_heartbeats() -> None:
    """B-CLI-06, B-CLI-07, U-04: a notice per 2 virtual minutes (24 beats at 5 s), 4 before the timeout."""
    assert expected_notices(Stream((Beats(23),))) == 0
    assert expected_notices(Stream((Beats(24),))) == 1
    assert expected_notices(Stream((Beats(119),))) == 4
    assert expected_notices(Stream((Beats(130), Says("late")))) == 4  # nothing is read after the timeout
    assert expected_notices(Stream((Beats(24), Calls("edit_multitrack"), Beats(48)))) == 3


# ---------------------------------------------------------------------------- properties, by hand


def test_every_property_names_its_rules() -> None:
    """B-ERR-05, B-CLI-08: each property states the rule ids it guards and a one-line summary."""
    assert len({p.name for p in PROPERTIES}) == len(PROPERTIES) >= 20
    for candidate in PROPERTIES:
        assert candidate.rules and all(rule.startswith("B-") for rule in candidate.rules)
        assert candidate.summary


def test_never_resends_counts_run_sse_bodies_after_a_stream() -> None:
    """B-CLI-08, B-SSE-13: a message refused before its stream may go again; one accepted, never."""
    world = World(EDIT, faults=(Fault("sse", 429),), stream=SILENT_EDIT, timeline=TITLE)
    fine = Interaction(
        (fault("sse", 429), sse(), ex("state", tag="after")), ("✅ Title added: 'Golden Hour'",)
    )
    assert check("never-resends", world, fine) is None
    twice = Interaction((sse(), sse(), ex("state")), ("Done",))
    assert "sent again" in (check("never-resends", world, twice) or "")


def test_gui_words_raw_json_and_tokens_are_never_shown() -> None:
    """B-CLI-03, B-CLI-21, B-AUTH-22: a GUI instruction, raw JSON or a token in any line is a violation."""
    world = World(EDIT, stream=SILENT_EDIT, timeline=TITLE)
    assert "GUI" in (check("no-gui-instruction", world, Interaction((), ("Click Export to save it.",))) or "")
    assert check("no-gui-instruction", world, Interaction((), ("Say 'export' for the MP4.",))) is None
    assert "JSON" in (check("no-raw-json-or-token", world, Interaction((), ('{"type":"text"}',))) or "")
    assert "JSON" in (check("no-raw-json-or-token", world, Interaction((), ('error "code": 1001',))) or "")
    assert "token" in (check("no-raw-json-or-token", world, Interaction((), ("Bearer nmv_usr_abc",))) or "")
    assert check("no-raw-json-or-token", world, Interaction((), ("your token nmv_usr_*** works",))) is None


def test_rate_limit_needs_one_retry_after_30_seconds_then_the_wait_remedy() -> None:
    """B-ERR-05: exactly one retry after 30 s on the clock, then a line naming the 30 s wait."""
    world = World(Request("credits", "credits"), faults=(Fault("credits", 429, 3),))
    good = Interaction(
        (ex("token", at=0), fault("credits", 429, at=0), fault("credits", 429, at=30)),
        ("Rate limited; wait 30 s and retry.",),
        ok=False,
    )
    assert check("rate-limit-once", world, good) is None
    hasty = Interaction((fault("credits", 429, at=0), fault("credits", 429, at=5)), ("wait 30 s",), ok=False)
    assert "wait 30 s" in (check("rate-limit-once", world, hasty) or "")
    forever = Interaction((*(fault("credits", 429) for _ in range(3)), ex("credits")), ("60",), ok=True)
    assert "retried 3 times" in (check("rate-limit-once", world, forever) or "")
    silent = Interaction((fault("credits", 429), fault("credits", 429)), ("Something went wrong.",), ok=False)
    assert "remedy for 429" in (check("rate-limit-once", world, silent) or "")
    never = Interaction((fault("credits", 429),), ("Rate limited.",), ok=False)
    assert "gave up" in (check("rate-limit-once", world, never) or "")


def test_business_error_remedies() -> None:
    """B-ERR-05, B-CLI-20, B-REN-16, B-AUTH-14, B-SESS-07: each persistent error names its remedy."""
    anon = World(EDIT, faults=(Fault("sse", 2001),), stream=SILENT_EDIT, timeline=TITLE)
    refused = (ex("state"), fault("sse", 2001))
    link = Interaction(
        refused, ("Out of credits. Register at https://w/register?bind=anon_clientcheck01",), ok=False
    )
    assert check("out-of-credits-link", anon, link) is None
    no_link = Interaction(refused, ("Out of credits. Register at https://w/register",), ok=False)
    assert "bind=anon_clientcheck01" in (check("out-of-credits-link", anon, no_link) or "")
    resent = Interaction((*refused, sse()), ("Out of credits ?bind=anon_clientcheck01",), ok=False)
    assert "sent it again" in (check("out-of-credits-link", anon, resent) or "")

    export = World(
        Request("export", "export"), setup=SETUP_MESSAGE, faults=(Fault("submit", 402),), render=Render()
    )
    plan = Interaction(
        (ex("state"), fault("submit", 402)), ("Export needs a plan upgrade (not credits).",), ok=False
    )
    assert check("plan-not-credits", export, plan) is None
    blamed = Interaction((ex("state"), fault("submit", 402)), ("Upgrade: you are out of credits.",), ok=False)
    assert "blamed credits" in (check("plan-not-credits", export, blamed) or "")

    reauth = (fault("state", 1001), ex("token", client_id="c1"), fault("state", 1001))
    told = Interaction(
        (ex("token", client_id="c1"), *reauth), ("Your NEMO_TOKEN is invalid; create a new one.",), ok=False
    )
    assert check("reauth-once", World(EDIT, faults=(Fault("state", 1001, 2),)), told) is None
    blind = Interaction((fault("state", 1001), fault("state", 1001)), ("Your token is invalid",), ok=False)
    assert "without re-authentication" in (check("reauth-once", World(EDIT), blind) or "")
    other_id = Interaction(
        (ex("token", client_id="c1"), fault("state", 1001), ex("token", client_id="c2"), ex("state")), ("ok",)
    )
    assert "different client id" in (check("reauth-once", World(EDIT), other_id) or "")

    moved = Interaction(
        (fault("state", 1002), ex("session"), ex("state")), ("That session no longer exists.",), ok=True
    )
    assert check("new-session-once", World(EDIT), moved) is None
    same = Interaction((fault("state", 1002), ex("state")), ("ok",), ok=True)
    assert "without new session" in (check("new-session-once", World(EDIT), same) or "")


def test_client_id_and_file_remedies() -> None:
    """B-AUTH-02, B-UPL-07, B-ERR-05: 400 -> a new client id; 4001 -> the formats; 4002 -> compress/trim."""
    world = World(Request("credits", "credits"))
    renewed = Interaction(
        (fault("token", 400), ex("token", client_id="new-id"), ex("credits")), ("60 available",), ok=True
    )
    object.__setattr__(renewed.exchanges[0], "client_id", "old-id")
    assert check("client-id-retry", world, renewed) is None
    same_id = Interaction(
        (Exchange("token", "POST", "/t", 400, 400, fault=True, client_id="x"), ex("token", client_id="x")),
        ("ok",),
    )
    assert "new client id" in (check("client-id-retry", world, same_id) or "")

    upload = World(Request("upload", "upload this clip", "https://m/clip.mp4"))
    formats = Interaction(
        (fault("upload", 4001),), ("Unsupported file type. Supported: mp4, mov.",), ok=False
    )
    assert check("file-remedies", upload, formats) is None
    vague = Interaction((fault("upload", 4002),), ("The upload failed.",), ok=False)
    assert "compress or trim" in (check("file-remedies", upload, vague) or "")


def test_silent_edit_must_be_reported_from_the_state() -> None:
    """B-CLI-10, B-CLI-11: the client reads the state after the stream and names the change it saw."""
    world = World(EDIT, stream=SILENT_EDIT, timeline=TITLE)
    named = Interaction(
        (ex("state"), sse(), ex("state", tag="after")), ("✅ Title added: 'Golden Hour'",), ok=True
    )
    assert check("reports-change", world, named) is None
    vague = Interaction((ex("state"), sse(), ex("state", tag="after")), ("Done!",), ok=True)
    assert "Golden Hour" in (check("reports-change", world, vague) or "")
    unread = Interaction((ex("state"), sse()), ("Done!",), ok=True)
    assert "did not read the state" in (check("reports-change", world, unread) or "")


def test_drop_recovery_polls_30_then_60_seconds_apart_five_times() -> None:
    """B-CLI-17, B-SSE-14: after a drop, 5 state queries (30 s, then 60 s) and a retry offer; no re-send."""
    world = World(
        EDIT, stream=Stream((Calls("edit_multitrack"),), "drop"), timeline=Timeline("city timelapse")
    )
    stream = Exchange("sse", "POST", "/run_sse", 200, tag="stream", at=0.0)
    reads = tuple(ex("state", at=t) for t in (30, 90, 150, 210, 270))
    offer = ("No change after 5 checks. Send the same message again to retry.",)
    assert check("recovers-by-polling", world, Interaction((stream, *reads), offer, ok=False)) is None
    early = tuple(ex("state", at=t) for t in (1, 61, 121, 181, 241))
    assert "30 s" in (
        check("recovers-by-polling", world, Interaction((stream, *early), offer, ok=False)) or ""
    )
    few = Interaction((stream, *reads[:2]), offer, ok=False)
    assert "2 state queries" in (check("recovers-by-polling", world, few) or "")
    nothing = Interaction((stream,), offer, ok=False)
    assert "never queried" in (check("recovers-by-polling", world, nothing) or "")


def test_a_cut_event_is_a_drop_and_an_invalid_block_is_read_past() -> None:
    """B-CLI-17, B-SSE-04, B-CLI-04: a stream cut inside its last event (the mock's `truncate`) owes
    the recovery a drop owes; an invalid block (the mock's `garbage`) is never shown."""
    cut = World(EDIT, stream=Stream((Calls("edit_multitrack"), Says("Done")), "truncate"), timeline=TITLE)
    assert interrupted(cut.stream) and heard_items(cut.stream) == (Calls("edit_multitrack"),)
    stream = Exchange("sse", "POST", "/run_sse", 200, tag="stream", at=0.0)
    assert "never queried" in (check("recovers-by-polling", cut, Interaction((stream,), ("Done",))) or "")
    odd = World(EDIT, stream=Stream((Garbage(), Calls("edit_multitrack"), Returns("edit_multitrack"))))
    clean = Interaction((sse(), ex("state")), ("Added the title.",))
    assert check("skips-invalid-lines", odd, clean) is None
    shown = Interaction((sse(), ex("state")), ("data\ufffd\ufffd: \ufffd(",))
    assert "invalid stream block" in (check("skips-invalid-lines", odd, shown) or "")
    plain = World(EDIT, stream=SILENT_EDIT)
    assert not property_named("skips-invalid-lines")(plain, clean).applies


def test_heartbeat_notices_and_trailing_noise() -> None:
    """B-CLI-06, B-CLI-07, B-CLI-09: the notices due; a trailing temporary-issue text stays hidden."""
    world = World(
        EDIT, stream=Stream((Calls("edit_multitrack"), Beats(50), Returns("edit_multitrack"))), timeline=TITLE
    )
    two = Interaction((sse(), ex("state")), ("⏳ Still working...", "⏳ Still working...", "Done"))
    assert check("still-working-notices", world, two) is None
    chatty = Interaction((sse(), ex("state")), ("⏳ Still working...",) * 5)
    assert "5 'Still working' notices where 2" in (check("still-working-notices", world, chatty) or "")

    noisy = World(EDIT, stream=Stream((Says("Done!"), Says(TEMPORARY_ISSUE_TEXTS[0]))), timeline=TITLE)
    shown = Interaction((sse(), ex("state")), ("Done!", TEMPORARY_ISSUE_TEXTS[0]))
    assert "noise" in (check("trailing-noise-ignored", noisy, shown) or "")
    alone = World(EDIT, stream=Stream((Says(TEMPORARY_ISSUE_TEXTS[0]),)), timeline=TITLE)
    assert not property_named("trailing-noise-ignored")(alone, shown).applies  # the only answer may be shown


def test_renders_are_read_in_either_shape_and_retried_once() -> None:
    """B-REN-06, B-REN-07, B-REN-10, B-REN-13, B-CLI-16: fetch a completed video; retry a failed one once."""
    world = World(
        Request("export", "export"), setup=SETUP_MESSAGE, render=Render("B", (RenderAttempt("completed", 1),))
    )
    submit = Exchange(
        "submit", "POST", "/api/render/proxy/lambda", 200, tag="pending", body={"id": "r1"}, at=0.0
    )
    done = Exchange("poll", "GET", "/api/render/proxy/lambda/r1", 200, tag="completed", at=30.0)
    cdn = Exchange("cdn", "GET", "/cdn/r1.mp4", 200, tag="file", at=30.0)
    assert (
        check("render-either-shape", world, Interaction((submit, done, cdn), ("✅ Video ready!",), ok=True))
        is None
    )
    unread = Interaction((submit, done), ("Rendering...",), ok=False)
    assert "never fetched" in (check("render-either-shape", world, unread) or "")
    again = Interaction((submit, done, done, cdn), ("✅ Video ready!",), ok=True)
    assert "kept polling" in (check("render-either-shape", world, again) or "")

    failed = Exchange("poll", "GET", "/api/render/proxy/lambda/r1", 200, tag="failed", at=30.0)
    gave_up = Interaction((submit, failed), ("Export failed.",), ok=False)
    assert "did not retry" in (check("render-retry-once", world, gave_up) or "")
    same_id = Interaction((submit, failed, submit), ("Export failed.",), ok=False)
    assert "same render id" in (check("render-retry-once", world, same_id) or "")


def test_client_flows_never_reach_the_agent() -> None:
    """B-CLI-01, B-CLI-13, B-CLI-14: export and credits stay off /run_sse; an empty project isn't rendered."""
    credits = World(Request("credits", "credits"), credits_available=60)
    assert "backend agent" in (
        check("client-flows-skip-backend", credits, Interaction((sse("credits"),), ("ok",))) or ""
    )
    answered = Interaction((ex("credits"),), ("💰 Credits: 60 available",), ok=True)
    assert check("credits-answered", credits, answered) is None
    cannot = Interaction((ex("credits"),), ("Sorry, I can't check your credits.",), ok=True)
    assert "cannot check" in (check("credits-answered", credits, cannot) or "")
    empty = World(Request("export", "export"), timeline=Timeline(video=None), render=Render())
    asked = Interaction(
        (), ("Nothing to export yet: describe the video and I'll generate it first.",), ok=False
    )
    assert check("export-needs-a-video", empty, asked) is None


def test_an_interaction_must_end_with_an_answer() -> None:
    """B-CLI-10, B-CLI-21, B-ERR-05: no crash, no silence, no failure without a reason, no false success."""
    world = World(EDIT, stream=SILENT_EDIT, timeline=TITLE)
    assert "crashed" in (
        check("ends-with-answer", world, Interaction((), ("x",), crash="KeyError: 'data'")) or ""
    )
    assert "nothing" in (check("ends-with-answer", world, Interaction((sse(),), ())) or "")
    baseless = Interaction((sse(), ex("state", tag="after")), ("Something failed.",), ok=False)
    assert "no reason" in (check("ends-with-answer", world, baseless) or "")
    false_success = Interaction((fault("sse", 2001),), ("Done!",), ok=True)
    assert "success although sse answered 2001" in (check("ends-with-answer", world, false_success) or "")


# ---------------------------------------------------------------------------- the reference client


def assert_keeps_every_property(world: World) -> None:
    interaction = run_reference(world)
    found = violations(world, interaction)
    assert not found, f"{world.describe()}\n" + "\n".join(found) + "\n---\n" + "\n".join(interaction.messages)


@FAST
@given(worlds(ALL_KINDS))
def test_reference_client_keeps_every_property(world: World) -> None:
    """B-CLI-08, B-CLI-10, B-CLI-17, B-ERR-05, B-REN-06, B-REN-07: the reference client in-process on a
    FakeClock, against any world of any request kind."""
    assert_keeps_every_property(world)


def focused(focus: Focus, examples: int = 30, **applied_at_least: int) -> None:
    report = check_client(run_reference, worlds(ALL_KINDS, focus), max_examples=examples, seed=7)
    assert report.ok, "\n".join(report.lines())
    for name, count in applied_at_least.items():
        assert report.applied[name.replace("_", "-")] >= count, (name, report.applied)


def test_reference_recovers_from_a_drop_at_any_event() -> None:
    """B-CLI-17, B-CLI-08, B-SSE-14: every drop is followed by state polling, never by a re-send."""
    focused("drops", never_resends=10, recovers_by_polling=10, reports_change=10, skips_invalid_lines=1)


def test_reference_heartbeat_notices_and_timeout() -> None:
    """B-CLI-06, B-CLI-07, B-SSE-06, U-04: heartbeat mixes: a notice per 2 virtual minutes, timeout at 10."""
    focused("heartbeats", still_working_notices=10, recovers_by_polling=10)


def test_reference_rate_limits_retry_once() -> None:
    """B-ERR-05, B-AUTH-08: bursts of 429 on any endpoint: one retry after 30 s, then the error."""
    focused("rate-limits", rate_limit_once=10)


def test_reference_business_errors_with_200_or_mapped_status() -> None:
    """B-ERR-05, U-01, B-AUTH-14, B-SESS-07, B-CRED-05, B-REN-16, B-AUTH-02, B-UPL-07: both statuses."""
    focused(
        "errors",
        40,
        reauth_once=5,
        new_session_once=2,
        client_id_retry=2,
        file_remedies=2,
        plan_not_credits=1,
    )


def test_reference_renders_in_both_shapes_with_failures_and_slow_jobs() -> None:
    """B-REN-06, B-REN-07, B-REN-10, B-CLI-14, B-CLI-16: shapes A and B, failed and stalled jobs, fallback."""
    focused("renders", render_either_shape=5, render_retry_once=5)


def test_reference_waits_30_seconds_once_on_a_429_burst() -> None:
    """B-ERR-05: exactly one retry after a 30 s wait on the injected clock, then the error naming the wait."""
    world = World(Request("credits", "credits"), faults=(Fault("credits", 429, 3),))
    interaction = run_reference(world)
    calls = interaction.on("credits")
    assert [e.code for e in calls] == [429, 429]
    assert calls[1].at is not None and calls[0].at is not None and calls[1].at - calls[0].at == 30.0
    assert interaction.ok is False and "wait 30 s" in interaction.messages[-1]
    assert violations(world, interaction) == []


@pytest.mark.parametrize("account", ["anonymous", "registered"])
@pytest.mark.parametrize("error_status", ["body", "mapped"])
def test_reference_out_of_credits_before_the_stream(account: Account, error_status: ErrorStatus) -> None:
    """B-CRED-05, B-CLI-20, B-ERR-05, U-01, U-09: 2001 with HTTP 200 or 402, before any stream: no re-send;
    the bind link for an anonymous user, a top-up for a registered one."""
    world = World(
        EDIT,
        account=account,
        error_status=error_status,
        faults=(Fault("sse", 2001),),
        stream=SILENT_EDIT,
        timeline=TITLE,
    )
    interaction = run_reference(world)
    assert property_named("out-of-credits-link")(world, interaction).applies
    assert violations(world, interaction) == []
    assert len(interaction.on("sse")) == 1 and interaction.ok is False


def test_reference_silent_edit_and_trailing_noise() -> None:
    """B-CLI-10, B-CLI-09, B-SSE-09, B-SSE-12: a silent edit is reported from the state; noise is hidden."""
    world = World(
        EDIT,
        dialect="adk",
        stream=Stream((Calls("edit_multitrack"), Returns("edit_multitrack"), Says(TEMPORARY_ISSUE_TEXTS[0]))),
        timeline=TITLE,
    )
    interaction = run_reference(world)
    assert any("Golden Hour" in line for line in interaction.messages)
    assert violations(world, interaction) == []


@pytest.mark.slow
@pytest.mark.parametrize("focus", ["all", "drops", "heartbeats", "rate-limits", "errors", "renders"])
def test_reference_long_run(focus: Focus) -> None:
    """B-CLI-08, B-CLI-17, B-ERR-05, B-REN-06, B-REN-07: a long search per focus."""
    report = check_client(run_reference, worlds(ALL_KINDS, focus), max_examples=600, seed=11)
    assert report.ok, "\n".join(report.lines())


def test_properties_are_plain_functions_of_world_and_interaction() -> None:
    """B-CLI-08: a property judges any recorded interaction; the same code runs for every client."""
    candidate: Property = property_named("never-resends")
    world = World(EDIT, stream=SILENT_EDIT, timeline=TITLE)
    assert candidate(world, run_reference(world)).problem is None
