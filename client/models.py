"""What the API answers, as plain frozen objects, and the lenient readers that build them.

Readers take the decoded JSON (`data` of the envelope, or the whole render answer) and raise
ServerError when a field the client cannot do without is missing. Everything else is optional:
the sources disagree on which extra fields come back (B-AUTH-03, B-SESS-03, B-UPL-04).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import ServerError

RenderShape = Literal["A", "B"]
RENDER_DONE = ("completed", "failed")


def _required_str(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise ServerError(f"The {what} answer has no usable {key!r}.")
    return str(value)


def _opt_str(data: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


def _opt_num(data: Mapping[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                continue
    return None


def _opt_int(data: Mapping[str, Any], *keys: str) -> int | None:
    value = _opt_num(data, *keys)
    return None if value is None else int(value)


def _dict(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, Mapping) else None


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


@dataclass(frozen=True, slots=True)
class AnonymousToken:
    """B-AUTH-03: a fresh anonymous token (`token` is kept out of the repr)."""

    token: str = field(repr=False)
    user_id: str | None
    expires_at: str | None
    credits: int | None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> AnonymousToken:
        return cls(
            token=_required_str(data, "token", "anonymous-token"),
            user_id=_opt_str(data, "user_id"),
            expires_at=_opt_str(data, "expires_at"),
            credits=_opt_int(data, "credits"),
        )


@dataclass(frozen=True, slots=True)
class Session:
    """B-SESS-03: a new project; `user_id` only when the backend sends it."""

    task_id: str
    session_id: str
    user_id: str | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Session:
        return cls(
            task_id=_required_str(data, "task_id", "create-session"),
            session_id=_required_str(data, "session_id", "create-session"),
            user_id=_opt_str(data, "user_id"),
        )


@dataclass(frozen=True, slots=True)
class ClaimToken:
    """B-AUTH-19: a browser-only token for `$WEB/workspace/claim?ct=…` (B-CLI-19)."""

    claim_token: str
    expires_in: int | None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ClaimToken:
        return cls(_required_str(data, "claim_token", "claim-token"), _opt_int(data, "expires_in"))


@dataclass(frozen=True, slots=True)
class Credits:
    """B-CRED-01/02: `total = available + frozen`."""

    available: float
    frozen: float
    total: float

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Credits:
        available = _opt_num(data, "available")
        if available is None:
            raise ServerError("The credits answer has no usable 'available'.")
        frozen = _opt_num(data, "frozen") or 0
        total = _opt_num(data, "total")
        return cls(available, frozen, available + frozen if total is None else total)


@dataclass(frozen=True, slots=True)
class State:
    """B-STATE-02: the session's state; `raw` is the envelope's whole `data`."""

    raw: dict[str, Any] = field(repr=False)
    draft: dict[str, Any] | None
    video_infos: list[Any]
    canvas_config: dict[str, Any] | None
    generated_media: list[Any]
    video_analyses: list[Any]
    user_id: str | None  # where `?bind=` finds the anonymous user id (B-STATE-08)
    session_id: str | None = None
    task_id: str | None = None

    @property
    def export_ready(self) -> bool:
        """B-STATE-05: `draft.t` exists and at least one track has a non-empty `sg`."""
        tracks = self.draft.get("t") if self.draft else None
        return isinstance(tracks, list) and any(
            isinstance(track, Mapping) and isinstance(track.get("sg"), list) and track["sg"]
            for track in tracks
        )

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> State:
        state = data.get("state")
        if not isinstance(state, Mapping):
            raise ServerError("The state answer has no 'state' object.")
        return cls(
            raw=dict(data),
            draft=_dict(state.get("draft")),
            video_infos=_list(state.get("video_infos")),
            canvas_config=_dict(state.get("canvas_config")),
            generated_media=_list(state.get("generated_media")),
            video_analyses=_list(state.get("video_analyses")),
            user_id=_opt_str(data, "user_id") or _opt_str(state, "user_id"),
            session_id=_opt_str(data, "session_id"),
            task_id=_opt_str(data, "task_id"),
        )


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """B-UPL-04: one stored file; `fps` and `hash` only from some backends."""

    filename: str | None
    file_type: str | None
    cdn_url: str | None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    hash: str | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> UploadedFile:
        return cls(
            filename=_opt_str(data, "filename"),
            file_type=_opt_str(data, "file_type"),
            cdn_url=_opt_str(data, "cdn_url"),
            duration=_opt_num(data, "duration"),
            width=_opt_int(data, "width"),
            height=_opt_int(data, "height"),
            fps=_opt_num(data, "fps"),
            hash=_opt_str(data, "hash"),
        )


@dataclass(frozen=True, slots=True)
class UploadResult:
    """B-UPL-04, B-UPL-12: the stored files and whether the session state took them."""

    files: tuple[UploadedFile, ...]
    session_state_applied: bool | None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> UploadResult:
        files = data.get("files")
        if not isinstance(files, list):
            raise ServerError("The upload answer has no 'files' list.")
        applied = data.get("session_state_applied")
        return cls(
            tuple(UploadedFile.from_data(item) for item in files if isinstance(item, Mapping)),
            applied if isinstance(applied, bool) else None,
        )


@dataclass(frozen=True, slots=True)
class RenderJob:
    """A render job from either answer shape (B-REN-04/06/07), normalised.

    Shape A has `status` at the top level and the URL at `output.url`; shape B nests everything
    in `data` with `outputUrl`. `raw` is the whole answer.
    """

    id: str
    status: str
    progress: float | None
    output_url: str | None
    shape: RenderShape
    duration: float | None = None
    size: int | None = None
    created_at: float | None = None
    completed_at: float | None = None
    reason: str | None = None  # why it failed, when the backend says (U-14)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """`completed` or `failed`: polling can stop (B-REN-09)."""
        return self.status in RENDER_DONE

    @classmethod
    def from_answer(cls, answer: Any, *, render_id: str | None = None) -> RenderJob:
        """Read a submit or poll answer of either shape; `render_id` fills a missing id."""
        if not isinstance(answer, Mapping):
            raise ServerError("The render answer is not a JSON object.")
        nested = answer.get("data")
        shape: RenderShape
        if isinstance(nested, Mapping) and "status" not in answer:
            body, shape = nested, "B"
        else:
            body, shape = answer, "A"
        status = _opt_str(body, "status")
        if status is None:
            raise ServerError("The render answer has no 'status'.")
        job_id = _opt_str(body, "id", "taskId", "task_id", "render_id") or render_id
        if job_id is None:
            raise ServerError("The render answer has no job id.")
        output = body.get("output")
        output = output if isinstance(output, Mapping) else {}
        reason = _opt_str(body, "reason", "error", "message", "errorMessage")
        if reason is None and isinstance(body.get("error"), Mapping):
            reason = _opt_str(body["error"], "message", "reason")
        return cls(
            id=job_id,
            status=status.lower(),
            progress=_opt_num(body, "progress"),
            output_url=_opt_str(output, "url") or _opt_str(body, "outputUrl", "output_url", "url"),
            shape=shape,
            duration=_opt_num(output, "duration") or _opt_num(body, "duration"),
            size=_opt_int(output, "size") or _opt_int(body, "size"),
            created_at=_opt_num(body, "createdAt", "created_at"),
            completed_at=_opt_num(body, "completedAt", "completed_at"),
            reason=reason,
            raw=dict(answer),
        )
