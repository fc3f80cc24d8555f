"""Every curl command of the upstream skill v1.9, as written, against a running mock (B-ENV-*, B-AUTH-01,
B-SESS-01, B-AUTH-19, B-SSE-01, B-UPL-01/02/03, B-CRED-01, B-STATE-01, B-REN-01/05/13)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import av
import yaml

from checkout import FIXTURES_DIR
from mockserver.testing import LiveServer

COMMANDS = yaml.safe_load((FIXTURES_DIR / "curl" / "nemo-video-v1.9.yaml").read_text(encoding="utf-8"))[
    "commands"
]


def run(name: str, env: dict[str, str], cwd: Path, **placeholders: str) -> bytes:
    """One documented command, placeholders filled in, run by bash as a user would paste it."""
    shell = next(c["shell"] for c in COMMANDS if c["name"] == name)
    for key, value in placeholders.items():
        marker = "/path/to/file" if key == "path" else f"<{key}>"
        assert marker in shell, (name, marker)
        shell = shell.replace(marker, value)
    assert "<" not in shell.replace("<<", ""), f"unfilled placeholder in {name}: {shell}"
    done = subprocess.run(
        ["bash", "-c", shell], env=env, cwd=cwd, capture_output=True, timeout=60, check=True
    )
    return done.stdout


def envelope(raw: bytes) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(raw)
    assert body.get("code") == 0, body
    return body["data"]


def test_every_documented_curl_command_succeeds(mock: LiveServer, tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "API": mock.url,
        "SKILL_NAME": "nemo-video",
        "SKILL_VERSION": "1.9",
        "SKILL_SOURCE": "unknown",
    }
    token = envelope(run("anonymous-token", env, tmp_path))["token"]
    assert (tmp_path / ".config" / "nemovideo" / "client_id").read_text().strip()  # B-AUTH-12
    env["TOKEN"] = token
    session = envelope(run("create-session", env, tmp_path, lang="en"))
    sid, task_id = session["session_id"], session["task_id"]
    claim = envelope(run("claim-token", env, tmp_path, task_id=task_id, session_id=sid))
    assert claim["claim_token"].startswith("clm_")
    stream = run("run-sse", env, tmp_path, sid=sid, msg="Generate a 5-second clip of a city street at night")
    assert b'"type":"tool_call"' in stream and stream.endswith(b"\n\n")
    upload = envelope(
        run("upload-file", env, tmp_path, sid=sid, path=str(FIXTURES_DIR / "media" / "clip-2s.mp4"))
    )
    assert upload["files"][0]["file_type"] == "video"
    by_url = envelope(run("upload-url", env, tmp_path, sid=sid, url="https://example.com/video.mp4"))
    assert by_url["files"][0]["filename"] == "video.mp4"
    credits = envelope(run("credits", env, tmp_path))
    assert credits["total"] == credits["available"] + credits["frozen"]
    state = envelope(run("state", env, tmp_path, sid=sid))["state"]
    assert state["draft"]["t"] and len(state["video_infos"]) >= 2
    submitted = json.loads(
        run(
            "render-submit",
            env,
            tmp_path,
            ts="1",
            sid=sid,
            json=json.dumps(state["draft"], separators=(",", ":")),
        )
    )
    assert submitted["id"] == "render_1" and submitted["status"] == "pending"
    statuses = [json.loads(run("render-poll", env, tmp_path, id="render_1"))["status"] for _ in range(3)]
    assert statuses[-1] == "completed"
    run("render-download", env, tmp_path, render_id="render_1")
    with av.open(str(tmp_path / "output.mp4")) as container:
        assert container.streams.video[0].codec_context.name == "h264"
