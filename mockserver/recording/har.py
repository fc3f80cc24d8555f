"""`nemo-mock export FILE --har OUT`: a recording as HAR 1.2, for browsers' and proxies' tools.

HAR has no notion of virtual time or SSE events, so the twin adds its own fields, with the
leading underscore HAR reserves for custom fields: `_events` (each SSE event with its virtual time
`_at` in ISO 8601 and its `data`), `_faults` (the fault rules that fired), and on the log
`_recording` (source, seed, profile, scenario, time scale). Times (`startedDateTime`, `time`,
`timings`) are virtual times, milliseconds as HAR wants them. Binary bodies are base64
(`content.encoding`), elided ones carry only a comment.

A recording is masked when written; the export masks again through the same policy
(`mockserver.masking`), so a recording from an older version, or one edited by hand, never
hands a token to the tools a HAR file is shared with. Masking an alias leaves it as it is.
"""

from __future__ import annotations

import base64
import http
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from mockserver import __version__
from mockserver.masking import Masker, mask_url
from mockserver.recording.model import Exchange, Recording

HTTP_VERSION = "HTTP/1.1"


def iso(at: float) -> str:
    """ISO 8601 in UTC with milliseconds, as HAR's `startedDateTime`."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(at * 1000) % 1000:03d}Z"


def learnt(recording: Recording) -> Masker:
    """A masker that knows every credential the recording's headers, queries and JSON bodies hold."""
    masker = Masker()
    for exchange in recording.exchanges:
        masker.learn_headers(exchange.request_headers)
        masker.learn_headers(exchange.response_headers)
        masker.learn_query(exchange.query)
        for body in (exchange.request_body, exchange.response_body or {}):
            if isinstance(body.get("text"), str):
                masker.learn_json(body["text"])
    return masker


def to_har(recording: Recording) -> dict[str, Any]:
    masker = learnt(recording)
    header = recording.header
    scenario = header.get("scenario") or {}
    settings = header.get("settings") or {}
    profile = header.get("profile") or {}
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "nemo-mock", "version": __version__},
            "pages": [],
            "entries": [entry(recording, exchange, masker) for exchange in recording.exchanges],
            "comment": f"{recording.name}: {len(recording.exchanges)} exchanges recorded by nemo-mock"
            + ("" if recording.complete else " (cut short: no end record)"),
            "_recording": {
                "source": recording.source,
                "upstream": header.get("upstream"),
                "seed": settings.get("seed"),
                "profile": profile.get("name"),
                "scenario": scenario.get("name"),
                "time_scale": recording.time_scale,
            },
        }
    }


def entry(recording: Recording, exchange: Exchange, masker: Masker | None = None) -> dict[str, Any]:
    masker = masker or learnt(recording)
    responded = exchange.responded_at if exchange.responded_at is not None else exchange.ended
    wait_ms = _ms(responded - exchange.at)
    receive_ms = _ms(exchange.ended - responded)
    item: dict[str, Any] = {
        "startedDateTime": iso(exchange.at),
        "time": wait_ms + receive_ms,
        "request": request(recording, exchange, masker),
        "response": response(exchange, masker),
        "cache": {},
        "timings": {
            "blocked": -1,
            "dns": -1,
            "connect": -1,
            "send": 0,
            "wait": wait_ms,
            "receive": receive_ms,
        },
        "comment": f"exchange {exchange.seq}",
    }
    if exchange.events is not None:
        item["_events"] = [
            {"_at": iso(event.at), "data": masker.mask(_text(event.data))} for event in exchange.events
        ]
    if exchange.faults:
        item["_faults"] = exchange.faults
    return item


def request(recording: Recording, exchange: Exchange, masker: Masker) -> dict[str, Any]:
    host = exchange.header("host", response=False)
    origin = f"http://{host}" if host else (recording.header.get("upstream") or "http://127.0.0.1")
    body = exchange.request_body
    size = int(body.get("size", 0))
    headers = masker.mask_headers(exchange.request_headers)
    query = masker.mask_query(exchange.query)
    out: dict[str, Any] = {
        "method": exchange.method,
        "url": masker.mask(origin + mask_url(exchange.target)),
        "httpVersion": HTTP_VERSION,
        "cookies": _request_cookies(headers),
        "headers": _pairs(headers),
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(query, keep_blank_values=True)],
        "headersSize": -1,
        "bodySize": size,
    }
    if size or exchange.method in ("POST", "PUT", "PATCH"):
        mime = exchange.header("content-type", response=False) or ""
        post: dict[str, Any] = {"mimeType": mime, "params": []}
        if "text" in body:
            post["text"] = masker.mask(body["text"])
        elif "base64" in body:
            post["text"] = body["base64"]
            post["_encoding"] = "base64"
        else:
            post["text"] = ""
            post["comment"] = f"body elided: {size} bytes, sha256 {body.get('sha256')}"
        out["postData"] = post
    return out


def response(exchange: Exchange, masker: Masker) -> dict[str, Any]:
    status = exchange.status or 0
    headers = masker.mask_headers(exchange.response_headers)
    mime = exchange.header("content-type") or ""
    content: dict[str, Any] = {"mimeType": mime}
    if exchange.events is not None:
        data = exchange.response_bytes()
        content.update(size=len(data), text=masker.mask(_text(data)))
        if not _is_utf8(data):
            content.update(text=base64.b64encode(data).decode("ascii"), encoding="base64")
    else:
        body = exchange.response_body or {"size": 0, "text": ""}
        content["size"] = int(body.get("size", 0))
        if "text" in body:
            content["text"] = masker.mask(body["text"])
        elif "base64" in body:
            content.update(text=body["base64"], encoding="base64")
        else:
            content["comment"] = f"body elided: {body.get('size')} bytes, sha256 {body.get('sha256')}"
    return {
        "status": status,
        "statusText": _reason(status),
        "httpVersion": HTTP_VERSION,
        "cookies": _response_cookies(headers),
        "headers": _pairs(headers),
        "content": content,
        "redirectURL": exchange.header("location") or "",
        "headersSize": -1,
        "bodySize": content["size"],
    }


def _ms(seconds: float) -> float:
    return round(max(0.0, seconds) * 1000.0, 3)


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _pairs(headers: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers]


def _request_cookies(headers: list[tuple[str, str]]) -> list[dict[str, str]]:
    cookies = []
    for name, value in headers:
        if name.lower() == "cookie":
            for crumb in value.split(";"):
                key, eq, val = crumb.strip().partition("=")
                if eq:
                    cookies.append({"name": key, "value": val})
    return cookies


def _response_cookies(headers: list[tuple[str, str]]) -> list[dict[str, str]]:
    cookies = []
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, eq, val = value.split(";", 1)[0].strip().partition("=")
            if eq:
                cookies.append({"name": key, "value": val})
    return cookies


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")
