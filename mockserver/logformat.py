"""The request log's two forms (`nemo-mock serve --log-format text|json`).

`text` is the line people read (`POST /run_sse 200 code=0 t=...`, virtual time). `json` is one
object per line for log collectors: `wall` (ISO 8601, UTC, when the line was written), `virtual`
(the mock's clock when the request began), `latency_virtual_s` (virtual seconds the request took),
`method`, `path` (masked), `status`, `code`. The middleware hands these fields over as the log
record's `nemo` attribute; this module only shapes them.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

LOG_FORMATS = ("text", "json")


class JsonLines(logging.Formatter):
    """A request record as one JSON object; any other record as `{"wall", "level", "message"}`."""

    def format(self, record: logging.LogRecord) -> str:
        wall = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        fields = getattr(record, "nemo", None)
        if isinstance(fields, dict):
            return json.dumps({"wall": wall, **fields}, separators=(",", ":"))
        return json.dumps({"wall": wall, "level": record.levelname.lower(), "message": record.getMessage()})


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonLines()
    return logging.Formatter("%(message)s")
