"""The time-scale handshake: the client's waits follow the server's time scale, or say they differ
(B-ENV-03, B-REN-10, B-CLI-16).

A scripted server on httpx.MockTransport answers `GET /_mock/health` with a scale (the mock), a 404
(a real backend) or a dropped connection; the client's ScaledClock sleeps into a recorder, so
nothing here waits for real. A live mock confirms the CLI follows the server it talks to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from client import Client, ClientConfig, Project, ScaledClock
from client import timescale as handshake
from client.flows import Failure, MessageKind, Skill
from mockserver.settings import Settings
from mockserver.testing import LiveServer

API = "https://api.test"
SID = "5529798706024415232"
DRAFT = {
    "t": [{"tt": 0, "id": "trk_video", "sg": [{"id": "seg_v1", "st": 0, "d": 5000, "m": {}}]}],
    "d": 5000,
}


@pytest.fixture(autouse=True)
def fresh_process() -> Iterator[None]:
    """Each case is a process of its own: nothing asked, nothing warned yet."""
    handshake.forget()
    yield
    handshake.forget()


def server(health: Callable[[], httpx.Response], *, completes: bool) -> tuple[list[str], Any]:
    """A backend whose renders complete on the second poll, or never; it records the paths asked."""
    seen: list[str] = []
    polls = {"n": 0}

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        seen.append(path)
        if path == "/_mock/health":
            return health()
        if path.startswith("/api/state/"):
            state = {"draft": DRAFT, "video_infos": [], "canvas_config": None, "generated_media": []}
            return httpx.Response(200, json={"code": 0, "data": {"session_id": SID, "state": state}})
        if path == "/api/render/proxy/lambda":
            body = json.loads(request.content)
            return httpx.Response(200, json={"id": body["id"], "status": "pending", "progress": 5})
        if path.startswith("/api/render/proxy/lambda/"):
            polls["n"] += 1
            render_id = path.rsplit("/", 1)[1]
            if completes and polls["n"] % 2 == 0:
                output = {"url": f"{API}/cdn/{render_id}.mp4", "duration": 5.0}
                return httpx.Response(200, json={"id": render_id, "status": "completed", "output": output})
            return httpx.Response(200, json={"id": render_id, "status": "processing", "progress": 50})
        if path.startswith("/cdn/"):
            return httpx.Response(
                200, headers={"content-type": "video/mp4"}, content=b"\x00\x00\x00\x18ftypmp42"
            )
        return httpx.Response(404, json={"code": 404, "message": "no route", "data": None})

    return seen, answer


def exported(tmp_path: Path, env: dict[str, str], answer: Any, slept: list[float]) -> tuple[Client, Any]:
    config = ClientConfig.from_env(
        {"NEMO_API_URL": API, "NEMO_TOKEN": "nmv_usr_scale0001", "NEMO_CONFIG_DIR": str(tmp_path), **env}
    )
    clock = ScaledClock(config.time_scale, real_sleep=slept.append)
    client = Client(config, transport=httpx.MockTransport(answer), clock=clock)
    skill = Skill(
        client, project=Project(SID, "task_1", None, "usr_1"), persist=False, downloads_dir=tmp_path
    )
    return client, skill.export(tmp_path / "out.mp4")


def scale_of(value: float) -> Callable[[], httpx.Response]:
    return lambda: httpx.Response(200, json={"status": "ok", "time_scale": value})


def test_without_nemo_time_scale_the_client_follows_the_server(tmp_path: Path, capsys: Any) -> None:
    """B-ENV-03, B-REN-10: NEMO_TIME_SCALE unset and a mock at scale 0: the polls wait for nothing."""
    seen, answer = server(scale_of(0), completes=True)
    slept: list[float] = []
    client, outcome = exported(tmp_path, {}, answer, slept)
    assert outcome.ok, outcome
    assert slept == []  # scale 0: no real sleep at all
    assert isinstance(client.clock, ScaledClock) and client.clock.time_scale == 0
    # asked once, before the first wait: after the submit, before the first poll
    assert seen.count("/_mock/health") == 1 and seen[1:4] == [
        "/api/render/proxy/lambda",
        "/_mock/health",
        seen[3],
    ]
    assert seen[3].startswith("/api/render/proxy/lambda/render_")
    assert capsys.readouterr().err == ""


def test_a_different_nemo_time_scale_warns_once_and_timeouts_say_what_really_happened(
    tmp_path: Path, capsys: Any
) -> None:
    """B-REN-10, B-CLI-16: NEMO_TIME_SCALE=0 against a server at scale 1: one stderr line names both
    values and the remedy; the render gives up and says how long it really waited, not "5 min"."""
    seen, answer = server(scale_of(1), completes=False)
    slept: list[float] = []
    client, outcome = exported(tmp_path, {"NEMO_TIME_SCALE": "0"}, answer, slept)
    assert outcome.failure is Failure.TIMEOUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "NEMO_TIME_SCALE=0" in err and "time scale 1" in err
    assert "unset NEMO_TIME_SCALE" in err and "--time-scale 0" in err
    (status,) = [t for t in outcome.texts(MessageKind.STATUS) if t.startswith("The render")]
    assert status.startswith("The render did not finish: 10 polls over ")
    assert " s at NEMO_TIME_SCALE=0 (the server runs at time scale 1" in status
    assert "5 min" not in status and "within" not in status
    (error,) = outcome.texts(MessageKind.ERROR)
    assert "The second try did not finish: 10 polls over " in error
    assert client.clock.time_scale == 0 and seen.count("/_mock/health") == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "health",
    [
        lambda: httpx.Response(404, json={"code": 404, "message": "Not Found", "data": None}),
        lambda: httpx.Response(200, text="<html>ok</html>"),
        lambda: httpx.Response(200, json={"status": "ok", "time_scale": "fast"}),
    ],
    ids=["real-backend-404", "html", "no-number"],
)
def test_a_server_without_a_time_scale_leaves_the_client_as_it_was(
    tmp_path: Path, capsys: Any, health: Callable[[], httpx.Response]
) -> None:
    """B-ENV-03: a real backend has no /_mock/health; the client keeps its scale, warns about nothing."""
    seen, answer = server(health, completes=True)
    slept: list[float] = []
    client, outcome = exported(tmp_path, {"NEMO_TIME_SCALE": "1000"}, answer, slept)
    assert seen.count("/_mock/health") == 1
    assert outcome.ok and client.clock.time_scale == 1000  # type: ignore[attr-defined]
    assert slept == [30 / 1000] * 2 and capsys.readouterr().err == ""  # two polls at 1000x


def test_the_question_is_asked_once_per_process_and_survives_a_dropped_connection(tmp_path: Path) -> None:
    """B-ENV-03: a connection error on /_mock/health is no failure; a second client does not ask again."""

    def dropped() -> httpx.Response:
        raise httpx.ConnectError("refused")

    seen, answer = server(dropped, completes=True)
    slept: list[float] = []
    assert exported(tmp_path, {"NEMO_TIME_SCALE": "1000"}, answer, slept)[1].ok
    assert exported(tmp_path, {"NEMO_TIME_SCALE": "1000"}, answer, slept)[1].ok
    assert seen.count("/_mock/health") == 1


def test_an_explicit_config_or_an_injected_clock_asks_nothing(tmp_path: Path) -> None:
    """B-ENV-03: only a client configured from the environment, on a clock of its own, asks."""
    seen, answer = server(scale_of(0), completes=True)
    config = ClientConfig(api_url=API, token="nmv_usr_scale0001")
    slept: list[float] = []
    client = Client(
        config, transport=httpx.MockTransport(answer), clock=ScaledClock(1000, real_sleep=slept.append)
    )
    outcome = Skill(client, project=Project(SID, "task_1", None, "usr_1"), persist=False).export(
        tmp_path / "a.mp4"
    )
    assert outcome.ok and "/_mock/health" not in seen


# ---------------------------------------------------------------------------- the CLI on a live mock


@pytest.mark.live
def test_the_cli_follows_a_live_mock_and_warns_when_told_otherwise(tmp_path: Path) -> None:
    """B-ENV-03, B-REN-10: `nemo-client` against a mock a thousand times faster than real time: without
    NEMO_TIME_SCALE it follows it silently; with NEMO_TIME_SCALE=0 it says, once, that they differ."""
    with LiveServer(Settings(time_scale=1000, seed=4, access_log=False)) as live:
        token = httpx.post(live.url + "/_mock/accounts", json={"tier": "paid", "credits": 1000}).json()[
            "token"
        ]

        def cli(home: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
            environ = {
                **{k: v for k, v in os.environ.items() if not k.startswith("NEMO_")},
                "NEMO_API_URL": live.url,
                "NEMO_TOKEN": token,
                "NEMO_CONFIG_DIR": str(tmp_path / home),
                **env,
            }
            command = [str(Path(sys.executable).with_name("nemo-client")), *args]
            return subprocess.run(
                command, env=environ, capture_output=True, text=True, timeout=90, cwd=tmp_path
            )

        chat = cli("a", "chat", "make a 3 second video of a red car")
        assert chat.returncode == 0, chat.stderr
        follow = cli("a", "export", "--out", "a.mp4")
        assert follow.returncode == 0 and follow.stderr == "", follow.stderr
        cli("b", "chat", "make a 3 second video of a red car")
        told = cli("b", "export", "--out", "b.mp4", NEMO_TIME_SCALE="0")
        warnings = [line for line in told.stderr.splitlines() if line.startswith("nemo-client: warning:")]
        assert len(warnings) == 1 and "NEMO_TIME_SCALE=0" in warnings[0], told.stderr
        assert "time scale 1000" in warnings[0] and "--time-scale 0" in warnings[0]
        if told.returncode != 0:  # polls without waiting may outrun the render: then say so truthfully
            assert "10 polls over " in told.stderr and "at NEMO_TIME_SCALE=0" in told.stderr
