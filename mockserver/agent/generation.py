"""A generation turn in two stages (B-SSE-11): a raw clip, then post-production.

`plan_generation` is a few named steps: `settle` fixes what the video is (its fixture draft,
canvas, subject, title, clip id and colour), `raw_clip_steps` plans stage one, `post_production`
decides what stage two adds and `post_production_steps` plans it. Each draws from the turn's
`rng` in that order, so the same seed gives the same plan.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.profiles import Profile
from mockserver.agent import texts
from mockserver.agent.describe import describe_changes, track_summary
from mockserver.agent.intents import ASPECT_SIZES, Edit, Intent, Language, quoted_texts
from mockserver.agent.library import DraftEntry, draft_for_prompt
from mockserver.agent.plans import (
    DEFAULT_GENRES,
    EDIT_TOOL,
    GENERATE_TOOL,
    Plan,
    operations,
    resolve,
    tail,
    work,
)
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
    is_sound_track,
    rescale,
    text_kind,
    video_segments,
)
from mockserver.events import Apply, Call, Result, Say, Step

GENERATION_INTRO_RATE = 0.8
MIN_GENERATION_MS = 1000
MAX_GENERATION_MS = 60_000
GENERATED_URL = "generated://{video_id}"  # the runner may map it to a served file
DEFAULT_FPS = 30
PALETTE = ("#1f4e79", "#7a3e9d", "#2e8b57", "#c0392b", "#d68910", "#117a8b", "#34495e")

Draft = dict[str, Any]


def plan_generation(
    intent: Intent,
    draft: Draft | None,
    rng: random.Random,
    profile: Profile,
    new_id: Callable[[str], str],
    drafts_dir: Path | None,
) -> Plan:
    """The plan of a generation turn; `draft` only matters to a "regenerate" without a subject."""
    generation, template = settle(intent, draft, rng, new_id, drafts_dir)
    raw = clip_draft(generation, template)
    steps = raw_clip_steps(generation, rng, profile, new_id)
    post = post_production(generation, intent.edits, raw, rng)
    steps += post_production_steps(post, template, raw, rng, profile, new_id)
    steps += tail(rng, generation.language)
    return Plan(tuple(steps), "generate", chargeable=True, silent=False, language=generation.language)


# ------------------------------------------------------------------------------ what is generated


@dataclass(frozen=True, slots=True)
class Canvas:
    """Length and frame of the generated clip."""

    duration_ms: int
    aspect_ratio: str
    width: int
    height: int
    resolution: str


@dataclass(frozen=True, slots=True)
class Generation:
    """What one generation makes, settled before its first step.

    The plan's Apply steps keep this rather than drafts: plans wait minutes before applying (memory
    per open stream), and build the same drafts again when applied.
    """

    prompt: str
    language: Language
    entry: DraftEntry | None  # the fixture draft it starts from
    matched: bool  # the prompt found `entry` (not the fallback)
    canvas: Canvas
    subject: str
    title: str
    video_id: str
    color: str

    @property
    def seconds(self) -> int | float:
        ms = self.canvas.duration_ms
        return ms // 1000 if ms % 1000 == 0 else ms / 1000

    def template(self) -> Draft | None:
        """The fixture draft at the requested length and size (built again on every call)."""
        return sized_template(self.entry, self.matched, self.canvas, self.subject)

    def raw_clip(self, old: Draft | None = None) -> Draft:
        """Stage one's Apply: the raw clip, whatever the draft was."""
        return clip_draft(self, self.template())

    def media(self) -> dict[str, Any]:
        """The clip as `generated_media` lists it."""
        return {
            "id": self.video_id,
            "type": "video",
            "url": GENERATED_URL.format(video_id=self.video_id),
            "duration": self.seconds,
            "width": self.canvas.width,
            "height": self.canvas.height,
            "prompt": self.prompt,
        }


