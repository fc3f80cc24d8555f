"""The properties of a chat turn and of every request: no re-send, no GUI talk, no raw JSON, an answer,
the change reported, recovery by polling, heartbeat notices, noise hidden, the client's own flows."""

from __future__ import annotations

import itertools

from client.gui import contains_gui_instruction

from ..recording import Interaction
from ..world import (
    RECOVERY_FIRST_WAIT_S,
    RECOVERY_NEXT_WAIT_S,
    RECOVERY_QUERIES,
    Garbage,
    World,
    expected_notices,
    heard_items,
    heartbeat_runs,
    interrupted,
    times_out,
    trailing_noise,
)
from .core import HOLDS, NOT_APPLICABLE, Verdict, broken, prop
from .facts import quote, unrecovered_faults
from .wording import CANNOT_CHECK, NOISE, RAW_JSON, RETRY_OFFER, STILL_WORKING, TOKEN_LEAK


@prop("never-resends", "B-CLI-08", "B-SSE-13", "B-CLI-17")
def never_resends(world: World, interaction: Interaction) -> Verdict:
    """A message the backend accepted with a stream is never sent again: every run is charged."""
    first = interaction.first_stream()
    if first is None:
        return NOT_APPLICABLE
    later = interaction.after(first, "sse")
    if later:
        text = later[0].message_text or ""
        how = "dropped" if world.stream is not None and interrupted(world.stream) else "answered"
        return broken(f"/run_sse sent again ({len(later)}x, {quote(text)}) after the first stream was {how}")
    return HOLDS


@prop("no-gui-instruction", "B-CLI-03", "B-CLI-04", "B-CLI-25")
def no_gui_instruction(world: World, interaction: Interaction) -> Verdict:
    """No line tells a chat user to click, drag, or use a button or panel."""
    for line in interaction.messages:
        if contains_gui_instruction(line):
            return broken(f"showed a GUI instruction: {quote(line)}")
    return HOLDS


@prop("no-raw-json-or-token", "B-CLI-21", "B-AUTH-22")
def no_raw_json_or_token(world: World, interaction: Interaction) -> Verdict:
    """No line shows raw JSON or a user token."""
    for line in interaction.messages:
        if any(marker in line for marker in RAW_JSON):
            return broken(f"showed raw JSON: {quote(line)}")
        if TOKEN_LEAK.search(line):
            return broken(f"showed a user token: {quote(TOKEN_LEAK.sub('nmv_usr_…', line))}")
    return HOLDS


@prop("client-flows-skip-backend", "B-CLI-01", "B-CLI-13")
def client_flows_skip_backend(world: World, interaction: Interaction) -> Verdict:
    """Export, credits and upload are the client's own flows: they never reach /run_sse."""
    if world.request.kind == "chat":
        return NOT_APPLICABLE
    if interaction.on("sse"):
        return broken(
            f"sent the {world.request.kind} request {quote(world.request.text)} to the backend agent"
        )
    return HOLDS


@prop("ends-with-answer", "B-CLI-10", "B-CLI-21", "B-ERR-05")
def ends_with_answer(world: World, interaction: Interaction) -> Verdict:
    """Every request ends with a result or a clear error, never a crash, silence or a baseless failure."""
    if interaction.crash is not None:
        return broken(f"crashed: {interaction.crash}")
    if not interaction.messages:
        return broken("showed the user nothing")
    unrecovered = unrecovered_faults(interaction)
    if interaction.ok is True and unrecovered:
        last = unrecovered[-1]
        return broken(f"reported success although {last.route} answered {last.code} to the last try")
    if interaction.ok is False and not unrecovered and not _documented_failure(world, interaction):
        return broken("reported a failure the world gave no reason for")
    return HOLDS


def _documented_failure(world: World, interaction: Interaction) -> bool:
    """The world itself made the request fail: a lost stream without a change, a render that never
    completed, or nothing to export."""
    if world.request.kind == "export":
        if world.timeline.video is None:
            return True
        return not any(e.tag == "completed" for e in interaction.on("poll"))
    first = interaction.first_stream()
    if world.stream is not None and first is not None and interrupted(world.stream):
        return not any(e.tag == "after" for e in interaction.after(first, "state"))
    return False


@prop("reports-change", "B-CLI-10", "B-CLI-11", "B-CLI-12")
def reports_change(world: World, interaction: Interaction) -> Verdict:
    """After a stream the client reads the state, and a change it saw is named, even after a silent edit."""
    first = interaction.first_stream()
    if first is None or world.stream is None:
        return NOT_APPLICABLE
    reads = [e for e in interaction.after(first, "state") if e.succeeded]
    if not reads and not interrupted(world.stream):
        return broken("did not read the state after the stream closed")
    timeline = world.timeline
    if timeline.change != "none" and any(e.tag == "after" for e in reads):
        subject = timeline.subject.casefold()
        if not any(subject in line.casefold() for line in interaction.messages):
            return broken(
                f"the state showed the new {timeline.change} {quote(timeline.subject)}; no line names it"
            )
    return HOLDS


