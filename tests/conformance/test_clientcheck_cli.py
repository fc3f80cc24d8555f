"""`client-check` (`python -m conformance.clientcheck`): the client properties against other clients.

Worlds are served on a loopback uvicorn; the client runs as a command (the `nemo-client` CLI at
NEMO_TIME_SCALE=0, a deliberately broken script) or as a Python callable (the reference adapter,
the broken client imported as a module). The reference passes; the broken client is caught, one
line per broken property with its rule ids and a minimal world.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from checkout import PROJECT_DIR
from conformance.clientcheck import Interaction, ServedClient, load_callable, run_reference
from conformance.clientcheck.cli import add_arguments, main, run
from conformance.clientcheck.properties import PROPERTIES
from conformance.clientcheck.strategies import SETUP_MESSAGE
from conformance.clientcheck.world import (
    Beats,
    Calls,
    Fault,
    Render,
    RenderAttempt,
    Request,
    Returns,
    Says,
    Stream,
    Timeline,
    World,
)

PYTHON = shlex.quote(sys.executable)
REFERENCE = "conformance.clientcheck.reference:skill_client"

#: A client that gets three things wrong: it re-sends a message whose stream dropped (B-CLI-08),
#: prints the stream's raw JSON (B-CLI-21) and retries a 429 for as long as it comes (B-ERR-05).
BROKEN_CLIENT = """\
import os
import sys

import httpx

POOL = httpx.Client(timeout=30)


def answer(base_url, message, env):
    lines = []

    def call(method, path, **kwargs):
        while True:  # retries a 429 for as long as it comes
            response = POOL.request(method, base_url + path, **kwargs)
            if response.status_code != 429:
                return response

    token = env.get("NEMO_TOKEN")
    if not token:
        reply = call("POST", "/api/auth/anonymous-token", headers={"X-Client-Id": "broken-client-0001"})
        token = (reply.json().get("data") or {}).get("token", "")
    auth = {"Authorization": f"Bearer {token}"}
    path = "/api/tasks/me/with-session/nemo_agent"
    session = call("POST", path, headers=auth, json={"task_name": "project"})
    session_id = (session.json().get("data") or {}).get("session_id", "")
    body = {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": session_id,
        "new_message": {"parts": [{"text": message}]},
    }
    for _attempt in range(3):  # a dropped stream: send the message again
        try:
            with POOL.stream("POST", base_url + "/run_sse", headers=auth, json=body) as stream:
                for line in stream.iter_lines():
                    if line.startswith("data:") and line[5:].strip():
                        lines.append(line[5:].strip())  # the raw JSON, as it came
            break
        except httpx.HTTPError:
            continue
    return "\\n".join(lines) or "done"


if __name__ == "__main__":
    print(answer(os.environ["NEMO_API_URL"], sys.argv[1], os.environ))
"""


@pytest.fixture
def broken_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The broken client as `broken_nemo_client.py`, importable and runnable."""
    path = tmp_path / "broken_nemo_client.py"
    path.write_text(BROKEN_CLIENT, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "broken_nemo_client", raising=False)
    return path


