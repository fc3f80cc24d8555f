"""Real, playable H.264 MP4 renders of a timeline draft (B-REN-06, B-PROF-07).

The mock's render job ends with a file a player can open: one coloured block per video
segment, titles and subtitles burnt in while their segment is active, black where no video
segment covers the time, a tone per audio (BGM) segment in an AAC track (`audio`), and exactly
the draft's length.

Frames are at most 1920x1080 in either orientation ("H.264, up to 1080x1920", the skills' export
notes): a draft asking for more (its `m.width`/`m.height`, up to `MAX_SIDE`) is scaled down to fit,
keeping its shape. With at most `MAX_PICTURES` pictures kept, one render holds about 30 MB of
frames; the heap the encoder used goes back to the system when the render ends.

It is kept cheap on purpose: pictures change only at segment edges, so the file has a variable
frame rate (the `fps` grid is sampled for changes, and each picture is drawn and encoded once,
lasting until the next change), with x264's fastest preset. Encoding is most of a render's
cost, so a still draft is one frame.

`render_draft` keeps no module state, so worker threads may call it concurrently.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFont

from mockserver.media import audio
from mockserver.media.memory import release_freed_memory

DEFAULT_WIDTH = 1920
DEFAULT_HEIGHT = 1080
MAX_SIDE = 4096  # a draft asking for more is refused as malformed
#: The largest frame rendered, in either orientation: the profile's "H.264, up to 1080x1920".
MAX_LONG_SIDE = 1920
MAX_SHORT_SIDE = 1080
MAX_DURATION_S = 3600.0
MAX_FPS = 60
KEYFRAME_EVERY_S = 10
CRF = 28  # flat colour blocks and text stay crisp; a lower value only makes files bigger
MS = Fraction(1, 1000)
MAX_PICTURES = 8  # distinct pictures kept for reuse; a 1080x1920 one is 3 MB

TRACK_VIDEO = 0
TRACK_AUDIO = 1
TRACK_TEXT = 7
BLACK = (0, 0, 0)
WHITE = (255, 255, 255)

Rgb = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class RenderResult:
    """What one render produced."""

    duration_s: float
    width: int
    height: int
    frames: int
    size_bytes: int


@dataclass(frozen=True, slots=True)
class _Block:
    """A video segment as the renderer draws it: a full-frame colour over [start, end) ms."""

    start_ms: int
    end_ms: int
    color: Rgb


@dataclass(frozen=True, slots=True)
class _Caption:
    """A text segment (tt 7) burnt in over [start, end) ms."""

    start_ms: int
    end_ms: int
    text: str
    kind: str  # title | subtitle
    position: str  # top | middle | bottom
    color: Rgb


@dataclass(frozen=True, slots=True)
class _Plan:
    """A draft reduced to what is drawn."""

    duration_ms: int
    width: int
    height: int
    blocks: tuple[_Block, ...]
    captions: tuple[_Caption, ...]
    tones: tuple[audio.Tone, ...] = ()
    has_audio: bool = False  # a tt 1 track with segments: the file has an AAC track


def render_draft(
    draft: dict[str, Any],
    out_path: Path,
    *,
    fps: int = 1,
    max_duration_s: float = MAX_DURATION_S,
) -> RenderResult:
    """Render `draft` to an H.264/yuv420p MP4 at `out_path`, atomically.

    Raises ValueError, before any file is written, for a draft that is not export-ready
    (B-STATE-05), has no length, or has malformed tracks, segments or sizes.
    """
    if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= MAX_FPS:
        raise ValueError(f"fps must be an integer from 1 to {MAX_FPS}, got {fps!r}")
    plan = _plan(draft, max_duration_s)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".part")
    os.close(fd)
    tmp_path = Path(tmp_name)
    try:
        frames = _encode(plan, tmp_path, fps)
        tmp_path.chmod(0o644)  # mkstemp makes it private; the render is served to anyone with its URL
        size_bytes = tmp_path.stat().st_size
        os.replace(tmp_path, out_path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    finally:
        release_freed_memory()
    return RenderResult(
        duration_s=plan.duration_ms / 1000,
        width=plan.width,
        height=plan.height,
        frames=frames,
        size_bytes=size_bytes,
    )


# ---------------------------------------------------------------------------- draft -> plan


def check_draft(draft: Any, *, max_duration_s: float = 3600.0) -> None:
    """Raise ValueError, saying why, for a draft `render_draft` would refuse (cheap: no encoding)."""
    _plan(draft, max_duration_s)


def _plan(draft: dict[str, Any], max_duration_s: float) -> _Plan:
    if not isinstance(draft, dict):
        raise ValueError("draft must be a JSON object")
    tracks = draft.get("t")
    if not isinstance(tracks, list):
        raise ValueError("draft is not export-ready: it has no track list `t` (B-STATE-05)")
    meta = _meta(draft)
    width, height = fit_frame(
        _even_side(meta.get("width"), DEFAULT_WIDTH, "width"),
        _even_side(meta.get("height"), DEFAULT_HEIGHT, "height"),
    )

    blocks: list[_Block] = []
    captions: list[_Caption] = []
    tones: list[audio.Tone] = []
    has_audio = False
    end_ms = 0
    has_segments = False
    for t_index, track in enumerate(tracks):
        if not isinstance(track, dict):
            raise ValueError(f"track {t_index} must be an object")
        segments = track.get("sg") or []
        if not isinstance(segments, list):
            raise ValueError(f"track {t_index}: `sg` must be a list of segments")
        for s_index, segment in enumerate(segments):
            label = f"track {t_index} segment {s_index}"
            if not isinstance(segment, dict):
                raise ValueError(f"{label} must be an object")
            has_segments = True
            has_audio = has_audio or track.get("tt") == TRACK_AUDIO
            start = _ms(segment.get("st", 0), f"{label}: st")
            length = _ms(segment.get("d", 0), f"{label}: d")
            end_ms = max(end_ms, start + length)
            if length == 0:
                continue
            seg_meta = _meta(segment)
            if track.get("tt") == TRACK_VIDEO:
                key = str(seg_meta.get("name") or segment.get("id") or f"{t_index}.{s_index}")
                blocks.append(_Block(start, start + length, _color(seg_meta.get("color"), key)))
            elif track.get("tt") == TRACK_AUDIO:
                key = str(seg_meta.get("name") or segment.get("id") or f"{t_index}.{s_index}")
                tones.append(audio.tone_of(start, start + length, seg_meta, key))
            elif track.get("tt") == TRACK_TEXT and str(seg_meta.get("text") or "").strip():
                kind = "subtitle" if seg_meta.get("kind") == "subtitle" else "title"
                captions.append(
                    _Caption(
                        start,
                        start + length,
                        str(seg_meta["text"]).strip(),
                        kind,
                        _position(seg_meta.get("position"), kind),
                        _color(seg_meta.get("color"), "", default=WHITE),
                    )
                )
    if not has_segments:
        raise ValueError("draft is not export-ready: no track has segments (B-STATE-05)")
    declared = draft.get("d")
    if isinstance(declared, int | float) and not isinstance(declared, bool) and declared > end_ms:
        end_ms = round(declared)  # a longer `d` lengthens the render; time no block covers is black
    if end_ms <= 0:
        raise ValueError("draft has no length: every segment has duration 0")
    if end_ms > max_duration_s * 1000:
        raise ValueError(f"draft is {end_ms / 1000:.1f} s long; renders are capped at {max_duration_s:g} s")
    return _Plan(end_ms, width, height, tuple(blocks), tuple(captions), tuple(tones), has_audio)


def fit_frame(width: int, height: int) -> tuple[int, int]:
    """`width` x `height` scaled down, shape kept, to fit 1920x1080 in either orientation; even sides."""
    scale = min(1.0, MAX_LONG_SIDE / max(width, height), MAX_SHORT_SIDE / min(width, height))
    if scale >= 1.0:
        return width, height
    return max(2, 2 * math.floor(width * scale / 2)), max(2, 2 * math.floor(height * scale / 2))


def _meta(item: dict[str, Any]) -> dict[str, Any]:
    meta = item.get("m")
    return meta if isinstance(meta, dict) else {}


def _ms(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a non-negative number of milliseconds, got {value!r}")
    return round(value)


def _even_side(value: Any, default: int, what: str) -> int:
    """A frame side from draft metadata, rounded to an even number as yuv420p needs."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"draft m.{what} must be a number of pixels, got {value!r}")
    side = 2 * round(value / 2)
    if not 2 <= side <= MAX_SIDE:
        raise ValueError(f"draft m.{what} must be between 2 and {MAX_SIDE} pixels, got {value!r}")
    return side


