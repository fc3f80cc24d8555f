"""Uploaded files: what the mock accepts, keeps and serves under /cdn/uploads/ (B-UPL-*), HTTP-free.

A file reaches the mock streamed to disk by the edge (`ReceivedFile`) or named by a URL. Here it
is judged (its extension among the profile's formats, its content what the extension says, a URL
one the mock could fetch), described (`MediaInfo`: probed, or for a remote file inferred from its
extension, since the mock stays offline), kept in a directory of its own and listed in the
session's `video_infos` (B-UPL-11). The backend (`Backend.upload_files`, `upload_urls`) runs these
steps in order; a request with any bad file is refused whole and nothing of it is kept.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import urlsplit

from contracts.profiles import Profile
from mockserver import media
from mockserver.errors import FILE_TOO_LARGE, UNSUPPORTED_FILE, ApiError
from mockserver.state.sessions import Session

#: Files, or URLs, one upload request may carry.
MAX_FILES = 20
MAX_FILENAME = 180
#: The first bytes of a file that tell what it holds (media.sniff).
SNIFF_BYTES = 64


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    """One file of a multipart upload, on disk: its safe name, where it is and what the reader saw."""

    filename: str
    path: Path
    size: int
    head: bytes  # the first SNIFF_BYTES
    digest: str  # sha256, hex, cut to 32


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """A URL an upload names, accepted: the file's name and type."""

    url: str
    filename: str
    kind: str  # video | image | audio


class Assets(Mapping[str, Path]):
    """Kept uploads by their /cdn/ path (`uploads/<asset id>/<name>`), read as a mapping."""

    def __init__(self, directory: Path, new_id: Callable[[str], str], profile: Profile) -> None:
        self.directory = directory
        self.new_id = new_id  # the owner's ids: a kept file takes two draws of that sequence
        self.profile = profile
        self.files: dict[str, Path] = {}

    def __getitem__(self, cdn_path: str) -> Path:
        return self.files[cdn_path]

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    # ------------------------------------------------------------------ judging

    def check_content(self, file: ReceivedFile) -> None:
        """4001 when the bytes are not what the extension says (a .png that is text, U-13)."""
        if not media.content_matches_extension(extension(file.filename), media.sniff(file.head)):
            raise unsupported(file.filename, self.profile, "its content is not what its extension says")

    def check_probe(self, filename: str, info: media.MediaInfo) -> None:
        if info.file_type is None:
            raise unsupported(filename, self.profile, "the file could not be read")

    def accepted_url(self, url: str) -> RemoteFile:
        """The file a URL names (B-UPL-03, B-UPL-05), or 4001: not http(s), not a supported file,
        or a host that does not exist (`.invalid`, RFC 2606)."""
        extensions = tuple(ext for exts in self.profile.accepted_formats.values() for ext in exts)
        if not re.fullmatch(upload_url_pattern(extensions), url):  # the served document's pattern
            raise ApiError(
                UNSUPPORTED_FILE, f"Cannot fetch {url[:200]}: not an http(s) URL of a supported file"
            )
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ApiError(UNSUPPORTED_FILE, f"Cannot fetch {url[:200]}: only http(s) URLs")
        filename = safe_filename(PurePosixPath(parts.path).name or "remote")
        kind = self.profile.extension_type(extension(filename))
        if kind is None:
            raise unsupported(filename, self.profile)
        if parts.hostname and parts.hostname.endswith(".invalid"):
            raise ApiError(UNSUPPORTED_FILE, f"Cannot fetch {url[:200]}: host not found")
        return RemoteFile(url, filename, kind)

    # ------------------------------------------------------------------ keeping

    def place(self, filename: str) -> Path:
        """Where a file to keep goes: a new directory of its own, made."""
        keep_dir = self.directory / self.new_id("f")
        keep_dir.mkdir(parents=True)
        return keep_dir / filename

    def register(
        self,
        session: Session,
        filename: str,
        path: Path | None,
        info: media.MediaInfo,
        digest: str,
        cdn_url: str,
    ) -> dict[str, Any]:
        """List a kept file (served under `cdn_url`/cdn/...) or, with `path` None, a remote file
        (at `cdn_url` itself) in the session's `video_infos` (B-UPL-11); the entry of the answer."""
        asset_id = self.new_id("asset")
        if path is not None:
            cdn_path = f"uploads/{asset_id}/{filename}"
            self.files[cdn_path] = path
            cdn_url = f"{cdn_url}/cdn/{cdn_path}"
        entry = {
            "filename": filename,
            "file_type": info.file_type,
            "cdn_url": cdn_url,
            "duration": info.duration,
            "width": info.width,
            "height": info.height,
            "fps": info.fps,
            "hash": digest,
        }
        session.video_infos.append({**entry, "id": asset_id, "source": "upload"})
        return entry

    def check(self) -> None:
        """Raise AssertionError when the invariants do not hold."""
        for cdn_path, path in self.files.items():
            root, asset_id, name = cdn_path.split("/")
            assert root == "uploads" and asset_id.startswith("asset_"), f"{cdn_path}: not an upload path"
            assert name == path.name, f"{cdn_path}: served as another name than {path.name}"
            assert path.is_relative_to(self.directory), f"{cdn_path}: kept outside {self.directory}"


