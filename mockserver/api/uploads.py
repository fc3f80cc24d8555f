"""POST /api/upload-video/nemo_agent/{user_id}/{session_id}: multipart files or JSON URLs (B-UPL-*).

Bodies are streamed to disk part by part; the profile's cap is enforced per file while reading
(U-13). A request with any bad file is refused whole and nothing of it is kept. The rest of an
oversized body is read and thrown away, so that clients still see the 4002 answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import IO, Any
from urllib.parse import urlsplit

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.responses import Response

from mockserver import media
from mockserver.api.common import authenticate, backend_of, body_chunks, ok, read_json
from mockserver.api.requests import upload_url_pattern
from mockserver.backend import Backend
from mockserver.errors import FILE_TOO_LARGE, UNSUPPORTED_FILE, ApiError, bad_request, session_not_found
from mockserver.state.sessions import Session

FILE_FIELDS = (b"files", b"file")  # B-UPL-02; `file` accepted too
MAX_FILES = 20
MAX_FILENAME = 180
SNIFF_BYTES = 64
MAX_PART_HEADER = 16 * 1024  # long hostile file names get cut to size, not refused
#: RFC 2046 5.1.1: a boundary is 1 to 70 of these characters, the last one not a space.
MAX_BOUNDARY = 70
BOUNDARY_CHARS = re.compile(rb"[0-9A-Za-z'()+_,\-./:=? ]*[0-9A-Za-z'()+_,\-./:=?]")


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


@dataclass(slots=True)
class Incoming:
    """One file part being received."""

    filename: str
    path: Path
    handle: IO[bytes]
    size: int = 0
    head: bytearray = field(default_factory=bytearray)
    digest: Any = field(default_factory=hashlib.sha256)


class UploadReader:
    """Feeds the request body through a streaming multipart parser into files on disk."""

    def __init__(self, backend: Backend, boundary: bytes, cap: int | None) -> None:
        self.backend = backend
        self.cap = cap
        # Made when the first file arrives: a request refused before that leaves nothing behind.
        self.dir = backend.data_dir / "incoming" / backend.new_id("req")
        self.files: list[Incoming] = []
        self.error: ApiError | None = None
        self._current: Incoming | None = None
        self._skip_part = False
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
            max_header_size=MAX_PART_HEADER,
        )

    def _part_begin(self) -> None:
        self._headers = {}
        self._current = None
        self._skip_part = False

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field = b""
        self._value = b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"")
        raw_filename = params.get(b"filename")
        if name not in FILE_FIELDS or raw_filename is None or self.error is not None:
            self._skip_part = True  # other form fields are ignored
            return
        if len(self.files) >= MAX_FILES:
            self.error = bad_request(f"at most {MAX_FILES} files per request")
            self._skip_part = True
            return
        filename = safe_filename(raw_filename.decode("utf-8", "replace"))
        if self.backend.profile.extension_type(extension(filename)) is None:
            self.error = unsupported(filename, self.backend)
            self._skip_part = True
            return
        if not self.files:
            self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"{len(self.files)}"
        self._current = Incoming(filename, path, path.open("wb"))
        self.files.append(self._current)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        current = self._current
        if self._skip_part or current is None or self.error is not None:
            return
        chunk = data[start:end]
        current.size += len(chunk)
        if self.cap is not None and current.size > self.cap:
            self.error = too_large(current.filename, self.cap)
            return
        if len(current.head) < SNIFF_BYTES:
            current.head += chunk[: SNIFF_BYTES - len(current.head)]
        current.digest.update(chunk)
        current.handle.write(chunk)

    def _part_end(self) -> None:
        if self._current is not None:
            self._current.handle.close()
        self._current = None

    def discard(self) -> None:
        for incoming in self.files:
            incoming.handle.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def unsupported(filename: str, backend: Backend, why: str = "") -> ApiError:
    formats = ", ".join(ext for exts in backend.profile.accepted_formats.values() for ext in exts)
    reason = f" ({why})" if why else ""
    return ApiError(UNSUPPORTED_FILE, f"Unsupported file type: {filename}{reason}. Supported: {formats}")


def too_large(filename: str, cap: int) -> ApiError:
    return ApiError(
        FILE_TOO_LARGE,
        f"File too large: {filename} is over the {cap // (1024 * 1024)} MB limit; compress or trim it",
    )


async def upload(request: Request) -> Response:
    backend = backend_of(request)
    account = authenticate(request)
    backend.resolve_user(account, request.path_params["user_id"])
    session = backend.sessions.owned(account, request.path_params["session_id"])
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type == b"application/json":
        return await upload_urls(request, backend, session)
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise bad_request('Upload as multipart/form-data with field `files`, or JSON {"urls": [...]}')
    if len(boundary) > MAX_BOUNDARY or not BOUNDARY_CHARS.fullmatch(boundary):
        raise bad_request(
            f"Malformed multipart boundary: 1 to {MAX_BOUNDARY} characters of letters, digits "
            "and '()+_,-./:=? (RFC 2046)"
        )
    reader = UploadReader(backend, boundary, backend.profile.upload_cap_bytes)
    try:
        async for chunk in body_chunks(request):
            if reader.error is None:
                try:
                    reader.parser.write(chunk)
                except Exception as exc:  # python-multipart raises on a broken body
                    reader.error = bad_request(f"Malformed multipart body: {exc}")
            # After an error the rest is read and dropped: the client still gets the answer.
        if reader.error is None:
            reader.parser.finalize()
        if reader.error is not None:
            raise reader.error
        if not reader.files:
            raise bad_request("No file in the multipart field `files`")
        base_url = str(request.base_url).rstrip("/")
        return ok(request, await register(backend, session, reader, base_url))
    finally:
        reader.discard()


def still_there(backend: Backend, session: Session) -> None:
    """1002 for a session a reset threw away while its upload was being read or probed (U-16)."""
    if backend.sessions.sessions.get(session.session_id) is not session:
        raise session_not_found(session.session_id)


async def register(backend: Backend, session: Session, reader: UploadReader, base_url: str) -> dict[str, Any]:
    """Check each file's content against its extension, probe it, keep it, list it in state."""
    checked = []
    for incoming in reader.files:
        family = media.sniff(bytes(incoming.head))
        ext = extension(incoming.filename)
        if not media.content_matches_extension(ext, family):
            raise unsupported(incoming.filename, backend, "its content is not what its extension says")
        info = await asyncio.to_thread(media.probe, incoming.path)
        if info.file_type is None:
            raise unsupported(incoming.filename, backend, "the file could not be read")
        checked.append((incoming, info))
    still_there(backend, session)
    files = []
    for incoming, info in checked:
        keep_dir = backend.data_dir / "uploads" / backend.new_id("f")
        keep_dir.mkdir(parents=True)
        kept = keep_dir / incoming.filename
        incoming.path.replace(kept)
        files.append(
            backend.register_asset(
                session, incoming.filename, kept, info, incoming.digest.hexdigest()[:32], base_url
            )
        )
    return {"files": files, "session_state_applied": True}