def settle(
    intent: Intent,
    draft: Draft | None,
    rng: random.Random,
    new_id: Callable[[str], str],
    drafts_dir: Path | None,
) -> tuple[Generation, Draft | None]:
    """The generation a message asks for, and its sized fixture draft (None without fixtures)."""
    entry, matched = draft_for_prompt(intent.prompt, drafts_dir)
    canvas = canvas_for(intent.params, finish(entry.load()) if entry else None)
    subject = subject_for(intent, draft)
    template = sized_template(entry, matched, canvas, subject)
    title = title_for(intent, subject, template if matched else None)
    video_id = new_id("video")
    color = rng.choice(PALETTE)
    generation = Generation(
        intent.prompt, intent.language, entry, matched, canvas, subject, title, video_id, color
    )
    return generation, template


def subject_for(intent: Intent, draft: Draft | None) -> str:
    """What the video shows: from the prompt; a "regenerate" keeps the title of the draft before."""
    subject = texts.subject_of(intent.prompt, intent.language)
    if subject == texts.NO_SUBJECT[intent.language] and draft and draft.get("m", {}).get("title"):
        return str(draft["m"]["title"])
    return subject


def title_for(intent: Intent, subject: str, matched_template: Draft | None) -> str:
    """A quoted title, else the title of the fixture the prompt found, else one from the subject."""
    own = (matched_template or {}).get("m", {}).get("title")
    if own and not quoted_texts(intent.prompt):
        return str(own)  # the fixture's own title track says so too
    return texts.title_for(intent.prompt, intent.language, subject)


def canvas_for(params: dict[str, Any], template: Draft | None) -> Canvas:
    """The canvas the message asks for, else the fixture's, else 10 s at 16:9 1080p."""
    duration = max(MIN_GENERATION_MS, min(MAX_GENERATION_MS, _duration_ms(params, template)))
    resolution = str(params.get("resolution") or "1080p")
    width, height = _frame(params, (template or {}).get("m", {}), resolution)
    aspect = str(params.get("aspect_ratio") or _aspect_of(width, height))
    return Canvas(duration, aspect, width, height, resolution)


def _duration_ms(params: dict[str, Any], template: Draft | None) -> int:
    requested = params.get("duration_s")
    if requested:
        return round(float(requested) * 1000)
    if template:
        return int(template.get("d") or DEFAULT_CLIP_MS)
    return DEFAULT_CLIP_MS


def _frame(params: dict[str, Any], meta: dict[str, Any], resolution: str) -> tuple[int, int]:
    if params.get("width") and params.get("height"):
        return int(params["width"]), int(params["height"])
    if isinstance(meta.get("width"), int) and isinstance(meta.get("height"), int):
        return meta["width"], meta["height"]
    width, height = ASPECT_SIZES["16:9"]
    if resolution == "720p":
        return width * 2 // 3, height * 2 // 3
    return width, height


def _aspect_of(width: int, height: int) -> str:
    return "16:9" if width > height else "9:16" if width < height else "1:1"


def sized_template(entry: DraftEntry | None, matched: bool, canvas: Canvas, subject: str) -> Draft | None:
    """The fixture draft at the canvas's length and size."""
    if entry is None:
        return None
    template = rescale(finish(entry.load()), canvas.duration_ms)
    template["m"] = {**template.get("m", {}), "width": canvas.width, "height": canvas.height}
    if not matched:
        # The fallback draft stands for "a clip of whatever was asked": name it after the prompt.
        for seg in video_segments(template):
            seg.setdefault("m", {})["name"] = subject
    return template


# ------------------------------------------------------------------------------ stage one: the raw clip


def clip_draft(generation: Generation, template: Draft | None) -> Draft:
    """The Seedance output: a draft with only the video track (stage one of B-SSE-11)."""
    src = GENERATED_URL.format(video_id=generation.video_id)
    canvas = generation.canvas
    if template:
        tracks = _fixture_video_tracks(template, src)
        fps = template.get("m", {}).get("fps", DEFAULT_FPS)
    else:
        segment = {
            "id": "seg_v1",
            "st": 0,
            "d": canvas.duration_ms,
            "m": {"name": generation.subject, "color": generation.color, "src": src},
        }
        tracks = [{"tt": VIDEO, "id": "trk_video", "m": {"name": "Video"}, "sg": [segment]}]
        fps = DEFAULT_FPS
    meta = {"title": generation.title, "width": canvas.width, "height": canvas.height, "fps": fps}
    return finish({"t": tracks, "d": canvas.duration_ms, "m": meta})


