"""The emulated NemoVideo backend: every operation of the API over plain state, no HTTP.

Handlers in `mockserver.api` translate requests into calls on `Backend` and its answers (or
`ApiError`s) into responses. `reset()` returns everything to the start, as `POST /_mock/reset` does.

Extension points (public, for variants of the mock such as the planted bugs of `conformance`):
the `sessions_factory` argument (what finds and owns sessions), `turn_planned` (the plan a turn
runs), `settle_turn` (what a finished turn does with its credits), and the public operations
(`start_turn`, `submit_render`, ...), which a subclass may override and call through `super()`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mockserver import agent, media, wire
from mockserver.clock import VirtualClock
from mockserver.errors import ApiError, bad_request, conflict, not_found
from mockserver.events import StreamEvent
from mockserver.faults import Faults
from mockserver.journal import Journal
from mockserver.operations import Operation
from mockserver.settings import Settings
from mockserver.state.accounts import Account, Accounts, RateLimits
from mockserver.state.renders import RenderJob
from mockserver.state.sessions import Session, Sessions
from mockserver.store import FileStore

log = logging.getLogger("nemo-mock")

Encoder = Callable[[StreamEvent], bytes]
#: Builds the session registry of a (re)started state from its seeded random source.
SessionsFactory = Callable[[random.Random], Sessions]

#: Renders encoded at once; more wait their turn (memory: each holds a few frames, media.render).
RENDER_WORKERS = 2
#: Characters a render id keeps in its file name (render_file_name).
_FILE_SAFE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")
MAX_FILE_STEM = 200


class Backend:
    """State, clock, faults and journal of one mock server."""

    def __init__(
        self, settings: Settings | None = None, *, sessions_factory: SessionsFactory = Sessions
    ) -> None:
        self.settings = settings or Settings()
        self.sessions_factory = sessions_factory
        self.profile = self.settings.profile
        self.clock = VirtualClock(self.settings.time_scale)
        self.faults = Faults()
        self.journal = Journal(self.settings.journal_limit, self.settings.journal_bytes)
        self.store = FileStore(self.settings.data_dir)
        # Renders run on threads of their own, a few at a time: each holds frames in memory, and
        # the event loop must stay free for requests and streams (bench/bench_render.py).
        self._render_pool = ThreadPoolExecutor(RENDER_WORKERS, thread_name_prefix="nemo-render")
        self.operations: set[Operation] = set()
        self.finished_operations = 0
        self.render_tasks: dict[str, asyncio.Future[Any]] = {}
        #: Set while recording (mockserver.recording): wraps each turn's encoder to note its events.
        self.stream_tap: Callable[[Encoder], Encoder] | None = None
        self._init_state()

    # ------------------------------------------------------------------ lifecycle

    @property
    def data_dir(self) -> Path:
        """Where uploads and renders of the current state go (mockserver.store)."""
        return self.store.current

    def _init_state(self) -> None:
        seed = self.settings.seed
        self.rng = random.Random(f"{seed}:ids")
        limits = RateLimits.named(self.settings.rate_limits, self.settings.ip_cap)
        self.accounts = Accounts(random.Random(f"{seed}:accounts"), limits, self.settings.token_ttl_s)
        self.sessions = self.sessions_factory(random.Random(f"{seed}:sessions"))
        self.renders: dict[str, RenderJob] = {}
        self.assets: dict[str, Path] = {}  # cdn path -> file

    def reset(self) -> None:
        """`POST /_mock/reset`: no tokens, sessions, renders, journal or faults; clock at start."""
        for op in list(self.operations):
            # A task cancelled before its first step never runs its `finally`: end the stream here.
            op.end_stream()
            if op.task is not None:
                op.task.cancel()
        self.operations.clear()
        for fut in self.render_tasks.values():
            fut.cancel()
        self.render_tasks.clear()
        self.faults.clear()
        self.journal.clear()
        self.clock.reset()
        self.store.reset()
        self._init_state()

    def end_streams(self) -> None:
        """Server shutdown: every open stream ends now with its final chunk; turns are left to `aclose`."""
        for op in list(self.operations):
            op.end_stream()

    async def aclose(self) -> None:
        self.end_streams()
        tasks = [op.task for op in self.operations if op.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for fut in self.render_tasks.values():
            fut.cancel()
        self._render_pool.shutdown(wait=False, cancel_futures=True)
        self.store.close()

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{self.rng.getrandbits(64):016x}"

    # ------------------------------------------------------------------ auth and sessions

    def authenticate(self, authorization: str | None) -> Account:
        return self.accounts.authenticate(authorization, self.clock.now())

    def resolve_user(self, account: Account, user_id: object) -> None:
        """B-ENV-07, B-SSE-03: `me`, the caller's own id, or (bodies only) absent; else 1002 (U-16)."""
        if user_id is None or user_id == "me" or user_id == account.user_id:
            return
        raise ApiError(1002, f"Session not found for user {user_id!s:.64}")

    def create_session(self, account: Account, task_name: str, language: str | None) -> Session:
        return self.sessions.create(account, task_name, language, self.clock.now())

    def claim_token(self, account: Account, task_id: str, session_id: str) -> str:
        session = self.sessions.owned(account, session_id)
        if session.task_id != task_id:
            raise ApiError(1002, f"Task {task_id!s:.64} does not belong to session {session_id}")
        return self.accounts.issue_claim(account, task_id, session_id, self.clock.now()).value

    # ------------------------------------------------------------------ run_sse

    def start_turn(self, account: Account, session: Session, text: str, sse_fault: str | None) -> Operation:
        """Plan a turn, freeze its cost (2001 if short, before any stream: U-09) and start it."""
        turn = session.turns
        rng = random.Random(f"{self.settings.seed}:{session.session_id}:{turn}")
        ids = random.Random(f"{self.settings.seed}:{session.session_id}:{turn}:ids")

        def new_id(prefix: str) -> str:
            return f"{prefix}_{ids.getrandbits(48):012x}"

        intent = agent.classify(text)
        plan = agent.plan_turn(intent, session.draft, rng, self.profile, new_id=new_id)
        plan = self.turn_planned(plan, sse_fault)
        cost = 0
        if plan.chargeable:
            cost = self.profile.generation_cost if plan.kind == "generate" else self.profile.edit_cost
        encode = self._encoder(ids)
        if self.stream_tap is not None:
            encode = self.stream_tap(encode)
        op_id = f"op_{session.session_id}_{turn}"
        if cost:
            # B-SSE-13: every accepted turn is billed on its own, re-sent messages included.
            account.ledger.freeze(op_id, cost, self.clock.now())
        session.turns += 1
        session.running += 1
        op = Operation(
            op_id=op_id,
            plan=plan,
            session=session,
            account=account,
            cost=cost,
            clock=self.clock,
            heartbeat_interval_s=self.profile.heartbeat_interval_s,
            encode=encode,
            settle=self.settle_turn,
            sse_fault=sse_fault,
            on_done=self._operation_done,
        )
        self.operations.add(op)
        op.start()
        return op

    def turn_planned(self, plan: agent.Plan, sse_fault: str | None) -> agent.Plan:
        """The plan a turn runs, given the agent's plan and the turn's `sse` fault (if any).

        Called once per turn before it is priced and started; the mock runs the agent's plan as is.
        A variant of the mock overrides this to change what its turns do.
        """
        return plan

    def settle_turn(self, op: Operation) -> None:
        """A turn's work ended: its frozen credits are spent, or given back when it failed (U-10)."""
        ledger = op.account.ledger
        if op.op_id not in ledger.holds:
            return  # a free turn, or one already settled
        if op.failed is None:
            ledger.spend(op.op_id, self.clock.now())
        else:
            ledger.release(op.op_id, self.clock.now())

    def _encoder(self, ids: random.Random) -> Encoder:
        line_ending = self.settings.sse_line_ending
        if self.settings.dialect == "adk":
            encoder = wire.AdkEncoder(
                author="nemo_agent",
                invocation_id=f"e-{ids.getrandbits(128):032x}",
                id_source=lambda: f"{ids.getrandbits(64):016x}",
                clock=self.clock.now,
            )
            return encoder.encode

        def encode(event: StreamEvent) -> bytes:
            return wire.encode_documented(event, line_ending=line_ending)

        return encode

    def _operation_done(self, op: Operation) -> None:
        self.operations.discard(op)
        self.finished_operations += 1

    # ------------------------------------------------------------------ uploads

    def register_asset(
        self,
        session: Session,
        filename: str,
        path: Path | None,
        info: media.MediaInfo,
        digest: str,
        cdn_url: str,
    ) -> dict[str, Any]:
        """List a kept file (or, for a remote URL, `path` None) in the session's `video_infos` (B-UPL-11)."""
        asset_id = self.new_id("asset")
        if path is not None:
            cdn_path = f"uploads/{asset_id}/{filename}"
            self.assets[cdn_path] = path
            cdn_url = f"{cdn_url}/cdn/{cdn_path}"
        entry = {
            "filename": filename,
            "file_type": info.file_type,
            "cdn_url": cdn_url,
            "duration": info.duration,
            "width": info.width,
            "height": info.height,
            "fps": info.fps,
            "hash": digest,
        }
        session.video_infos.append({**entry, "id": asset_id, "source": "upload"})
        return entry

    # ------------------------------------------------------------------ renders

    def submit_render(
        self, account: Account, body: dict[str, Any], headers_present: bool, render_fault: str | None
    ) -> RenderJob:
        """B-REN-01..04, B-ATTR-08, U-14, U-15."""
        render_id = body.get("id")
        if not isinstance(render_id, str) or not render_id.strip() or len(render_id) > 128:
            raise bad_request("`id` is required: a unique string such as render_<timestamp>")
        session_id = body.get("sessionId")
        if session_id is None and "session_id" in body:
            raise bad_request("render submit takes camelCase `sessionId` (the one camelCase field)")
        if not isinstance(session_id, str):
            raise bad_request("`sessionId` is required (camelCase)")
        draft = body.get("draft")
        if not isinstance(draft, dict):
            raise bad_request("`draft` must be the draft object from the state endpoint")
        output = body.get("output", {"format": "mp4", "quality": "high"})
        if not isinstance(output, dict) or output.get("format", "mp4") != "mp4":
            raise bad_request("`output.format` must be mp4")
        session = self.sessions.owned(account, session_id)
        blocked = account.tier == "free" and self.settings.free_tier_export_blocked
        if account.tier in ("anonymous", "free") and not headers_present:
            blocked = True
        if blocked:
            raise ApiError(
                402, "Export not available on the free plan: register or upgrade to unlock export", status=402
            )
        try:
            media.check_draft(draft)  # B-STATE-05 and a renderable shape; refused before any job exists
        except ValueError as exc:
            raise bad_request(f"The draft cannot be rendered: {exc}") from None
        if render_id in self.renders:
            raise conflict(f"Render id already used: {render_id}; retry with a new id")
        low, high = self.profile.render_s
        job = RenderJob(
            id=render_id,
            owner=account.user_id,
            session_id=session.session_id,
            draft=draft,
            submitted_at=self.clock.now(),
            duration_s=self.rng.uniform(low, high),
            output_path=self.data_dir / "renders" / render_file_name(render_id),
            fault=render_fault,
        )
        self.renders[render_id] = job
        if render_fault is None:
            self.render_tasks[render_id] = asyncio.get_running_loop().run_in_executor(
                self._render_pool, media.render_draft, draft, job.output_path
            )
        return job

    def render_job(self, account: Account, render_id: str) -> RenderJob:
        job = self.renders.get(render_id)
        if job is None or job.owner != account.user_id:
            raise not_found(f"Render not found: {render_id:.128}")
        return job

    async def observe_render(self, job: RenderJob) -> RenderJob:
        """Advance a job to where virtual time (or, at scale 0, the reads) say it is."""
        job.reads += 1
        status, progress = job.target(self.clock.now(), self.clock.time_scale)
        if status == "completed":
            fut = self.render_tasks.get(job.id)
            try:
                if fut is None:
                    raise RuntimeError("no render output")
                result = await asyncio.shield(fut)
            except asyncio.CancelledError:
                if fut is None or not fut.cancelled():
                    raise  # this request itself is being cancelled
                # A cancel or a reset threw the encoding away while this poll waited for it.
                job.move("failed", job.progress, self.clock.now(), reason="cancelled")
                return job
            except Exception as exc:  # an encoder failure is a failed render, not a 500
                log.warning("render %s failed: %s", job.id, exc)
                job.move("failed", job.progress, self.clock.now(), reason="render failed")
                return job
            job.output_bytes = result.size_bytes
            job.output_duration_s = result.duration_s
            # The URL quotes the file's name (render_body); its path arrives decoded, as the name.
            self.assets[f"render-result/{job.output_path.name}"] = job.output_path
        reason = "render failed" if status == "failed" else None
        job.move(status, progress, self.clock.now(), reason=reason)
        return job

    def cancel_render(self, job: RenderJob) -> RenderJob:
        """U-14: cancelling ends the job as `failed` with reason `cancelled`; a finished job stays."""
        if not job.finished:
            job.move("failed", job.progress, self.clock.now(), reason="cancelled")
            fut = self.render_tasks.pop(job.id, None)
            if fut is not None:
                fut.cancel()
        return job


def render_file_name(render_id: str) -> str:
    """The file of one render: `<id>.mp4` for ids of lower-case letters, digits, `-`, `_` and `.`
    (B-REN-14: `render_xxx.mp4`); every other character is %XX-escaped, upper case included, so
    that distinct ids never share a file, even on a case-insensitive file system (`x.render`,
    `x_render` and `X_render` are three files). Names too long for a file system are a digest,
    marked with a `+`, which no escaped name holds."""
    escaped = "".join(
        ch if ch in _FILE_SAFE else "".join(f"%{byte:02X}" for byte in ch.encode("utf-8", "surrogatepass"))
        for ch in render_id
    )
    if len(escaped) > MAX_FILE_STEM:
        escaped = "+" + hashlib.sha256(render_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{escaped}.mp4"