@prop("recovers-by-polling", "B-CLI-17", "B-CLI-07", "B-SSE-14")
def recovers_by_polling(world: World, interaction: Interaction) -> Verdict:
    """A dropped or timed-out stream is followed by state queries (30 s, then 60 s apart, 5 at most)."""
    first = interaction.first_stream()
    stream = world.stream
    if first is None or stream is None or not interrupted(stream):
        return NOT_APPLICABLE
    how = "timed out" if times_out(stream) else "dropped"
    reads = [e for e in interaction.after(first, "state") if e.succeeded]
    if not reads:
        return broken(f"the stream {how} and the client never queried the state")
    seen = next((k for k, e in enumerate(reads) if e.tag == "after"), None)
    if seen is None:
        if len(reads) != RECOVERY_QUERIES:
            return broken(
                f"the stream {how}; {len(reads)} state queries without a change, "
                f"where the rule is {RECOVERY_QUERIES} before giving up"
            )
        if interaction.ok is True:
            return broken(f"the stream {how} and the state never changed, yet it reported success")
        if not interaction.says(RETRY_OFFER):
            return broken(f"the stream {how}, nothing changed, and no line offers a retry")
    if interaction.timed:
        start = interaction.exchanges[first].at
        assert start is not None
        times = [e.at for e in reads if e.at is not None]
        waits = [times[0] - start] + [b - a for a, b in itertools.pairwise(times)]
        if waits[0] < RECOVERY_FIRST_WAIT_S:
            return broken(f"queried the state {waits[0]:g} s after the stream {how}; the rule is 30 s")
        short = [w for w in waits[1:] if w < RECOVERY_NEXT_WAIT_S]
        if short:
            return broken(f"queried the state again after {short[0]:g} s; the rule is 60 s between queries")
    return HOLDS


@prop("still-working-notices", "B-CLI-06", "B-CLI-07", "B-SSE-06")
def still_working_notices(world: World, interaction: Interaction) -> Verdict:
    """Heartbeats only: "⏳ Still working..." every 2 virtual minutes, none after the 10-minute timeout."""
    if interaction.first_stream() is None or world.stream is None:
        return NOT_APPLICABLE
    expected = expected_notices(world.stream)
    shown = sum(1 for line in interaction.messages if STILL_WORKING.search(line))
    if shown != expected:
        longest = max(heartbeat_runs(heard_items(world.stream)))
        return broken(
            f"showed {shown} 'Still working' notices where {expected} are due "
            f"(longest heartbeat run {longest}, {longest * 5 / 60:g} virtual minutes)"
        )
    return HOLDS


@prop("trailing-noise-ignored", "B-CLI-09", "B-SSE-12")
def trailing_noise_ignored(world: World, interaction: Interaction) -> Verdict:
    """A trailing "I encountered a temporary issue" after normal replies is not shown."""
    if interaction.first_stream() is None or world.stream is None or not trailing_noise(world.stream):
        return NOT_APPLICABLE
    for line in interaction.messages:
        if NOISE.search(line):
            return broken(f"showed the trailing noise text: {quote(line)}")
    return HOLDS


@prop("credits-answered", "B-CLI-13", "B-CRED-01")
def credits_answered(world: World, interaction: Interaction) -> Verdict:
    """A balance question is answered with the balance, never with "I can't check"."""
    if world.request.kind != "credits" or not any(e.succeeded for e in interaction.on("credits")):
        return NOT_APPLICABLE
    if interaction.says(CANNOT_CHECK):
        return broken("said it cannot check the credits")
    if not any(str(world.credits_available) in line for line in interaction.messages):
        return broken(f"did not show the balance ({world.credits_available} available)")
    return HOLDS


@prop("skips-invalid-lines", "B-SSE-04", "B-CLI-04")
def skips_invalid_lines(world: World, interaction: Interaction) -> Verdict:
    """An invalid block in the stream (non-UTF-8 bytes, a line without a colon) is read past, never shown."""
    stream = world.stream
    if interaction.first_stream() is None or stream is None:
        return NOT_APPLICABLE
    if not any(isinstance(item, Garbage) for item in heard_items(stream)):
        return NOT_APPLICABLE
    for line in interaction.messages:
        if "\ufffd" in line or "broken line without a colon" in line:
            return broken(f"showed the invalid stream block: {quote(line)}")
    return HOLDS