def _fixture_video_tracks(template: Draft, src: str) -> list[dict[str, Any]]:
    """The fixture's video tracks without their looks (post-production puts them back)."""
    tracks = [copy.deepcopy(track) for track in template["t"] if track.get("tt") == VIDEO]
    for track in tracks:
        for seg in track["sg"]:
            meta = seg.setdefault("m", {})
            meta.pop("effects", None)
            meta.pop("transition_in", None)
            if str(meta.get("src", "generated://")).startswith("generated://"):
                meta["src"] = src  # this generation's clip; uploaded stills stay what they are
    return tracks


def raw_clip_steps(
    generation: Generation, rng: random.Random, profile: Profile, new_id: Callable[[str], str]
) -> list[Step]:
    """Stage one: an intro (usually), the generate tool, the wait, the clip, a word on it."""
    language, canvas = generation.language, generation.canvas
    seconds = round(generation.seconds)
    steps: list[Step] = []
    if rng.random() < GENERATION_INTRO_RATE:
        steps.append(
            Say(texts.generation_intro(language, rng, generation.subject, seconds, canvas.aspect_ratio))
        )
    call_id = new_id("call")
    args = {
        "prompt": generation.prompt,
        "duration": seconds,
        "aspect_ratio": canvas.aspect_ratio,
        "resolution": canvas.resolution,
    }
    result = {"status": "success", "video_id": generation.video_id, "duration": generation.seconds}
    return [
        *steps,
        Call(GENERATE_TOOL, args, call_id),
        work(rng, profile.generation_s),
        Apply(generation.raw_clip, label="raw_clip", generated_media=(generation.media(),)),
        Result(GENERATE_TOOL, result, call_id),
        Say(texts.raw_clip_ready(language, rng, seconds, canvas.width, canvas.height)),
    ]


# ------------------------------------------------------------------------------ stage two: post-production


@dataclass(frozen=True, slots=True)
class PostProduction:
    """Stage two of B-SSE-11: `defaults` (BGM, title, a colour grade) where the clip still lacks
    them, then `wishes`, what the message asked for."""

    generation: Generation
    defaults: tuple[Edit, ...]
    wishes: tuple[Edit, ...]

    def produce(self, old: Draft | None) -> Draft:
        """Stage two's Apply: the fixture's extra tracks, the defaults still missing, the wishes."""
        return post_produce(self.generation.template(), self.defaults, self.wishes, old)


def post_production(
    generation: Generation, edits: tuple[Edit, ...], raw: Draft, rng: random.Random
) -> PostProduction:
    """What stage two adds to `raw`, with what the message left open filled in."""
    prompt, language = generation.prompt, generation.language
    wishes = tuple(resolve(edit, raw, rng, prompt, language) for edit in edits)
    if quoted_texts(prompt) and not any(edit.op == "title" for edit in wishes):
        wishes += (Edit("title", {"text": generation.title}),)  # "a city video called 'Night Owls'"
    bgm = Edit("bgm", {"genre": rng.choice(DEFAULT_GENRES), "volume": DEFAULT_VOLUME})
    return PostProduction(generation, _defaults(wishes, bgm, generation.title), wishes)


def _defaults(wishes: tuple[Edit, ...], bgm: Edit, title: str) -> tuple[Edit, ...]:
    """BGM, title and a colour grade, less what the wishes add or take away ("without music")."""
    unwanted = {str(edit.params.get("target")) for edit in wishes if edit.op == "remove"}
    unwanted |= {edit.op for edit in wishes}
    candidates = (bgm, Edit("title", {"text": title}), Edit("effect", {"name": "color_grading"}))
    return tuple(
        edit
        for edit in candidates
        if edit.op not in unwanted and not (edit.op == "effect" and "effects" in unwanted)
    )


