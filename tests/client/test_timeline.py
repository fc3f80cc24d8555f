"""Drafts: export readiness, the track summary, change reports and next steps
(B-STATE-04..07, B-CLI-10, B-CLI-11, B-CLI-12)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from client.timeline import (
    Change,
    ChangeKind,
    describe,
    describe_changes,
    diff,
    diff_states,
    duration_ms,
    format_seconds,
    is_export_ready,
    suggest_next_steps,
    summarize,
)
from contracts.resources import DRAFTS_DIR

DOCUMENTED_SUMMARY = (
    "Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) "
    '3. Title: "Urban Dreams" (0-3s)'
)


def video_track(*segments: dict[str, Any]) -> dict[str, Any]:
    return {"tt": 0, "id": "trk_video", "m": {"name": "Video"}, "sg": list(segments)}


def clip(seg_id: str = "seg_v1", name: str = "city timelapse", st: int = 0, d: int = 10000, **m: Any) -> dict:
    return {"id": seg_id, "st": st, "d": d, "m": {"name": name, "src": f"generated://{seg_id}", **m}}


def bgm_track(name: str = "Lo-fi", volume: float | None = 0.35, d: int = 10000) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if volume is not None:
        meta["volume"] = volume
    return {
        "tt": 1,
        "id": "trk_bgm",
        "m": {"name": "BGM"},
        "sg": [{"id": "seg_a1", "st": 0, "d": d, "m": meta}],
    }


def title_track(text: str = "Urban Dreams", d: int = 3000, **style: Any) -> dict[str, Any]:
    meta = {"kind": "title", "text": text, **style}
    return {
        "tt": 7,
        "id": "trk_title",
        "m": {"name": "Title"},
        "sg": [{"id": "seg_t1", "st": 0, "d": d, "m": meta}],
    }


def subtitle_track(lines: int) -> dict[str, Any]:
    segs = [
        {"id": f"seg_s{i}", "st": i * 2500, "d": 2500, "m": {"kind": "subtitle", "text": f"line {i}"}}
        for i in range(lines)
    ]
    return {"tt": 7, "id": "trk_subs", "m": {"name": "Subtitles"}, "sg": segs}


def draft(*tracks: dict[str, Any], d: int | None = 10000) -> dict[str, Any]:
    result: dict[str, Any] = {
        "t": list(tracks),
        "m": {"title": "Urban Dreams", "width": 1080, "height": 1920},
    }
    if d is not None:
        result["d"] = d
    return result


def city_timelapse() -> dict[str, Any]:
    """The design.md example draft, built inline."""
    return draft(
        video_track(clip(color="#1f4e79", transition_in="fade", effects=["color_grading"])),
        bgm_track(),
        title_track(color="white", position="top-center", animation="fade-in"),
    )


# ---------------------------------------------------------------------------- summary


def test_summary_matches_the_documented_line() -> None:
    """B-STATE-06: the v1.9 example, character for character."""
    assert summarize(city_timelapse()) == DOCUMENTED_SUMMARY


def test_summary_of_the_shipped_fixture() -> None:
    """B-STATE-06: contracts/data/drafts/city-timelapse.json summarises to the documented line."""
    fixture = json.loads((DRAFTS_DIR / "city-timelapse.json").read_text(encoding="utf-8"))
    assert summarize(fixture) == DOCUMENTED_SUMMARY
    assert is_export_ready(fixture)


@pytest.mark.parametrize("empty", [None, {}, {"t": []}, {"t": None}, {"d": 0}, [], "draft", 3])
def test_summary_of_no_draft(empty: object) -> None:
    """B-STATE-06, U-17: no draft, an empty one or a non-object all read as empty."""
    assert summarize(empty) == "Timeline (0 tracks): empty"


def test_summary_subtitles_and_single_track_wording() -> None:
    """B-STATE-06, B-STATE-07: subtitles count lines; one track is "1 track"."""
    assert summarize(draft(subtitle_track(4))) == "Timeline (1 track): 1. Subtitles: 4 lines (0-10s)"
    assert summarize(draft(subtitle_track(1))) == "Timeline (1 track): 1. Subtitles: 1 line (0-2.5s)"


def test_summary_span_runs_from_first_start_to_last_end() -> None:
    """B-STATE-06: a video track spans its clips; the label names the first clip."""
    track = video_track(clip("a", "intro", 0, 4000), clip("b", "beach", 4000, 6500))
    assert summarize(draft(track)) == "Timeline (1 track): 1. Video: intro (0-10.5s)"


def test_summary_tolerates_odd_tracks() -> None:
    """B-STATE-04: unknown types, empty tracks, missing fields and bad values never break it."""
    odd = {
        "t": [
            {"tt": 3, "m": {"name": "Sticker"}, "sg": [{"st": 1000, "d": 2000}]},
            {"tt": 0, "sg": []},
            {"tt": 1, "sg": [{"st": "soon", "d": None, "m": {"name": "Rain", "volume": "loud"}}]},
            {"sg": [{}]},
            "not a track",
            {"tt": 7, "sg": [{"m": "no"}]},
        ]
    }
    assert summarize(odd) == (
        "Timeline (5 tracks): 1. Sticker (type 3): 1 segment (1-3s) 2. Video: empty 3. BGM: Rain (0-0s) "
        '4. Track (unknown type): 1 segment (0-0s) 5. Title: "" (0-0s)'
    )


def test_volume_above_one_is_a_percentage() -> None:
    """B-STATE-04: 0..1 is documented; 35 is read as 35% rather than 3500%."""
    assert "35%" in summarize(draft(bgm_track(volume=35)))
    assert summarize(draft(bgm_track(volume=None))) == "Timeline (1 track): 1. BGM: Lo-fi (0-10s)"


@pytest.mark.parametrize(
    ("ms", "text"),
    [(0, "0"), (10000, "10"), (1500, "1.5"), (1234, "1.2"), (2950, "3"), (125000, "125"), (-500, "-0.5")],
)
def test_seconds_format(ms: float, text: str) -> None:
    """B-STATE-06: whole seconds without ".0", otherwise one decimal."""
    assert format_seconds(ms) == text


# ---------------------------------------------------------------------------- export readiness


@pytest.mark.parametrize(
    ("candidate", "ready"),
    [
        (None, False),
        ({}, False),
        ({"t": []}, False),
        ({"t": [{"tt": 0, "sg": []}]}, False),
        ({"t": [{"tt": 0}]}, False),
        ({"t": "tracks"}, False),
        ({"t": [{"tt": 7, "sg": [{"st": 0}]}]}, True),
        ({"t": [{"tt": 0, "sg": []}, {"tt": 1, "sg": [{}]}]}, True),
    ],
)
def test_export_ready_rule(candidate: object, ready: bool) -> None:
    """B-STATE-05: `t` exists and some track has a non-empty `sg`."""
    assert is_export_ready(candidate) is ready
    assert is_export_ready(city_timelapse())


def test_duration_is_d_else_last_segment_end() -> None:
    """design.md: `d` is the end of the last segment; computed when missing."""
    assert duration_ms(city_timelapse()) == 10000
    assert duration_ms(draft(video_track(clip(d=7000)), d=None)) == 7000
    assert duration_ms(None) == 0


# ---------------------------------------------------------------------------- changes


def lines(before: object, after: object) -> list[str]:
    return describe_changes(diff(before, after))


def test_generation_from_nothing_reports_every_track() -> None:
    """B-CLI-10, B-CLI-11: raw clip plus the post-production the backend added."""
    assert lines(None, city_timelapse()) == [
        "✅ Video generated: city timelapse (0-10s)",
        "✅ Transition added: fade",
        "✅ Effect added: color_grading",
        "✅ BGM added: Lo-fi (35%)",
        "✅ Title added: 'Urban Dreams' (white, top-center, fade-in, 0-3s)",
    ]


def test_title_added_with_style_words() -> None:
    """B-CLI-10: the v1.9 silent-edit report, concrete: text, style, timing."""
    before = draft(video_track(clip()))
    after = draft(video_track(clip()), title_track("Paradise Found", color="white", position="top-center"))
    assert lines(before, after) == ["✅ Title added: 'Paradise Found' (white, top-center, 0-3s)"]


def test_title_changed_and_restyled() -> None:
    """B-CLI-12: before → after for the title text, else its new style."""
    base = draft(video_track(clip()), title_track("A", color="white"))
    assert lines(base, draft(video_track(clip()), title_track("B", color="white"))) == [
        "✅ Title changed: 'A' → 'B'"
    ]
    restyled = draft(video_track(clip()), title_track("A", color="yellow", d=5000))
    assert lines(base, restyled) == ["✅ Title restyled: 'A' (yellow, 0-5s)"]


def test_bgm_added_volume_and_swap() -> None:
    """B-CLI-12: BGM name and volume before → after."""
    base = draft(video_track(clip()))
    assert lines(base, draft(video_track(clip()), bgm_track())) == ["✅ BGM added: Lo-fi (35%)"]
    quieter = draft(video_track(clip()), bgm_track(volume=0.2))
    assert lines(draft(video_track(clip()), bgm_track()), quieter) == ["✅ BGM volume: 35% → 20%"]
    swapped = draft(video_track(clip()), bgm_track(name="Piano", volume=0.35))
    assert lines(draft(video_track(clip()), bgm_track()), swapped) == ["✅ BGM changed: Lo-fi → Piano"]


def test_subtitles_added_changed_edited() -> None:
    """B-STATE-07, B-CLI-12: subtitle lines counted."""
    base = draft(video_track(clip()))
    assert lines(base, draft(video_track(clip()), subtitle_track(4))) == ["✅ Subtitles added: 4 lines"]
    four, three = draft(video_track(clip()), subtitle_track(4)), draft(video_track(clip()), subtitle_track(3))
    assert lines(four, three) == ["✅ Subtitles changed: 4 → 3 lines"]
    edited = copy.deepcopy(four)
    edited["t"][1]["sg"][0]["m"]["text"] = "new words"
    assert lines(four, edited) == ["✅ Subtitles edited: 4 lines"]


def test_transition_and_effect_added_and_removed() -> None:
    """B-CLI-10: transitions and effects named."""
    base = draft(video_track(clip()))
    after = draft(video_track(clip(transition_in="fade", effects=["color_grading", "blur"])))
    assert lines(base, after) == [
        "✅ Transition added: fade",
        "✅ Effect added: color_grading",
        "✅ Effect added: blur",
    ]
    assert lines(after, base) == [
        "✅ Transition removed: fade",
        "✅ Effect removed: color_grading",
        "✅ Effect removed: blur",
    ]


def sound_track(*sounds: tuple[str, int]) -> dict[str, Any]:
    segs = [
        {"id": f"seg_sfx{i}", "st": st, "d": 1000, "m": {"kind": "sfx", "name": name, "volume": 0.8}}
        for i, (name, st) in enumerate(sounds)
    ]
    return {"tt": 1, "id": "trk_sfx", "m": {"name": "Sound effects"}, "sg": segs}


def sticker_track(*stickers: tuple[str, int, str]) -> dict[str, Any]:
    segs = [
        {
            "id": f"seg_k{i}",
            "st": st,
            "d": 2000,
            "m": {"kind": "sticker", "name": name, "text": "*", "position": pos},
        }
        for i, (name, st, pos) in enumerate(stickers)
    ]
    return {"tt": 7, "id": "trk_sticker", "m": {"name": "Stickers"}, "sg": segs}


def test_sound_effects_and_stickers_are_named_with_their_moment() -> None:
    """B-CLI-10, B-STATE-06: a silent edit that added a sound or a sticker is reported concretely, and
    neither is taken for the BGM or the title."""
    base = draft(video_track(clip()), bgm_track(), title_track())
    with_sound = draft(video_track(clip()), bgm_track(), title_track(), sound_track(("whoosh", 2000)))
    assert lines(base, with_sound) == ["✅ Sound effect added: whoosh at 2s"]
    two = draft(video_track(clip()), bgm_track(), title_track(), sound_track(("whoosh", 2000), ("pop", 7500)))
    assert lines(with_sound, two) == ["✅ Sound effect added: pop at 7.5s"]
    assert lines(two, base) == [
        "✅ Sound effect removed: whoosh at 2s",
        "✅ Sound effect removed: pop at 7.5s",
    ]
    sticker = draft(
        video_track(clip()), bgm_track(), title_track(), sticker_track(("heart", 1000, "top-right"))
    )
    assert lines(base, sticker) == ["✅ Sticker added: heart at 1s, top-right"]
    assert summarize(two).endswith("4. Sound effects: whoosh, pop (2-8.5s)")
    assert summarize(sticker).endswith("4. Stickers: heart (1-3s)")
    assert summarize(sticker).startswith(DOCUMENTED_SUMMARY.replace("3 tracks", "4 tracks"))


def test_effects_with_values_and_effects_on_some_clips() -> None:
    """B-CLI-10: "zoom_in 120%" -> "zoom_in 140%" is one change; an effect on one clip of two names it."""
    one = draft(video_track(clip(effects=["color_grading", "zoom_in 120%"])))
    other = draft(video_track(clip(effects=["color_grading", "zoom_in 140%"])))
    assert lines(one, other) == ["✅ Effect changed: zoom_in 120% → zoom_in 140%"]
    scenes = draft(video_track(clip(), clip("seg_v2", "night skyline", st=10000, d=5000)), d=15000)
    glitched = copy.deepcopy(scenes)
    glitched["t"][0]["sg"][1]["m"]["effects"] = ["glitch"]
    assert lines(scenes, glitched) == ["✅ Effect added: glitch (on night skyline (10-15s))"]


def test_a_caption_at_a_moment_is_named() -> None:
    """B-STATE-07, B-CLI-10: one caption added among others is named with its text and time."""
    four = draft(video_track(clip()), subtitle_track(4))
    more = copy.deepcopy(four)
    more["t"][1]["sg"].append(
        {"id": "seg_c1", "st": 9000, "d": 1000, "m": {"kind": "subtitle", "text": "The end"}}
    )
    assert lines(four, more) == ["✅ Caption added: 'The end' (9-10s)"]


def test_trimmed_and_extended() -> None:
    """B-CLI-12: length before → after."""
    long = draft(video_track(clip(d=30000)), d=30000)
    short = draft(video_track(clip(d=10000)), d=10000)
    assert "✅ Trimmed: 30s → 10s" in lines(long, short)
    assert "✅ Extended: 10s → 30s" in lines(short, long)


def test_video_generated_regenerated_and_clip_added() -> None:
    """B-CLI-11: raw clip reported as soon as it exists; regenerations and new clips named."""
    assert lines({}, draft(video_track(clip()))) == ["✅ Video generated: city timelapse (0-10s)"]
    regenerated = draft(video_track(clip("seg_v2", "city at night")))
    assert lines(draft(video_track(clip())), regenerated) == ["✅ Video regenerated: city at night (0-10s)"]
    two = draft(video_track(clip(), clip("seg_v2", "beach", 10000, 5000)), d=15000)
    assert lines(draft(video_track(clip())), two) == [
        "✅ Clip added: beach (10-15s)",
        "✅ Extended: 10s → 15s",
    ]
    assert lines(two, draft(video_track(clip()))) == ["✅ Clip removed: beach", "✅ Trimmed: 15s → 10s"]


def test_same_clips_under_new_ids_is_no_change() -> None:
    """B-CLI-10: a rebuilt draft with identical content reports nothing."""
    before = draft(video_track(clip()))
    after = copy.deepcopy(before)
    after["t"][0]["sg"][0]["id"] = "seg_rebuilt"
    assert diff(before, after) == [Change(ChangeKind.TIMELINE_UPDATED)]
    assert diff(before, copy.deepcopy(before)) == []


def test_track_removed() -> None:
    """B-CLI-11: stripping auto-added tracks is reported per track."""
    full = city_timelapse()
    stripped = draft(video_track(clip(color="#1f4e79", transition_in="fade", effects=["color_grading"])))
    assert lines(full, stripped) == ["✅ Track removed: BGM", "✅ Track removed: Title"]
    assert lines(draft(video_track(clip()), subtitle_track(2)), draft(video_track(clip()))) == [
        "✅ Track removed: Subtitles"
    ]
    assert lines(draft(video_track(clip())), {"t": []}) == ["✅ Track removed: Video"]


def test_unknown_track_added() -> None:
    """B-STATE-04: unknown track types are reported by label, not dropped."""
    sticker = {"tt": 3, "m": {"name": "Sticker"}, "sg": [{"st": 0, "d": 1000}]}
    assert lines(draft(video_track(clip())), draft(video_track(clip()), sticker)) == [
        "✅ Track added: Sticker (type 3)"
    ]


def test_invisible_change_still_answers() -> None:
    """B-CLI-10: a draft that changed in no named way says "Timeline updated" (never silence)."""
    before = city_timelapse()
    after = copy.deepcopy(before)
    after["m"]["fps"] = 60
    assert lines(before, after) == ["✅ Timeline updated"]


def test_no_change_gives_no_lines() -> None:
    """B-CLI-10: nothing changed: empty list, the caller says "no visible change yet"."""
    assert diff(city_timelapse(), city_timelapse()) == []
    assert diff(None, {}) == []
    assert diff(None, {"t": [{"tt": 0, "sg": []}], "d": 0}) == []  # a bare skeleton is still nothing
    assert describe_changes([]) == []


def test_diff_states_reports_uploads_and_generated_media() -> None:
    """B-UPL-11, B-STATE-03, B-CLI-17: state diffs cover video_infos and generated_media."""
    before: dict[str, Any] = {"draft": None, "video_infos": [], "generated_media": []}
    after = {
        "draft": None,
        "video_infos": [
            {"filename": "beach.mp4", "file_type": "video", "cdn_url": "https://cdn/x/beach.mp4"}
        ],
        "generated_media": [{"name": "city timelapse", "url": "https://cdn/gen/clip_1.mp4"}],
    }
    assert describe_changes(diff_states(before, after)) == [
        "✅ Upload added: beach.mp4",
        "✅ Media generated: city timelapse",
    ]
    response = {"code": 0, "data": {"state": {**after, "draft": city_timelapse()}}}
    described = describe_changes(diff_states(before, response))
    assert described[0] == "✅ Video generated: city timelapse (0-10s)"
    assert "✅ Upload added: beach.mp4" in described
    assert not any(line.startswith("✅ Media generated") for line in described)  # the draft already says it
    assert diff_states(after, after) == []
    assert diff_states(None, "junk") == []


def test_every_change_kind_has_a_line() -> None:
    """B-CLI-10: each kind describes to a "✅ …" line."""
    for kind in ChangeKind:
        line = describe(Change(kind, "x", "a", "b", "d"))
        assert line.startswith("✅ ") and len(line) > 3


# ---------------------------------------------------------------------------- next steps


def test_next_steps_for_a_finished_draft() -> None:
    """B-CLI-12: 2-3 suggestions, the missing tracks first, export last."""
    steps = suggest_next_steps(city_timelapse())
    assert steps == ["add subtitles", "adjust timing or style", "export the video"]
    bare = suggest_next_steps(draft(video_track(clip())))
    assert bare == ["add subtitles", "add background music", "export the video"]
    full = draft(video_track(clip()), bgm_track(), title_track(), subtitle_track(2))
    assert suggest_next_steps(full) == [
        "adjust timing or style",
        "change the music volume",
        "export the video",
    ]


def test_next_steps_without_a_draft() -> None:
    """B-CLI-12, B-CLI-25: no draft yet: describe a video or send a file in chat."""
    steps = suggest_next_steps(None)
    assert 2 <= len(steps) <= 3
    assert "export the video" not in steps
    assert any("send" in s and "URL" in s for s in steps)


# ---------------------------------------------------------------------------- properties

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=20,
)
segments = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "st": st.integers(-(10**20), 10**20) | st.floats() | json_values,
        "d": st.integers(-(10**20), 10**20) | st.floats() | json_values,
        "m": st.dictionaries(
            st.sampled_from(["name", "text", "kind", "volume", "src", "effects", "transition_in", "color"]),
            json_values | st.sampled_from(["title", "subtitle", "caption"]),
        )
        | json_values,
    },
)
track_dicts = st.fixed_dictionaries(
    {},
    optional={
        "tt": st.sampled_from([0, 1, 7, 3, -1, True, None, "0"]),
        "id": json_values,
        "m": json_values,
        "sg": st.lists(segments | json_values, max_size=4) | json_values,
    },
)
drafts = (
    st.fixed_dictionaries(
        {}, optional={"t": st.lists(track_dicts | json_values, max_size=4) | json_values, "d": json_values}
    )
    | json_values
)


@given(drafts, drafts)
def test_reading_never_raises(before: object, after: object) -> None:
    """B-STATE-04: summary, readiness, diff and suggestions are total over JSON-like input."""
    summary = summarize(after)
    assert summary.startswith("Timeline (")
    assert isinstance(is_export_ready(after), bool)
    for line in describe_changes(diff(before, after)):
        assert line.startswith("✅ ")
    assert 2 <= len(suggest_next_steps(after)) <= 3


@given(
    st.dictionaries(st.sampled_from(["draft", "video_infos", "generated_media", "state", "data"]), drafts),
    st.dictionaries(st.sampled_from(["draft", "video_infos", "generated_media", "state", "data"]), drafts),
)
def test_state_diff_never_raises(before: dict[str, Any], after: dict[str, Any]) -> None:
    """B-CLI-10, B-CLI-17: state diffs are total over JSON-like states."""
    assert all(isinstance(c, Change) for c in diff_states(before, after))


@given(drafts)
def test_diff_with_itself_is_empty(value: object) -> None:
    """B-CLI-10: a draft compared with a copy of itself shows no change (NaN aside)."""
    text = json.dumps(value)
    assume("NaN" not in text)
    assert diff(value, json.loads(text)) == []
