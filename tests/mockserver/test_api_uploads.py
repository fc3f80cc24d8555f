"""Uploads against a real server: multipart streamed to disk, URLs, formats, caps (B-UPL-*, U-13)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from checkout import FIXTURES_DIR
from contracts.profiles import load_profile
from mockserver.settings import Settings
from mockserver.testing import LiveServer

MEDIA = FIXTURES_DIR / "media"


def upload_path(session_id: str) -> str:
    return f"/api/upload-video/nemo_agent/me/{session_id}"


def test_multipart_several_files(user, mock: LiveServer) -> None:
    """B-UPL-01/02/04/06/11/12: several `files` parts; probed metadata; listed in state video_infos."""
    session_id, _ = user.session()
    files = [
        ("files", ("clip.mp4", (MEDIA / "clip-2s.mp4").read_bytes(), "video/mp4")),
        ("files", ("still.png", (MEDIA / "still.png").read_bytes(), "image/png")),
        ("files", ("tone.wav", (MEDIA / "tone-1s.wav").read_bytes(), "audio/wav")),
    ]
    r = user.post(upload_path(session_id), files=files)
    body = r.json()
    assert body["code"] == 0 and body["data"]["session_state_applied"] is True
    clip, still, tone = body["data"]["files"]
    assert clip["file_type"] == "video" and clip["width"] == 320 and clip["height"] == 240
    assert clip["duration"] == pytest.approx(2.0, abs=0.2) and clip["fps"]
    assert still["file_type"] == "image" and tone["file_type"] == "audio"
    assert re.fullmatch(r"[0-9a-f]{32}", clip["hash"])
    served = user.http.get(clip["cdn_url"])
    assert served.status_code == 200 and served.content == (MEDIA / "clip-2s.mp4").read_bytes()
    names = [v["filename"] for v in user.state(session_id)["video_infos"]]
    assert names == ["clip.mp4", "still.png", "tone.wav"]
    assert not any((mock.backend.data_dir / "incoming").iterdir())  # nothing left half-way


def test_field_file_accepted_too(user) -> None:
    """B-UPL-02: the field `file` is accepted as well as `files`."""
    session_id, _ = user.session()
    r = user.post(upload_path(session_id), files={"file": ("a.jpg", (MEDIA / "still.jpg").read_bytes())})
    assert r.json()["data"]["files"][0]["file_type"] == "image"


@pytest.mark.parametrize(
    "name,source",
    [
        ("notes.txt", "still.png"),
        ("doc.pdf", "still.png"),
        ("fake.mp4", "fake.mp4"),
        ("image-named.mp4", "image-named.mp4"),
        ("CLIP.MP4", "fake.mp4"),
    ],
)
def test_unsupported_is_4001_and_nothing_kept(user, mock: LiveServer, name: str, source: str) -> None:
    """B-UPL-05/07/09, U-13: by extension and by content; the whole request refused, state unchanged."""
    session_id, _ = user.session()
    files = [
        ("files", ("ok.png", (MEDIA / "still.png").read_bytes())),
        ("files", (name, (MEDIA / source).read_bytes())),
    ]
    r = user.post(upload_path(session_id), files=files)
    assert r.json()["code"] == 4001 and "Supported: mp4" in r.json()["message"]
    assert user.state(session_id)["video_infos"] == []
    assert not any((mock.backend.data_dir / "uploads").iterdir())


def test_uppercase_and_jpeg_extensions(user) -> None:
    """U-13: extensions are case-insensitive; jpeg is jpg."""
    session_id, _ = user.session()
    files = [
        ("files", ("A.PNG", (MEDIA / "still.png").read_bytes())),
        ("files", ("b.jpeg", (MEDIA / "still.jpg").read_bytes())),
    ]
    assert user.post(upload_path(session_id), files=files).json()["code"] == 0


@pytest.mark.parametrize(
    "hostile",
    [
        "../../etc/passwd.png",
        "..\\..\\win.png",
        "a\x00b.png",
        "/abs/path.png",
        "x" * 5000 + ".png",
        "über cool 🎬.png",
        "   .png",
    ],
)
def test_hostile_file_names(user, mock: LiveServer, hostile: str) -> None:
    """Hostile names are made plain; files stay inside the mock's data dir; never 500."""
    session_id, _ = user.session()
    r = user.post(upload_path(session_id), files={"files": (hostile, (MEDIA / "still.png").read_bytes())})
    assert r.status_code == 200, r.text
    name = r.json()["data"]["files"][0]["filename"]
    assert "/" not in name and "\\" not in name and "\x00" not in name and len(name) <= 180
    data_dir = mock.backend.data_dir.resolve()
    assert all(p.resolve().is_relative_to(data_dir) for p in mock.backend.assets.values())


def test_url_upload(user) -> None:
    """B-UPL-03/13: JSON {"urls": [...], "source_type": "url"}; the mock stays offline."""
    session_id, _ = user.session()
    r = user.post(
        upload_path(session_id), json={"urls": ["https://example.com/video.mp4"], "source_type": "url"}
    )
    entry = r.json()["data"]["files"][0]
    assert entry["filename"] == "video.mp4" and entry["file_type"] == "video"
    assert entry["cdn_url"] == "https://example.com/video.mp4"
    assert user.state(session_id)["video_infos"][0]["filename"] == "video.mp4"


