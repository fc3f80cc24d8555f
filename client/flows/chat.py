"""The chat flow: one message to the backend agent over `/run_sse`, and what follows it (v1.9 §3.1, §3.6).

1. The state before, for the change report afterwards (B-CLI-10).
2. Honest-limit notes (B-CLI-22) and "This may take a few minutes." unless it is a question (B-CLI-05).
3. The stream, read by `StreamReader` (B-CLI-03/04/06/07/09/11). An answer before the stream is
   an error of the call, so the message was never accepted: 1001 re-authenticates, 429 waits
   30 s, 1002 makes a new session, each once, and the message goes out again; once a stream is
   open, the message is never sent again (B-CLI-08, B-SSE-13).
4. How it ended:
   - closed normally: query the state, report the concrete changes (a silent edit gets the same
     report, B-CLI-10), after a generation the tracks and what post-production added (B-CLI-11),
     after an edit 2-3 next steps (B-CLI-12); GUI actions the texts asked for are done or offered;
   - dropped (the connection broke, the stream ended inside an event or with a tool call still
     open, or it carried heartbeats only) or timed out after 10 minutes of heartbeats: disconnect
     recovery (B-CLI-17): no re-send; wait 30 s and query the state; a change is reported; else
     60 s and again; after 5 unchanged queries, failure and an offer to retry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from client.errors import NemoError, RateLimited, SessionNotFound, StreamTimeout, TokenInvalid, TransportError
from client.gui import GuiAction
from client.models import State
from client.plans import Sleep
from client.remedies import RATE_LIMIT_WAIT_S, RECOVERY_FAILED, Failure
from client.timeline import Change, ChangeKind, describe_changes, diff_states, suggest_next_steps, summarize

from .language import limit_notes, looks_like_question
from .messages import MessageKind
from .queries import plan_credits
from .reader import StreamReader
from .steps import CUT, END, CloseStream, Do, Flow, NextEvent, OpenStream

if TYPE_CHECKING:
    from .context import SkillContext

MAY_TAKE_MINUTES = "This may take a few minutes."  # B-CLI-05, v1.9 §3.1
#: B-CLI-17: the first wait, then the waits between the next queries, 5 queries in all.
RECOVERY_WAITS_S: tuple[float, ...] = (30.0, 60.0, 60.0, 60.0, 60.0)
NO_VISIBLE_CHANGE = "The request finished, but the project shows no visible change."
OFFER_EXPORT = "Say 'export' when you want the MP4 (export costs no credits)."
OFFER_EDIT = "Tell me the change you want and I'll make it."

_VIDEO_KINDS = frozenset({ChangeKind.VIDEO_GENERATED, ChangeKind.VIDEO_REGENERATED})
#: What post-production adds by itself after the raw clip (B-SSE-11).
_AUTO_ADDED = frozenset(
    {
        ChangeKind.BGM_ADDED,
        ChangeKind.TITLE_ADDED,
        ChangeKind.SUBTITLES_ADDED,
        ChangeKind.EFFECT_ADDED,
        ChangeKind.TRANSITION_ADDED,
        ChangeKind.TRACK_ADDED,
        ChangeKind.SOUND_ADDED,
        ChangeKind.STICKER_ADDED,
    }
)


def plan_chat(ctx: SkillContext, text: str) -> Flow[Failure | None]:
    """Send `text` to the backend agent and see it through (see the module docstring)."""
    yield from ctx.plan_setup(first_message=text)
    before: State = yield from ctx.plan_state()
    for note in limit_notes(text, has_video=before.export_ready):
        yield ctx.emit(MessageKind.NOTICE, note)
    if not looks_like_question(text):
        yield ctx.emit(MessageKind.STATUS, MAY_TAKE_MINUTES)
    before = yield from _plan_open(ctx, text, before)

    reader = StreamReader(ctx.profile.heartbeat_interval_s, ctx.clock_now)
    since = ctx.client.wait_mark()
    dropped: str | None = None
    while True:
        try:
            event = yield NextEvent()
        except StreamTimeout:
            dropped = "The stream went silent."
            break
        except TransportError:
            dropped = "The connection dropped."
            break
        if event is CUT:
            dropped = "The stream was cut off inside an event."
            break
        if event is END:
            if reader.tool_call_open or not reader.events:
                dropped = "The stream ended before the work was done."
            break
        for message in reader.feed(event, ctx.clock_now):
            yield ctx.emit(message.kind, message.text)
        if reader.timed_out:
            waits = ctx.client.describe_waits(reader.quiet_beats, "heartbeats", since)
            dropped = (
                f"Only heartbeats for 10 minutes of the server's time ({waits}): treating it as a timeout."
            )
            break
    yield CloseStream()
    for message in reader.finish():
        yield ctx.emit(message.kind, message.text)

    if dropped is not None:
        return (yield from plan_recover(ctx, before, dropped))
    if reader.error is not None:
        yield ctx.emit(MessageKind.ERROR, f"The backend reported an error: {reader.error}")
        return Failure.SERVER
    after: State = yield from ctx.plan_state()
    yield from _plan_report(ctx, before, after, reader)
    return None


def _plan_open(ctx: SkillContext, text: str, before: State) -> Flow[State]:
    """Open the stream; errors answered before it (U-09) are handled once each, then raised.

    Returns the state to compare against: a new session starts from its own (empty) state.
    """
    reauthed = waited = replaced = False
    while True:
        project = ctx.project
        assert project is not None
        try:
            yield OpenStream(project.session_id, text)
            return before
        except TokenInvalid:
            if reauthed or not ctx.client.client_id:
                raise
            reauthed = True
            yield Do(ctx.client.plan_anonymous_token())  # B-AUTH-14
        except RateLimited:
            if waited:
                raise
            waited = True
            yield Sleep(RATE_LIMIT_WAIT_S)  # B-ERR-05
        except SessionNotFound:
            if replaced:
                raise
            replaced = True
            yield from ctx.plan_replace_session()  # B-SESS-07
            before = yield from ctx.plan_state()


def plan_recover(ctx: SkillContext, before: State, why: str) -> Flow[Failure | None]:
    """Disconnect recovery (B-CLI-17): poll the state, never re-send."""
    yield ctx.emit(
        MessageKind.STATUS,
        f"⚠️ {why} The backend keeps working, so I won't send the message again; "
        "checking the project in 30 s.",
    )
    since = ctx.client.wait_mark()
    for attempt, wait in enumerate(RECOVERY_WAITS_S, start=1):
        yield Sleep(wait)
        after: State = yield from ctx.plan_state()
        changes = diff_states(before.raw.get("state"), after.raw.get("state"))
        if changes:
            yield from _plan_changes(ctx, after, changes, generated=False)
            return None
        if attempt < len(RECOVERY_WAITS_S):
            yield ctx.emit(
                MessageKind.PROGRESS,
                f"⏳ No change yet (check {attempt}/{len(RECOVERY_WAITS_S)}); checking again in 60 s.",
            )
    checks = ctx.client.describe_waits(len(RECOVERY_WAITS_S), "checks", since)
    yield ctx.emit(MessageKind.ERROR, RECOVERY_FAILED.format(waits=checks))
    return Failure.TIMEOUT


def _plan_report(ctx: SkillContext, before: State, after: State, reader: StreamReader) -> Flow[None]:
    """After a stream that closed normally: the changes, the GUI actions, never silence (B-CLI-10)."""
    changes = diff_states(before.raw.get("state"), after.raw.get("state"))
    summary_shown = False
    if changes:
        yield from _plan_changes(ctx, after, changes, generated=reader.generated)
        summary_shown = True
    elif not reader.shown:
        yield ctx.emit(MessageKind.NOTICE, NO_VISIBLE_CHANGE)
    yield from _plan_actions(ctx, after, reader.actions, summary_shown)


def _plan_changes(ctx: SkillContext, after: State, changes: list[Change], *, generated: bool) -> Flow[None]:
    """Concrete change lines, the track summary, and what to do next (B-CLI-10/11/12).

    After a generation the tracks post-production added on its own are listed apart, so the user
    can keep or strip them (B-CLI-11, B-SSE-11).
    """
    new_video = generated or any(c.kind in _VIDEO_KINDS for c in changes)
    extras = [c for c in changes if c.kind in _AUTO_ADDED] if new_video else []
    for line in describe_changes(c for c in changes if c not in extras):
        yield ctx.emit(MessageKind.CHANGE, line)
    yield ctx.emit(MessageKind.SUMMARY, summarize(after.draft))
    if extras:
        added = ", ".join(_auto_added(c) for c in extras)
        yield ctx.emit(
            MessageKind.NOTICE,
            f"Post-production added {added}. Keep them, or tell me what to remove (e.g. 'remove the music').",
        )
    steps = suggest_next_steps(after.draft)
    yield ctx.emit(MessageKind.SUGGESTION, "Next: " + "; ".join(steps) + ".")


def _auto_added(change: Change) -> str:
    """ "music 'Lo-fi' (35%)", "title 'Urban Dreams'", "effect color_grading"."""
    detail = f" ({change.detail})" if change.detail and change.kind is ChangeKind.BGM_ADDED else ""
    return {
        ChangeKind.BGM_ADDED: f"music '{change.subject}'{detail}",
        ChangeKind.TITLE_ADDED: f"the title '{change.subject}'",
        ChangeKind.SUBTITLES_ADDED: f"subtitles ({change.subject})",
        ChangeKind.EFFECT_ADDED: f"the effect {change.subject}",
        ChangeKind.TRANSITION_ADDED: f"the transition {change.subject}",
        ChangeKind.TRACK_ADDED: f"the track {change.subject}",
        ChangeKind.SOUND_ADDED: f"the sound effect {change.subject} {change.detail}",
        ChangeKind.STICKER_ADDED: f"the sticker {change.subject} {change.detail}",
    }[change.kind]


def _plan_actions(
    ctx: SkillContext, after: State, actions: list[GuiAction], summary_shown: bool
) -> Flow[None]:
    """Do what the stripped GUI instructions asked (B-CLI-03): read-only ones at once, the rest offered.

    The export is offered rather than started: it renders a file the user did not ask for.
    """
    offered: set[str] = set()
    for action in actions:
        if action in (GuiAction.STATE, GuiAction.SUMMARY):
            if not summary_shown:
                yield ctx.emit(MessageKind.SUMMARY, summarize(after.draft))
                summary_shown = True
        elif action is GuiAction.CREDITS:
            try:
                yield from plan_credits(ctx)
            except NemoError:
                continue  # the balance was a courtesy; the chat itself succeeded
        elif action is GuiAction.EXPORT and OFFER_EXPORT not in offered:
            offered.add(OFFER_EXPORT)
            yield ctx.emit(MessageKind.NOTICE, OFFER_EXPORT)
        elif action in (GuiAction.EDIT, GuiAction.API) and OFFER_EDIT not in offered:
            offered.add(OFFER_EDIT)
            yield ctx.emit(MessageKind.NOTICE, OFFER_EDIT)
