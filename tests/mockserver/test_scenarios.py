"""Failure scenarios (contracts/data/scenarios/*.yaml) and the reference client's documented reaction to each.

Each reaction test arms one scenario on a live mock and runs the scenario's own `client.commands`
through the reference client's workflows (`client.flows.Skill`), at time scale 0 on both sides.
"""

from __future__ import annotations

import itertools
import shlex
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from recorded import nemo_mock

from client import Client, ClientConfig
from client.flows import Failure, MessageKind, Outcome, Skill
from contracts.coverage import load_behaviours
from contracts.profiles import BYTES_PER_MB
from mockserver.backend import Backend
from mockserver.cli import build_parser, main, settings_from
from mockserver.recording.live import live_mock
from mockserver.scenarios import (
    ScenarioError,
    all_scenarios,
    load_scenario,
    scenario_from_dict,
    scenario_names,
)

pytestmark = pytest.mark.live

SHIPPED = {
    "token-expiry-mid-session",
    "rate-limited-token-call",
    "silent-edit",
    "stream-drop-during-generation",
    "render-failure-then-success",
    "out-of-credits-mid-generation",
    "upload-over-the-cap",
    "export-402",
    "heartbeats-only-11-minutes",
    "flaky-mobile-link",
    "buffering-proxy",
    "stream-cut-mid-edit",
    "slow-cdn-download",
}


@dataclass
class Played:
    """What one scenario did: the client's outcomes, the mock's journal and state, the client's clock."""

    outcomes: list[Outcome]
    journal: list[dict[str, Any]]
    backend: Backend
    client_seconds: float  # virtual seconds the client waited (30 s retries, recovery)
    folder: Path

    def calls(self, method: str, path: str) -> list[dict[str, Any]]:
        return [e for e in self.journal if e["method"] == method and e["path"] == path]


def play(name: str, folder: Path) -> Played:
    """Run the scenario's commands with the reference client against the mock it arms."""
    scenario = load_scenario(name)
    for file_name, size in scenario.client.get("files", {}).items():
        (folder / file_name).write_bytes(bytes(size))
    outcomes: list[Outcome] = []
    with live_mock(scenario=scenario) as server:
        env = {
            "NEMO_API_URL": server.url,
            "NEMO_WEB_URL": "https://web.test",
            "NEMO_CONFIG_DIR": str(folder / "config"),
            "NEMO_TIME_SCALE": "0",
            **scenario.client.get("env", {}),
        }
        with Client(ClientConfig.from_env(env)) as client:
            skill = Skill(client, downloads_dir=folder)
            start = client.clock.now()
            for command in scenario.commands:
                verb, *words = shlex.split(command)
                if verb == "chat":
                    outcomes.append(skill.handle(" ".join(words)))
                elif verb == "credits":
                    outcomes.append(skill.credits())
                elif verb == "upload":
                    outcomes.append(skill.upload(*(folder / word for word in words)))
                elif verb == "export":
                    outcomes.append(skill.export(folder / words[words.index("--out") + 1]))
                else:
                    raise AssertionError(f"{name}: unknown client command {command!r}")
            waited = client.clock.now() - start
        server.wait_idle()
        journal = server.backend.journal.entries()
    return Played(outcomes, journal, server.backend, waited, folder)


def errors_of(outcome: Outcome) -> list[str]:
    return outcome.texts(MessageKind.ERROR)


# ---------------------------------------------------------------------------- the scenario files


def test_the_shipped_scenarios_name_catalogued_rules() -> None:
    """Every common failure has a scenario, and each names rule ids of the catalogue (B-ERR-05)."""
    assert set(scenario_names()) == SHIPPED
    known = load_behaviours()
    for scenario in all_scenarios():
        assert set(scenario.rules) <= set(known), scenario.name
        assert scenario.description and scenario.reaction and scenario.commands, scenario.name
        assert scenario.time_scale == 0
        assert scenario.to_dict() == scenario_from_dict(scenario.to_dict()).to_dict()


def test_scenarios_command_lists_each_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """`nemo-mock scenarios`: name and the description's first sentence, one line each (B-ERR-05)."""
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(SHIPPED)
    assert [line.split()[0] for line in lines] == sorted(SHIPPED)
    (line,) = [line for line in lines if line.startswith("export-402 ")]
    assert line.endswith("The render submit of an export answers HTTP 402, the plan restriction on export.")


