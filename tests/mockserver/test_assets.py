"""Uploads below the HTTP line: what a received file or a URL becomes, without a server (B-UPL-*)."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkout import FIXTURES_DIR
from mockserver.backend import Backend
from mockserver.errors import SESSION_NOT_FOUND, UNSUPPORTED_FILE, ApiError
from mockserver.settings import Settings
from mockserver.state.assets import SNIFF_BYTES, ReceivedFile
from mockserver.state.sessions import Session

PNG = FIXTURES_DIR / "media" / "still.png"


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    backend = Backend(Settings(time_scale=0, seed=3, data_dir=tmp_path / "data", access_log=False))
    yield backend
    asyncio.run(backend.aclose())


def user(backend: Backend) -> Session:
    """A session of a new paid account."""
    _, account = backend.accounts.create_account("paid", 100, backend.clock.now())
    return backend.create_session(account, "p", "en")


def received(source: Path, where: Path, name: str) -> ReceivedFile:
    """A file as the multipart reader hands it over: on disk, with its head and digest."""
    where.mkdir(parents=True, exist_ok=True)
    path = where / name
    shutil.copyfile(source, path)
    data = path.read_bytes()
    return ReceivedFile(name, path, len(data), data[:SNIFF_BYTES], hashlib.sha256(data).hexdigest()[:32])


def test_a_received_file_is_probed_kept_listed_and_served(backend: Backend, tmp_path: Path) -> None:
    """B-UPL-04, B-UPL-11: the file is probed, moved into a directory of its own, listed in the
    session's video_infos and served under the cdn_url it is answered with."""
    session = user(backend)
    file = received(PNG, tmp_path / "incoming", "still.png")
    (entry,) = asyncio.run(backend.upload_files(session, [file], "http://127.0.0.1:9"))
    assert entry["file_type"] == "image" and entry["hash"] == file.digest
    assert entry["cdn_url"].startswith("http://127.0.0.1:9/cdn/uploads/asset_")
    kept = backend.served_file(entry["cdn_url"].removeprefix("http://127.0.0.1:9/cdn/"))
    assert kept is not None and kept.read_bytes() == PNG.read_bytes() and not file.path.exists()
    assert kept.is_relative_to(backend.data_dir / "uploads")
    assert [info["source"] for info in session.video_infos] == ["upload"]
    backend.assets.check()


def test_a_file_whose_content_is_not_its_extension_is_refused_whole(backend: Backend, tmp_path: Path) -> None:
    """B-UPL-07, U-13: text named .png is 4001; the good file sent with it is not kept either."""
    session = user(backend)
    text = tmp_path / "notes.txt"
    text.write_text("not a picture at all, just words", encoding="utf-8")
    files = [received(PNG, tmp_path / "in", "good.png"), received(text, tmp_path / "in", "fake.png")]
    with pytest.raises(ApiError) as refused:
        asyncio.run(backend.upload_files(session, files, "http://127.0.0.1:9"))
    assert refused.value.code == UNSUPPORTED_FILE and "fake.png" in refused.value.message
    assert len(backend.assets) == 0 and session.video_infos == []


def test_an_upload_into_a_session_a_reset_threw_away_is_1002(backend: Backend, tmp_path: Path) -> None:
    """U-16: the session is gone by the time the files are kept: 1002, and nothing is kept."""
    session = user(backend)
    file = received(PNG, tmp_path / "incoming", "still.png")
    backend.reset()
    with pytest.raises(ApiError) as refused:
        asyncio.run(backend.upload_files(session, [file], "http://127.0.0.1:9"))
    assert refused.value.code == SESSION_NOT_FOUND and len(backend.assets) == 0


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/a.mp4", "not an http(s) URL"),
        ("https://example.com/notes.txt", "not an http(s) URL of a supported file"),
        ("https://nowhere.invalid/clip.mp4", "host not found"),
    ],
)
def test_urls_the_mock_could_not_fetch_are_4001(backend: Backend, url: str, why: str) -> None:
    """B-UPL-03, B-UPL-05: a URL must be http(s), name a supported file and have a host."""
    with pytest.raises(ApiError) as refused:
        backend.assets.accepted_url(url)
    assert refused.value.code == UNSUPPORTED_FILE and why in refused.value.message


def test_a_remote_url_is_described_from_its_extension_and_an_own_url_is_copied(
    backend: Backend, tmp_path: Path
) -> None:
    """B-UPL-03, B-UPL-11: the mock stays offline: another host's video is listed at its own URL
    as 10 s of 1080p; a URL of the mock's own /cdn/ is copied, so that the session owns its file."""
    session = user(backend)
    base = "http://127.0.0.1:9"
    (own,) = asyncio.run(backend.upload_files(session, [received(PNG, tmp_path / "in", "a.png")], base))
    urls = ["https://cdn.example.com/clip.MP4?sig=1", own["cdn_url"]]
    remote, copied = asyncio.run(backend.upload_urls(session, urls, base, "127.0.0.1:9"))
    assert (remote["cdn_url"], remote["file_type"], remote["duration"], remote["width"]) == (
        urls[0],
        "video",
        10.0,
        1920,
    )
    assert copied["file_type"] == "image" and copied["cdn_url"] != own["cdn_url"]
    first, second = (backend.served_file(e["cdn_url"].removeprefix(f"{base}/cdn/")) for e in (own, copied))
    assert first is not None and second is not None and first != second
    assert second.read_bytes() == first.read_bytes()
    assert len(session.video_infos) == 3
    backend.assets.check()