def post_produce(
    template: Draft | None, defaults: tuple[Edit, ...], wishes: tuple[Edit, ...], old: Draft | None
) -> Draft:
    """Stage two of B-SSE-11: the template's extra tracks, then BGM/title/effect if still missing,
    then what the user asked for."""
    result = adopt_extras(old, template) if template else apply_edits(old, ())
    for edit in defaults:
        if not _has(result, edit.op):
            result = apply_edit(result, edit)
    return apply_edits(result, wishes)


def post_production_steps(
    post: PostProduction,
    template: Draft | None,
    raw: Draft,
    rng: random.Random,
    profile: Profile,
    new_id: Callable[[str], str],
) -> list[Step]:
    """Stage two: the edit tool with every operation, the wait, the finished draft, a summary."""
    language = post.generation.language
    final = post_produce(template, post.defaults, post.wishes, raw)
    call_id = new_id("call")
    return [
        Call(EDIT_TOOL, {"operations": _post_operations(post, template, raw)}, call_id),
        work(rng, profile.edit_s),
        Apply(post.produce, label="post_production"),
        Result(EDIT_TOOL, {"status": "success", "changes": describe_changes(raw, final)}, call_id),
        Say(texts.generation_done(language, rng, track_summary(final, language))),
    ]


def _post_operations(post: PostProduction, template: Draft | None, raw: Draft) -> list[dict[str, Any]]:
    """The edit tool's operations: the fixture's tracks and looks, the defaults added, the wishes."""
    found = template_operations(template) if template else []
    extras = adopt_extras(raw, template) if template else raw
    found += operations([edit for edit in post.defaults if not _has(extras, edit.op)])
    return found + operations(post.wishes)


def _has(draft: Draft, op: str) -> bool:
    """Whether the draft has what a default edit would add (a BGM, a title, any effect)."""
    if op == "bgm":
        return bgm_track(draft) is not None
    if op == "title":
        return any(
            track.get("tt") == TEXT and any(text_kind(track, seg) == "title" for seg in track["sg"])
            for track in draft["t"]
        )
    return any(seg.get("m", {}).get("effects") for seg in video_segments(draft))


def template_operations(template: Draft) -> list[dict[str, Any]]:
    """The operations that would build a fixture's extra tracks and looks on its bare clip."""
    found = [op for track in template["t"] for op in _track_operations(track)]
    return found + _look_operations(template)


def _track_operations(track: dict[str, Any]) -> list[dict[str, Any]]:
    segments = track["sg"]
    first = segments[0].get("m", {})
    if is_sound_track(track):
        return [{"op": "sound", "params": {"name": seg.get("m", {}).get("name")}} for seg in segments]
    if track.get("tt") == AUDIO:
        return [{"op": "bgm", "params": {"name": first.get("name"), "volume": first.get("volume")}}]
    if track.get("tt") != TEXT:
        return []
    kind = text_kind(track, segments[0])
    if kind == "title":
        return [{"op": "title", "params": {"text": first.get("text")}}]
    if kind == STICKER_KIND:
        return [{"op": "sticker", "params": {"name": seg.get("m", {}).get("name")}} for seg in segments]
    return [{"op": "subtitles", "params": {"lines": len(segments)}}]


def _look_operations(template: Draft) -> list[dict[str, Any]]:
    """One operation per distinct effect and transition of the fixture's video segments."""
    found: list[dict[str, Any]] = []
    for key, op, name in (("effects", "effect", "name"), ("transition_in", "transition", "style")):
        values: dict[str, None] = {}  # distinct, in order
        for seg in video_segments(template):
            value = seg.get("m", {}).get(key)
            values.update(dict.fromkeys(value if isinstance(value, list) else [value] if value else []))
        found.extend({"op": op, "params": {name: value}} for value in values)
    return found
