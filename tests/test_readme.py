"""README.md runs as written: its shell blocks for the mock, the curl session and the nemo-client
walkthrough (B-AUTH-01, B-SESS-01, B-CRED-03, B-CRED-05, B-CLI-10, B-CLI-14, B-REN-06, B-PROF-07).

The blocks are the ones marked `<!-- readme-test: NAME -->` in README.md; each runs in bash, with
`set -e`, from a fresh directory, with a fresh `NEMO_CONFIG_DIR` and no other `NEMO_*` variable.
The one change the test makes to the text: the ports. Every `8080` becomes a free port A and
every `8081` a free port B, and a `nemo-mock serve` without `--port` gets `--port A`, so the test
can run beside anything else. Editing the README into something that does not work fails here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from checkout import PROJECT_DIR

pytestmark = pytest.mark.live

README = PROJECT_DIR / "README.md"
BLOCK = re.compile(r"<!-- readme-test: (?P<name>[\w-]+) -->\n```bash\n(?P<body>.*?)```", re.S)
BIN = Path(sys.executable).parent  # nemo-mock, nemo-client and python of this installation


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Ports:
    a: int
    b: int

    def apply(self, text: str) -> str:
        """The README's text with the test's ports (see the module docstring)."""
        text = re.sub(r"\bnemo-mock serve\b(?![^\n#]*--port)", f"nemo-mock serve --port {self.a}", text)
        return text.replace("8080", str(self.a)).replace("8081", str(self.b))


def blocks() -> dict[str, str]:
    found = {m["name"]: m["body"] for m in BLOCK.finditer(README.read_text(encoding="utf-8"))}
    assert {"serve", "curl-session", "walkthrough"} <= set(found), f"README blocks marked: {sorted(found)}"
    return found


def environment(config_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["NEMO_CONFIG_DIR"] = str(config_dir)
    return env


def run(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`script` in bash -e, in a process group of its own: a mock it leaves running is stopped.

    Output goes to files, not pipes, so a background mock holding them open cannot keep us waiting.
    """
    out_path, err_path = cwd / ".stdout", cwd / ".stderr"
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(
            ["bash", "-e", "-c", script], cwd=cwd, env=env, stdout=out, stderr=err, start_new_session=True
        )
        try:
            process.wait(timeout=110)
        finally:
            _stop_group(process)
    stdout, stderr = out_path.read_text(encoding="utf-8"), err_path.read_text(encoding="utf-8")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _stop_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)  # the group this test started, by its id
    if process.poll() is None:
        process.wait(timeout=30)


@pytest.fixture
def ports() -> Ports:
    return Ports(free_port(), free_port())


@pytest.fixture
def first_mock(ports: Ports, tmp_path: Path) -> Iterator[str]:
    """The README's `serve` block, running; yields its ready line."""
    process = subprocess.Popen(
        ["bash", "-e", "-c", ports.apply(blocks()["serve"])],
        cwd=tmp_path,
        env=environment(tmp_path / "serve-config"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=60), "the mock printed no ready line"
        yield process.stdout.readline().strip()
    finally:
        _stop_group(process)


def test_the_mock_and_the_curl_session_run_as_written(first_mock: str, ports: Ports, tmp_path: Path) -> None:
    """B-AUTH-01, B-SESS-01: `nemo-mock serve` prints its ready line; the curl session gets a token
    and opens a session on it."""
    assert first_mock == f"nemo-mock listening on http://127.0.0.1:{ports.a}"
    done = run(ports.apply(blocks()["curl-session"]), tmp_path, environment(tmp_path / "config"))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["code"] == 0 and answer["data"]["session_id"] and answer["data"]["task_id"]


def test_the_walkthrough_runs_as_written(first_mock: str, ports: Ports, tmp_path: Path) -> None:
    """B-CLI-10, B-CLI-14, B-REN-06, B-PROF-07: generation, an edit, the status and the export on a
    mock at time scale 0 (the client follows it); the MP4 is H.264 and as long as the draft."""
    done = run(ports.apply(blocks()["walkthrough"]), tmp_path, environment(tmp_path / "config"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""  # no time-scale warning, no error
    out = done.stdout
    assert '"time_scale": 0' in out.replace('"time_scale":0', '"time_scale": 0')  # what the client follows
    assert "✅ Video generated: city timelapse (0-10s)" in out
    assert "✅ Title changed: 'Urban Dreams' → 'City Lights'" in out
    assert "✅ Sound effect added: whoosh at 2s" in out
    assert "✅ Video ready! city.mp4" in out
    status = next(line for line in out.splitlines() if line.startswith("Timeline (4 tracks)"))
    draft_s = max(float(end) for end in re.findall(r"\(\d+(?:\.\d+)?-(\d+(?:\.\d+)?)s", status))
    with av.open(str(tmp_path / "city.mp4")) as container:
        (video,) = container.streams.video
        assert video.codec_context.name == "h264"
        assert abs(float(container.duration or 0) / av.time_base - draft_s) < 0.1


def test_without_nemo_token_the_edit_asks_to_register(first_mock: str, ports: Ports, tmp_path: Path) -> None:
    """B-CRED-03, B-CRED-05, B-CLI-20: what the README says about an anonymous token holds: the
    generation spends its 100 credits and the edit after it is 2001 with the `?bind=` link. The
    test leaves out the README's `export NEMO_TOKEN=...` statement, as a reader trying it would."""
    script = ports.apply(blocks()["walkthrough"])
    without = re.sub(r"export NEMO_TOKEN=\$\(.*?\)\n", "", script, flags=re.S)
    assert without != script and "NEMO_TOKEN" not in without
    done = run(without, tmp_path, environment(tmp_path / "config"))
    assert done.returncode == 4, done.stdout + done.stderr  # credits (the documented exit code)
    assert "✅ Video generated" in done.stdout
    assert "/register?bind=anon_" in done.stderr
