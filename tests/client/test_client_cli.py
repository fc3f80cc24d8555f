"""`nemo-client` against the live mock: the real console script in a subprocess for the journey from
first message to MP4, and `main()` in-process for each documented exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from checkout import FIXTURES_DIR
from client.cli import (
    EXIT_AUTH,
    EXIT_CREDITS,
    EXIT_FILE,
    EXIT_GENERIC,
    EXIT_OK,
    EXIT_SERVER,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    main,
)
from contracts.profiles import load_profile, shipped_profiles
from mockserver.testing import LiveServer

pytestmark = pytest.mark.live

WEB = "https://web.test"
GENERATE = "make a 3 second video of a blue boat on a lake"
SCRIPT = Path(sys.executable).with_name("nemo-client")


def fault(server: LiveServer, **rule: Any) -> None:
    response = httpx.post(server.url + "/_mock/faults", json=rule, timeout=30)
    assert response.status_code == 200, response.text


@pytest.fixture
def env(mock: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of a fresh user: no token, a config directory of its own, no waiting."""
    values = {
        "NEMO_API_URL": mock.url,
        "NEMO_WEB_URL": WEB,
        "NEMO_CONFIG_DIR": str(tmp_path / "config"),
        "NEMO_TIME_SCALE": "0",
    }
    for name in ("NEMO_TOKEN", "NEMO_CLIENT_ID", "SKILL_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> Run:
    """`cli("chat", "...")` -> (exit code, stdout, stderr) of `main()` in this process."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        assert "nmv_usr_" not in out + err  # B-CLI-21, B-AUTH-22: no token is ever printed
        return code, out, err

    return run


def test_console_script_chat_then_export_writes_a_valid_mp4(env: dict[str, str], tmp_path: Path) -> None:
    """B-SESS-04, B-CLI-14, B-CLI-15, B-CLI-19, B-CLI-21, B-AUTH-12, B-ENV-03: `chat` then `export`
    continue one project through the config directory; the MP4 is real H.264."""
    assert SCRIPT.is_file(), "the nemo-client console script is installed with the package"
    process_env = {**os.environ, **env}
    process_env.pop("NEMO_TOKEN", None)

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(SCRIPT), *argv], env=process_env, capture_output=True, text=True, timeout=60, check=False
        )
        assert "nmv_usr_" not in done.stdout + done.stderr and '{"code"' not in done.stdout
        return done

    chat = run("chat", GENERATE)
    assert chat.returncode == EXIT_OK, chat.stderr
    lines = chat.stdout.splitlines()
    assert lines[:2] == ["Connecting to NemoVideo...", "✅ Ready: a new project is open."]
    assert lines[2].startswith(f"🔗 Open this project in your browser: {WEB}/workspace/claim?ct=clm_")
    assert "This may take a few minutes." in lines
    config_dir = Path(env["NEMO_CONFIG_DIR"])
    project = json.loads((config_dir / "project.json").read_text())
    assert set(project) == {"session_id", "task_id", "claim_token", "user_id"}
    assert (config_dir / "client_id").read_text().strip()
    token_file = config_dir / "anonymous_token"  # the next run must not ask again (B-AUTH-08)
    assert token_file.read_text().startswith("nmv_usr_") and token_file.stat().st_mode & 0o777 == 0o600

    out = tmp_path / "boat.mp4"
    export = run("export", "--out", str(out))
    assert export.returncode == EXIT_OK, export.stderr
    lines = export.stdout.splitlines()
    assert lines[0] == "⏳ Rendering ~30s" and any(line.endswith("%") for line in lines)
    assert lines[-2].startswith(f"✅ Video ready! {out}")
    assert lines[-1] == f"🔗 Task details: {WEB}/workspace/claim?ct={project['claim_token']}"
    with av.open(str(out)) as container:
        (video,) = container.streams.video
        assert video.codec_context.name == "h264"
        assert float(container.duration or 0) / av.time_base > 0


def test_help_documents_the_exit_codes_and_environment() -> None:
    """B-ENV-03: --help names every variable the client honours and every exit code."""
    done = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0
    for name in ("NEMO_API_URL", "NEMO_WEB_URL", "NEMO_TOKEN", "NEMO_CLIENT_ID", "SKILL_SOURCE"):
        assert name in done.stdout
    for code in range(8):
        assert f"\n  {code}  " in done.stdout


def test_commands_and_profile(cli: Run, mock: LiveServer) -> None:
    """B-CLI-13, B-STATE-06, B-ATTR-01, B-ATTR-05: credits and status answered by the client,
    with the chosen profile's attribution headers."""
    code, out, _ = cli("--profile", "ai-video-generation-online", "credits")
    assert code == EXIT_OK and out.strip() == "💰 Credits: 100 available (100 in total)."
    code, out, _ = cli("status")
    assert code == EXIT_OK and "No project yet" in out
    (credits_call,) = [e for e in _journal(mock) if e["path"] == "/api/credits/balance/simple"]
    assert credits_call["headers"]["x-skill-source"] == "ai-video-generation-online"
    assert credits_call["headers"]["x-skill-version"] == "1.0.0"


def test_a_configured_token_is_never_written(cli: Run, env: dict[str, str], mock: LiveServer) -> None:
    """B-AUTH-13, B-ENV-04: with NEMO_TOKEN set no anonymous token is asked for, and nothing is stored."""
    token = httpx.post(mock.url + "/_mock/accounts", json={"tier": "paid", "credits": 7}, timeout=30).json()
    os.environ["NEMO_TOKEN"] = token["token"]
    try:
        code, out, _ = cli("credits")
    finally:
        del os.environ["NEMO_TOKEN"]
    assert code == EXIT_OK and "7 available" in out
    config_dir = Path(env["NEMO_CONFIG_DIR"])
    assert not (config_dir / "anonymous_token").exists()
    assert not [e for e in _journal(mock) if e["path"] == "/api/auth/anonymous-token"]


def test_quiet_prints_results_only(cli: Run) -> None:
    """B-CLI-21: --quiet leaves out the status and progress lines."""
    code, out, _ = cli("--quiet", "chat", "what can you do?")
    assert code == EXIT_OK
    assert "Connecting" not in out and "Ready" not in out and out.strip()


def test_chat_with_a_file_uploads_it_then_asks(cli: Run) -> None:
    """B-CLI-01, B-UPL-02: `chat --file` sends the file first, then the message about it."""
    song = FIXTURES_DIR / "media" / "tone-1s.mp3"
    code, out, _ = cli("chat", "what can you do with this?", "--file", str(song))
    assert code == EXIT_OK
    lines = out.splitlines()
    uploaded = next(i for i, line in enumerate(lines) if line.startswith("📎 Uploaded tone-1s.mp3 (audio"))
    assert uploaded < len(lines) - 1


def test_nothing_to_export_is_exit_1(cli: Run) -> None:
    """B-CLI-14: export before anything was generated says so and exits 1."""
    code, out, _ = cli("export")
    assert code == EXIT_GENERIC and "Nothing to export yet" in out


def test_unknown_profile_is_a_usage_error(cli: Run) -> None:
    """B-PROF-01: an unknown --profile is refused before any request, exit 2."""
    code, _, err = cli("--profile", "no-such-skill", "credits")
    assert code == EXIT_USAGE and err.startswith("error: cannot use the skill profile")


def test_client_id_refused_is_exit_3(cli: Run, mock: LiveServer) -> None:
    """B-AUTH-02, B-ERR-05: 400 at anonymous-token -> a new client id once; refused again -> exit 3."""
    fault(mock, method="POST", path="/api/auth/anonymous-token", times=2, respond={"status": 400, "json": {}})
    code, _, err = cli("credits")
    assert code == EXIT_AUTH and err.startswith("error: ")
    assert len(err.strip().splitlines()) == 1


def test_out_of_credits_is_exit_4_with_the_bind_link(cli: Run) -> None:
    """B-CRED-05, B-CLI-20, B-ERR-05: anonymous 2001 -> one line with ?bind=<anon id>, exit 4."""
    assert cli("chat", GENERATE)[0] == EXIT_OK
    code, _, err = cli("chat", "add a title 'Blue Hour'")
    assert code == EXIT_CREDITS
    assert err.startswith(f"error: Out of credits. Register at {WEB}/register?bind=anon_")


def test_export_blocked_is_exit_4(cli: Run, mock: LiveServer) -> None:
    """B-REN-16, B-ERR-05: 402 on export -> the subscription message, exit 4."""
    assert cli("chat", GENERATE)[0] == EXIT_OK
    fault(
        mock, method="POST", path="/api/render/proxy/lambda", respond={"status": 402, "json": {"code": 402}}
    )
    code, _, err = cli("export")
    assert code == EXIT_CREDITS and "subscription limit, not credits" in err


@pytest.mark.parametrize("profile", shipped_profiles())
def test_each_profile_words_the_402_and_the_top_up_itself(
    cli: Run, mock: LiveServer, monkeypatch: pytest.MonkeyPatch, profile: str
) -> None:
    """B-PROF-01..06, B-ERR-05, B-CRED-05, B-REN-16, B-ENV-02: with `--profile`, a registered user out
    of credits reads that profile's top-up sentence and a blocked export its 402 sentence (with
    NEMO_WEB_URL for nemovideo.com); both exit 4."""
    account = httpx.post(mock.url + "/_mock/accounts", json={"tier": "paid", "credits": 100}, timeout=30)
    monkeypatch.setenv("NEMO_TOKEN", account.json()["token"])  # 100 credits: one generation, no edit
    words = load_profile(profile)
    top_up = words.top_up_remedy.rstrip(".").replace("nemovideo.com", WEB)
    unlock = words.export_blocked_remedy.rstrip(".").replace("nemovideo.com", WEB)

    assert cli("--profile", profile, "chat", GENERATE)[0] == EXIT_OK
    code, _, err = cli("--profile", profile, "chat", "add a title 'Blue Hour'")
    assert (code, err) == (EXIT_CREDITS, f"error: Out of credits. {top_up}.\n")

    blocked = {"status": 402, "json": {"code": 402}}
    fault(mock, method="POST", path="/api/render/proxy/lambda", respond=blocked)
    code, _, err = cli("--profile", profile, "export")
    assert code == EXIT_CREDITS and err.startswith("error: Export needs a plan upgrade: ")
    assert unlock.lower() in err.lower() and err.endswith("(this is a subscription limit, not credits).\n")


def test_refused_file_is_exit_5(cli: Run, tmp_path: Path) -> None:
    """B-UPL-07, B-ERR-05: an unsupported type -> the accepted formats, exit 5."""
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    code, _, err = cli("upload", str(notes))
    assert code == EXIT_FILE and "Unsupported file type. Supported: mp4" in err


def test_server_failure_is_exit_6(cli: Run, mock: LiveServer) -> None:
    """B-ERR-05: a 5xx answer is reported in one line, exit 6."""
    fault(mock, method="GET", path="/api/credits/balance/simple", respond={"status": 503, "json": {}})
    code, _, err = cli("credits")
    assert code == EXIT_SERVER and len(err.strip().splitlines()) == 1


def test_recovery_without_change_is_exit_7(cli: Run, mock: LiveServer) -> None:
    """B-CLI-17, B-CLI-07: a stream cut before anything happened; 5 unchanged queries -> exit 7."""
    assert cli("status")[0] == EXIT_OK
    fault(mock, method="POST", path="/run_sse", sse="drop:1")
    code, out, err = cli("chat", "what can you do?")
    assert code == EXIT_TIMEOUT
    assert out.count("No change yet") == 4 and "Send the same message again" in err


def _journal(server: LiveServer) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = httpx.get(server.url + "/_mock/journal", timeout=30).json()["entries"]
    return entries