def _color(value: Any, key: str, *, default: Rgb | None = None) -> Rgb:
    """A segment's colour: its `m.color` if it parses, else `default`, else one derived from `key`."""
    if isinstance(value, str):
        try:
            parsed = ImageColor.getrgb(value.strip())
        except ValueError:
            pass
        else:
            return (parsed[0], parsed[1], parsed[2])
    if default is not None:
        return default
    # hashlib, not hash(): the colour must not change between processes.
    digest = hashlib.sha256(key.encode()).digest()
    red, green, blue = colorsys.hsv_to_rgb(digest[0] / 256, 0.55 + digest[1] / 1024, 0.55 + digest[2] / 1024)
    return (round(red * 255), round(green * 255), round(blue * 255))


def _position(value: Any, kind: str) -> str:
    text = str(value or "").lower()
    for word, position in (("top", "top"), ("bottom", "bottom"), ("center", "middle"), ("middle", "middle")):
        if word in text:
            return position
    return "top" if kind == "title" else "bottom"


# ---------------------------------------------------------------------------- plan -> frames


def _frame_times(duration_ms: int, fps: int) -> Iterator[int]:
    for index in range(math.ceil(duration_ms * fps / 1000)):
        yield round(index * 1000 / fps)


def _scene_at(plan: _Plan, t_ms: int) -> tuple[Rgb, tuple[_Caption, ...]]:
    """What is on screen at `t_ms`: the top-most block's colour (later tracks and segments on top)."""
    color = BLACK
    for block in plan.blocks:
        if block.start_ms <= t_ms < block.end_ms:
            color = block.color
    active = tuple(c for c in plan.captions if c.start_ms <= t_ms < c.end_ms)
    return color, active


