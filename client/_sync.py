"""`Client`: the blocking face of the client core, on `httpx.Client`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from ._core import (
    DEFAULT_TIMEOUT,
    SSE_READ_TIMEOUT_S,
    USE_CONFIG_DEFAULT,
    BaseClient,
    FileSink,
    is_event_stream,
    is_file_answer,
    stream_failure,
    transport_error,
    upload_parts,
)
from .clock import Clock
from .config import ClientConfig
from .errors import NemoError
from .models import AnonymousToken, ClaimToken, Credits, RenderJob, Session, State, UploadResult
from .plans import Plan, Reply, RequestSpec, Sleep, T
from .sse import EventStream


class Client(BaseClient):
    """The NemoVideo API, blocking. Pass `transport=` (e.g. httpx.MockTransport) or a whole `http_client=`."""

    def __init__(
        self,
        config: ClientConfig | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        clock: Clock | None = None,
    ) -> None:
        if transport is not None and http_client is not None:
            raise ValueError("pass either transport or http_client, not both")
        super().__init__(config, clock=clock)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(transport=transport, timeout=DEFAULT_TIMEOUT)

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ I/O and plans

    def _build(self, spec: RequestSpec, stack: contextlib.ExitStack) -> httpx.Request:
        return self._http.build_request(
            spec.method,
            spec.url,
            headers={"User-Agent": self.config.user_agent, **spec.headers},
            json=spec.json,
            files=upload_parts(spec.upload_paths, stack) if spec.upload_paths else None,
            timeout=spec.timeout if spec.timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )

    def _send(self, spec: RequestSpec) -> Reply:
        with contextlib.ExitStack() as stack:
            request = self._build(spec, stack)
            try:
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                raise transport_error(exc) from exc
            try:
                if spec.sink is not None and is_file_answer(response.status_code, response.headers):
                    with FileSink(spec.sink) as sink:
                        for chunk in response.iter_bytes():
                            sink.write(chunk)
                    return Reply(response.status_code, response.headers, saved=spec.sink)
                return Reply(response.status_code, response.headers, response.read())
            except httpx.TransportError as exc:
                raise transport_error(exc) from exc
            finally:
                response.close()

    def wait(self, seconds: float) -> None:
        """Wait on the clock; before the first wait, the time-scale handshake (client.timescale)."""
        request = self.health_request()
        if request is not None:
            try:
                reply: Reply | None = self._send(request)
            except NemoError:
                reply = None  # no answer: the server says nothing about its time scale
            self.settle_time_scale(reply)
        self.clock.sleep(seconds)

    def drive(self, plan: Plan[T]) -> T:
        """Run one plan (`client.plans`) to its result: send its requests, wait its sleeps."""
        try:
            step = next(plan)
            while True:
                if isinstance(step, Sleep):
                    self.wait(step.seconds)
                    step = plan.send(None)
                else:
                    step = plan.send(self._send(step))
        except StopIteration as stop:
            return stop.value

    # ------------------------------------------------------------------ API

    def anonymous_token(self) -> AnonymousToken:
        """POST /api/auth/anonymous-token (B-AUTH-01); the client uses the new token from now on."""
        return self.drive(self.plan_anonymous_token())

    def ensure_token(self) -> str:
        """The configured token, or a new anonymous one when there is none (B-AUTH-13)."""
        return self.drive(self.plan_ensure_token())

    def claim_token(self, task_id: str, session_id: str) -> ClaimToken:
        """POST /api/auth/claim-token (B-AUTH-19)."""
        return self.drive(self.plan_claim_token(task_id, session_id))

    def create_session(self, task_name: str = "project", language: Any = USE_CONFIG_DEFAULT) -> Session:
        """POST /api/tasks/me/with-session/nemo_agent (B-SESS-01); `language=None` leaves it out."""
        return self.drive(self.plan_create_session(task_name, language))

    @contextlib.contextmanager
    def run_sse(
        self, session_id: str, text: str, *, read_timeout: float | None = SSE_READ_TIMEOUT_S
    ) -> Iterator[EventStream]:
        """POST /run_sse (B-SSE-01/02): yields the typed events as they arrive. Never retried (B-CLI-08)."""
        self.ensure_token()
        spec = self.run_sse_request(session_id, text, read_timeout)
        with contextlib.ExitStack() as stack:
            request = self._build(spec, stack)
            try:
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                raise stream_failure(exc) from exc
            try:
                if not is_event_stream(response.status_code, response.headers):
                    try:
                        content = response.read()
                    except httpx.TransportError as exc:
                        raise transport_error(exc) from exc
                    raise self.stream_error(response.status_code, response.headers, content)
                events = EventStream(_chunks(response))
                try:
                    yield events
                finally:
                    events.close()
            finally:
                response.close()

    def upload_files(self, session_id: str, paths: Iterable[str | Path]) -> UploadResult:
        """POST /api/upload-video/nemo_agent/me/<sid>, multipart `files` (B-UPL-02), streamed from disk."""
        return self.drive(self.plan_upload_files(session_id, tuple(Path(p) for p in paths)))

    def upload_urls(self, session_id: str, urls: Iterable[str]) -> UploadResult:
        """POST /api/upload-video/nemo_agent/me/<sid>, JSON `urls` (B-UPL-03)."""
        return self.drive(self.plan_upload_urls(session_id, tuple(urls)))

    def credits(self) -> Credits:
        """GET /api/credits/balance/simple (B-CRED-01)."""
        return self.drive(self.plan_credits())

    def state(self, session_id: str) -> State:
        """GET /api/state/nemo_agent/me/<sid>/latest (B-STATE-01)."""
        return self.drive(self.plan_state(session_id))

    def submit_render(
        self,
        session_id: str,
        draft: Mapping[str, Any],
        render_id: str | None = None,
        *,
        output: Mapping[str, Any] | None = None,
    ) -> RenderJob:
        """POST /api/render/proxy/lambda (B-REN-01); a fresh `render_<uuid hex>` id unless given."""
        return self.drive(self.plan_submit_render(session_id, draft, render_id, output))

    def get_render(self, render_id: str) -> RenderJob:
        """GET /api/render/proxy/lambda/<id> (B-REN-05), shape A or B."""
        return self.drive(self.plan_get_render(render_id))

    def cancel_render(self, render_id: str) -> RenderJob | None:
        """POST /api/render/proxy/lambda/<id>/cancel (B-REN-12); None when the answer holds no job."""
        return self.drive(self.plan_cancel_render(render_id))

    def download_render(self, render_id: str, out_path: str | Path) -> Path:
        """GET /api/render/proxy/<id>/download (B-REN-13), streamed to `out_path`."""
        return self.drive(self.plan_download_render(render_id, Path(out_path)))

    def download_url(self, url: str, out_path: str | Path) -> Path:
        """Fetch an output URL (B-CLI-14d) to `out_path`; no token leaves the API's origin."""
        return self.drive(self.plan_download_url(url, Path(out_path)))


def _chunks(response: httpx.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_bytes()
    except httpx.TransportError as exc:
        raise stream_failure(exc) from exc