def remote_info(kind: str) -> media.MediaInfo:
    """What a remote file is taken to be, unfetched: 10 s of 1080p at 30 fps, as far as its type has
    those (README: offline)."""
    return media.MediaInfo(
        file_type=kind,
        duration=None if kind == "image" else 10.0,
        width=None if kind == "audio" else 1920,
        height=None if kind == "audio" else 1080,
        fps=30.0 if kind == "video" else None,
        format_name="remote",
    )


def unsupported(filename: str, profile: Profile, why: str = "") -> ApiError:
    """4001, naming the formats the profile accepts (B-UPL-07)."""
    formats = ", ".join(ext for exts in profile.accepted_formats.values() for ext in exts)
    reason = f" ({why})" if why else ""
    return ApiError(UNSUPPORTED_FILE, f"Unsupported file type: {filename}{reason}. Supported: {formats}")


def too_large(filename: str, cap: int) -> ApiError:
    """4002 over the profile's cap (B-UPL-08, U-13)."""
    return ApiError(
        FILE_TOO_LARGE,
        f"File too large: {filename} is over the {cap // (1024 * 1024)} MB limit; compress or trim it",
    )


def safe_filename(raw: str) -> str:
    """A hostile name ("../../x", NUL, a Windows path, 10 kB of text) made into a plain file name."""
    name = PureWindowsPath(PurePosixPath(raw).name).name
    name = "".join(
        ch for ch in unicodedata.normalize("NFC", name) if ch.isprintable() and ch not in '<>:"|?*\\/'
    )
    name = name.strip().rstrip(" .")
    if name.startswith("."):  # no hidden files; keep the extension of ".png"
        name = "upload" + name
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        name = (
            (stem[: MAX_FILENAME - len(ext) - 1] + dot + ext)
            if dot and len(ext) <= 8
            else name[:MAX_FILENAME]
        )
    return name or "upload"


def extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


@cache
def upload_url_pattern(extensions: tuple[str, ...]) -> str:
    """The URLs an upload by URL takes (B-UPL-03, B-UPL-05, U-13): http(s), a host, and a path whose
    last segment ends in an accepted extension, in any case (`jpeg` is `jpg`), then an optional query.
    The served document publishes it (`served_openapi`), so that a client can know before sending."""
    spelled = sorted({*extensions, *(["jpeg"] if "jpg" in extensions else [])})
    any_case = "|".join(
        "".join(f"[{ch.lower()}{ch.upper()}]" if ch.isalpha() else re.escape(ch) for ch in ext)
        for ext in spelled
    )
    segment = r"[A-Za-z0-9._~!$&'()+,;=@%-]"
    return (
        rf"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+(:[0-9]{{1,5}})?/({segment}+/)*"
        rf"{segment}*\.({any_case})(\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$"
    )