def _picture(plan: _Plan, color: Rgb, captions: tuple[_Caption, ...], fonts: dict[int, Any]) -> av.VideoFrame:
    """One yuv420p picture: the flat colour filled plane by plane, only caption bands converted.

    Converting a whole 1080x1920 RGB image costs as much as encoding several frames; the
    background is one colour, so only the rows that carry text go through RGB at all.
    """
    width, height = plan.width, plan.height
    y_value, u_value, v_value = _yuv(color)
    luma = np.full((height, width), y_value, np.uint8)
    blue_diff = np.full((height // 2, width // 2), u_value, np.uint8)
    red_diff = np.full((height // 2, width // 2), v_value, np.uint8)
    layouts = [_layout(plan, caption, fonts) for caption in captions]
    for top, bottom in _bands(layouts, height):
        band = Image.new("RGB", (width, bottom - top), color)
        draw = ImageDraw.Draw(band)
        for layout in layouts:
            draw.text((width / 2, layout.y - top), layout.caption.text, **layout.style)
        planes = av.VideoFrame.from_image(band).reformat(format="yuv420p").to_ndarray()
        rows = bottom - top
        luma[top:bottom] = planes[:rows]
        chroma = planes[rows:].reshape(2, rows // 2, width // 2)
        blue_diff[top // 2 : bottom // 2] = chroma[0]
        red_diff[top // 2 : bottom // 2] = chroma[1]
    stacked = np.concatenate([luma.ravel(), blue_diff.ravel(), red_diff.ravel()])
    return av.VideoFrame.from_ndarray(stacked.reshape(height * 3 // 2, width), format="yuv420p")


@dataclass(frozen=True, slots=True)
class _Layout:
    """A caption placed on the frame: its centre row, the rows it covers and how it is drawn."""

    caption: _Caption
    y: float
    top: int
    bottom: int
    style: dict[str, Any]


def _layout(plan: _Plan, caption: _Caption, fonts: dict[int, Any]) -> _Layout:
    size = max(12, min(plan.width, plan.height) // (12 if caption.kind == "title" else 22))
    probe_draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    left, _, right, _ = probe_draw.textbbox((0, 0), caption.text, font=_font(size, fonts))
    if right - left > plan.width * 0.9:  # shrink long lines to fit instead of wrapping them
        size = max(8, int(size * plan.width * 0.9 / (right - left)))
    geometry = {
        "font": _font(size, fonts),
        "anchor": "mm",
        "align": "center",
        "stroke_width": max(1, size // 16),
    }
    y = {"top": 0.12, "middle": 0.5, "bottom": 0.88}[caption.position] * plan.height
    _, top, _, bottom = probe_draw.textbbox((plan.width / 2, y), caption.text, **geometry)
    style = {**geometry, "fill": caption.color, "stroke_fill": BLACK}
    return _Layout(caption, y, math.floor(top), math.ceil(bottom), style)


def _bands(layouts: list[_Layout], height: int) -> list[tuple[int, int]]:
    """The rows covered by captions, merged, padded and aligned to even rows (chroma is 2x2)."""
    spans = sorted(
        (max(0, (lay.top - 2) // 2 * 2), min(height, (lay.bottom + 3) // 2 * 2)) for lay in layouts
    )
    merged: list[tuple[int, int]] = []
    for top, bottom in spans:
        if top >= bottom:
            continue
        if merged and top <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], bottom))
        else:
            merged.append((top, bottom))
    return merged


def _yuv(color: Rgb) -> tuple[int, int, int]:
    """The yuv420p values swscale gives `color`, so flat fills match the converted bands exactly."""
    swatch = np.full((2, 2, 3), color, np.uint8)
    planes = av.VideoFrame.from_ndarray(swatch, format="rgb24").reformat(format="yuv420p").to_ndarray()
    return int(planes[0, 0]), int(planes[2, 0]), int(planes[2, 1])


def _font(size: int, fonts: dict[int, Any]) -> Any:
    # Loaded per render, not cached globally: FreeType faces are not safe to share across threads.
    if size not in fonts:
        fonts[size] = ImageFont.load_default(size=size)
    return fonts[size]


def _encode(plan: _Plan, path: Path, fps: int) -> int:
    """Encode the plan; return the number of frames written."""
    pictures: dict[tuple[Rgb, tuple[_Caption, ...]], av.VideoFrame] = {}
    fonts: dict[int, Any] = {}
    frames = 0
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "crf": str(CRF)})
        stream.width = plan.width
        stream.height = plan.height
        stream.pix_fmt = "yuv420p"
        context = stream.codec_context
        context.time_base = MS  # millisecond timestamps let the last frame end exactly on time
        stream.time_base = MS
        context.gop_size = KEYFRAME_EVERY_S * fps  # static pictures need few keyframes
        context.thread_count = 1  # one core per render; the server runs renders in parallel itself
        sound = audio.add_stream(container) if plan.has_audio else None
        held: av.Packet | None = None
        shown: tuple[Rgb, tuple[_Caption, ...]] | None = None
        for t_ms in _frame_times(plan.duration_ms, fps):
            scene = _scene_at(plan, t_ms)
            if scene == shown:
                # Variable frame rate: a frame lasts until the next change, so a still picture
                # costs one encoded frame, not one per second (the encoder is most of a render).
                continue
            shown = scene
            picture = pictures.get(scene)
            if picture is None:
                picture = _picture(plan, *scene, fonts)
                pictures[scene] = picture
                if len(pictures) > MAX_PICTURES:  # bound memory on drafts with many captions
                    del pictures[next(iter(pictures))]
            picture.pts = t_ms
            for packet in stream.encode(picture):
                if held is not None:
                    container.mux(held)
                held = packet
            frames += 1
        for packet in stream.encode(None):
            if held is not None:
                container.mux(held)
            held = packet
        if held is not None:
            # Without B-frames the last packet out is the last frame; stretching it makes the
            # file exactly the draft's length instead of a whole number of frames.
            held.duration = plan.duration_ms - (held.pts or 0)
            container.mux(held)
        pictures.clear()
        if sound is not None:
            audio.encode(container, sound, plan.tones, plan.duration_ms)
    return frames
