"""The client core: request building, answer parsing and the retry policy, with no network I/O.

Like httpx's BaseClient, `BaseClient` holds configuration and builds every request; `Client` and
`AsyncClient` only move bytes. Each operation is a *plan*: a generator that yields `RequestSpec`s
(send this, give me the `Reply`) and `Sleep`s (wait this long on the clock) and returns the parsed
model (`client.plans`; the plans are the public `plan_*` methods). Each face drives plans with its
own I/O, so the policy below exists once:

- a 1001 answer re-acquires an anonymous token with the same `X-Client-Id` and repeats the call
  once (B-AUTH-07, B-AUTH-14). This happens whenever a client id is known, also for a token taken
  from `NEMO_TOKEN`, because §7 of the skill prescribes it without exception; `token_origin` tells
  the caller which kind of token is in use;
- a 429 waits 30 s of clock time and repeats the call once (B-ERR-05; `Retry-After` is kept on the
  error but the documented 30 s is what the client waits, U-03);
- a 400 at anonymous-token makes a new client id (persisted when there is a config directory)
  and repeats once (B-AUTH-02);
- nothing else is retried, and `/run_sse` never is (B-CLI-08): it is built here but opened by
  the faces outside any plan.
"""

from __future__ import annotations

import contextlib
import mimetypes
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import httpx

from contracts.profiles import Profile, load_profile

from . import timescale
from .clock import Clock, ScaledClock, seconds_text
from .config import ClientConfig, new_client_id, save_client_id
from .errors import (
    MissingClientId,
    NemoError,
    RateLimited,
    ServerError,
    StreamTimeout,
    TokenInvalid,
    TransportError,
    decode_json,
    error_from_response,
    mask_secrets,
)
from .models import AnonymousToken, ClaimToken, Credits, RenderJob, Session, State, UploadResult
from .plans import Plan, Reply, RequestSpec, Sleep, T
from .remedies import RATE_LIMIT_WAIT_S, RemedyTable

APP_NAME = "nemo_agent"  # B-ENV-08
USER_SEGMENT = "me"  # B-ENV-07
DEFAULT_OUTPUT: Mapping[str, str] = {"format": "mp4", "quality": "high"}  # B-REN-02
#: B-SSE-16: v1.9's `--max-time 900`, used as the read timeout of a stream that sends nothing at all.
SSE_READ_TIMEOUT_S = 900.0
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=15.0)
UPLOAD_TIMEOUT = httpx.Timeout(60.0, connect=15.0, read=300.0)

TokenOrigin = Literal["config", "anonymous"]


