"""The mock's media: real MP4 renders of drafts, and sniffing/probing of uploads.

Renders are decoded back with PyAV and their pixels read from the yuv420p planes, converted
to RGB here with the BT.601 formula, so the check does not lean on the renderer's own code.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkout import FIXTURES_DIR
from contracts.resources import DRAFTS_DIR
from mockserver.media import (
    MediaInfo,
    RenderResult,
    content_matches_extension,
    probe,
    render_draft,
    sniff,
)

MEDIA_DIR = FIXTURES_DIR / "media"
COLOUR_TOLERANCE = 12  # per channel, after H.264 and 4:2:0 subsampling of a flat block

# ---------------------------------------------------------------------------- helpers


@dataclass
class Decoded:
    codec: str
    pix_fmt: str
    width: int
    height: int
    duration_s: float
    frames: list[tuple[float, np.ndarray, np.ndarray, np.ndarray]]  # time, Y, U, V planes


def _plane(frame: av.VideoFrame, index: int) -> np.ndarray:
    plane = frame.planes[index]
    rows = np.frombuffer(bytes(plane), np.uint8).reshape(-1, plane.line_size)
    return rows[: plane.height, : plane.width].copy()


def decode(path: Path) -> Decoded:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [
            (float(frame.time or 0.0), _plane(frame, 0), _plane(frame, 1), _plane(frame, 2))
            for frame in container.decode(stream)
        ]
        assert container.duration is not None
        return Decoded(
            codec=stream.codec_context.name,
            pix_fmt=stream.codec_context.pix_fmt or "",
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            duration_s=container.duration / av.time_base,
            frames=frames,
        )


def shown_at(decoded: Decoded, time_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The planes on screen at `time_s`: renders have a variable frame rate, one frame per change."""
    on_screen = [frame for frame in decoded.frames if frame[0] <= time_s + 1e-6]
    assert on_screen, f"no frame shown at {time_s}s"
    _, y, u, v = on_screen[-1]
    return y, u, v


