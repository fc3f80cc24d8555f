"""POST /api/upload-video/nemo_agent/{user_id}/{session_id}: multipart files or JSON URLs (B-UPL-*).

The multipart reader is wire parsing: it streams the body to disk part by part, enforcing the
profile's cap per file while reading (U-13), and hands the backend typed `ReceivedFile`s. What a
file then becomes (checked, probed, kept, listed) is decided in `mockserver.state.assets`. A
request with any bad file is refused whole and nothing of it is kept. The rest of an oversized
body is read and thrown away, so that clients still see the 4002 answer.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.responses import Response

from mockserver.api.common import (
    authenticate,
    backend_of,
    body_chunks,
    note_body,
    note_session,
    ok,
    read_json,
)
from mockserver.api.requests import UrlUploadRequest
from mockserver.backend import Backend
from mockserver.errors import ApiError, bad_request
from mockserver.state.assets import (
    MAX_FILES,
    SNIFF_BYTES,
    ReceivedFile,
    extension,
    safe_filename,
    too_large,
    unsupported,
)

FILE_FIELDS = (b"files", b"file")  # B-UPL-02; `file` accepted too
MAX_PART_HEADER = 16 * 1024  # long hostile file names get cut to size, not refused
#: RFC 2046 5.1.1: a boundary is 1 to 70 of these characters, the last one not a space.
MAX_BOUNDARY = 70
BOUNDARY_CHARS = re.compile(rb"[0-9A-Za-z'()+_,\-./:=? ]*[0-9A-Za-z'()+_,\-./:=?]")


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
            self.error = unsupported(filename, self.backend.profile)
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

    def received(self) -> list[ReceivedFile]:
        """The files read, as the backend takes them."""
        return [
            ReceivedFile(item.filename, item.path, item.size, bytes(item.head), item.digest.hexdigest()[:32])
            for item in self.files
        ]

    def discard(self) -> None:
        for incoming in self.files:
            incoming.handle.close()
        shutil.rmtree(self.dir, ignore_errors=True)


async def upload(request: Request) -> Response:
    """Files (multipart, B-UPL-02) or URLs (JSON, B-UPL-03) into a session the caller owns."""
    backend = backend_of(request)
    note_session(request, request.path_params["session_id"])
    account = authenticate(request)
    backend.resolve_user(account, request.path_params["user_id"])
    session = backend.sessions.owned(account, request.path_params["session_id"])
    base_url = str(request.base_url).rstrip("/")
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type == b"application/json":
        wanted = UrlUploadRequest.from_body(await read_json(request))
        files = await backend.upload_urls(session, wanted.urls, base_url, request.url.netloc)
        return ok(request, {"files": files, "session_state_applied": True})
    boundary = params.get(b"boundary") if content_type == b"multipart/form-data" else None
    reader = await read_multipart(request, backend, boundary)
    note_body(request, describe(reader.received()))
    try:
        files = await backend.upload_files(session, reader.received(), base_url)
    finally:
        reader.discard()
    return ok(request, {"files": files, "session_state_applied": True})


def describe(files: list[ReceivedFile]) -> str:
    """What the journal keeps of a multipart upload: its files' names and sizes, not their bytes."""
    named = ", ".join(f"{file.filename} ({file.size:,} bytes)" for file in files)
    return f"multipart/form-data: {len(files)} file(s): {named} (file contents are not journalled)"


async def read_multipart(request: Request, backend: Backend, boundary: bytes | None) -> UploadReader:
    """The files of a multipart body, on disk; the reader's `discard()` removes what is left of them."""
    if not boundary:
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
    except BaseException:
        reader.discard()
        raise
    return reader
