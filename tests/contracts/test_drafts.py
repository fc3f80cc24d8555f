"""contracts/data/drafts: timeline drafts that satisfy draft.schema.json, and their index."""

from __future__ import annotations

import json
from functools import cache
from itertools import combinations
from typing import Any

import pytest
import yaml

from contracts.resources import DRAFTS_DIR
from contracts.spec import validator

REQUIRED_DRAFTS = {
    "city-timelapse",
    "generated-clip-5s",
    "product-promo-30s",
    "vertical-1080x1920",
    "empty",
    "every-track-overlap",
}
VIDEO, AUDIO, TEXT = 0, 1, 7


@cache
def index() -> dict[str, Any]:
    loaded = yaml.safe_load((DRAFTS_DIR / "index.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def entries() -> list[dict[str, Any]]:
    return list(index()["drafts"])


def load_draft(name: str) -> dict[str, Any]:
    loaded = json.loads((DRAFTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def draft_files() -> list[str]:
    return sorted(path.stem for path in DRAFTS_DIR.glob("*.json"))


def is_export_ready(draft: dict[str, Any]) -> bool:
    """B-STATE-05: `t` exists and at least one track has a non-empty `sg`."""
    return bool(draft.get("t")) and any(track.get("sg") for track in draft["t"])


def segments(draft: dict[str, Any], track_type: int | None = None) -> list[dict[str, Any]]:
    return [
        segment
        for track in draft["t"]
        if track_type is None or track["tt"] == track_type
        for segment in track["sg"]
    ]


def span(segment: dict[str, Any]) -> tuple[int, int]:
    return segment["st"], segment["st"] + segment["d"]


def overlap(first: dict[str, Any], second: dict[str, Any]) -> bool:
    (start_a, end_a), (start_b, end_b) = span(first), span(second)
    return start_a < end_b and start_b < end_a


# ---------------------------------------------------------------------------- every draft


def test_required_drafts_exist() -> None:
    """The drafts the scripted agent and the export tests rely on are shipped (B-STATE-04, B-STATE-05)."""
    assert set(draft_files()) >= REQUIRED_DRAFTS


@pytest.mark.parametrize("name", draft_files())
def test_draft_is_valid(name: str) -> None:
    """Each fixture is a pure draft object valid against draft.schema.json (B-STATE-04)."""
    errors = [error.message for error in validator("draft").iter_errors(load_draft(name))]
    assert not errors, f"{name}: {errors}"


@pytest.mark.parametrize("name", draft_files())
def test_draft_duration_is_the_end_of_its_last_segment(name: str) -> None:
    """`d` of a draft is the end of its last segment, in ms (B-STATE-04, docs/design.md)."""
    draft = load_draft(name)
    assert draft["d"] == max((span(segment)[1] for segment in segments(draft)), default=0)


@pytest.mark.parametrize("name", draft_files())
def test_video_segments_have_distinct_hex_colours(name: str) -> None:
    """Video segments carry distinct `m.color` hex values, so a render shows one block per segment."""
    colours = [segment["m"]["color"] for segment in segments(load_draft(name), VIDEO)]
    assert all(colour.startswith("#") and len(colour) == 7 for colour in colours), colours
    assert len(set(colours)) == len(colours), colours


@pytest.mark.parametrize("name", draft_files())
def test_segment_ids_are_unique(name: str) -> None:
    """Segment ids identify a segment within its draft (the silent-edit diff, B-CLI-10, relies on it)."""
    ids = [segment["id"] for segment in segments(load_draft(name))]
    assert len(set(ids)) == len(ids)


# ---------------------------------------------------------------------------- index


def test_index_lists_every_draft_file_once() -> None:
    """index.yaml names every draft file, and only those, once each, with a matching name."""
    listed = [entry["file"] for entry in entries()]
    assert sorted(listed) == sorted(f"{name}.json" for name in draft_files())
    for entry in entries():
        assert entry["file"] == f"{entry['name']}.json"
        assert entry["description"].strip()


@pytest.mark.parametrize("entry", entries(), ids=lambda entry: entry["name"])
def test_index_exportability_follows_the_rule(entry: dict[str, Any]) -> None:
    """B-STATE-05: `exportable` in the index matches the rule and the schema's exportableDraft."""
    draft = load_draft(entry["name"])
    assert entry["exportable"] is is_export_ready(draft)
    assert validator("draft.schema.json#/$defs/exportableDraft").is_valid(draft) is entry["exportable"]


def test_index_keywords_do_not_shadow_each_other() -> None:
    """Keywords are lower case, include Chinese words (B-CLI-26), and no keyword of one draft contains
    another draft's keyword, so a prompt match names one draft."""
    keywords = {entry["name"]: entry["keywords"] for entry in entries()}
    for words in keywords.values():
        assert words and all(word == word.lower() for word in words)
    assert any(not word.isascii() for words in keywords.values() for word in words)
    for (first, first_words), (second, second_words) in combinations(keywords.items(), 2):
        for word in first_words:
            for other in second_words:
                assert word not in other and other not in word, (first, word, second, other)


def test_index_fallback_is_exportable() -> None:
    """A prompt that matches no keyword still yields a draft that can be exported (B-CLI-14)."""
    fallback = index()["fallback"]
    entry = next(entry for entry in entries() if entry["name"] == fallback)
    assert entry["exportable"] is True


def test_non_exportable_drafts() -> None:
    """B-STATE-05: no tracks, or tracks with empty `sg`, are not export-ready (init's older rule,
    "has tracks", would have passed the second)."""
    empty = load_draft("empty")
    assert empty["t"] == [] and empty["d"] == 0 and {"width", "height"} <= set(empty["m"])
    assert not is_export_ready(empty)
    skeleton = load_draft("empty-tracks")
    assert skeleton["t"] and not is_export_ready(skeleton)


# ---------------------------------------------------------------------------- particular drafts


def test_city_timelapse_is_the_documented_example() -> None:
    """B-STATE-06: video "city timelapse" 0-10 s, BGM "Lo-fi" 0-10 s at 35%, title "Urban Dreams" 0-3 s."""
    draft = load_draft("city-timelapse")
    assert (draft["m"]["width"], draft["m"]["height"]) == (1920, 1080)
    assert [track["tt"] for track in draft["t"]] == [VIDEO, AUDIO, TEXT]
    (video,) = segments(draft, VIDEO)
    (music,) = segments(draft, AUDIO)
    (title,) = segments(draft, TEXT)
    assert (video["m"]["name"], span(video)) == ("city timelapse", (0, 10000))
    assert (music["m"]["name"], music["m"]["volume"], span(music)) == ("Lo-fi", 0.35, (0, 10000))
    assert (title["m"]["text"], title["m"]["kind"], span(title)) == ("Urban Dreams", "title", (0, 3000))
    entry = next(entry for entry in entries() if entry["name"] == "city-timelapse")
    assert {"city", "timelapse", "城市"} <= set(entry["keywords"])
    assert entry["documented_summary"].startswith("Timeline (3 tracks): 1. Video: city timelapse (0-10s)")


def test_generated_clip_is_one_five_second_video_segment() -> None:
    """The smallest generation result: one 5 s video segment (B-SSE-11's raw clip)."""
    draft = load_draft("generated-clip-5s")
    assert [track["tt"] for track in draft["t"]] == [VIDEO]
    (clip,) = segments(draft)
    assert span(clip) == (0, 5000)
    assert clip["m"]["src"].startswith("generated://")


def test_product_promo_is_three_images_music_and_subtitles() -> None:
    """30 s: three 10 s image segments, music throughout, subtitles in a tt 7 track (B-STATE-07)."""
    draft = load_draft("product-promo-30s")
    images = segments(draft, VIDEO)
    assert [span(image) for image in images] == [(0, 10000), (10000, 20000), (20000, 30000)]
    assert all(image["m"]["file_type"] == "image" for image in images)
    assert any(span(music) == (0, 30000) for music in segments(draft, AUDIO))
    subtitles = segments(draft, TEXT)
    assert len(subtitles) == 3 and all(subtitle["m"]["kind"] == "subtitle" for subtitle in subtitles)
    assert draft["d"] == 30000


def test_vertical_draft_is_portrait() -> None:
    """Seeds render up to 1080x1920 (B-REN-11): the vertical fixture is exactly that."""
    meta = load_draft("vertical-1080x1920")["m"]
    assert (meta["width"], meta["height"]) == (1080, 1920)


def test_every_track_overlap_overlaps_on_every_track_type() -> None:
    """Tracks of type 0, 1 and 7 each have a segment overlapping another one in time."""
    draft = load_draft("every-track-overlap")
    everything = segments(draft)
    for track_type in (VIDEO, AUDIO, TEXT):
        own = segments(draft, track_type)
        assert own, track_type
        assert any(overlap(mine, other) for mine in own for other in everything if other is not mine), (
            track_type
        )
    for track in draft["t"]:
        if track["tt"] in (VIDEO, TEXT):
            assert len(track["sg"]) < 2 or any(overlap(a, b) for a, b in combinations(track["sg"], 2))