def failures(output: str) -> dict[str, str]:
    """Property name -> its FAIL line."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        if line.startswith("FAIL "):
            found[line.split()[1]] = line
    return found


def figure(output: str, label: str) -> int:
    """A count from the `worlds:` figures line, e.g. `interrupted streams 15`."""
    line = next(line for line in output.splitlines() if line.startswith("worlds: "))
    counts = dict(part.rsplit(" ", 1) for part in line.removeprefix("worlds: ").split(", "))
    return int(counts.get(label, 0))


def world_of(line: str) -> dict[str, object]:
    summary: dict[str, object] = json.loads(line.split(" | world: ", 1)[1])
    return summary


# ---------------------------------------------------------------------------- the reference passes


@pytest.mark.live
def test_reference_callable_passes_on_served_worlds(capsys: pytest.CaptureFixture[str]) -> None:
    """B-CLI-08, B-CLI-17, B-ERR-05, B-REN-06, B-REN-07: the Skill adapter over real HTTP keeps them all."""
    code = main(["--callable", REFERENCE, "--max-examples", "40", "--seed", "3"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{len(PROPERTIES)} properties: all hold" in out and "FAIL" not in out
    assert out.splitlines()[-1].startswith("checks applied: never-resends ")


@pytest.mark.live
def test_reference_callable_recovers_from_real_dropped_connections(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """B-CLI-17, B-CLI-08: a stream the server cuts mid-body is recovered by polling, over real HTTP."""
    code = main(["--callable", REFERENCE, "--focus", "drops", "--max-examples", "15", "--seed", "5"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert figure(out, "interrupted streams") == figure(out, "chat") >= 10


@pytest.mark.live
def test_nemo_client_cli_passes(capsys: pytest.CaptureFixture[str]) -> None:
    """B-CLI-08, B-CLI-17, B-CLI-21: the `nemo-client chat` command at NEMO_TIME_SCALE=0 keeps them all."""
    code = main(
        ["--command", f"{PYTHON} -m client chat {{message}}", "--focus", "drops", "--max-examples", "3"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert figure(out, "interrupted streams") == 3


@pytest.mark.live
@pytest.mark.parametrize(
    "world",
    [
        World(
            Request("chat", "add a title 'Golden Hour'"),
            stream=Stream((Says("Sure."), Calls("edit_multitrack"), Beats(30, "mixed")), "drop"),
            timeline=Timeline("city timelapse", "title", "Golden Hour", 1),
        ),
        World(
            Request("chat", "make a 5 second clip of waves at sunset"),
            dialect="adk",
            stream=Stream((Beats(125, "mixed"),), "close"),
            timeline=Timeline(None, "video", "waves at sunset", None),
        ),
        World(
            Request("chat", "add some calm background music"),
            error_status="mapped",
            faults=(Fault("sse", 1002), Fault("state", 429)),
            stream=Stream((Calls("edit_multitrack"), Returns("edit_multitrack"))),
            timeline=Timeline("city timelapse", "music", "Calm Piano", 0),
        ),
        World(
            Request("export", "export"),
            setup=SETUP_MESSAGE,
            render=Render("B", (RenderAttempt("failed", 2), RenderAttempt("completed", 3)), cdn_ok=False),
        ),
    ],
    ids=["drop", "heartbeat-timeout", "mapped-errors", "render-retry"],
)
def test_served_and_in_process_runs_record_the_same_interaction(world: World) -> None:
    """B-CLI-17, B-CLI-07, B-ERR-05, B-REN-07: the loopback server answers a world as the in-process
    transport does, drops included, so both recordings agree."""
    with ServedClient(load_callable(REFERENCE)) as served:
        over_http = served(world)
    in_process = run_reference(world)

    def shape(interaction: Interaction) -> list[tuple[str, int, int, str]]:
        return [(e.route, e.status, e.code, e.tag) for e in interaction.exchanges]

    assert shape(over_http) == shape(in_process)
    assert [m for m in over_http.messages if "/" not in m] == [m for m in in_process.messages if "/" not in m]
    assert over_http.ok == in_process.ok and over_http.crash is None


# ---------------------------------------------------------------------------- a broken client is caught


@pytest.mark.live
def test_broken_script_is_caught_resending_and_printing_json(
    broken_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """B-CLI-08, B-SSE-13, B-CLI-21, B-CLI-17: a command that re-sends a dropped message and prints raw
    JSON fails with one line per broken property and a non-zero exit."""
    command = f"{PYTHON} {shlex.quote(str(broken_module))} {{message}}"
    code = main(
        ["--command", command, "--focus", "drops", "--no-shrink", "--max-examples", "4", "--seed", "2"]
    )
    out = capsys.readouterr().out
    assert code == 1
    found = failures(out)
    assert "[B-CLI-08, B-SSE-13, B-CLI-17]" in found["never-resends"]
    assert "[B-CLI-21, B-AUTH-22]" in found["no-raw-json-or-token"]
    assert "recovers-by-polling" in found
    assert f"{len(found)} broken" in out


@pytest.mark.live
def test_broken_callable_retrying_429_forever_is_caught(
    broken_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """B-ERR-05, B-AUTH-08: retrying a 429 until it goes away breaks "one retry after 30 s"."""
    argv = ["--callable", "broken_nemo_client:answer", "--focus", "rate-limits", "--kinds", "chat"]
    code = main([*argv, "--only", "rate-limit-once", "--max-examples", "25", "--seed", "1"])
    out = capsys.readouterr().out
    assert code == 1
    line = failures(out)["rate-limit-once"]
    assert "[B-ERR-05, B-AUTH-08]" in line and "retried" in line and "once is the rule" in line


@pytest.mark.live
def test_counterexamples_are_shrunk_to_minimal_worlds(
    broken_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """B-CLI-08, B-CLI-17: hypothesis shrinks the world that shows a re-send down to a bare dropped stream."""
    only = "never-resends,no-raw-json-or-token"
    code = main(
        [
            "--callable",
            "broken_nemo_client:answer",
            "--focus",
            "drops",
            "--only",
            only,
            "--max-examples",
            "15",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert set(failures(out)) == {"never-resends", "no-raw-json-or-token"} and "2 properties: 2 broken" in out
    for line in failures(out).values():
        world = world_of(line)
        assert "faults" not in world and world["account"] == "anonymous" and "dialect" not in world
        assert world["stream"] == ["drop"]  # nothing but a drop before the first event


# ---------------------------------------------------------------------------- usage


def test_list_names_every_property_with_its_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """B-ERR-05, B-CLI-08: --list shows each property, its rule ids and what it checks."""
    assert main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(PROPERTIES)
    assert lines[0].startswith("never-resends [B-CLI-08, B-SSE-13, B-CLI-17]: ")


def test_in_process_reference_run(capsys: pytest.CaptureFixture[str]) -> None:
    """B-ERR-05, B-CLI-17, B-UPL-07: --reference runs in-process on a fake clock, uploads included."""
    code = main(["--reference", "--kinds", "chat,upload", "--max-examples", "25", "--seed", "9"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "upload" in out.splitlines()[-2]


@pytest.mark.parametrize(
    ("argv", "why"),
    [
        (["--command", "nemo-client chat"], "{message}"),
        (["--command", "nemo-client chat '{message}"], "cannot split"),
        (["--callable", "no_such_module_here:fn"], "cannot import"),
        (["--callable", "conformance.clientcheck.reference"], "module:function"),
        (["--callable", REFERENCE, "--kinds", "upload"], "only --reference"),
        (["--reference", "--kinds", "render"], "--kinds"),
        (["--reference", "--max-examples", "0"], "at least 1"),
        (["--reference", "--only", "never-resend"], "no property 'never-resend'"),
        (["--max-examples", "5"], "which client"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], why: str, capsys: pytest.CaptureFixture[str]) -> None:
    """B-CLI-21: a bad template, callable or option is a usage error (exit 2) saying what is wrong."""
    assert main(argv) == 2
    assert why in capsys.readouterr().err


def test_options_fit_under_a_parent_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    """B-CLI-08: `nemo-contract client-check` can reuse the options; `--command` does not clobber the
    parent's subcommand name."""
    root = argparse.ArgumentParser(prog="nemo-contract")
    commands = root.add_subparsers(dest="command", required=True)
    add_arguments(commands.add_parser("client-check"))
    args = root.parse_args(["client-check", "--command", "my-skill {message}", "--list"])
    assert args.command == "client-check" and args.command_template == "my-skill {message}"
    assert run(args) == 0 and "never-resends" in capsys.readouterr().out


def test_runs_as_python_m() -> None:
    """B-CLI-08: `python -m conformance.clientcheck` is the same command."""
    done = subprocess.run(
        [sys.executable, "-m", "conformance.clientcheck", "--list"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "rate-limit-once [B-ERR-05, B-AUTH-08]" in done.stdout


@pytest.mark.slow
@pytest.mark.live
def test_nemo_client_cli_long_run(capsys: pytest.CaptureFixture[str]) -> None:
    """B-CLI-08, B-CLI-17, B-ERR-05, B-REN-06, B-REN-07: the CLI over many served worlds."""
    code = main(["--command", f"{PYTHON} -m client chat {{message}}", "--max-examples", "60", "--seed", "12"])
    assert code == 0, capsys.readouterr().out
