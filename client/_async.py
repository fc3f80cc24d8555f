"""`AsyncClient`: the asyncio face of the client core on `httpx.AsyncClient`, mirroring `Client`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
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
from .sse import AsyncEventStream


class AsyncClient(BaseClient):
    """The NemoVideo API for asyncio. Pass `transport=` (e.g. httpx.MockTransport) or `http_client=`."""

    def __init__(
        self,
        config: ClientConfig | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
    ) -> None:
        if transport is not None and http_client is not None:
            raise ValueError("pass either transport or http_client, not both")
        super().__init__(config, clock=clock)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(transport=transport, timeout=DEFAULT_TIMEOUT)

    # ------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

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

    async def _send(self, spec: RequestSpec) -> Reply:
        with contextlib.ExitStack() as stack:
            request = self._build(spec, stack)
            try:
                response = await self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                raise transport_error(exc) from exc
            try:
                if spec.sink is not None and is_file_answer(response.status_code, response.headers):
                    with FileSink(spec.sink) as sink:
                        async for chunk in response.aiter_bytes():
                            sink.write(chunk)
                    return Reply(response.status_code, response.headers, saved=spec.sink)
                return Reply(response.status_code, response.headers, await response.aread())
            except httpx.TransportError as exc:
                raise transport_error(exc) from exc
            finally:
                await response.aclose()

    async def wait(self, seconds: float) -> None:
        """Wait on the clock; before the first wait, the time-scale handshake (client.timescale)."""
        request = self.health_request()
        if request is not None:
            try:
                reply: Reply | None = await self._send(request)
            except NemoError:
                reply = None  # no answer: the server says nothing about its time scale
            self.settle_time_scale(reply)
        await self.clock.asleep(seconds)

    async def drive(self, plan: Plan[T]) -> T:
        try:
            step = next(plan)
            while True:
                if isinstance(step, Sleep):
                    await self.wait(step.seconds)
                    step = plan.send(None)
                else:
                    step = plan.send(await self._send(step))
        except StopIteration as stop:
            return stop.value

    # ------------------------------------------------------------------ API

    async def anonymous_token(self) -> AnonymousToken:
        """POST /api/auth/anonymous-token (B-AUTH-01); the client uses the new token from now on."""
        return await self.drive(self.plan_anonymous_token())

    async def ensure_token(self) -> str:
        """The configured token, or a new anonymous one when there is none (B-AUTH-13)."""
        return await self.drive(self.plan_ensure_token())

    async def claim_token(self, task_id: str, session_id: str) -> ClaimToken:
        """POST /api/auth/claim-token (B-AUTH-19)."""
        return await self.drive(self.plan_claim_token(task_id, session_id))

    async def create_session(self, task_name: str = "project", language: Any = USE_CONFIG_DEFAULT) -> Session:
        """POST /api/tasks/me/with-session/nemo_agent (B-SESS-01); `language=None` leaves it out."""
        return await self.drive(self.plan_create_session(task_name, language))

    @contextlib.asynccontextmanager
    async def run_sse(
        self, session_id: str, text: str, *, read_timeout: float | None = SSE_READ_TIMEOUT_S
    ) -> AsyncIterator[AsyncEventStream]:
        """POST /run_sse (B-SSE-01/02): yields the typed events as they arrive. Never retried (B-CLI-08)."""
        await self.ensure_token()
        spec = self.run_sse_request(session_id, text, read_timeout)
        with contextlib.ExitStack() as stack:
            request = self._build(spec, stack)
            try:
                response = await self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                raise stream_failure(exc) from exc
            try:
                if not is_event_stream(response.status_code, response.headers):
                    try:
                        content = await response.aread()
                    except httpx.TransportError as exc:
                        raise transport_error(exc) from exc
                    raise self.stream_error(response.status_code, response.headers, content)
                events = AsyncEventStream(_chunks(response))
                try:
                    yield events
                finally:
                    await events.aclose()
            finally:
                await response.aclose()

    async def upload_files(self, session_id: str, paths: Iterable[str | Path]) -> UploadResult:
        """POST /api/upload-video/nemo_agent/me/<sid>, multipart `files` (B-UPL-02), streamed from disk."""
        return await self.drive(self.plan_upload_files(session_id, tuple(Path(p) for p in paths)))

    async def upload_urls(self, session_id: str, urls: Iterable[str]) -> UploadResult:
        """POST /api/upload-video/nemo_agent/me/<sid>, JSON `urls` (B-UPL-03)."""
        return await self.drive(self.plan_upload_urls(session_id, tuple(urls)))

    async def credits(self) -> Credits:
        """GET /api/credits/balance/simple (B-CRED-01)."""
        return await self.drive(self.plan_credits())

    async def state(self, session_id: str) -> State:
        """GET /api/state/nemo_agent/me/<sid>/latest (B-STATE-01)."""
        return await self.drive(self.plan_state(session_id))

    async def submit_render(
        self,
        session_id: str,
        draft: Mapping[str, Any],
        render_id: str | None = None,
        *,
        output: Mapping[str, Any] | None = None,
    ) -> RenderJob:
        """POST /api/render/proxy/lambda (B-REN-01); a fresh `render_<uuid hex>` id unless given."""
        return await self.drive(self.plan_submit_render(session_id, draft, render_id, output))

    async def get_render(self, render_id: str) -> RenderJob:
        """GET /api/render/proxy/lambda/<id> (B-REN-05), shape A or B."""
        return await self.drive(self.plan_get_render(render_id))

    async def cancel_render(self, render_id: str) -> RenderJob | None:
        """POST /api/render/proxy/lambda/<id>/cancel (B-REN-12); None when the answer holds no job."""
        return await self.drive(self.plan_cancel_render(render_id))

    async def download_render(self, render_id: str, out_path: str | Path) -> Path:
        """GET /api/render/proxy/<id>/download (B-REN-13), streamed to `out_path`."""
        return await self.drive(self.plan_download_render(render_id, Path(out_path)))

    async def download_url(self, url: str, out_path: str | Path) -> Path:
        """Fetch an output URL (B-CLI-14d) to `out_path`; no token leaves the API's origin."""
        return await self.drive(self.plan_download_url(url, Path(out_path)))


async def _chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_bytes():
            yield chunk
    except httpx.TransportError as exc:
        raise stream_failure(exc) from exc
