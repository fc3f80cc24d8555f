"""The request log's two forms (`nemo-mock serve --log-format text|json`).

A line is written when a request ends, and for an event stream also when it opens, so a stream
that hangs shows. Fields (the middleware hands them over as the log record's `nemo` attribute;
this module only shapes them):

- `wall`: ISO 8601, UTC, when the line was written;
- `event`: `request` (a request ended), `stream-open`, `stream-end`;
- `virtual`: the mock's clock when the request began; `latency_ms`: real milliseconds from the
  request's arrival to this line (none on `stream-open`); `latency_virtual_s`: virtual seconds;
- `method`, `path` (masked), `status`, `code` (the body's business code), `session` (masked).

`text` is the line people read:
`2026-12-05T18:00:00.123Z POST /run_sse 200 code=0 t=1767225600.000 session=s_1a2b 3.1ms [stream-end]`.
`json` is one object per line with the fields above, for log collectors.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

LOG_FORMATS = ("text", "json")


def wall_time(record: logging.LogRecord) -> str:
    return (
        datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


class JsonLines(logging.Formatter):
    """A request record as one JSON object; any other record as `{"wall", "level", "message"}`."""

    def format(self, record: logging.LogRecord) -> str:
        wall = wall_time(record)
        fields = getattr(record, "nemo", None)
        if isinstance(fields, dict):
            return json.dumps({"wall": wall, **fields}, separators=(",", ":"))
        return json.dumps({"wall": wall, "level": record.levelname.lower(), "message": record.getMessage()})


class TextLines(logging.Formatter):
    """A request record as `<wall time> <message>`; any other record as its message."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if isinstance(getattr(record, "nemo", None), dict):
            return f"{wall_time(record)} {message}"
        return message


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonLines()
    return TextLines()
