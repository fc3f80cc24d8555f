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
import random
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mockserver import agent, media, wire
from mockserver.clock import VirtualClock
from mockserver.errors import ApiError, session_not_found
from mockserver.events import Say, StreamEvent
from mockserver.faults import Faults
from mockserver.journal import Journal
from mockserver.operations import Operation, TurnGate
from mockserver.settings import Settings
from mockserver.state.accounts import Account, Accounts, RateLimits
from mockserver.state.assets import Assets, ReceivedFile, remote_info
from mockserver.state.renders import RenderJob, Renders
from mockserver.state.sessions import Session, Sessions, Turn
from mockserver.store import FileStore

if TYPE_CHECKING:
    from mockserver.api.requests import RenderRequest

Encoder = Callable[[StreamEvent], bytes]
#: Builds the session registry of a (re)started state from its seeded random source.
SessionsFactory = Callable[[random.Random], Sessions]

#: Renders encoded at once; more wait their turn (memory: each holds a few frames, media.render).
RENDER_WORKERS = 2
#: Where a served file's path starts when it is a render's (the rest is the file's name).
RENDER_RESULTS = "render-result/"


class Backend:
    """State, clock, faults and journal of one mock server."""

    def __init__(
        self, settings: Settings | None = None, *, sessions_factory: SessionsFactory = Sessions
    ) -> None:
        self.settings = settings or Settings()
        self.sessions_factory = sessions_factory
        self.profile = self.settings.profile
        self.clock = VirtualClock(self.settings.time_scale)
        self.faults = Faults(self.settings.seed)
        self.faults.clock_start = self.clock.start
        self.journal = Journal(self.settings.journal_limit, self.settings.journal_bytes)
        self.store = FileStore(self.settings.data_dir)
        # Renders run on threads of their own, a few at a time: each holds frames in memory, and
        # the event loop must stay free for requests and streams (bench/bench_render.py).
        self._render_pool = ThreadPoolExecutor(RENDER_WORKERS, thread_name_prefix="nemo-render")
        self.operations: set[Operation] = set()
        self.finished_operations = 0
        #: API calls on the middleware's common path not yet handed to the journal (other requests
        #: are handed over before their last byte goes out); `LiveServer.wait_idle` waits for 0.
        self.answering = 0
        #: Set while recording (mockserver.recording): wraps each turn's encoder to note its events.
        self.stream_tap: Callable[[Encoder], Encoder] | None = None
        #: Called by `end_streams`: other long-lived responses (the web pages' live feeds) end too.
        self.stream_enders: list[Callable[[], None]] = []
        #: Set by recordings and re-enactments: awaited by each turn where it may be held.
        self.turn_gate: TurnGate | None = None
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
        self.renders = Renders(
            self.rng,
            self.clock,
            self.data_dir / "renders",
            self._encode_render,
            duration_s=self.profile.render_s,
            free_tier_blocked=self.settings.free_tier_export_blocked,
        )
        self.assets = Assets(self.data_dir / "uploads", self.new_id, self.profile)

    def reset(self) -> None:
        """`POST /_mock/reset`: no tokens, sessions, renders, journal or faults; clock at start."""
        for op in list(self.operations):
            # A task cancelled before its first step never runs its `finally`: end the stream here.
            op.end_stream()
            if op.task is not None:
                op.task.cancel()
        self.operations.clear()
        self.renders.reset()
        self.faults.clear()
        self.journal.clear()
        self.clock.reset()
        self.store.reset()
        self._init_state()

    def end_streams(self) -> None:
        """Server shutdown: every open stream ends now with its final chunk; turns are left to `aclose`."""
        for op in list(self.operations):
            op.end_stream()
        for end in list(self.stream_enders):
            end()

    async def aclose(self) -> None:
        self.end_streams()
        tasks = [op.task for op in self.operations if op.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.renders.close()
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
            gate=self.turn_gate,
        )
        self.operations.add(op)
        # What the user reads: a silent turn, or one a `silent` fault hushed, sends no text (B-SSE-09).
        silent = plan.silent or sse_fault == "silent"
        replies = () if sse_fault == "silent" else tuple(s.text for s in plan.steps if isinstance(s, Say))
        session.history.append(Turn(op_id, text, plan.kind, silent, replies, op.started_at, session.draft))
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
        for turn in reversed(op.session.history):  # the newest first: it is almost always the last
            if turn.op_id == op.op_id:
                turn.draft_after = op.session.draft
                turn.finished_at = op.finished_at
                turn.failed = op.failed
                break

    # ------------------------------------------------------------------ uploads

    async def upload_files(
        self, session: Session, files: Sequence[ReceivedFile], base_url: str
    ) -> list[dict[str, Any]]:
        """Check each received file's content against its extension, probe it, keep it, list it in
        the session's state (B-UPL-04..07, B-UPL-11); any bad file refuses the whole request."""
        checked = []
        for file in files:
            self.assets.check_content(file)
            info = await asyncio.to_thread(media.probe, file.path)
            self.assets.check_probe(file.filename, info)
            checked.append((file, info))
        self._still_there(session)
        entries = []
        for file, info in checked:
            kept = self.assets.place(file.filename)
            file.path.replace(kept)
            entries.append(self.assets.register(session, file.filename, kept, info, file.digest, base_url))
        return entries

    async def upload_urls(
        self, session: Session, urls: Sequence[str], base_url: str, own_host: str
    ) -> list[dict[str, Any]]:
        """Files by URL (B-UPL-03, B-UPL-13). The mock stays offline: a URL of this mock's own /cdn/
        (`own_host`) is copied from its store; any other is taken on trust and described from its
        extension, with no fetch (README: offline)."""
        accepted = [self.assets.accepted_url(url) for url in urls]
        entries = []
        for remote in accepted:
            local = self._own_file(remote.url, own_host)
            info = (
                await asyncio.to_thread(media.probe, local) if local is not None else remote_info(remote.kind)
            )
            digest = hashlib.sha256(remote.url.encode()).hexdigest()[:32]
            self._still_there(session)
            if local is not None:  # a copy, so that the session owns its file
                copy = self.assets.place(remote.filename)
                await asyncio.to_thread(shutil.copyfile, local, copy)
                local = copy
            cdn_url = base_url if local is not None else remote.url
            entries.append(self.assets.register(session, remote.filename, local, info, digest, cdn_url))
        return entries

    def _own_file(self, url: str, own_host: str) -> Path | None:
        parts = urlsplit(url)
        if parts.netloc != own_host or not parts.path.startswith("/cdn/"):
            return None
        local = self.served_file(parts.path.removeprefix("/cdn/"))
        return local if local is not None and local.exists() else None

    def _still_there(self, session: Session) -> None:
        """1002 for a session a reset threw away while its upload was being read or probed (U-16)."""
        if self.sessions.sessions.get(session.session_id) is not session:
            raise session_not_found(session.session_id)

    def served_file(self, cdn_path: str) -> Path | None:
        """The file behind `/cdn/<cdn_path>`: a kept upload or a completed render's MP4."""
        if cdn_path.startswith(RENDER_RESULTS):
            return self.renders.file(cdn_path.removeprefix(RENDER_RESULTS))
        return self.assets.get(cdn_path)

    # ------------------------------------------------------------------ renders

    def submit_render(
        self, account: Account, request: RenderRequest, headers_present: bool, render_fault: str | None
    ) -> RenderJob:
        """B-REN-01..04, B-ATTR-08, U-14, U-15: the session must be the caller's (1002), then the
        render registry decides (state/renders.py)."""
        session = self.sessions.owned(account, request.session_id)
        return self.renders.submit(
            account,
            session.session_id,
            request.render_id,
            request.draft,
            attributed=headers_present,
            fault=render_fault,
        )

    def _encode_render(self, draft: dict[str, Any], path: Path) -> asyncio.Future[media.RenderResult]:
        # Renders run on threads of their own, a few at a time (bench/bench_render.py).
        return asyncio.get_running_loop().run_in_executor(self._render_pool, media.render_draft, draft, path)
