"""`Skill` and `AsyncSkill`: the skill's whole conversation logic on top of `Client` / `AsyncClient`.

    with Client() as client:
        skill = Skill(client, on_message=print)
        skill.handle("make a 10 second video of a city at night")
        skill.handle("add a title 'Night Owls'")
        outcome = skill.export("night.mp4")

`handle` routes a message before anything reaches the backend (B-CLI-01, `client.router`):
export, credits, status and upload are the client's own flows and never touch `/run_sse`
(B-CLI-13); everything else is a chat turn. A message sent with files uploads them first and then
forwards its text, if the text asks the backend for something.

Both faces run the same workflows (`SkillFlows`); only the driver differs. A request made while
another is still running waits for it, after an acknowledgement (B-CLI-12, "acknowledge + queue"),
so a message is never sent twice at once (B-CLI-08).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from client import AsyncClient, BaseClient, Client
from client.config import Project
from client.errors import NemoError
from client.remedies import Failure
from client.router import Route, classify, route

from .chat import plan_chat
from .context import USE_PROFILE, SkillContext
from .export import plan_export
from .messages import Message, MessageKind, Outcome
from .queries import plan_credits, plan_status, plan_upload
from .steps import Flow, OnMessage, run_async, run_sync

QUEUED = "Got it: I'll do that as soon as the current request is finished."

Attachment = str | Path


class SkillFlows(SkillContext):
    """The workflows as step generators, shared by both faces."""

    def __init__(self, client: BaseClient, *, on_message: OnMessage | None = None, **context: Any) -> None:
        super().__init__(client, **context)
        self.on_message = on_message

    def recorder(self) -> tuple[list[Message], OnMessage]:
        """A list for one request's messages, and the callback that fills it and tells `on_message`."""
        messages: list[Message] = []

        def emit(message: Message) -> None:
            messages.append(message)
            if self.on_message is not None:
                self.on_message(message)

        return messages, emit

    def plan_handle(self, text: str, attachments: Sequence[Attachment] = ()) -> Flow[Failure | None]:
        """Route `text` (B-CLI-01) and run the flow it names; errors end as one message (B-ERR-05)."""
        match = classify(text, has_attachment=bool(attachments))
        if match.route is Route.UPLOAD and attachments and route(text) is Route.CHAT and text.strip():
            failure = yield from self.guarded(plan_upload(self, attachments))
            if failure is not None:
                return failure
            return (yield from self.guarded(plan_chat(self, text)))
        return (yield from self.guarded(self._flow_for(match.route, text, attachments)))

    def _flow_for(self, route_: Route, text: str, attachments: Sequence[Attachment]) -> Flow[Failure | None]:
        if route_ is Route.EXPORT:
            return plan_export(self)
        if route_ is Route.CREDITS:
            return plan_credits(self)
        if route_ is Route.STATUS:
            return plan_status(self)
        if route_ is Route.UPLOAD:
            return plan_upload(self, attachments)
        return plan_chat(self, text)

    def guarded(self, flow: Flow[Failure | None]) -> Flow[Failure | None]:
        """`flow`, with an API error turned into its one-line remedy and failure category."""
        try:
            return (yield from flow)
        except NemoError as error:
            return (yield from self.plan_error(error))

    def plan_setup_only(self) -> Flow[Failure | None]:
        yield from self.plan_setup()
        return None


class Skill(SkillFlows):
    """The blocking face: every request returns its `Outcome`; `on_message` sees each line as it comes."""

    def __init__(
        self,
        client: Client,
        *,
        on_message: Callable[[Message], None] | None = None,
        project: Project | None = None,
        persist: bool = True,
        downloads_dir: str | Path | None = None,
        language: Any = USE_PROFILE,
    ) -> None:
        super().__init__(
            client,
            on_message=on_message,
            project=project,
            persist=persist,
            downloads_dir=downloads_dir,
            language=language,
        )
        self.http = client
        self._lock = threading.RLock()  # re-entrant: a callback that asks again must not deadlock

    def _run(self, flow: Flow[Failure | None]) -> Outcome:
        messages, emit = self.recorder()
        if not self._lock.acquire(blocking=False):
            emit(Message(MessageKind.STATUS, QUEUED))
            self._lock.acquire()
        try:
            failure = run_sync(self.http, flow, emit)
        finally:
            self._lock.release()
        return Outcome(tuple(messages), failure)

    def setup(self) -> Outcome:
        """Make sure there is a project: token, session, claim link (B-SESS-09, B-CLI-21)."""
        return self._run(self.guarded(self.plan_setup_only()))

    def handle(self, message: str, attachments: Sequence[Attachment] = ()) -> Outcome:
        """One user message, routed (B-CLI-01) and answered."""
        return self._run(self.plan_handle(message, attachments))

    def chat(self, text: str) -> Outcome:
        """Send `text` to the backend agent, whatever its words (the router is not asked)."""
        return self._run(self.guarded(plan_chat(self, text)))

    def credits(self) -> Outcome:
        return self._run(self.guarded(plan_credits(self)))

    def status(self) -> Outcome:
        return self._run(self.guarded(plan_status(self)))

    def upload(self, *items: Attachment) -> Outcome:
        return self._run(self.guarded(plan_upload(self, items)))

    def export(self, out: str | Path | None = None) -> Outcome:
        return self._run(self.guarded(plan_export(self, out)))


class AsyncSkill(SkillFlows):
    """The asyncio face, method for method; concurrent requests queue behind the running one."""

    def __init__(
        self,
        client: AsyncClient,
        *,
        on_message: Callable[[Message], None] | None = None,
        project: Project | None = None,
        persist: bool = True,
        downloads_dir: str | Path | None = None,
        language: Any = USE_PROFILE,
    ) -> None:
        super().__init__(
            client,
            on_message=on_message,
            project=project,
            persist=persist,
            downloads_dir=downloads_dir,
            language=language,
        )
        self.http = client
        self._lock = asyncio.Lock()

    async def _run(self, flow: Flow[Failure | None]) -> Outcome:
        messages, emit = self.recorder()
        if self._lock.locked():
            emit(Message(MessageKind.STATUS, QUEUED))
        async with self._lock:
            failure = await run_async(self.http, flow, emit)
        return Outcome(tuple(messages), failure)

    async def setup(self) -> Outcome:
        return await self._run(self.guarded(self.plan_setup_only()))

    async def handle(self, message: str, attachments: Sequence[Attachment] = ()) -> Outcome:
        return await self._run(self.plan_handle(message, attachments))

    async def chat(self, text: str) -> Outcome:
        return await self._run(self.guarded(plan_chat(self, text)))

    async def credits(self) -> Outcome:
        return await self._run(self.guarded(plan_credits(self)))

    async def status(self) -> Outcome:
        return await self._run(self.guarded(plan_status(self)))

    async def upload(self, *items: Attachment) -> Outcome:
        return await self._run(self.guarded(plan_upload(self, items)))

    async def export(self, out: str | Path | None = None) -> Outcome:
        return await self._run(self.guarded(plan_export(self, out)))
