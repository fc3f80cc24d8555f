"""Request bodies held to the contract's request schemas and parsed into typed requests: one home
for what a request must look like.

A body that is no instance of its schema in contracts/openapi.yaml is HTTP 400 with a message naming
the field (U-12), before any lookup or business rule: a malformed request is refused as malformed in
either error mode, and a request the document calls valid is never refused for its shape. What
passes becomes a small typed request (`RenderRequest`, `RunRequest`, ...), so that the backend
works on values and never on the wire's spellings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import best_match

from contracts.spec import component_validator
from mockserver.errors import bad_request
from mockserver.state.assets import MAX_FILES

MAX_MESSAGE = 200


def conforming(body: dict[str, Any], component: str) -> dict[str, Any]:
    """`body` when it is a `#/components/schemas/<component>`; else HTTP 400 saying what is wrong."""
    error = best_match(component_validator(component).iter_errors(body))
    if error is None:
        return body
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
    message = error.message if len(error.message) <= MAX_MESSAGE else error.message[: MAX_MESSAGE - 3] + "..."
    raise bad_request(f"`{where.lstrip('.')}`: {message}" if where else message)


@dataclass(frozen=True, slots=True)
class RenderRequest:
    """A render submit (B-REN-01/02): the client's id for it, the session, the draft to render."""

    render_id: str
    session_id: str
    draft: dict[str, Any]
    output: dict[str, Any]  # `format` mp4; `quality`, `resolution`, `fps` where given

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> RenderRequest:
        if "session_id" in body and "sessionId" not in body:
            raise bad_request("render submit takes camelCase `sessionId` (the one camelCase field, B-ENV-05)")
        conforming(body, "RenderSubmitRequest")
        output = body.get("output", {"format": "mp4", "quality": "high"})
        return cls(body["id"], body["sessionId"], body["draft"], output)


@dataclass(frozen=True, slots=True)
class SessionRequest:
    """A new session (B-SESS-01/05/06): its name, `project` when left out or blank, and language."""

    task_name: str
    language: str | None

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> SessionRequest:
        conforming(body, "CreateSessionRequest")
        return cls((body.get("task_name") or "").strip() or "project", body.get("language"))


@dataclass(frozen=True, slots=True)
class ClaimRequest:
    """A claim token for one project (B-AUTH-19/20)."""

    task_id: str
    session_id: str

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> ClaimRequest:
        conforming(body, "ClaimTokenRequest")
        return cls(body["task_id"], body["session_id"])


#: ADK's camelCase spellings of the run request's keys (B-ADK-09), read as their snake_case names.
CAMEL_CASE = {
    "appName": "app_name",
    "userId": "user_id",
    "sessionId": "session_id",
    "newMessage": "new_message",
}


@dataclass(frozen=True, slots=True)
class RunRequest:
    """One message to the agent (B-SSE-02, B-ADK-01): the session, who sends it (`me`, the caller's
    id or None, B-SSE-03) and its text, parts joined by lines."""

    session_id: str
    user_id: str | None
    text: str

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> RunRequest:
        snake = dict(body)
        for camel, name in CAMEL_CASE.items():
            if camel in snake and name not in snake:
                snake[name] = snake.pop(camel)
        conforming(snake, "RunSseRequest")
        text = "\n".join(part["text"] for part in snake["new_message"]["parts"])
        return cls(snake["session_id"], snake.get("user_id"), text)


@dataclass(frozen=True, slots=True)
class UrlUploadRequest:
    """Remote files by URL (B-UPL-03, B-UPL-13): at most MAX_FILES, `source_type` `url` if given."""

    urls: tuple[str, ...]

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> UrlUploadRequest:
        urls = body.get("urls")
        if not isinstance(urls, list) or not urls or not all(isinstance(u, str) and u for u in urls):
            raise bad_request("`urls` must be a non-empty list of URLs")
        if len(urls) > MAX_FILES:
            raise bad_request(f"at most {MAX_FILES} URLs per request")
        if body.get("source_type", "url") != "url":
            raise bad_request('`source_type` must be "url"')
        return cls(tuple(urls))
