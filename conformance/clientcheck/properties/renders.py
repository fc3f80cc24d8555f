"""The properties of the export flow: either render shape, one retry with a new id, nothing to export."""

from __future__ import annotations

import itertools

from ..recording import Interaction
from ..world import MAX_POLLS, POLL_INTERVAL_S, World
from .core import HOLDS, NOT_APPLICABLE, Verdict, broken, prop
from .facts import index_of, unrecovered_faults
from .wording import GENERATE_FIRST, TRY_LATER, VIDEO_READY


@prop("render-either-shape", "B-REN-06", "B-REN-07", "B-CLI-14", "B-REN-13")
def render_either_shape(world: World, interaction: Interaction) -> Verdict:
    """A completed render, shape A or B, is fetched (output URL, else the download endpoint) and delivered."""
    if world.render is None:
        return NOT_APPLICABLE
    polls = interaction.on("poll")
    done = [e for e in polls if e.tag == "completed"]
    if not done:
        return NOT_APPLICABLE
    shape = world.render.shape
    for finished in done:
        rid = finished.render_id
        at = index_of(interaction, finished)
        if any(e.render_id == rid for e in interaction.after(at, "poll")):
            return broken(f"kept polling the shape {shape} render after it said completed")
        fetches = [e for e in interaction.after(at) if e.route in ("cdn", "download") and e.render_id == rid]
        if not fetches:
            return broken(f"never fetched the video of a completed shape {shape} render")
        if not any(e.succeeded for e in fetches):
            return broken("the output URL failed and the client did not fall back to the download endpoint")
    if interaction.ok is False:
        return broken(f"reported a failure although the shape {shape} render completed")
    if not interaction.says(VIDEO_READY):
        return broken("no line says the video is ready")
    return HOLDS


@prop("render-retry-once", "B-CLI-16", "B-REN-03", "B-REN-10")
def renderretry_once(world: World, interaction: Interaction) -> Verdict:
    """Polls every 30 s, at most 10 per job; a failed or unfinished render is retried once with a new id."""
    submits = [e for e in interaction.on("submit") if e.succeeded]
    if not submits:
        return NOT_APPLICABLE
    ids = [e.render_id for e in submits]
    if len(set(ids)) != len(ids):
        return broken("submitted the same render id twice")
    if len(submits) > 2:
        return broken(f"submitted {len(submits)} renders; one retry is the rule")
    endings: list[str] = []
    for submit in submits:
        polls = [e for e in interaction.on("poll") if e.render_id == submit.render_id]
        looks = [e for k, e in enumerate(polls) if k == 0 or not polls[k - 1].fault]  # not error retries
        if len(looks) > MAX_POLLS:
            return broken(f"polled one render {len(looks)} times; the rule is at most {MAX_POLLS}")
        if interaction.timed:
            times = [t for t in (submit.at, *(e.at for e in looks)) if t is not None]
            short = [b - a for a, b in itertools.pairwise(times) if b - a < POLL_INTERVAL_S]
            if short:
                return broken(f"polled a render {short[0]:g} s after the last look; the rule is every 30 s")
        last = next((e.tag for e in reversed(polls) if e.succeeded), "pending")
        endings.append("stalled" if last in ("pending", "processing") and len(looks) == MAX_POLLS else last)
    if unrecovered_faults(interaction):
        return HOLDS  # an error ended the export; its own property judges it
    if endings[0] == "completed" and len(submits) > 1:
        return broken("rendered again although the first render completed")
    if endings[0] in ("pending", "processing"):
        return broken("gave up on a running render before 10 polls")
    if len(submits) == 1 and endings[0] in ("failed", "stalled"):
        return broken(f"the render {endings[0]} and the client did not retry once with a new id")
    if len(submits) == 2 and "completed" not in endings:
        if interaction.ok is True:
            return broken("both renders failed, yet it reported success")
        if not interaction.says(TRY_LATER):
            return broken("both renders failed and no line says to try again later")
    return HOLDS


@prop("export-needs-a-video", "B-CLI-14", "B-STATE-05")
def export_needs_a_video(world: World, interaction: Interaction) -> Verdict:
    """With nothing on the timeline an export submits no render and asks to generate first."""
    if world.request.kind != "export" or world.timeline.video is not None:
        return NOT_APPLICABLE
    if interaction.on("submit"):
        return broken("submitted a render with nothing on the timeline")
    if not interaction.says(GENERATE_FIRST):
        return broken("no line asks the user to generate a video first")
    return HOLDS