def centre_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[int, int, int]:
    """BT.601 limited-range YUV -> RGB at the frame centre."""
    luma = 1.164 * (float(y[y.shape[0] // 2, y.shape[1] // 2]) - 16)
    cb = float(u[u.shape[0] // 2, u.shape[1] // 2]) - 128
    cr = float(v[v.shape[0] // 2, v.shape[1] // 2]) - 128
    rgb = (luma + 1.596 * cr, luma - 0.392 * cb - 0.813 * cr, luma + 2.017 * cb)
    return tuple(int(max(0, min(255, round(c)))) for c in rgb)  # type: ignore[return-value]


def hex_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def close(actual: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    return all(abs(a - e) <= COLOUR_TOLERANCE for a, e in zip(actual, expected, strict=True))


def segment(seg_id: str, start_ms: Any, length_ms: Any, **meta: Any) -> dict[str, Any]:
    return {"id": seg_id, "st": start_ms, "d": length_ms, "m": meta}


def draft_of(
    *tracks: tuple[int, list[dict[str, Any]]], width: int = 320, height: int = 240, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "t": [{"tt": tt, "id": f"trk_{i}", "m": {}, "sg": sg} for i, (tt, sg) in enumerate(tracks)],
        "m": {"title": "test", "width": width, "height": height},
    }
    body.update(extra)
    return body


def expected_colour(draft: dict[str, Any], t_ms: float) -> tuple[int, int, int] | str | None:
    """The colour the draft asks for at `t_ms`: RGB from a hex `m.color`, 'derived' when the segment
    has none, 'named' for a colour name (not checked here), or None for black (no video segment)."""
    found: tuple[int, int, int] | str | None = None
    for track in draft["t"]:
        if track.get("tt") != 0:
            continue
        for seg in track.get("sg") or []:
            start, length = seg.get("st", 0), seg.get("d", 0)
            if not start <= t_ms < start + length:
                continue
            colour = (seg.get("m") or {}).get("color")
            if colour is None:
                found = "derived"
            elif isinstance(colour, str) and colour.startswith("#") and len(colour) in (4, 7):
                found = hex_rgb(colour)
            else:
                found = "named"
    return found


def centre_covered_by_text(draft: dict[str, Any], t_ms: float) -> bool:
    for track in draft["t"]:
        if track.get("tt") != 7:
            continue
        for seg in track.get("sg") or []:
            meta = seg.get("m") or {}
            position = str(meta.get("position", ""))
            active = seg.get("st", 0) <= t_ms < seg.get("st", 0) + seg.get("d", 0)
            centred = ("center" in position or "middle" in position) and not (
                "top" in position or "bottom" in position
            )
            if active and centred:
                return True
    return False


def draft_length_ms(draft: dict[str, Any]) -> int:
    ends = [seg.get("st", 0) + seg.get("d", 0) for track in draft["t"] for seg in track.get("sg") or []]
    declared = draft.get("d") if isinstance(draft.get("d"), int | float) else 0
    return round(max([*ends, declared]))


def assert_blocks(draft: dict[str, Any], decoded: Decoded) -> None:
    """Every frame's centre has the colour of the video segment on top at that time (B-STATE-04)."""
    for time_s, y, u, v in decoded.frames:
        t_ms = time_s * 1000
        if centre_covered_by_text(draft, t_ms):
            continue
        want = expected_colour(draft, t_ms)
        got = centre_rgb(y, u, v)
        if want is None:
            assert close(got, (0, 0, 0)), f"black expected at {time_s}s, got {got}"
        elif want == "derived":
            assert max(got) > 40, f"a derived colour, not black, expected at {time_s}s"
        elif isinstance(want, tuple):
            assert close(got, want), f"{want} expected at {time_s}s, got {got}"


def exportable(draft: dict[str, Any]) -> bool:
    tracks = draft.get("t")
    return isinstance(tracks, list) and any(isinstance(t, dict) and t.get("sg") for t in tracks)


# ---------------------------------------------------------------------------- renders


def test_render_is_h264_mp4_of_draft_size_and_length(tmp_path: Path) -> None:
    """B-REN-06, B-PROF-07: an H.264/yuv420p MP4 as long and as large as the draft says."""
    draft = draft_of((0, [segment("a", 0, 2500, color="#1f4e79")]), width=320, height=180)
    out = tmp_path / "render.mp4"
    result = render_draft(draft, out)
    decoded = decode(out)
    assert decoded.codec == "h264"
    assert decoded.pix_fmt == "yuv420p"
    assert (decoded.width, decoded.height) == (320, 180)
    assert abs(decoded.duration_s - 2.5) <= 1.0  # within one frame at 1 fps
    assert result == RenderResult(
        duration_s=2.5, width=320, height=180, frames=len(decoded.frames), size_bytes=out.stat().st_size
    )
    assert out.read_bytes()[4:8] == b"ftyp"


def test_render_length_follows_a_longer_draft_d_and_fps(tmp_path: Path) -> None:
    """B-STATE-04: `d` (ms) is the draft's length; past the last segment the picture is black."""
    draft = draft_of((0, [segment("a", 0, 1000, color="#ff0000")]), d=3000)
    out = tmp_path / "long.mp4"
    result = render_draft(draft, out, fps=2)
    decoded = decode(out)
    # One frame per change of picture (red, then black at 1 s), each lasting until the next.
    assert result.frames == len(decoded.frames) == 2
    assert abs(decoded.duration_s - 3.0) <= 0.5
    assert_blocks(draft, decoded)
    assert close(centre_rgb(*decoded.frames[-1][1:]), (0, 0, 0))


def test_odd_frame_sizes_are_rounded_to_even(tmp_path: Path) -> None:
    """B-STATE-04 m.width/m.height: yuv420p needs even sides, so odd ones are rounded."""
    draft = draft_of((0, [segment("a", 0, 1000, color="#00ff00")]), width=321, height=179)
    result = render_draft(draft, tmp_path / "odd.mp4")
    decoded = decode(tmp_path / "odd.mp4")
    assert (result.width, result.height) == (decoded.width, decoded.height)
    assert decoded.width % 2 == 0 and decoded.height % 2 == 0
    assert abs(decoded.width - 321) == 1 and abs(decoded.height - 179) == 1


def test_default_frame_size_is_1920x1080(tmp_path: Path) -> None:
    """B-STATE-04: without m.width/m.height the render is 1920x1080."""
    draft = {"t": [{"tt": 0, "sg": [segment("a", 0, 1000, color="#123456")]}]}
    result = render_draft(draft, tmp_path / "default.mp4")
    assert (result.width, result.height) == (1920, 1080)
    decoded = decode(tmp_path / "default.mp4")
    assert (decoded.width, decoded.height) == (1920, 1080)


def test_each_video_segment_is_a_block_of_its_colour(tmp_path: Path) -> None:
    """B-STATE-04: one coloured block per video segment, black in gaps, later tracks on top."""
    draft = draft_of(
        (
            0,
            [
                segment("a", 0, 2000, color="#c03020"),
                segment("b", 2000, 2000, color="#20a040"),
                segment("c", 5000, 2000, name="beach at dusk"),  # no colour: derived from the name
            ],
        ),
        (0, [segment("overlay", 3000, 1000, color="#2040c0")]),
        (1, [segment("bgm", 0, 8000, name="Lo-fi", volume=0.35)]),
    )
    out = tmp_path / "blocks.mp4"
    render_draft(draft, out, fps=2)
    decoded = decode(out)
    assert abs(decoded.duration_s - 8.0) <= 0.5
    assert_blocks(draft, decoded)
    at = {t: centre_rgb(*shown_at(decoded, t)) for t in (2.0, 3.0, 4.5, 7.5)}
    assert close(at[3.0], (0x20, 0x40, 0xC0)) and close(at[2.0], (0x20, 0xA0, 0x40))
    assert close(at[4.5], (0, 0, 0)) and close(at[7.5], (0, 0, 0))


def test_derived_colour_is_stable_and_differs_by_name(tmp_path: Path) -> None:
    """B-STATE-04: a segment without m.color gets a colour derived from its name, the same every time."""
    colours = []
    for index, name in enumerate(["city timelapse", "city timelapse", "mountain lake"]):
        out = tmp_path / f"derived{index}.mp4"
        render_draft(draft_of((0, [segment(f"seg{index}", 0, 1000, name=name)])), out)
        colours.append(centre_rgb(*decode(out).frames[0][1:]))
    assert close(colours[0], colours[1])
    assert not close(colours[0], colours[2])


def test_title_and_subtitle_are_burnt_in_only_while_active(tmp_path: Path) -> None:
    """B-STATE-04, B-CLI-27: tt 7 text shows while its segment runs (titles on top, subtitles below)."""
    draft = draft_of(
        (0, [segment("v", 0, 4000, color="#1f4e79")]),
        (7, [segment("t", 0, 2000, kind="title", text="Urban Dreams")]),
        (7, [segment("s", 2000, 1000, kind="subtitle", text="a city that never sleeps")]),
        width=320,
        height=240,
    )
    out = tmp_path / "titles.mp4"
    render_draft(draft, out)
    decoded = decode(out)
    frames = {second: shown_at(decoded, second)[0] for second in (0, 1, 2, 3)}
    flat = frames[3]
    assert int(flat.max()) - int(flat.min()) <= 3, "no text after the title and subtitle ended"
    top, bottom = slice(0, 60), slice(180, 240)

    def changed(y: np.ndarray, rows: slice) -> int:
        return int((np.abs(y[rows].astype(int) - int(flat[120, 160])) > 40).sum())

    for second in (0, 1):
        assert changed(frames[second], top) > 200 and changed(frames[second], bottom) == 0
    assert changed(frames[2], bottom) > 100 and changed(frames[2], top) == 0


def test_many_captions_each_show_in_their_second(tmp_path: Path) -> None:
    """B-CLI-27: a subtitle track of many short cues: every cue is drawn in its own window."""
    cues = [segment(f"s{i}", i * 1000, 1000, kind="subtitle", text=f"cue number {i}") for i in range(12)]
    draft = draft_of((0, [segment("v", 0, 12000, color="#203040")]), (7, cues))
    out = tmp_path / "cues.mp4"
    assert render_draft(draft, out).frames == 12
    bottoms = [y[180:].copy() for _, y, _, _ in decode(out).frames]
    assert all(int(b.max()) - int(b.min()) > 100 for b in bottoms)
    assert all(not np.array_equal(a, b) for a, b in pairwise(bottoms))


def test_long_title_is_shrunk_to_fit_the_frame(tmp_path: Path) -> None:
    """B-STATE-04: a title wider than the frame is drawn smaller, leaving side margins."""
    text = "An extremely long title that would never fit on one line of a small frame"
    draft = draft_of((0, [segment("v", 0, 1000, color="#000000")]), (7, [segment("t", 0, 1000, text=text)]))
    out = tmp_path / "long-title.mp4"
    render_draft(draft, out)
    y = decode(out).frames[0][1]
    lit_columns = np.nonzero((y[:60] > 100).any(axis=0))[0]
    assert lit_columns.size > 0
    assert lit_columns.min() > 4 and lit_columns.max() < 320 - 4


def test_design_example_renders_portrait(tmp_path: Path) -> None:
    """B-PROF-07: the documented draft (H.264 up to 1080x1920) renders at its size and length."""
    draft = {
        "t": [
            {"tt": 0, "id": "trk_video", "m": {"name": "Video"},
             "sg": [segment("seg_v1", 0, 10000, name="city timelapse", color="#1f4e79",
                            src="generated://clip_1", transition_in="fade", effects=["color_grading"])]},
            {"tt": 1, "id": "trk_bgm", "m": {"name": "BGM"},
             "sg": [segment("seg_a1", 0, 10000, name="Lo-fi", volume=0.35)]},
            {"tt": 7, "id": "trk_title", "m": {"name": "Title"},
             "sg": [segment("seg_t1", 0, 3000, kind="title", text="Urban Dreams", color="white",
                            position="top-center", animation="fade-in")]},
        ],
        "d": 10000,
        "m": {"title": "Urban Dreams", "width": 1080, "height": 1920, "fps": 30},
    }  # fmt: skip
    out = tmp_path / "example.mp4"
    result = render_draft(draft, out)
    # Two pictures (with and without the title), each encoded once: a variable frame rate.
    assert (result.width, result.height, result.frames, result.duration_s) == (1080, 1920, 2, 10.0)
    decoded = decode(out)
    assert (decoded.width, decoded.height) == (1080, 1920)
    assert abs(decoded.duration_s - 10.0) <= 1.0
    assert_blocks(draft, decoded)


@pytest.mark.parametrize(
    "draft",
    [
        {},
        {"t": []},
        {"t": [{"tt": 0, "sg": []}, {"tt": 7}]},
        {"d": 10000, "m": {"width": 1080}},
        {"t": [{"tt": 0, "sg": [segment("a", 0, 0)]}]},
    ],
    ids=["empty", "no-tracks", "no-segments", "no-t", "zero-length"],
)
def test_non_exportable_draft_is_refused_before_writing(tmp_path: Path, draft: dict[str, Any]) -> None:
    """B-STATE-05: a draft without a track with segments is not export-ready: ValueError, no file."""
    with pytest.raises(ValueError, match=r"export-ready|no length"):
        render_draft(draft, tmp_path / "out.mp4")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("draft", "fps", "message"),
    [
        ("not a draft", 1, "JSON object"),
        ({"t": [{"tt": 0, "sg": [segment("a", -5, 1000)]}]}, 1, "st must be"),
        ({"t": [{"tt": 0, "sg": [segment("a", 0, "1000")]}]}, 1, "d must be"),
        ({"t": [{"tt": 0, "sg": [segment("a", 0, 1000)]}], "m": {"width": 0}}, 1, "width"),
        ({"t": [{"tt": 0, "sg": [segment("a", 0, 1000)]}], "m": {"height": 99999}}, 1, "height"),
        ({"t": [{"tt": 0, "sg": [segment("a", 0, 1000)]}]}, 0, "fps"),
        ({"t": [{"tt": 0, "sg": [segment("a", 0, 7_200_000)]}]}, 1, "capped"),
    ],
    ids=["not-object", "negative-st", "string-d", "zero-width", "huge-height", "zero-fps", "too-long"],
)
def test_malformed_draft_is_refused_with_a_clear_message(
    tmp_path: Path, draft: Any, fps: int, message: str
) -> None:
    """B-STATE-04: malformed segments, sizes or rates raise ValueError naming the problem."""
    with pytest.raises(ValueError, match=message):
        render_draft(draft, tmp_path / "out.mp4", fps=fps)
    assert list(tmp_path.iterdir()) == []


def test_render_replaces_the_target_atomically(tmp_path: Path) -> None:
    """B-REN-13: the download path only ever holds a complete file; no temp file is left behind."""
    out = tmp_path / "renders" / "render_1.mp4"
    out.parent.mkdir()
    out.write_bytes(b"previous render")
    with pytest.raises(ValueError):
        render_draft({"t": []}, out)
    assert out.read_bytes() == b"previous render"
    render_draft(draft_of((0, [segment("a", 0, 1000, color="#ffffff")])), out)
    assert [p.name for p in out.parent.iterdir()] == ["render_1.mp4"]
    assert decode(out).codec == "h264"
    assert out.stat().st_mode & 0o044 == 0o044  # readable by the server process serving it


def test_renders_run_concurrently_in_worker_threads(tmp_path: Path) -> None:
    """B-SESS-08: the server renders from worker threads; parallel renders do not disturb each other."""
    colours = ["#e04040", "#40e040", "#4040e0", "#e0e040"]
    drafts = [
        draft_of(
            (0, [segment("v", 0, 2000, color=colour)]),
            (7, [segment("t", 0, 1000, kind="subtitle", text=f"render {index}")]),
        )
        for index, colour in enumerate(colours)
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda item: render_draft(item[1], tmp_path / f"r{item[0]}.mp4"), enumerate(drafts))
        )
    for index, (draft, result) in enumerate(zip(drafts, results, strict=True)):
        decoded = decode(tmp_path / f"r{index}.mp4")
        assert result.frames == len(decoded.frames) == 2
        assert_blocks(draft, decoded)


def _fixture_drafts() -> list[Path]:
    # A missing directory or an empty one must fail the test below, not skip it.
    return sorted(DRAFTS_DIR.glob("*.json")) or [DRAFTS_DIR / "<no draft fixtures>.json"]


@pytest.mark.parametrize("path", _fixture_drafts(), ids=lambda p: p.name)
def test_fixture_drafts_render_or_are_refused(tmp_path: Path, path: Path) -> None:
    """B-STATE-04/05: a shipped draft renders to its size, length and blocks, or is refused if not ready."""
    assert path.is_file(), f"expected draft fixtures in {DRAFTS_DIR}"
    document = json.loads(path.read_text())
    draft = document.get("draft", document) if isinstance(document, dict) else document
    out = tmp_path / "fixture.mp4"
    if not (isinstance(draft, dict) and exportable(draft)):
        with pytest.raises(ValueError):
            render_draft(draft, out)
        return
    if draft_length_ms(draft) <= 0:
        with pytest.raises(ValueError, match="no length"):
            render_draft(draft, out)
        return
    result = render_draft(draft, out)
    decoded = decode(out)
    meta = draft.get("m") or {}
    assert decoded.codec == "h264"
    assert decoded.width == result.width == 2 * round(meta.get("width", 1920) / 2)
    assert decoded.height == result.height == 2 * round(meta.get("height", 1080) / 2)
    assert abs(decoded.duration_s - draft_length_ms(draft) / 1000) <= 1.0
    assert_blocks(draft, decoded)


# ---------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    ("head", "family"),
    [
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41", "video"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "video"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", "video"),
        (b"\x00\x00\x00\x1cftypM4A \x00\x00\x02\x00M4A isom", "audio"),
        (b"\x00\x00\x00\x1cftypM4B \x00\x00\x02\x00M4B isom", "audio"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image"),
        (b"\x00\x00\x00\x08wide\x00\x01\x00\x00mdat", "video"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm", "video"),
        (b"RIFF\x00\x10\x00\x00AVI LIST", "video"),
        (b"RIFF\x00\x10\x00\x00WAVEfmt ", "audio"),
        (b"RIFF\x00\x10\x00\x00WEBPVP8 ", "image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image"),
        (b"GIF87a\x40\x00\x30\x00", "image"),
        (b"GIF89a\x40\x00\x30\x00", "image"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x23", "audio"),
        (b"\xff\xfb\x90\x64\x00", "audio"),
        (b"\xff\xf3\x40\xc4\x00", "audio"),
        (b"\xff\xf2\x40\xc4\x00", "audio"),
        (b"\xff\xe3\x18\xc4\x00", "audio"),
        (b"\xff\xf1\x5c\x40\x3d", "audio"),
        (b"\xff\xf9\x5c\x40\x3d", "audio"),
    ],
    ids=lambda value: value if isinstance(value, str) else value[:12].hex(),
)
def test_sniff_recognises_each_magic(head: bytes, family: str) -> None:
    """B-UPL-05/06: the content family comes from magic bytes, not from the file name."""
    assert sniff(head) == family
    assert sniff(head + bytes(64)) == family


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\xff",
        b"\xff\xd8",
        b"hello, this is text",
        b"%PDF-1.7\n",
        b"PK\x03\x04\x14\x00\x06\x00",  # docx (B-UPL-09)
        b"RIFF\x00\x10\x00\x00JUNKdata",
        b"\xff\xeb\x90\x64",  # MPEG audio sync with the reserved version bits
        bytes(64),
    ],
    ids=["empty", "ff", "short-jpeg", "text", "pdf", "docx", "riff-other", "reserved-mpeg", "zeros"],
)
def test_sniff_returns_none_for_anything_else(head: bytes) -> None:
    """B-UPL-07, B-UPL-09: unknown content has no family, so the upload answers 4001."""
    assert sniff(head) is None


def test_sniff_reads_only_the_head() -> None:
    """U-13: sniffing looks at the first 64 bytes; a magic further in does not count."""
    assert sniff(bytes(64) + b"\x89PNG\r\n\x1a\n") is None


# ---------------------------------------------------------------------------- probing samples

SAMPLES = {
    # name: (family, duration s, width, height, fps)
    "clip-2s.mp4": ("video", 2.0, 320, 240, 10.0),
    "clip-1s.mov": ("video", 1.0, 320, 240, 10.0),
    "clip-1s.webm": ("video", 1.0, 320, 240, 10.0),
    "still.png": ("image", None, 64, 48, None),
    "still.jpg": ("image", None, 64, 48, None),
    "still.gif": ("image", None, 64, 48, None),
    "still.webp": ("image", None, 64, 48, None),
    "tone-1s.wav": ("audio", 1.0, None, None, None),
    "tone-1s.mp3": ("audio", 1.0, None, None, None),
    "tone-1s.m4a": ("audio", 1.0, None, None, None),
    "tone-1s.aac": ("audio", 1.0, None, None, None),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_probe_sample_files(name: str) -> None:
    """B-UPL-04/06: probe fills file_type, duration, width, height and fps of real files."""
    path = MEDIA_DIR / name
    family, duration, width, height, fps = SAMPLES[name]
    assert path.stat().st_size < 60_000
    assert sniff(path.read_bytes()[:64]) == family
    info = probe(path)
    assert info.file_type == family
    if duration is None:
        assert info.duration is None
    else:
        assert info.duration is not None and abs(info.duration - duration) <= 0.1
    assert (info.width, info.height, info.fps) == (width, height, fps)
    assert info.format_name
    assert content_matches_extension(path.suffix, info.file_type)


def test_probe_reports_a_render_like_an_upload(tmp_path: Path) -> None:
    """B-UPL-04, B-REN-06: a render probes as video with the draft's size and length; its frame rate is
    the file's average, one still picture held for 3 s (renders have a variable frame rate)."""
    out = tmp_path / "render.mp4"
    render_draft(draft_of((0, [segment("a", 0, 3000, color="#808080")]), width=240, height=320), out, fps=2)
    assert probe(out) == MediaInfo(
        file_type="video",
        duration=3.0,
        width=240,
        height=320,
        fps=0.333,
        format_name="mov,mp4,m4a,3gp,3g2,mj2",
    )


def test_text_named_mp4_is_not_media() -> None:
    """B-UPL-07: `fake.mp4` is text: no family, probe gives file_type None, so 4001."""
    path = MEDIA_DIR / "fake.mp4"
    assert sniff(path.read_bytes()[:64]) is None
    assert probe(path) == MediaInfo(file_type=None)
    assert not content_matches_extension("mp4", probe(path).file_type)


def test_png_named_mp4_does_not_match_its_extension() -> None:
    """B-UPL-07: `image-named.mp4` is a PNG: an image, which an .mp4 name cannot carry."""
    path = MEDIA_DIR / "image-named.mp4"
    info = probe(path)
    assert (info.file_type, info.width, info.height, info.format_name) == ("image", 64, 48, "png")
    assert not content_matches_extension("mp4", info.file_type)
    assert content_matches_extension("png", info.file_type)


def _truncations() -> Iterator[tuple[str, bytes]]:
    for name in ("clip-2s.mp4", "clip-1s.webm", "still.png", "still.jpg", "still.gif", "tone-1s.wav"):
        data = (MEDIA_DIR / name).read_bytes()
        yield name, data[:64]
    rng = random.Random(7)
    for magic in (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"\x1a\x45\xdf\xa3", b"ID3\x04"):
        yield magic.hex(), magic + bytes(rng.randrange(256) for _ in range(512))


@pytest.mark.parametrize(
    ("label", "data"), list(_truncations()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_probe_never_raises_on_broken_files(tmp_path: Path, label: str, data: bytes) -> None:
    """B-UPL-07: a truncated file or garbage behind a valid magic gives file_type None, never an exception."""
    path = tmp_path / f"broken-{label}"
    path.write_bytes(data)
    info = probe(path)
    assert info.file_type in (None, sniff(data))


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=400),
    magic=st.sampled_from([b"", b"\x00\x00\x00\x18ftypisom", b"RIFF\0\0\0\0WAVE"]),
)
def test_probe_never_raises_on_arbitrary_bytes(data: bytes, magic: bytes) -> None:
    """B-UPL-07: whatever the bytes, probe answers with a MediaInfo."""
    fd, name = tempfile.mkstemp(suffix=".bin")
    try:
        os.write(fd, magic + data)
        os.close(fd)
        info = probe(Path(name))
        assert isinstance(info, MediaInfo)
        assert info.file_type in (None, "video", "image", "audio")
    finally:
        os.unlink(name)


def test_generic_brand_m4a_is_accepted_and_probed_as_audio(tmp_path: Path) -> None:
    """B-UPL-05/06: an M4A with the generic `isom` brand sniffs like an MP4; probe finds only audio."""
    path = tmp_path / "voice.m4a"
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=8000)
        assert isinstance(stream, av.AudioStream)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 8000), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 8000, 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    head = path.read_bytes()[:64]
    assert head[8:12] == b"isom" and sniff(head) == "video"
    assert content_matches_extension("m4a", sniff(head))
    info = probe(path)
    assert info.file_type == "audio" and info.width is None
    assert info.duration is not None and abs(info.duration - 1.0) <= 0.1


def test_probe_of_a_missing_file_raises() -> None:
    """A missing file is the caller's mistake, not an upload's content: OSError."""
    with pytest.raises(OSError):
        probe(MEDIA_DIR / "does-not-exist.mp4")


# ---------------------------------------------------------------------------- extension vs content


@pytest.mark.parametrize(
    ("ext", "family", "matches"),
    [
        ("mp4", "video", True),
        ("MOV", "video", True),
        (".webm", "video", True),
        ("mkv", "video", True),
        ("avi", "video", True),
        ("jpg", "image", True),
        ("jpeg", "image", True),
        ("JPEG", "image", True),
        ("webp", "image", True),
        ("m4a", "audio", True),
        ("aac", "audio", True),
        ("wav", "audio", True),
        ("m4a", "video", True),  # a generic-brand ISO file; probe decides (see below)
        ("mp4", "image", False),
        ("mp3", "video", False),
        ("png", "audio", False),
        ("mp4", None, False),
        ("txt", "video", False),
        ("docx", None, False),
        ("", "video", False),
    ],
)
def test_content_matches_extension(ext: str, family: str | None, matches: bool) -> None:
    """B-UPL-05, U-13: the extension's group (case-insensitive, jpeg = jpg) must equal the content family."""
    assert content_matches_extension(ext, family) is matches


# ---------------------------------------------------------------------------- sound and size


def soundtrack(path: Path) -> tuple[str, int, np.ndarray]:
    """The audio track of a file: codec name, sample rate and the mono samples."""
    with av.open(str(path)) as container:
        assert container.streams.audio, "no audio stream"
        stream = container.streams.audio[0]
        samples = np.concatenate([frame.to_ndarray().ravel() for frame in container.decode(stream)])
        return stream.codec_context.name, stream.codec_context.sample_rate, samples


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def test_a_bgm_track_renders_as_an_aac_stream_at_its_volume_and_span(tmp_path: Path) -> None:
    """B-STATE-04: a tt 1 (audio/BGM) segment is heard exactly over its span, at its volume."""
    draft = draft_of(
        (0, [segment("v", 0, 6000, color="#203040")]),
        (1, [segment("bgm", 1000, 3000, name="Lo-fi", volume=0.5), segment("quiet", 4000, 1000, volume=0)]),
    )
    out = tmp_path / "bgm.mp4"
    result = render_draft(draft, out)
    codec, rate, samples = soundtrack(out)
    assert codec == "aac"
    with av.open(str(out)) as container:
        assert container.duration / av.time_base == pytest.approx(result.duration_s, abs=0.05)

    def window(start_s: float, end_s: float) -> np.ndarray:
        return samples[int(start_s * rate) : int(end_s * rate)]

    loud = rms(window(1.2, 3.8))
    assert loud == pytest.approx(0.3 * 0.5 / np.sqrt(2), rel=0.1)  # a tone at half volume
    for start_s, end_s in ((0.0, 0.9), (4.1, 6.0)):  # before, the muted segment, after
        assert rms(window(start_s, end_s)) < loud / 50


def test_louder_segments_are_louder(tmp_path: Path) -> None:
    draft = draft_of((1, [segment("a", 0, 1000, volume=0.2), segment("b", 1000, 1000, volume=0.8)]))
    render_draft(draft, tmp_path / "v.mp4")
    _, rate, samples = soundtrack(tmp_path / "v.mp4")
    quiet, loud = (
        rms(samples[int(0.1 * rate) : int(0.9 * rate)]),
        rms(samples[int(1.1 * rate) : int(1.9 * rate)]),
    )
    assert loud / quiet == pytest.approx(4, rel=0.15)


def test_a_draft_without_audio_has_no_audio_stream(tmp_path: Path) -> None:
    render_draft(draft_of((0, [segment("v", 0, 1000)])), tmp_path / "silent.mp4")
    with av.open(str(tmp_path / "silent.mp4")) as container:
        assert not container.streams.audio


@pytest.mark.parametrize(
    ("size", "fitted"),
    [
        ((4096, 4096), (1080, 1080)),
        ((2160, 3840), (1080, 1920)),
        ((3840, 2160), (1920, 1080)),
        ((640, 360), (640, 360)),
    ],
)
def test_frames_fit_the_profile_maximum(
    tmp_path: Path, size: tuple[int, int], fitted: tuple[int, int]
) -> None:
    """B-PROF-07: renders are H.264 up to 1080x1920 (either way round), shape kept, whatever is asked."""
    draft = draft_of((0, [segment("v", 0, 1000, color="#ff0000")]), width=size[0], height=size[1])
    result = render_draft(draft, tmp_path / "big.mp4")
    decoded = decode(tmp_path / "big.mp4")
    assert (result.width, result.height) == (decoded.width, decoded.height) == fitted
