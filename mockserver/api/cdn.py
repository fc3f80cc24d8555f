"""GET /cdn/{path}: the files the mock hands out as URLs (upload `cdn_url`, render `output.url`)."""

from __future__ import annotations

import mimetypes

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from mockserver.api.common import backend_of, note_code
from mockserver.errors import not_found


async def serve(request: Request) -> Response:
    path = request.path_params["path"]
    local = backend_of(request).served_file(path)
    if local is None or not local.is_file():
        raise not_found(f"No such file: /cdn/{path[:200]}")
    note_code(request, 0)
    media_type = mimetypes.guess_type(local.name)[0] or "application/octet-stream"
    return FileResponse(local, media_type=media_type)
