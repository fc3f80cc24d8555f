"""The scripted backend agent: one classified message becomes the plan of one `/run_sse` turn.

Plans are data (`mockserver.events` steps); the runner executes them against a session. A plan
depends only on its inputs and the state of `rng`, so a seeded session replays byte for byte.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from contracts import wording
from contracts.profiles import Profile
from mockserver.agent import texts
from mockserver.agent.describe import describe_changes, track_summary
from mockserver.agent.intents import ASPECT_SIZES, Edit, Intent, IntentKind, Language, quoted_texts
from mockserver.agent.library import draft_for_prompt
from mockserver.agent.timeline import (
    AUDIO,
    DEFAULT_CLIP_MS,
    DEFAULT_VOLUME,
    STICKER_KIND,
    TEXT,
    VIDEO,
    adopt_extras,
    apply_edit,
    apply_edits,
    bgm_track,
    finish,
    has_content,
    is_sound_track,
    rescale,
    same_content,
    text_kind,
    unchanged_reason,
    video_segments,
)
from mockserver.events import Apply, Call, Result, Say, Step, Work

GENERATE_TOOL = wording.GENERATE_TOOL  # B-SSE-07
EDIT_TOOL = wording.EDIT_TOOL  # B-SSE-07
SILENT_EDIT_RATE = 0.3  # B-SSE-09
TEMPORARY_ISSUE_RATE = 0.1  # B-SSE-12: "now and then"; the rate is the mock's choice
GENERATION_INTRO_RATE = 0.8
MIN_GENERATION_MS = 1000
MAX_GENERATION_MS = 60_000
GENERATED_URL = "generated://{video_id}"  # the runner may map it to a served file
DEFAULT_FPS = 30
DEFAULT_GENRES = ("lo-fi", "cinematic", "upbeat", "ambient", "piano")
PALETTE = ("#1f4e79", "#7a3e9d", "#2e8b57", "#c0392b", "#d68910", "#117a8b", "#34495e")


@dataclass(frozen=True, slots=True)
class Plan:
    """The steps of one turn and how the runner bills it (generation_cost, edit_cost, or nothing)."""

    steps: tuple[Step, ...]
    kind: IntentKind
    chargeable: bool
    silent: bool  # the turn ends on a tool_result without any text (B-SSE-09)
    language: Language = "en"  # what the turn speaks, for texts added on its way (B-SSE-12)


def plan_turn(
    intent: Intent,
    draft: dict[str, Any] | None,
    rng: random.Random,
    profile: Profile,
    *,
    new_id: Callable[[str], str],
    drafts_dir: Path | None = None,
) -> Plan:
    """The plan for one message; deterministic for a given `rng` state and `new_id` sequence."""
    if intent.kind == "question":
        return _plan_question(intent, draft, rng, profile)
    if intent.kind == "generate":
        return _plan_generation(intent, draft, rng, profile, new_id, drafts_dir)
    return _plan_edit(intent, draft, rng, profile, new_id)


# ------------------------------------------------------------------------------ shared pieces


def _work(rng: random.Random, bounds: tuple[float, float]) -> Work:
    """Virtual time within a profile range (B-SSE-10)."""
    low, high = bounds
    return Work(round(min(high, max(low, rng.uniform(low, high))), 3))


def _tail(rng: random.Random, language: Language) -> list[Step]:
    """Sometimes a harmless "temporary issue" text follows a normal reply (B-SSE-12, U-18)."""
    if rng.random() < TEMPORARY_ISSUE_RATE:
        return [Say(texts.TEMPORARY_ISSUE[language], trailing_noise=True)]
    return []


def _seconds(ms: int) -> int | float:
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


def _edit(edits: tuple[Edit, ...], old: dict[str, Any] | None) -> dict[str, Any]:
    return apply_edits(old, edits)


def _operations(edits: tuple[Edit, ...] | list[Edit]) -> list[dict[str, Any]]:
    return [
        {"op": edit.op, "params": {k: copy.deepcopy(v) for k, v in edit.params.items() if v is not None}}
        for edit in edits
    ]


# ------------------------------------------------------------------------------ questions


def _plan_question(
    intent: Intent, draft: dict[str, Any] | None, rng: random.Random, profile: Profile
) -> Plan:
    summary = track_summary(draft, intent.language) if has_content(draft) else None
    steps: list[Step] = [
        _work(rng, profile.text_reply_s),
        Say(texts.answer(intent.prompt, intent.language, rng, profile, summary)),
    ]
    steps += _tail(rng, intent.language)
    return Plan(tuple(steps), "question", chargeable=False, silent=False, language=intent.language)


# ------------------------------------------------------------------------------ edits


def _existing_title(draft: dict[str, Any]) -> str | None:
    for track in draft.get("t", []):
        for seg in track.get("sg", []):
            if track.get("tt") == TEXT and text_kind(track, seg) == "title" and seg.get("m", {}).get("text"):
                return str(seg["m"]["text"])
    title = draft.get("m", {}).get("title")
    return str(title) if title else None


def _resolve(edit: Edit, draft: dict[str, Any], rng: random.Random, prompt: str, language: Language) -> Edit:
    """Fill what the message left open with concrete values, so the Apply is fully determined."""
    params = dict(edit.params)
    if edit.op == "title" and not params.get("text"):
        names = [seg.get("m", {}).get("name") for seg in video_segments(draft)]
        subject = next((str(name) for name in names if name), texts.subject_of(prompt, language))
        params["text"] = _existing_title(draft) or texts.title_for(prompt, language, subject)
    elif edit.op == "bgm" and not params.get("genre") and bgm_track(draft) is None:
        params["genre"] = rng.choice(DEFAULT_GENRES)
    return Edit(edit.op, params)


def _plan_edit(
    intent: Intent,
    draft: dict[str, Any] | None,
    rng: random.Random,
    profile: Profile,
    new_id: Callable[[str], str],
) -> Plan:
    if draft is None or not has_content(draft):
        # Nothing to edit yet: a text-only answer, no tool, no charge.
        steps: list[Step] = [_work(rng, profile.text_reply_s), Say(texts.no_draft(intent.language, rng))]
        steps += _tail(rng, intent.language)
        return Plan(tuple(steps), "edit", chargeable=False, silent=False, language=intent.language)
    edits = tuple(_resolve(edit, draft, rng, intent.prompt, intent.language) for edit in intent.edits)
    applied, skipped = _split_by_effect(draft, edits)
    if not applied:
        # Nothing would change: say why rather than run a tool that does nothing (never silent).
        # What the draft already shows was still an edit to check (billed, B-SSE-15); a moment past
        # the end or a crop without a shape is a question back to the user (free).
        steps = [
            _work(rng, profile.edit_s if _billed(skipped) else profile.text_reply_s),
            Say(texts.not_applied(intent.language, skipped, track_summary(draft, intent.language))),
        ]
        steps += _tail(rng, intent.language)
        return Plan(tuple(steps), "edit", chargeable=_billed(skipped), silent=False, language=intent.language)
    call_id = new_id("call")
    preview = apply_edits(draft, applied)
    changes = describe_changes(draft, preview)
    steps = [
        Call(EDIT_TOOL, {"operations": _operations(applied)}, call_id),
        _work(rng, profile.edit_s),
        Apply(partial(_edit, applied), label="edit"),
        Result(EDIT_TOOL, {"status": "success", "changes": changes}, call_id),
    ]
    # B-SSE-09: about 30% of edits end without text; one that left part of the message undone
    # always says so.
    silent = rng.random() < SILENT_EDIT_RATE and not skipped
    if not silent:
        summary = track_summary(preview, intent.language)
        reply = texts.edit_done(intent.language, rng, changes, summary)
        if skipped:
            reply += " " + texts.not_applied(intent.language, skipped, None)
        steps.append(Say(reply))
        steps += _tail(rng, intent.language)
    return Plan(tuple(steps), "edit", chargeable=True, silent=silent, language=intent.language)


def _billed(skipped: list[tuple[str, dict[str, Any]]]) -> bool:
    """Whether edits that changed nothing were understood and checked (billed) or need the user."""
    return any(reason in ("present", "absent", "short") for reason, _ in skipped)


def _split_by_effect(
    draft: dict[str, Any], edits: tuple[Edit, ...]
) -> tuple[tuple[Edit, ...], list[tuple[str, dict[str, Any]]]]:
    """The edits that change the draft (applied in order), and why each of the others does not."""
    applied: list[Edit] = []
    skipped: list[tuple[str, dict[str, Any]]] = []
    current = draft
    for edit in edits:
        after = apply_edit(current, edit)
        if same_content(current, after):
            skipped.append(unchanged_reason(current, edit))
        else:
            applied.append(edit)
            current = after
    return tuple(applied), skipped


# ------------------------------------------------------------------------------ generation


@dataclass(frozen=True, slots=True)
class _Canvas:
    duration_ms: int
    aspect_ratio: str
    width: int
    height: int
    resolution: str


def _aspect_of(width: int, height: int) -> str:
    return "16:9" if width > height else "9:16" if width < height else "1:1"


def _canvas(params: dict[str, Any], template: dict[str, Any] | None) -> _Canvas:
    requested = params.get("duration_s")
    if requested:
        duration = round(float(requested) * 1000)
    elif template:
        duration = int(template.get("d") or DEFAULT_CLIP_MS)
    else:
        duration = DEFAULT_CLIP_MS
    duration = max(MIN_GENERATION_MS, min(MAX_GENERATION_MS, duration))
    resolution = str(params.get("resolution") or "1080p")
    meta = (template or {}).get("m", {})
    if params.get("width") and params.get("height"):
        width, height = int(params["width"]), int(params["height"])
    elif isinstance(meta.get("width"), int) and isinstance(meta.get("height"), int):
        width, height = meta["width"], meta["height"]
    else:
        width, height = ASPECT_SIZES["16:9"]
        if resolution == "720p":
            width, height = width * 2 // 3, height * 2 // 3
    aspect = str(params.get("aspect_ratio") or _aspect_of(width, height))
    return _Canvas(duration, aspect, width, height, resolution)


def _raw_clip(
    template: dict[str, Any] | None, canvas: _Canvas, video_id: str, subject: str, title: str, color: str
) -> dict[str, Any]:
    """The Seedance output: a draft with only the video track (stage one of B-SSE-11)."""
    src = GENERATED_URL.format(video_id=video_id)
    if template:
        tracks = [copy.deepcopy(track) for track in template["t"] if track.get("tt") == VIDEO]
        for track in tracks:
            for seg in track["sg"]:
                meta = seg.setdefault("m", {})
                meta.pop("effects", None)
                meta.pop("transition_in", None)
                if str(meta.get("src", "generated://")).startswith("generated://"):
                    meta["src"] = src  # this generation's clip; uploaded stills stay what they are
        fps = template.get("m", {}).get("fps", DEFAULT_FPS)
    else:
        segment = {
            "id": "seg_v1",
            "st": 0,
            "d": canvas.duration_ms,
            "m": {"name": subject, "color": color, "src": src},
        }
        tracks = [{"tt": VIDEO, "id": "trk_video", "m": {"name": "Video"}, "sg": [segment]}]
        fps = DEFAULT_FPS
    meta = {"title": title, "width": canvas.width, "height": canvas.height, "fps": fps}
    return finish({"t": tracks, "d": canvas.duration_ms, "m": meta})


def _has(draft: dict[str, Any], op: str) -> bool:
    if op == "bgm":
        return bgm_track(draft) is not None
    if op == "title":
        return any(
            track.get("tt") == TEXT and any(text_kind(track, seg) == "title" for seg in track["sg"])
            for track in draft["t"]
        )
    return any(seg.get("m", {}).get("effects") for seg in video_segments(draft))


def _post_produce(
    template: dict[str, Any] | None,
    defaults: tuple[Edit, ...],
    wishes: tuple[Edit, ...],
    old: dict[str, Any] | None,
) -> dict[str, Any]:
    """Stage two of B-SSE-11: the template's extra tracks, then BGM/title/effect if still missing,
    then what the user asked for."""
    result = adopt_extras(old, template) if template else apply_edits(old, ())
    for edit in defaults:
        if not _has(result, edit.op):
            result = apply_edit(result, edit)
    return apply_edits(result, wishes)


def _template_operations(template: dict[str, Any]) -> list[dict[str, Any]]:
    operations: list[dict[str, Any]] = []
    for track in template["t"]:
        first = track["sg"][0].get("m", {})
        kind = text_kind(track, track["sg"][0]) if track.get("tt") == TEXT else None
        if is_sound_track(track):
            operations.extend(
                {"op": "sound", "params": {"name": seg.get("m", {}).get("name")}} for seg in track["sg"]
            )
        elif track.get("tt") == AUDIO:
            operations.append(
                {"op": "bgm", "params": {"name": first.get("name"), "volume": first.get("volume")}}
            )
        elif kind == "title":
            operations.append({"op": "title", "params": {"text": first.get("text")}})
        elif kind == STICKER_KIND:
            operations.extend(
                {"op": "sticker", "params": {"name": seg.get("m", {}).get("name")}} for seg in track["sg"]
            )
        elif track.get("tt") == TEXT:
            operations.append({"op": "subtitles", "params": {"lines": len(track["sg"])}})
    for key, op, name in (("effects", "effect", "name"), ("transition_in", "transition", "style")):
        values: dict[str, None] = {}
        for seg in video_segments(template):
            value = seg.get("m", {}).get(key)
            values.update(dict.fromkeys(value if isinstance(value, list) else [value] if value else []))
        operations.extend({"op": op, "params": {name: value}} for value in values)
    return operations


def _plan_generation(
    intent: Intent,
    draft: dict[str, Any] | None,
    rng: random.Random,
    profile: Profile,
    new_id: Callable[[str], str],
    drafts_dir: Path | None,
) -> Plan:
    language = intent.language
    entry, matched = draft_for_prompt(intent.prompt, drafts_dir)
    canvas = _canvas(intent.params, finish(entry.load()) if entry else None)
    subject = texts.subject_of(intent.prompt, language)

    def sized_template() -> dict[str, Any] | None:
        """The fixture draft at the requested length and size (built again when applied)."""
        if entry is None:
            return None
        template = rescale(finish(entry.load()), canvas.duration_ms)
        template["m"] = {**template.get("m", {}), "width": canvas.width, "height": canvas.height}
        if not matched:
            # The fallback draft stands for "a clip of whatever was asked": name it after the prompt.
            for seg in video_segments(template):
                seg.setdefault("m", {})["name"] = subject
        return template

    if subject == texts.NO_SUBJECT[language] and draft and draft.get("m", {}).get("title"):
        subject = str(draft["m"]["title"])  # "regenerate": same subject as before
    title = texts.title_for(intent.prompt, language, subject)
    template = sized_template()
    if template and matched and template.get("m", {}).get("title") and not quoted_texts(intent.prompt):
        title = str(template["m"]["title"])  # the fixture's own title track says so too
    video_id = new_id("video")
    color = rng.choice(PALETTE)
    raw = _raw_clip(template, canvas, video_id, subject, title, color)
    seconds = _seconds(canvas.duration_ms)
    media = {
        "id": video_id,
        "type": "video",
        "url": GENERATED_URL.format(video_id=video_id),
        "duration": seconds,
        "width": canvas.width,
        "height": canvas.height,
        "prompt": intent.prompt,
    }

    steps: list[Step] = []
    if rng.random() < GENERATION_INTRO_RATE:
        steps.append(Say(texts.generation_intro(language, rng, subject, round(seconds), canvas.aspect_ratio)))
    generate_call = new_id("call")
    steps += [
        Call(
            GENERATE_TOOL,
            {
                "prompt": intent.prompt,
                "duration": round(seconds),
                "aspect_ratio": canvas.aspect_ratio,
                "resolution": canvas.resolution,
            },
            generate_call,
        ),
        _work(rng, profile.generation_s),
        # Plans wait minutes before applying; they keep the few inputs, not the drafts (memory per
        # open stream), and build the same drafts again when applied.
        Apply(
            lambda old: _raw_clip(sized_template(), canvas, video_id, subject, title, color),
            label="raw_clip",
            generated_media=(media,),
        ),
        Result(
            GENERATE_TOOL, {"status": "success", "video_id": video_id, "duration": seconds}, generate_call
        ),
        Say(texts.raw_clip_ready(language, rng, round(seconds), canvas.width, canvas.height)),
    ]

    wishes = tuple(_resolve(edit, raw, rng, intent.prompt, language) for edit in intent.edits)
    if quoted_texts(intent.prompt) and not any(edit.op == "title" for edit in wishes):
        wishes += (Edit("title", {"text": title}),)  # "a city video called 'Night Owls'"
    unwanted = {str(edit.params.get("target")) for edit in wishes if edit.op == "remove"}
    unwanted |= {edit.op for edit in wishes}
    default_bgm = Edit("bgm", {"genre": rng.choice(DEFAULT_GENRES), "volume": DEFAULT_VOLUME})
    defaults = tuple(
        edit
        for edit in (
            default_bgm,
            Edit("title", {"text": title}),
            Edit("effect", {"name": "color_grading"}),
        )
        if edit.op not in unwanted and not (edit.op == "effect" and "effects" in unwanted)
    )
    final = _post_produce(template, defaults, wishes, raw)
    operations = _template_operations(template) if template else []
    extras = adopt_extras(raw, template) if template else raw
    operations += _operations([edit for edit in defaults if not _has(extras, edit.op)])
    operations += _operations(wishes)
    edit_call = new_id("call")
    steps += [
        Call(EDIT_TOOL, {"operations": operations}, edit_call),
        _work(rng, profile.edit_s),
        Apply(lambda old: _post_produce(sized_template(), defaults, wishes, old), label="post_production"),
        Result(EDIT_TOOL, {"status": "success", "changes": describe_changes(raw, final)}, edit_call),
        Say(texts.generation_done(language, rng, track_summary(final, language))),
    ]
    steps += _tail(rng, language)
    return Plan(tuple(steps), "generate", chargeable=True, silent=False, language=language)