def test_scenario_settings_apply_unless_a_flag_says_otherwise() -> None:
    """`--scenario` brings its seed, time scale and options; flags win (U-13: the lowered cap)."""
    parser = build_parser()
    scenario = load_scenario("upload-over-the-cap")
    settings = settings_from(parser.parse_args(["serve", "--scenario", scenario.name]), scenario)
    assert (settings.seed, settings.time_scale) == (17, 0)
    assert settings.profile.upload_cap_bytes == 1 * BYTES_PER_MB
    args = parser.parse_args(["serve", "--scenario", scenario.name, "--seed", "3", "--time-scale", "2"])
    overridden = settings_from(args, scenario)
    assert (overridden.seed, overridden.time_scale) == (3, 2)
    plain = settings_from(parser.parse_args(["serve"]))
    assert (plain.seed, plain.time_scale, plain.dialect, plain.token_ttl_s) == (
        0,
        1.0,
        "documented",
        604800.0,
    )


@pytest.mark.parametrize(
    "change,message",
    [
        ({"colour": 1}, "unknown keys ['colour']"),
        ({"rules": []}, "`rules` lists the rule ids"),
        ({"faults": [{"path": "/run_sse", "sse": "sometimes"}]}, "faults[0]: `sse` is one of"),
        ({"steps": [{"after": "POST /run_sse"}]}, "steps[0]: a step does something"),
        ({"settings": {"options": {"warp": 9}}}, "unknown options ['warp']"),
        ({"settings": {"profile": "no-such-skill"}}, "no-such-skill"),
        ({"accounts": [{"client_id": "x", "credits": -1}]}, "`credits` is a non-negative integer"),
    ],
)
def test_bad_scenarios_are_refused_with_the_reason(change: dict[str, Any], message: str) -> None:
    """A scenario file that cannot work says why, naming the key (U-12 spirit: clear messages)."""
    raw = {**load_scenario("silent-edit").to_dict(), **change}
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(raw, "broken.yaml")
    assert message in str(caught.value) and "broken.yaml" in str(caught.value)


