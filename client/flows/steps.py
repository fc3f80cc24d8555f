"""Workflow steps and the two drivers that perform them: one policy, two faces.

A workflow is a generator, like the core's plans one level up: it yields what it needs done and
receives the result; it performs no I/O of its own. Steps:

- `Do(plan)`: run one core plan (an API call under the retry policy, `client.plans`) and
  send back its model;
- `Sleep(seconds)`: wait on the client's clock (the core's own step);
- `OpenStream(session_id, text)`, `NextEvent()`, `CloseStream()`: one `/run_sse` stream, read an
  event at a time; `NextEvent` answers `END` when the server closed it (B-SSE-08);
- `Emit(message)`: say something to the user now.

An exception raised while a step is performed is thrown into the workflow at its `yield`, so a
workflow handles failures with ordinary try/except. `run_sync` drives a workflow on `Client`,
`run_async` on `AsyncClient`; both close a stream the workflow left open.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

from client.plans import Plan, Sleep
from client.sse import StreamEvent

from .messages import Message

if TYPE_CHECKING:
    from client import AsyncClient, Client

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Do:
    """Run a core plan; the workflow receives its result."""

    plan: Plan[Any]


@dataclass(frozen=True, slots=True)
class OpenStream:
    """Open `/run_sse` with one message (B-SSE-01/02). Errors before the stream (U-09) are thrown."""

    session_id: str
    text: str


@dataclass(frozen=True, slots=True)
class NextEvent:
    """The next event of the open stream, or `END` once the server closed it."""


@dataclass(frozen=True, slots=True)
class CloseStream:
    """Leave the open stream (the backend keeps working, B-SSE-14)."""


@dataclass(frozen=True, slots=True)
class Emit:
    """Show `message` to the user now."""

    message: Message


class _End:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: What `NextEvent` answers when the stream is over.
END: Final = _End("END")
#: What `NextEvent` answers when the stream ended inside an event (no blank line after it): a cut.
CUT: Final = _End("CUT")


def _ended(events: object) -> _End:
    return CUT if getattr(events, "truncated", False) else END


Step = Do | Sleep | OpenStream | NextEvent | CloseStream | Emit
Flow = Generator[Step, Any, T]
OnMessage = Callable[[Message], None]


def run_sync(client: Client, flow: Flow[T], on_message: OnMessage) -> T:
    """Perform `flow` with blocking I/O; every emitted message goes to `on_message`."""
    streams = contextlib.ExitStack()
    events: Iterator[StreamEvent] | None = None
    value: Any = None
    error: BaseException | None = None
    with streams:
        while True:
            try:
                step = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                return stop.value
            value, error = None, None
            try:
                if isinstance(step, Emit):
                    on_message(step.message)
                elif isinstance(step, Do):
                    value = client.drive(step.plan)
                elif isinstance(step, Sleep):
                    client.wait(step.seconds)
                elif isinstance(step, OpenStream):
                    streams.close()
                    events = streams.enter_context(client.run_sse(step.session_id, step.text))
                elif isinstance(step, NextEvent):
                    if events is None:
                        raise RuntimeError("NextEvent without an open stream")
                    value = next(events, END)
                    if value is END:
                        value = _ended(events)
                elif isinstance(step, CloseStream):
                    events = None
                    streams.close()
                else:
                    raise TypeError(f"not a workflow step: {step!r}")
            except Exception as exc:
                error = exc


async def run_async(client: AsyncClient, flow: Flow[T], on_message: OnMessage) -> T:
    """Perform `flow` with asyncio I/O; the same steps, the same order as `run_sync`."""
    streams = contextlib.AsyncExitStack()
    events: AsyncIterator[StreamEvent] | None = None
    value: Any = None
    error: BaseException | None = None
    async with streams:
        while True:
            try:
                step = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                return stop.value
            value, error = None, None
            try:
                if isinstance(step, Emit):
                    on_message(step.message)
                elif isinstance(step, Do):
                    value = await client.drive(step.plan)
                elif isinstance(step, Sleep):
                    await client.wait(step.seconds)
                elif isinstance(step, OpenStream):
                    await streams.aclose()
                    events = await streams.enter_async_context(client.run_sse(step.session_id, step.text))
                elif isinstance(step, NextEvent):
                    if events is None:
                        raise RuntimeError("NextEvent without an open stream")
                    value = await anext(events, END)
                    if value is END:
                        value = _ended(events)
                elif isinstance(step, CloseStream):
                    events = None
                    await streams.aclose()
                else:
                    raise TypeError(f"not a workflow step: {step!r}")
            except Exception as exc:
                error = exc