class _UseConfigDefault:
    """Marks an argument left to the configuration (like httpx's USE_CLIENT_DEFAULT)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "USE_CONFIG_DEFAULT"


USE_CONFIG_DEFAULT: Any = _UseConfigDefault()


def media_type(headers: Mapping[str, str]) -> str:
    value = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    return value.partition(";")[0].strip().lower()


def is_json_type(kind: str) -> bool:
    return kind == "application/json" or kind.endswith("+json")


def is_file_answer(status: int, headers: Mapping[str, str]) -> bool:
    """A 2xx answer that is not JSON: the file itself (B-REN-13)."""
    return 200 <= status < 300 and not is_json_type(media_type(headers))


def is_event_stream(status: int, headers: Mapping[str, str]) -> bool:
    """A 2xx answer to run_sse that is neither JSON nor an HTML page, so a stream."""
    kind = media_type(headers)
    return 200 <= status < 300 and not is_json_type(kind) and kind != "text/html"


def transport_error(exc: Exception) -> TransportError:
    return TransportError(mask_secrets(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__))


def stream_failure(exc: Exception) -> NemoError:
    """A failure while a run_sse stream is open: silence (StreamTimeout) or a broken connection."""
    if isinstance(exc, httpx.ReadTimeout):
        return StreamTimeout(f"No data for the stream's read timeout ({type(exc).__name__}).")
    return transport_error(exc)


def new_render_id() -> str:
    """B-REN-03: a fresh, unique render id."""
    return f"render_{uuid.uuid4().hex}"


class FileSink:
    """Streams a download to `<target>.part` and renames it into place only when it is complete."""

    __slots__ = ("_handle", "_temp", "target")

    def __init__(self, target: Path) -> None:
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        self._temp = target.with_name(f".{target.name}.part")
        self._handle = self._temp.open("wb")

    def write(self, chunk: bytes) -> None:
        self._handle.write(chunk)

    def __enter__(self) -> FileSink:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._handle.close()
        if exc_type is None:
            self._temp.replace(self.target)
        else:
            with contextlib.suppress(FileNotFoundError):
                self._temp.unlink()


class BaseClient:
    """Configuration, current token and client id, request building and answer parsing."""

    def __init__(self, config: ClientConfig | None = None, *, clock: Clock | None = None) -> None:
        self.config = config if config is not None else ClientConfig.from_env()
        #: The skill profile in effect: the configured one, else the upstream skill's (B-PROF-01).
        self.profile: Profile = self.config.profile or load_profile()
        #: What to tell the user about each error, in this profile's words (client.remedies).
        self.remedies = RemedyTable(self.profile, self.config.web_url)
        self.clock: Clock = clock if clock is not None else ScaledClock(self.config.time_scale)
        self._token = self.config.token
        self._client_id = self.config.client_id
        self.token_origin: TokenOrigin | None = "config" if self._token else None
        #: Where the clock's scale came from, for messages about waits: NEMO_TIME_SCALE, the server
        #: (the handshake), or the default.
        self.time_scale_origin: Literal["env", "server", "default"] = (
            "env" if self.config.time_scale_mode == "check" else "default"
        )
        self.real_clock: Callable[[], float] = time.monotonic
        # The handshake is only for a clock of our own; an injected one (a test's) decides time itself.
        own_clock = isinstance(self.clock, ScaledClock)
        self._scale_settled = self.config.time_scale_mode == "ignore" or not own_clock

    # ------------------------------------------------------------------ state

    @property
    def token(self) -> str | None:
        return self._token

    @property
    def client_id(self) -> str | None:
        return self._client_id

    def set_token(self, token: str | None, origin: TokenOrigin = "config") -> None:
        self._token = token
        self.token_origin = origin if token else None

    def _adopt_client_id(self, client_id: str) -> None:
        self._client_id = client_id
        if self.config.config_dir is not None:
            save_client_id(self.config.config_dir, client_id)

    # ------------------------------------------------------------------ the time-scale handshake

    def health_request(self) -> RequestSpec | None:
        """`GET /_mock/health` before the first wait, or None when the scale is settled (client.timescale)."""
        if self._scale_settled:
            return None
        asked, theirs = timescale.known_scale(self.config.api_url)
        if asked:
            self._adopt_time_scale(theirs)
            return None
        timeout = httpx.Timeout(5.0, connect=5.0)
        return RequestSpec("health", "GET", self.url(timescale.HEALTH_PATH), {}, timeout=timeout)

    def settle_time_scale(self, reply: Reply | None) -> None:
        """The answer to `health_request` (None: the server could not be asked)."""
        stated = timescale.parse_health(reply.status, reply.content) if reply is not None else None
        self._adopt_time_scale(timescale.remember_scale(self.config.api_url, stated))

    def _adopt_time_scale(self, theirs: float | None) -> None:
        """Follow the server's scale, or warn that ours differs from it."""
        self._scale_settled = True
        url = self.config.api_url
        if theirs is None or not isinstance(self.clock, ScaledClock):
            return
        if self.config.time_scale_mode == "follow":
            if self.clock.time_scale != theirs:
                self.clock.set_time_scale(theirs)
            self.time_scale_origin = "server"
        elif self.config.time_scale_mode == "check" and theirs != self.clock.time_scale:
            timescale.warn_once(url, timescale.mismatch_line(url, self.clock.time_scale, theirs))

    def wait_mark(self) -> tuple[float, float]:
        """Now, in real and in clock time: where a run of waits starts (see `describe_waits`)."""
        return self.real_clock(), self.clock.now()

    def describe_waits(self, count: int, noun: str, since: tuple[float, float]) -> str:
        """ "10 polls over 0.4 s at NEMO_TIME_SCALE=0": what a run of waits since `wait_mark()` really
        took, for timeout messages. On an injected clock (a test's), that clock's time is the real one."""
        if not isinstance(self.clock, ScaledClock):
            return f"{count} {noun} over {max(0.0, self.clock.now() - since[1]):g} s"
        real = seconds_text(max(0.0, self.real_clock() - since[0]))
        scale = self.clock.time_scale
        if self.time_scale_origin == "env":
            at = f" at NEMO_TIME_SCALE={scale:g}"
        elif self.time_scale_origin == "server":
            at = f" at the server's time scale {scale:g}"
        else:
            at = f" at time scale {scale:g}"
        _, theirs = timescale.known_scale(self.config.api_url)
        hint = ""
        if theirs is not None and theirs != scale:
            hint = f" (the server runs at time scale {theirs:g}: unset NEMO_TIME_SCALE to follow it)"
        return f"{count} {noun} over {real} s{at}{hint}"

    # ------------------------------------------------------------------ URLs

    def url(self, path: str) -> str:
        return self.config.api_url + path

    # ------------------------------------------------------------------ headers

    def api_headers(self) -> dict[str, str]:
        """Bearer token and attribution headers, on every call but anonymous-token (B-ATTR-07)."""
        if not self._token:
            raise TokenInvalid("No token: set NEMO_TOKEN or get an anonymous token first.")
        return {"Authorization": f"Bearer {self._token}", **self.config.attribution.headers()}

    # ------------------------------------------------------------------ requests (B-ENV-05: snake_case)

    def anonymous_token_request(self) -> RequestSpec:
        """B-AUTH-01: no body, no Authorization, no attribution; only `X-Client-Id`."""
        headers = {"X-Client-Id": self._client_id} if self._client_id else {}
        return RequestSpec("anonymous_token", "POST", self.url("/api/auth/anonymous-token"), headers)

    def claim_token_request(self, task_id: str, session_id: str) -> RequestSpec:
        """B-AUTH-19."""
        body = {"task_id": task_id, "session_id": session_id}
        return RequestSpec("claim_token", "POST", self.url("/api/auth/claim-token"), self.api_headers(), body)

    def create_session_request(self, task_name: str, language: str | None) -> RequestSpec:
        """B-SESS-01; `language` is left out when None (B-SESS-05)."""
        body: dict[str, Any] = {"task_name": task_name}
        if language is not None:
            body["language"] = language
        path = f"/api/tasks/{USER_SEGMENT}/with-session/{APP_NAME}"
        return RequestSpec("create_session", "POST", self.url(path), self.api_headers(), body)

    def run_sse_request(self, session_id: str, text: str, read_timeout: float | None) -> RequestSpec:
        """B-SSE-01/02."""
        body = {
            "app_name": APP_NAME,
            "user_id": USER_SEGMENT,
            "session_id": session_id,
            "new_message": {"parts": [{"text": text}]},
        }
        headers = {**self.api_headers(), "Accept": "text/event-stream"}
        timeout = httpx.Timeout(read_timeout, connect=15.0, write=60.0, pool=15.0)
        return RequestSpec("run_sse", "POST", self.url("/run_sse"), headers, body, timeout=timeout)

    def _upload_path(self, session_id: str) -> str:
        return self.url(f"/api/upload-video/{APP_NAME}/{USER_SEGMENT}/{quote(session_id, safe='')}")

    def upload_files_request(self, session_id: str, paths: tuple[Path, ...]) -> RequestSpec:
        """B-UPL-01/02: multipart, one `files` field per file."""
        if not paths:
            raise ValueError("upload_files needs at least one path")
        for path in paths:
            if not path.is_file():
                raise FileNotFoundError(f"not a file: {path.name}")
        return RequestSpec(
            "upload",
            "POST",
            self._upload_path(session_id),
            self.api_headers(),
            upload_paths=paths,
            timeout=UPLOAD_TIMEOUT,
        )

    def upload_urls_request(self, session_id: str, urls: tuple[str, ...]) -> RequestSpec:
        """B-UPL-03."""
        if not urls:
            raise ValueError("upload_urls needs at least one URL")
        body = {"urls": list(urls), "source_type": "url"}
        return RequestSpec(
            "upload", "POST", self._upload_path(session_id), self.api_headers(), body, timeout=UPLOAD_TIMEOUT
        )

    def credits_request(self) -> RequestSpec:
        """B-CRED-01."""
        return RequestSpec("credits", "GET", self.url("/api/credits/balance/simple"), self.api_headers())

    def state_request(self, session_id: str) -> RequestSpec:
        """B-STATE-01."""
        path = f"/api/state/{APP_NAME}/{USER_SEGMENT}/{quote(session_id, safe='')}/latest"
        return RequestSpec("state", "GET", self.url(path), self.api_headers())

    def submit_render_request(
        self, session_id: str, draft: Mapping[str, Any], render_id: str, output: Mapping[str, Any]
    ) -> RequestSpec:
        """B-REN-01/19: `sessionId` is the one camelCase field (B-ENV-05); the draft goes as an object."""
        if not isinstance(draft, Mapping):
            raise TypeError("draft must be the state's draft object, not a string")
        body = {"id": render_id, "sessionId": session_id, "draft": dict(draft), "output": dict(output)}
        return RequestSpec(
            "submit_render", "POST", self.url("/api/render/proxy/lambda"), self.api_headers(), body
        )

    def get_render_request(self, render_id: str) -> RequestSpec:
        """B-REN-05."""
        path = f"/api/render/proxy/lambda/{quote(render_id, safe='')}"
        return RequestSpec("get_render", "GET", self.url(path), self.api_headers())

    def cancel_render_request(self, render_id: str) -> RequestSpec:
        """B-REN-12: no body."""
        path = f"/api/render/proxy/lambda/{quote(render_id, safe='')}/cancel"
        return RequestSpec("cancel_render", "POST", self.url(path), self.api_headers())

    def download_render_request(self, render_id: str, out_path: Path) -> RequestSpec:
        """B-REN-13: the fallback download, without `/lambda`."""
        path = f"/api/render/proxy/{quote(render_id, safe='')}/download"
        return RequestSpec("download", "GET", self.url(path), self.api_headers(), sink=out_path)

    def download_url_request(self, url: str, out_path: Path) -> RequestSpec:
        """Fetch `output.url` (B-CLI-14d). The token goes only to the API's own origin, never to a CDN."""
        headers = self.api_headers() if _same_origin(url, self.config.api_url) else {}
        return RequestSpec("download", "GET", url, headers, sink=out_path)

    # ------------------------------------------------------------------ answers

    def check(self, reply: Reply, operation: str) -> NemoError | None:
        """The error `reply` carries, if any (B-ERR-04), with the remedy in the profile's words."""
        if reply.saved is not None:
            return None
        return error_from_response(
            reply.status, reply.content, reply.headers, operation=operation, remedies=self.remedies
        )

    def envelope_data(self, reply: Reply, what: str) -> Mapping[str, Any]:
        """`data` of a success envelope `{"code":0,"data":{...}}` (B-ENV-06)."""
        body = decode_json(reply.content)
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, Mapping):
            raise ServerError(
                f"The {what} answer is not a JSON envelope with a data object.", http_status=reply.status
            )
        return data

    def render_job(self, reply: Reply, render_id: str) -> RenderJob:
        """Shape A or B (B-REN-04/06/07), normalised."""
        answer = decode_json(reply.content)
        if answer is None:
            raise ServerError("The render answer is not JSON.", http_status=reply.status)
        return RenderJob.from_answer(answer, render_id=render_id)

    def stream_error(self, status: int, headers: Mapping[str, str], content: bytes) -> NemoError:
        """Why a run_sse answer is not a stream: its error (U-09), or a ServerError."""
        error = error_from_response(status, content, headers, operation="run_sse", remedies=self.remedies)
        return error or ServerError("run_sse answered without an event stream.", http_status=status)

    # ------------------------------------------------------------------ plans (client.plans)

    def plan_anonymous_token(self) -> Plan[AnonymousToken]:
        """POST /api/auth/anonymous-token (B-AUTH-01/02/03); the client uses the new token from now on.

        One retry on 400 (with a new client id) and one on 429 (after 30 s).
        """
        made_id = waited = False
        while True:
            reply = yield self.anonymous_token_request()
            assert reply is not None
            error = self.check(reply, "anonymous_token")
            if error is None:
                result = AnonymousToken.from_data(self.envelope_data(reply, "anonymous-token"))
                self.set_token(result.token, "anonymous")
                return result
            if isinstance(error, MissingClientId) and not made_id:
                made_id = True
                self._adopt_client_id(new_client_id())
                continue
            if isinstance(error, RateLimited) and not waited:
                waited = True
                yield Sleep(RATE_LIMIT_WAIT_S)
                continue
            raise error

    def plan_ensure_token(self) -> Plan[str]:
        """The configured token; only without one, a new anonymous token (B-AUTH-13)."""
        if not self._token:
            yield from self.plan_anonymous_token()
        assert self._token is not None
        return self._token

    def _plan_call(self, build: Callable[[], RequestSpec], parse: Callable[[Reply], T]) -> Plan[T]:
        """An authenticated call under the retry policy of this module's docstring."""
        yield from self.plan_ensure_token()
        reauthed = waited = False
        while True:
            spec = build()  # rebuilt each time: a re-auth changes the bearer
            reply = yield spec
            assert reply is not None
            error = self.check(reply, spec.operation)
            if error is None:
                return parse(reply)
            if isinstance(error, TokenInvalid) and not reauthed and self._client_id:
                reauthed = True
                yield from self.plan_anonymous_token()
                continue
            if isinstance(error, RateLimited) and not waited:
                waited = True
                yield Sleep(RATE_LIMIT_WAIT_S)
                continue
            raise error

    def plan_claim_token(self, task_id: str, session_id: str) -> Plan[ClaimToken]:
        """POST /api/auth/claim-token (B-AUTH-19)."""
        return self._plan_call(
            lambda: self.claim_token_request(task_id, session_id),
            lambda reply: ClaimToken.from_data(self.envelope_data(reply, "claim-token")),
        )

    def plan_create_session(self, task_name: str, language: Any = USE_CONFIG_DEFAULT) -> Plan[Session]:
        """POST /api/tasks/me/with-session/nemo_agent (B-SESS-01); `language=None` leaves it out."""
        lang = self.config.language if language is USE_CONFIG_DEFAULT else language
        return self._plan_call(
            lambda: self.create_session_request(task_name, lang),
            lambda reply: Session.from_data(self.envelope_data(reply, "create-session")),
        )

    def plan_upload_files(self, session_id: str, paths: tuple[Path, ...]) -> Plan[UploadResult]:
        """POST /api/upload-video/nemo_agent/me/<sid>, multipart `files` streamed from disk (B-UPL-02)."""
        return self._plan_call(
            lambda: self.upload_files_request(session_id, paths),
            lambda reply: UploadResult.from_data(self.envelope_data(reply, "upload")),
        )

    def plan_upload_urls(self, session_id: str, urls: tuple[str, ...]) -> Plan[UploadResult]:
        """POST /api/upload-video/nemo_agent/me/<sid>, JSON `urls` (B-UPL-03)."""
        return self._plan_call(
            lambda: self.upload_urls_request(session_id, urls),
            lambda reply: UploadResult.from_data(self.envelope_data(reply, "upload")),
        )

    def plan_credits(self) -> Plan[Credits]:
        """GET /api/credits/balance/simple (B-CRED-01)."""
        return self._plan_call(
            self.credits_request, lambda reply: Credits.from_data(self.envelope_data(reply, "credits"))
        )

    def plan_state(self, session_id: str) -> Plan[State]:
        """GET /api/state/nemo_agent/me/<sid>/latest (B-STATE-01)."""
        return self._plan_call(
            lambda: self.state_request(session_id),
            lambda reply: State.from_data(self.envelope_data(reply, "state")),
        )

    def plan_submit_render(
        self,
        session_id: str,
        draft: Mapping[str, Any],
        render_id: str | None = None,
        output: Mapping[str, Any] | None = None,
    ) -> Plan[RenderJob]:
        """POST /api/render/proxy/lambda (B-REN-01); a fresh `render_<uuid hex>` id unless given."""
        job_id = render_id or new_render_id()
        out = DEFAULT_OUTPUT if output is None else output
        return self._plan_call(
            lambda: self.submit_render_request(session_id, draft, job_id, out),
            lambda reply: self.render_job(reply, job_id),
        )

    def plan_get_render(self, render_id: str) -> Plan[RenderJob]:
        """GET /api/render/proxy/lambda/<id> (B-REN-05), shape A or B."""
        return self._plan_call(
            lambda: self.get_render_request(render_id), lambda reply: self.render_job(reply, render_id)
        )

    def plan_cancel_render(self, render_id: str) -> Plan[RenderJob | None]:
        """POST /api/render/proxy/lambda/<id>/cancel (B-REN-12); None when the answer holds no job."""

        def parse(reply: Reply) -> RenderJob | None:
            # U-14: the cancel answer is undocumented; read a job when there is one.
            try:
                return self.render_job(reply, render_id)
            except ServerError:
                return None

        return self._plan_call(lambda: self.cancel_render_request(render_id), parse)

    def plan_download_render(self, render_id: str, out_path: Path) -> Plan[Path]:
        """GET /api/render/proxy/<id>/download (B-REN-13), streamed to `out_path`."""
        return self._plan_call(lambda: self.download_render_request(render_id, out_path), _saved_file)

    def plan_download_url(self, url: str, out_path: Path) -> Plan[Path]:
        """Fetch an output URL (B-CLI-14d) to `out_path`; no token leaves the API's origin."""
        if _same_origin(url, self.config.api_url):
            return self._plan_call(lambda: self.download_url_request(url, out_path), _saved_file)
        return self._plan_public_download(url, out_path)

    def _plan_public_download(self, url: str, out_path: Path) -> Plan[Path]:
        """A URL off the API (a CDN): no token needed or sent, so no re-auth either."""
        reply = yield RequestSpec("download", "GET", url, {}, sink=out_path)
        assert reply is not None
        if reply.saved is None:
            raise self.check(reply, "download") or _not_a_file(reply)
        return reply.saved


def _saved_file(reply: Reply) -> Path:
    """Where a download answer was saved; a JSON answer to a download is a ServerError."""
    if reply.saved is None:
        raise _not_a_file(reply)
    return reply.saved


def _not_a_file(reply: Reply) -> ServerError:
    return ServerError("The download answered with JSON instead of a file.", http_status=reply.status)


def _same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def upload_parts(
    paths: tuple[Path, ...], stack: contextlib.ExitStack
) -> list[tuple[str, tuple[str, Any, str]]]:
    """Multipart parts for `paths`, opened in `stack`; httpx streams open files in chunks."""
    parts: list[tuple[str, tuple[str, Any, str]]] = []
    for path in paths:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        parts.append(("files", (path.name, stack.enter_context(path.open("rb")), kind)))
    return parts