def test_unknown_scenario_fails_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    """`serve --scenario NAME` with an unknown name exits 2 naming the shipped ones."""
    assert main(["serve", "--scenario", "no-such-failure", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "unknown scenario 'no-such-failure'" in err and "silent-edit" in err


def test_reset_starts_the_scenario_over() -> None:
    """After `POST /_mock/reset` the scenario's faults, steps and accounts are armed again (B-AUTH-08)."""
    with live_mock(scenario=load_scenario("rate-limited-token-call")) as server:
        statuses = [token_call(server.url, "a").status_code, token_call(server.url, "b").status_code]
        httpx.post(server.url + "/_mock/reset")
        statuses += [token_call(server.url, "a").status_code, token_call(server.url, "a").status_code]
        assert statuses == [429, 200, 429, 200]
    with live_mock(scenario=load_scenario("out-of-credits-mid-generation")) as server:
        httpx.post(server.url + "/_mock/reset")
        token = token_call(server.url, "scenario-out-of-credits").json()["data"]["token"]
        credits = httpx.get(
            server.url + "/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}"}
        )
        assert credits.json()["data"]["available"] == 150


def token_call(url: str, client_id: str) -> httpx.Response:
    return httpx.post(url + "/api/auth/anonymous-token", headers={"X-Client-Id": client_id})


def test_serve_scenario_from_the_command_line() -> None:
    """`nemo-mock serve --scenario NAME` arms it in a real process: its seed, its fault (B-ERR-02)."""
    proc = subprocess.Popen(
        [nemo_mock(), "serve", "--port", "0", "--quiet", "--scenario", "rate-limited-token-call"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        health = httpx.get(url + "/_mock/health").json()
        assert (health["seed"], health["time_scale"]) == (12, 0)
        first = httpx.post(url + "/api/auth/anonymous-token", headers={"X-Client-Id": "cli"})
        assert first.status_code == 429 and first.headers["retry-after"] == "30"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


# ---------------------------------------------------------------------------- the client's reactions


def test_token_expiry_mid_session(tmp_path: Path) -> None:
    """1001 after expiry: a new token for the same client id and account, the call repeated, no error
    shown (B-AUTH-05, B-AUTH-07, B-AUTH-14, U-08)."""
    played = play("token-expiry-mid-session", tmp_path)
    (outcome,) = played.outcomes
    assert outcome.ok and errors_of(outcome) == []
    assert outcome.texts(MessageKind.CHANGE)[0].startswith("✅ Video generated")
    assert [e["code"] for e in played.journal].count(1001) == 1
    tokens = played.calls("POST", "/api/auth/anonymous-token")
    assert [e["status"] for e in tokens] == [200, 200]
    assert (
        tokens[0]["headers"]["x-client-id"] == tokens[1]["headers"]["x-client-id"] == "scenario-token-expiry"
    )
    owners = {t.user_id for t in played.backend.accounts.tokens.values() if t.kind == "user"}
    assert len(owners) == 1  # both tokens belong to the same account


def test_rate_limited_token_call(tmp_path: Path) -> None:
    """429 on the token call: wait 30 s, one retry, then the answer (B-AUTH-08, B-ERR-02, B-ERR-05, U-03)."""
    played = play("rate-limited-token-call", tmp_path)
    (outcome,) = played.outcomes
    assert outcome.ok
    assert outcome.texts(MessageKind.CREDITS) == ["💰 Credits: 100 available (100 in total)."]
    assert [e["status"] for e in played.calls("POST", "/api/auth/anonymous-token")] == [429, 200]
    assert played.client_seconds == pytest.approx(30.0)


def test_silent_edit(tmp_path: Path) -> None:
    """A stream with no text: the state is diffed and the concrete change reported (B-SSE-09, B-CLI-10)."""
    played = play("silent-edit", tmp_path)
    generated, edited = played.outcomes
    assert generated.ok and generated.texts(MessageKind.REPLY)
    assert edited.ok and edited.texts(MessageKind.REPLY) == []
    assert edited.texts(MessageKind.CHANGE) == ["✅ Title changed: 'Urban Dreams' → 'Night City'"]
    assert 'Title: "Night City"' in edited.texts(MessageKind.SUMMARY)[0]
    assert played.backend.faults.rules == []  # the step armed the silent rule and the edit used it


def test_stream_drop_during_generation(tmp_path: Path) -> None:
    """A dropped stream is not re-sent; after 30 s the state shows the video the turn still made
    (B-SSE-14, B-CLI-08, B-CLI-17)."""
    played = play("stream-drop-during-generation", tmp_path)
    (outcome,) = played.outcomes
    assert outcome.ok
    assert any("won't send the message again" in text for text in outcome.texts(MessageKind.STATUS))
    assert outcome.texts(MessageKind.CHANGE)[0].startswith("✅ Video generated")
    assert len(played.calls("POST", "/run_sse")) == 1
    assert played.client_seconds >= 30.0


def test_render_failure_then_success(tmp_path: Path) -> None:
    """A failed render is retried once with a new id and the MP4 delivered (B-REN-09, B-CLI-16, U-14)."""
    played = play("render-failure-then-success", tmp_path)
    _, exported = played.outcomes
    assert exported.ok and exported.file is not None
    assert exported.file.read_bytes()[4:8] == b"ftyp"
    assert any("retrying once with a new id" in text for text in exported.texts(MessageKind.STATUS))
    jobs = list(played.backend.renders.values())
    assert [(job.status, job.reason) for job in jobs] == [("failed", "render failed"), ("completed", None)]
    assert jobs[0].id != jobs[1].id


def test_out_of_credits_mid_generation(tmp_path: Path) -> None:
    """2001 before any stream: no retry, the registration link with ?bind= the anonymous id, nothing
    frozen (B-CRED-05, B-CLI-20, U-09, U-10)."""
    played = play("out-of-credits-mid-generation", tmp_path)
    first, second = played.outcomes
    assert first.ok
    assert second.failure is Failure.CREDITS and second.error_code == 2001
    account = next(
        a for a in played.backend.accounts.accounts.values() if a.client_id == "scenario-out-of-credits"
    )
    (error,) = errors_of(second)
    assert f"https://web.test/register?bind={account.user_id}" in error
    assert [e["code"] for e in played.calls("POST", "/run_sse")] == [0, 2001]
    assert (account.ledger.available, account.ledger.frozen) == (50, 0)


def test_upload_over_the_cap(tmp_path: Path) -> None:
    """4002 while the body streams in: the client suggests compressing or trimming (B-UPL-07, U-13)."""
    played = play("upload-over-the-cap", tmp_path)
    (outcome,) = played.outcomes
    assert outcome.failure is Failure.FILE and outcome.error_code == 4002
    assert "Compress or trim it" in errors_of(outcome)[0]
    # the server's cap, from its 4002 message, not the 500 MB the skill profile documents
    assert "(limit 1 MB)" in errors_of(outcome)[0] and "500 MB" not in errors_of(outcome)[0]
    (session,) = played.backend.sessions.sessions.values()
    assert session.video_infos == []


def test_export_402(tmp_path: Path) -> None:
    """HTTP 402 on render is a plan limit: register to unlock export, no retry, no credits talk
    (B-REN-16, B-ERR-02, B-ERR-05)."""
    played = play("export-402", tmp_path)
    _, exported = played.outcomes
    assert exported.failure is Failure.PLAN and exported.error_code == 402
    (error,) = errors_of(exported)
    assert "unlock export" in error and "not credits" in error
    assert len(played.calls("POST", "/api/render/proxy/lambda")) == 1


def test_heartbeats_only_for_eleven_minutes(tmp_path: Path) -> None:
    """'Still working' every 2 minutes, a timeout at 10, then recovery finds the video
    (B-SSE-06, B-CLI-06, B-CLI-07, B-CLI-17)."""
    played = play("heartbeats-only-11-minutes", tmp_path)
    (outcome,) = played.outcomes
    assert outcome.ok
    assert outcome.texts(MessageKind.PROGRESS) == ["⏳ Still working..."] * 4
    assert any("Only heartbeats for 10 minutes" in text for text in outcome.texts(MessageKind.STATUS))
    assert outcome.texts(MessageKind.CHANGE)[0].startswith("✅ Video generated")
    assert len(played.calls("POST", "/run_sse")) == 1


def test_flaky_mobile_link(tmp_path: Path) -> None:
    """Slow answers are answers; a reset stream is not re-sent, and the video is found in the state
    (B-SSE-14, B-CLI-08, B-CLI-17)."""
    played = play("flaky-mobile-link", tmp_path)
    chatted, credits = played.outcomes
    assert chatted.ok and credits.ok
    assert any("The connection dropped." in text for text in chatted.texts(MessageKind.STATUS))
    assert chatted.texts(MessageKind.CHANGE)[0].startswith("✅ Video generated")
    assert len(played.calls("POST", "/run_sse")) == 1
    assert played.client_seconds >= 30.0
    api = [e for e in played.journal if e["path"].startswith("/api/")]
    gaps = {round(b["time"] - a["time"], 6) for a, b in itertools.pairwise(api)}
    assert len(gaps) > 3  # seeded log-normal waits, not one fixed delay


def test_buffering_proxy(tmp_path: Path) -> None:
    """Each stream arrives in one piece at the end; both turns are reported from the state (B-CLI-10)."""
    played = play("buffering-proxy", tmp_path)
    generated, edited = played.outcomes
    assert generated.ok and edited.ok
    assert generated.texts(MessageKind.CHANGE)[0].startswith("✅ Video generated")
    assert edited.texts(MessageKind.CHANGE) == ["✅ Title changed: 'Urban Dreams' → 'Night City'"]
    assert not any("won't send" in text for o in played.outcomes for text in o.texts(MessageKind.STATUS))
    assert len(played.calls("POST", "/run_sse")) == 2


def test_stream_cut_mid_edit(tmp_path: Path) -> None:
    """The edit's stream ends inside an event: said, not re-sent, the title found in the state after
    30 s (B-SSE-14, B-CLI-08, B-CLI-17)."""
    played = play("stream-cut-mid-edit", tmp_path)
    generated, edited = played.outcomes
    assert generated.ok and edited.ok
    assert not any("cut off" in text for text in generated.texts(MessageKind.STATUS))
    assert any("The stream was cut off inside an event." in t for t in edited.texts(MessageKind.STATUS))
    assert edited.texts(MessageKind.CHANGE) == ["✅ Title changed: 'Urban Dreams' → 'Night City'"]
    assert len(played.calls("POST", "/run_sse")) == 2
    assert played.client_seconds >= 30.0


def test_slow_cdn_download(tmp_path: Path) -> None:
    """The CDN URL breaks without an answer: the MP4 comes from the API's download route
    (B-REN-13, B-CLI-14, B-CLI-15)."""
    played = play("slow-cdn-download", tmp_path)
    _, exported = played.outcomes
    assert exported.ok and exported.file is not None
    assert exported.file.read_bytes()[4:8] == b"ftyp"
    cdn = [e for e in played.journal if e["path"].startswith("/cdn/")]
    assert [e["status"] for e in cdn] == [444]
    assert any(e["path"].endswith("/download") and e["status"] == 200 for e in played.journal)