def test_url_upload_of_own_cdn_file_is_probed(user) -> None:
    session_id, _ = user.session()
    first = user.post(
        upload_path(session_id), files={"files": ("c.mp4", (MEDIA / "clip-2s.mp4").read_bytes())}
    )
    url = first.json()["data"]["files"][0]["cdn_url"]
    again = user.post(upload_path(session_id), json={"urls": [url], "source_type": "url"}).json()
    assert again["data"]["files"][0]["width"] == 320


@pytest.mark.parametrize(
    "payload,code",
    [
        ({"urls": []}, 400),
        ({"urls": "x"}, 400),
        ({"urls": [5]}, 400),
        ({"urls": ["ftp://h/a.mp4"]}, 4001),
        ({"urls": ["https://h/a.exe"]}, 4001),
        ({"urls": ["https://nowhere.invalid/a.mp4"]}, 4001),
        ({"urls": ["https://h/a.mp4"], "source_type": "file"}, 400),
    ],
)
def test_bad_url_uploads(user, payload, code) -> None:
    session_id, _ = user.session()
    r = user.post(upload_path(session_id), json=payload)
    assert r.json()["code"] == code and r.json()["message"]
    assert user.state(session_id)["video_infos"] == []


def test_bad_multipart_requests(user) -> None:
    """Missing boundary, no file part, broken body, unknown session: clear errors, never 500."""
    session_id, _ = user.session()
    assert (
        user.post(upload_path(session_id), content=b"x", headers={"Content-Type": "text/plain"}).status_code
        == 400
    )
    r = user.post(upload_path(session_id), data={"other": "1"}, files={"x": ("a.png", b"1")})
    assert r.status_code == 400
    r = user.post(
        upload_path(session_id),
        content=b"--b\r\ngarbage",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 400
    assert user.post(upload_path("123"), files={"files": ("a.png", b"1")}).json()["code"] == 1002


def small_cap_profile(tmp_path: Path) -> Path:
    skill = tmp_path / "tiny" / "SKILL.md"
    skill.parent.mkdir()
    skill.write_text(
        "---\nname: tiny-cap\nversion: '0.1'\nnemo:\n  upload_cap_mb: 0.01\n---\nA test skill.\n"
    )
    return skill


def test_over_cap_is_4002(tmp_path: Path) -> None:
    """B-UPL-07/08, U-13: per-file cap from the profile, enforced while streaming; nothing kept."""
    settings = Settings(profile=load_profile(small_cap_profile(tmp_path)), time_scale=0, access_log=False)
    with LiveServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        token = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "cap"}).json()["data"]["token"]
        headers = {"Authorization": f"Bearer {token}", "X-Skill-Source": "tiny-cap"}
        sid = http.post("/api/tasks/me/with-session/nemo_agent", json={}, headers=headers).json()["data"][
            "session_id"
        ]
        big = (MEDIA / "clip-2s.mp4").read_bytes() * 4
        assert len(big) > 0.01 * 1024 * 1024
        r = http.post(upload_path(sid), files={"files": ("big.mp4", big)}, headers=headers)
        assert r.json()["code"] == 4002 and "compress or trim" in r.json()["message"]
        small = (MEDIA / "still.png").read_bytes()
        assert len(small) < 0.01 * 1024 * 1024
        assert (
            http.post(upload_path(sid), files={"files": ("s.png", small)}, headers=headers).json()["code"]
            == 0
        )
        assert not any((server.backend.data_dir / "incoming").iterdir())


@pytest.fixture
def mock_process(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """`nemo-mock serve --port 0` as its own process, so its memory can be read from /proc."""
    exe = shutil.which("nemo-mock") or str(Path(sys.executable).with_name("nemo-mock"))
    proc = subprocess.Popen(
        [
            exe,
            "serve",
            "--port",
            "0",
            "--time-scale",
            "0",
            "--quiet",
            "--profile",
            "text-to-video-kling-ai",
            "--data-dir",
            str(tmp_path / "data"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(r"nemo-mock listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, line
        yield match.group(1), proc.pid
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_one_gigabyte_over_cap_memory_flat(mock_process: tuple[str, int], tmp_path: Path) -> None:
    """B-UPL-08: 1 GB streamed at a 200 MB cap -> 4002; the server's peak memory grows far less."""
    url, pid = mock_process
    with httpx.Client(base_url=url, timeout=120) as http:
        token = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "big"}).json()["data"]["token"]
        headers = {"Authorization": f"Bearer {token}", "X-Skill-Source": "text-to-video-kling-ai"}
        sid = http.post("/api/tasks/me/with-session/nemo_agent", json={}, headers=headers).json()["data"][
            "session_id"
        ]
        before = peak_rss_kib(pid)
        boundary = "nemo-boundary-7f3a"
        chunk = b"\0" * (1024 * 1024)

        def body() -> Iterator[bytes]:
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="huge.mp4"\r\n'
                f"Content-Type: video/mp4\r\n\r\n"
            ).encode()
            yield b"\0\0\0\x18ftypmp42" + b"\0" * (len(chunk) - 12)
            for _ in range(1023):
                yield chunk
            yield f"\r\n--{boundary}--\r\n".encode()

        r = http.post(
            upload_path(sid),
            content=body(),
            headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert r.json()["code"] == 4002
        grown_mib = (peak_rss_kib(pid) - before) / 1024
        assert grown_mib < 64, f"peak memory grew by {grown_mib:.0f} MiB"
    leftovers = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert leftovers == []
    assert os.path.exists(f"/proc/{pid}")