async def upload_urls(request: Request, backend: Backend, session: Session) -> Response:
    """JSON `{"urls": [...], "source_type": "url"}` (B-UPL-03, B-UPL-13).

    The mock stays offline: a URL of this mock's own /cdn/ is copied from its store; any other
    URL is taken on trust and described from its extension, with no fetch (README: offline).
    """
    body = await read_json(request)
    urls = body.get("urls")
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) and u for u in urls):
        raise bad_request("`urls` must be a non-empty list of URLs")
    if len(urls) > MAX_FILES:
        raise bad_request(f"at most {MAX_FILES} URLs per request")
    source_type = body.get("source_type", "url")
    if source_type != "url":
        raise bad_request('`source_type` must be "url"')
    planned = []
    extensions = tuple(ext for exts in backend.profile.accepted_formats.values() for ext in exts)
    for url in urls:
        if not re.fullmatch(upload_url_pattern(extensions), url):  # the served document's pattern
            raise ApiError(
                UNSUPPORTED_FILE, f"Cannot fetch {url[:200]}: not an http(s) URL of a supported file"
            )
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ApiError(UNSUPPORTED_FILE, f"Cannot fetch {url[:200]}: only http(s) URLs")
        filename = safe_filename(PurePosixPath(parts.path).name or "remote")
        kind = backend.profile.extension_type(extension(filename))
        if kind is None:
            raise unsupported(filename, backend)
        if parts.hostname and parts.hostname.endswith(".invalid"):
            raise ApiError(UNSUPPORTED_FILE, f"Cannot fetch {url[:200]}: host not found")
        planned.append((url, filename, kind))
    files = []
    base_url = str(request.base_url).rstrip("/")
    for url, filename, kind in planned:
        parts = urlsplit(url)
        own = parts.netloc == request.url.netloc and parts.path.startswith("/cdn/")
        local = backend.assets.get(parts.path.removeprefix("/cdn/")) if own else None
        if local is not None and local.exists():
            info = await asyncio.to_thread(media.probe, local)
        else:
            info = media.MediaInfo(
                file_type=kind,
                duration=None if kind == "image" else 10.0,
                width=None if kind == "audio" else 1920,
                height=None if kind == "audio" else 1080,
                fps=30.0 if kind == "video" else None,
                format_name="remote",
            )
        digest = hashlib.sha256(url.encode()).hexdigest()[:32]
        still_there(backend, session)
        if local is not None:  # a copy, so that the session owns its file
            copy = backend.data_dir / "uploads" / backend.new_id("f") / filename
            copy.parent.mkdir(parents=True)
            await asyncio.to_thread(shutil.copyfile, local, copy)
            local = copy
        files.append(
            backend.register_asset(
                session, filename, local, info, digest, base_url if local is not None else url
            )
        )
    return ok(request, {"files": files, "session_state_applied": True})
