"""The scripted backend agent: intents, turn plans and the draft changes they carry."""

from __future__ import annotations

import copy
import itertools
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

import contracts
from contracts.profiles import Profile
from mockserver import wire
from mockserver.agent import (
    EDIT_TOOL,
    GENERATE_TOOL,
    Edit,
    Plan,
    apply_edit,
    classify,
    draft_for_prompt,
    load_draft_index,
    plan_turn,
    track_summary,
)
from mockserver.events import Apply, Call, Result, Say, Step, Text, ToolCall, ToolResult, Work

PROFILE = Profile(name="test", version=None, upload_cap_bytes=None)
TEMPORARY_ISSUE_EN = "I encountered a temporary issue"

CITY_DRAFT: dict[str, Any] = {
    "t": [
        {
            "tt": 0,
            "id": "trk_video",
            "m": {"name": "Video"},
            "sg": [
                {
                    "id": "seg_v1",
                    "st": 0,
                    "d": 10000,
                    "m": {
                        "name": "city timelapse",
                        "color": "#1f4e79",
                        "src": "generated://clip_1",
                        "transition_in": "fade",
                        "effects": ["color_grading"],
                    },
                }
            ],
        },
        {
            "tt": 1,
            "id": "trk_bgm",
            "m": {"name": "BGM"},
            "sg": [{"id": "seg_a1", "st": 0, "d": 10000, "m": {"name": "Lo-fi", "volume": 0.35}}],
        },
        {
            "tt": 7,
            "id": "trk_title",
            "m": {"name": "Title"},
            "sg": [
                {
                    "id": "seg_t1",
                    "st": 0,
                    "d": 3000,
                    "m": {
                        "kind": "title",
                        "text": "Urban Dreams",
                        "color": "white",
                        "position": "top-center",
                        "animation": "fade-in",
                    },
                }
            ],
        },
    ],
    "d": 10000,
    "m": {"title": "Urban Dreams", "width": 1920, "height": 1080, "fps": 30},
}
CLIP_DRAFT: dict[str, Any] = {
    "t": [
        {
            "tt": 0,
            "id": "trk_video",
            "m": {"name": "Video"},
            "sg": [
                {"id": "seg_v1", "st": 0, "d": 5000, "m": {"name": "generated clip", "color": "#7a3e9d"}},
            ],
        }
    ],
    "d": 5000,
    "m": {"title": "Generated clip", "width": 1920, "height": 1080, "fps": 30},
}
TWO_SCENES: dict[str, Any] = {
    "t": [
        {
            "tt": 0,
            "id": "trk_video",
            "m": {"name": "Video"},
            "sg": [
                {"id": "seg_v1", "st": 0, "d": 4000, "m": {"name": "pouring coffee", "color": "#6f4e37"}},
                {"id": "seg_v2", "st": 4000, "d": 4000, "m": {"name": "latte art", "color": "#d4a373"}},
            ],
        },
        {
            "tt": 7,
            "id": "trk_text",
            "m": {"name": "Text"},
            "sg": [
                {"id": "seg_t1", "st": 0, "d": 2000, "m": {"kind": "title", "text": "Slow Mornings"}},
                {"id": "seg_s1", "st": 2000, "d": 3000, "m": {"kind": "subtitle", "text": "Morning"}},
            ],
        },
    ],
    "d": 8000,
    "m": {"title": "Slow Mornings", "width": 1080, "height": 1920, "fps": 30},
}

DRAFT_SCHEMA = jsonschema.Draft202012Validator(
    json.loads((contracts.SCHEMAS_DIR / "draft.schema.json").read_text(encoding="utf-8"))
)


# ------------------------------------------------------------------------------ helpers


def new_ids() -> Callable[[str], str]:
    counter = itertools.count(1)
    return lambda prefix: f"{prefix}_{next(counter)}"


@pytest.fixture(scope="module")
def drafts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small index of our own: a keyword-matched city draft and a fallback clip."""
    folder = tmp_path_factory.mktemp("drafts")
    (folder / "city.json").write_text(json.dumps(CITY_DRAFT), encoding="utf-8")
    (folder / "clip.json").write_text(json.dumps(CLIP_DRAFT), encoding="utf-8")
    (folder / "empty.json").write_text(json.dumps({"t": [], "d": 0, "m": {}}), encoding="utf-8")
    index = {
        "fallback": "clip",
        "drafts": [
            {"name": "empty", "file": "empty.json", "keywords": ["city"], "exportable": False},
            {
                "name": "city",
                "file": "city.json",
                "keywords": ["city", "timelapse", "城市"],
                "exportable": True,
            },
            {"name": "clip", "file": "clip.json", "keywords": ["clip"], "exportable": True},
        ],
    }
    (folder / "index.yaml").write_text(yaml.safe_dump(index), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def no_drafts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("no-drafts")


def plan(
    message: str, draft: dict[str, Any] | None, seed: int, drafts: Path, profile: Profile = PROFILE
) -> Plan:
    return plan_turn(
        classify(message), draft, random.Random(seed), profile, new_id=new_ids(), drafts_dir=drafts
    )


def assert_valid_draft(draft: dict[str, Any]) -> None:
    """docs/design.md: short keys, tt 0/1/7, integer ms, unique ids, d = end of the last segment."""
    assert set(draft) >= {"t", "d", "m"}
    assert isinstance(draft["t"], list) and isinstance(draft["d"], int) and isinstance(draft["m"], dict)
    assert isinstance(draft["m"]["width"], int) and isinstance(draft["m"]["height"], int)
    ids: list[str] = []
    ends: list[int] = []
    for track in draft["t"]:
        assert track["tt"] in (0, 1, 7)
        assert isinstance(track["id"], str) and track["id"]
        assert isinstance(track["m"], dict) and isinstance(track["sg"], list)
        ids.append(track["id"])
        for seg in track["sg"]:
            assert isinstance(seg["id"], str) and seg["id"]
            assert isinstance(seg["st"], int) and seg["st"] >= 0
            assert isinstance(seg["d"], int) and seg["d"] >= 1
            assert isinstance(seg["m"], dict)
            if track["tt"] == 1 and "volume" in seg["m"]:
                assert 0 <= seg["m"]["volume"] <= 1
            if track["tt"] == 7:
                assert seg["m"]["kind"] in ("title", "subtitle") and isinstance(seg["m"]["text"], str)
            ids.append(seg["id"])
            ends.append(seg["st"] + seg["d"])
    assert len(ids) == len(set(ids)), f"duplicate ids: {ids}"
    assert draft["d"] == max(ends, default=0)
    DRAFT_SCHEMA.validate(draft)


def run_applies(steps: tuple[Step, ...], draft: dict[str, Any] | None) -> dict[str, Any] | None:
    """Run every Apply in order, checking that each is pure and yields a valid draft."""
    for step in steps:
        if isinstance(step, Apply):
            before = copy.deepcopy(draft)
            after = step.change(draft)
            assert draft == before, f"{step.label} changed its input"
            assert after is not draft
            assert_valid_draft(after)
            draft = after
    return draft


def kinds(steps: tuple[Step, ...]) -> list[str]:
    return [type(step).__name__ for step in steps]


def texts(steps: tuple[Step, ...]) -> list[str]:
    return [step.text for step in steps if isinstance(step, Say) and not step.trailing_noise]


def encoded(p: Plan, draft: dict[str, Any] | None) -> bytes:
    """The plan as bytes: its events on the wire, its waits and the drafts it produces."""
    out = [f"{p.kind}|{p.chargeable}|{p.silent}".encode()]
    for step in p.steps:
        if isinstance(step, Say):
            out.append(wire.encode_documented(Text(step.text)))
        elif isinstance(step, Call):
            out.append(wire.encode_documented(ToolCall(step.name, step.args, step.call_id)))
        elif isinstance(step, Result):
            out.append(wire.encode_documented(ToolResult(step.name, step.result, step.call_id)))
        elif isinstance(step, Work):
            out.append(repr(step.seconds).encode())
        elif isinstance(step, Apply):
            draft = step.change(draft)
            out.append(json.dumps([step.label, draft, step.generated_media], sort_keys=True).encode())
    return b"".join(out)


# ------------------------------------------------------------------------------ intents

CLASSIFICATION = [
    # (message, kind, language, edit ops) -- B-SSE-07 tools are chosen from these
    ("make a 10-second video of a city timelapse at night", "generate", "en", ()),
    ("Generate a clip of a cat playing piano", "generate", "en", ()),
    ("create a vertical video of ocean waves for TikTok", "generate", "en", ()),
    ("I want a square video of a sunset with epic music", "generate", "en", ("bgm",)),
    ("a 5s clip of waves crashing", "generate", "en", ()),
    ("regenerate", "generate", "en", ()),
    ("Can you make me a new video about coffee?", "generate", "en", ()),
    ("生成一个10秒的竖屏城市夜景视频", "generate", "zh", ()),
    ("帮我制作一段关于海边日落的视频", "generate", "zh", ()),
    ("重新生成", "generate", "zh", ()),
    ("what can you do", "question", "en", ()),
    ("How long does it take to generate a video?", "question", "en", ()),
    ("How do I add subtitles?", "question", "en", ()),
    ("Is the export free?", "question", "en", ()),
    ("hello", "question", "en", ()),
    ("你能做什么", "question", "zh", ()),
    ("生成视频要多久？", "question", "zh", ()),
    ("你好", "question", "zh", ()),
    ("add a title 'Urban Dreams'", "edit", "en", ("title",)),
    ('change the title to "Summer Vibes" in yellow', "edit", "en", ("title",)),
    ("add lo-fi music at 35%", "edit", "en", ("bgm",)),
    ("put an epic soundtrack under it", "edit", "en", ("bgm",)),
    ("Can you add subtitles?", "edit", "en", ("subtitles",)),
    ("generate captions for this video", "edit", "en", ("subtitles",)),
    ("use a dissolve transition", "edit", "en", ("transition",)),
    ("apply color grading", "edit", "en", ("effect",)),
    ("add a black and white filter", "edit", "en", ("effect",)),
    ("trim it to 5 seconds", "edit", "en", ("trim",)),
    ("shorten the video", "edit", "en", ("trim",)),
    ("make it 8 seconds", "edit", "en", ("trim",)),
    ("remove the music", "edit", "en", ("remove:bgm",)),
    ("cut the music", "edit", "en", ("remove:bgm",)),
    ("delete the title and add jazz music at 30%", "edit", "en", ("remove:title", "bgm")),
    ("strip the subtitles", "edit", "en", ("remove:subtitles",)),
    ("remove the music and the title", "edit", "en", ("remove:bgm", "remove:title")),
    ("remove the title, then add subtitles", "edit", "en", ("remove:title", "subtitles")),
    ("make a video of a forest without music", "generate", "en", ("remove:bgm",)),
    ("加上标题「城市之光」", "edit", "zh", ("title",)),
    ("添加背景音乐，音量百分之三十", "edit", "zh", ("bgm",)),
    ("加一段爵士配乐", "edit", "zh", ("bgm",)),
    ("加字幕", "edit", "zh", ("subtitles",)),
    ("加个淡入淡出的转场", "edit", "zh", ("transition",)),
    ("加一个复古滤镜", "edit", "zh", ("effect",)),
    ("调色", "edit", "zh", ("effect",)),
    ("剪短到5秒", "edit", "zh", ("trim",)),
    ("裁剪成三秒", "edit", "zh", ("trim",)),
    ("去掉背景音乐", "edit", "zh", ("remove:bgm",)),
    ("删除标题", "edit", "zh", ("remove:title",)),
    ("去掉背景音乐，加字幕", "edit", "zh", ("remove:bgm", "subtitles")),
]


def _ops(edits: tuple[Edit, ...]) -> tuple[str, ...]:
    return tuple(f"remove:{e.params['target']}" if e.op == "remove" else e.op for e in edits)


@pytest.mark.parametrize(("message", "kind", "language", "ops"), CLASSIFICATION)
def test_classify(message: str, kind: str, language: str, ops: tuple[str, ...]) -> None:
    """B-SSE-07, B-SSE-11: messages map to questions, generations (Seedance) or edits (edit_multitrack)."""
    intent = classify(message)
    assert (intent.kind, intent.language, _ops(intent.edits)) == (kind, language, ops)
    assert intent.prompt == message.strip()


@pytest.mark.parametrize(
    ("message", "text"),
    [
        ("add a title 'Urban Dreams'", "Urban Dreams"),
        ('add a title "Urban Dreams"', "Urban Dreams"),
        ("add a title “Urban Dreams”", "Urban Dreams"),
        ("加标题「城市之光」", "城市之光"),
        ("don't forget the title 'It's Late'", "It's Late"),
        ("add a title", None),
    ],
)
def test_title_text_is_the_quoted_text(message: str, text: str | None) -> None:
    """B-STATE-04 text tracks: a quoted text becomes the title, whatever the quote marks."""
    (edit,) = classify(message).edits
    assert edit.op == "title" and edit.params["text"] == text


@pytest.mark.parametrize(
    ("message", "genre", "volume"),
    [
        ("add lo-fi music at 35%", "lo-fi", 0.35),
        ("add jazz background music", "jazz", None),
        ("epic soundtrack, 60% volume", "epic", 0.6),
        ("背景音乐音量调到百分之二十", None, 0.2),
        ("加钢琴配乐 40%", "piano", 0.4),
    ],
)
def test_bgm_volume_and_genre(message: str, genre: str | None, volume: float | None) -> None:
    """B-STATE-06: BGM carries a name and a volume the summary prints as a percentage."""
    (edit,) = classify(message).edits
    assert edit.op == "bgm" and edit.params == {"genre": genre, "volume": volume}


@pytest.mark.parametrize(
    ("message", "seconds", "aspect", "size"),
    [
        ("make a 5-second video of a dog", 5.0, None, (None, None)),
        ("generate a 10 seconds vertical video of rain", 10.0, "9:16", (1080, 1920)),
        ("make a 5s clip of a 9:16 skyline", 5.0, "9:16", (1080, 1920)),
        ("make a tiktok video of a cat", None, "9:16", (1080, 1920)),
        ("生成一个5秒的竖屏视频", 5.0, "9:16", (1080, 1920)),
        ("生成十五秒的横屏视频", 15.0, "16:9", (1920, 1080)),
        ("create a square video of flowers", None, "1:1", (1080, 1080)),
    ],
)
def test_generation_params(message: str, seconds: float | None, aspect: str | None, size: tuple) -> None:
    """B-SSE-17: generations state duration and shape (output up to 1080x1920)."""
    intent = classify(message)
    assert intent.kind == "generate"
    assert intent.params["duration_s"] == seconds
    assert intent.params["aspect_ratio"] == aspect
    assert (intent.params["width"], intent.params["height"]) == size


# ------------------------------------------------------------------------------ plans


def test_question_plan(drafts_dir: Path) -> None:
    """B-SSE-10: a text-only reply waits 5-15 s, then one text; nothing is billed."""
    for seed in range(20):
        p = plan("what can you do", None, seed, drafts_dir)
        assert p.kind == "question" and not p.chargeable and not p.silent
        assert kinds(p.steps)[:2] == ["Work", "Say"]
        assert len(p.steps) in (2, 3)
        work = p.steps[0]
        assert isinstance(work, Work)
        assert PROFILE.text_reply_s[0] <= work.seconds <= PROFILE.text_reply_s[1]


def test_generation_plan_is_two_staged(drafts_dir: Path) -> None:
    """B-SSE-11, B-SSE-07: raw clip (Seedance) first, post-production (edit_multitrack) second."""
    for seed in range(30):
        p = plan("make a 10-second video of a city timelapse at night", None, seed, drafts_dir)
        assert p.kind == "generate" and p.chargeable and not p.silent
        names = kinds(p.steps)
        core = names[1:] if names[0] == "Say" else names
        last = p.steps[-1]
        if isinstance(last, Say) and last.trailing_noise:
            core = core[:-1]
        assert core == ["Call", "Work", "Apply", "Result", "Say", "Call", "Work", "Apply", "Result", "Say"]
        calls = [s for s in p.steps if isinstance(s, Call)]
        results = [s for s in p.steps if isinstance(s, Result)]
        applies = [s for s in p.steps if isinstance(s, Apply)]
        assert [c.name for c in calls] == [GENERATE_TOOL, EDIT_TOOL]
        assert [(r.name, r.call_id) for r in results] == [(c.name, c.call_id) for c in calls]
        assert [a.label for a in applies] == ["raw_clip", "post_production"]
        steps = list(p.steps)
        assert (
            steps.index(applies[0])
            < steps.index(results[0])
            < steps.index(applies[1])
            < steps.index(results[1])
        )
        assert set(calls[0].args) == {"prompt", "duration", "aspect_ratio", "resolution"}
        assert calls[0].args["duration"] == 10
        assert results[0].result["status"] == "success" and results[0].result["duration"] == 10
        assert results[1].result["status"] == "success" and results[1].result["changes"]


def test_generation_stages_change_the_draft(drafts_dir: Path, no_drafts: Path) -> None:
    """B-SSE-11: the raw clip holds only video; post-production adds BGM, a title and an effect."""
    for folder in (drafts_dir, no_drafts):
        for seed in range(10):
            p = plan("generate a clip of a red kite over hills", None, seed, folder)
            raw_apply, post_apply = (s for s in p.steps if isinstance(s, Apply))
            raw = raw_apply.change(None)
            assert_valid_draft(raw)
            assert {t["tt"] for t in raw["t"]} == {0}
            assert not any(seg["m"].get("effects") for seg in raw["t"][0]["sg"])
            final = post_apply.change(raw)
            assert_valid_draft(final)
            assert {t["tt"] for t in final["t"]} == {0, 1, 7}
            assert any(seg["m"].get("effects") for t in final["t"] if t["tt"] == 0 for seg in t["sg"])
            titles = [
                seg for t in final["t"] if t["tt"] == 7 for seg in t["sg"] if seg["m"]["kind"] == "title"
            ]
            assert titles and titles[0]["st"] == 0
            (media,) = raw_apply.generated_media
            assert set(media) == {"id", "type", "url", "duration", "width", "height", "prompt"}
            assert media["type"] == "video" and media["duration"] == raw["d"] / 1000
            assert (media["width"], media["height"]) == (raw["m"]["width"], raw["m"]["height"])


def test_generation_builds_on_the_matching_fixture(drafts_dir: Path, no_drafts: Path) -> None:
    """B-SSE-11 with contracts/data/drafts: keyword match, else the fallback, else a built-in 5 s clip."""
    p = plan("make a video of a city skyline", None, 1, drafts_dir)
    final = run_applies(p.steps, None)
    assert final is not None and final["d"] == 10000
    assert track_summary(final).startswith(
        "Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi"
    )

    p = plan("make a video of a lighthouse", None, 1, drafts_dir)
    raw = next(s for s in p.steps if isinstance(s, Apply)).change(None)
    assert raw["d"] == 5000 and raw["t"][0]["sg"][0]["m"]["name"] == "lighthouse"

    p = plan("make a video of a lighthouse", None, 1, no_drafts)
    raw = next(s for s in p.steps if isinstance(s, Apply)).change(None)
    assert raw["d"] == 5000 and raw["t"][0]["sg"][0]["m"]["name"] == "lighthouse"
    assert raw["t"][0]["sg"][0]["m"]["src"].startswith("generated://")


def test_generation_honours_what_the_message_asks(drafts_dir: Path) -> None:
    """B-SSE-11: post-production follows the message: a quoted title, a genre, "without music"."""
    final = run_applies(
        plan("make a city video called 'Night Owls' with jazz music", None, 2, drafts_dir).steps, None
    )
    assert final is not None
    assert final["m"]["title"] == "Night Owls"
    assert 'Title: "Night Owls" (0-3s)' in track_summary(final)
    assert "BGM: Jazz (0-10s, 35%)" in track_summary(final)
    quiet = run_applies(plan("make a video of a city without music", None, 2, drafts_dir).steps, None)
    assert quiet is not None and all(track["tt"] != 1 for track in quiet["t"])


def test_generation_size_follows_the_aspect(drafts_dir: Path) -> None:
    """B-PROF-07: vertical requests give 1080x1920, and the draft lasts what was asked."""
    p = plan("make a 12-second vertical video of a city at dawn", None, 3, drafts_dir)
    call = next(s for s in p.steps if isinstance(s, Call))
    assert call.args["aspect_ratio"] == "9:16" and call.args["duration"] == 12
    final = run_applies(p.steps, None)
    assert final is not None
    assert (final["m"]["width"], final["m"]["height"]) == (1080, 1920)
    assert final["d"] == 12000


def test_edit_plan(drafts_dir: Path) -> None:
    """B-SSE-07, B-SSE-19: edit_multitrack call, work, the change, its result, then (usually) text."""
    for seed in range(30):
        p = plan("add a title 'Hello'", CITY_DRAFT, seed, drafts_dir)
        assert p.kind == "edit" and p.chargeable
        names = kinds(p.steps)
        assert names[:4] == ["Call", "Work", "Apply", "Result"]
        if p.silent:
            assert len(names) == 4
        else:
            assert names[4] == "Say"
        call, result = p.steps[0], p.steps[3]
        assert isinstance(call, Call) and isinstance(result, Result)
        assert call.name == result.name == EDIT_TOOL and call.call_id == result.call_id
        assert call.args == {"operations": [{"op": "title", "params": {"text": "Hello"}}]}
        assert result.result["status"] == "success" and result.result["changes"]


def test_edit_without_a_draft_is_text_only(drafts_dir: Path) -> None:
    """B-STATE-05: nothing to edit yet: a text reply, no tool, no draft change, no charge."""
    for draft in (None, {"t": [], "d": 0, "m": {"width": 1920, "height": 1080}}):
        for message in ("add a title 'Hi'", "加字幕"):
            p = plan(message, draft, 2, drafts_dir)
            assert p.kind == "edit" and not p.chargeable and not p.silent
            assert not any(isinstance(s, Apply | Call | Result) for s in p.steps)
            assert kinds(p.steps)[:2] == ["Work", "Say"]


def test_about_thirty_percent_of_edits_are_silent(drafts_dir: Path) -> None:
    """B-SSE-09: ~30% of edits end on the tool_result without text, and the draft still changes."""
    silent = 0
    for seed in range(1000):
        p = plan("add jazz music at 20%", CITY_DRAFT, seed, drafts_dir)
        if p.silent:
            silent += 1
            assert isinstance(p.steps[-1], Result)
            assert not any(isinstance(s, Say) for s in p.steps)
            changed = run_applies(p.steps, CITY_DRAFT)
            assert changed != CITY_DRAFT
        else:
            assert isinstance(p.steps[-1], Say)
    assert 0.25 <= silent / 1000 <= 0.35


def test_plans_are_deterministic(drafts_dir: Path) -> None:
    """Seeded replay: the same seed gives the same bytes, events and drafts alike."""
    messages = ["what can you do", "make a video of a city at night", "add subtitles", "加上标题「你好」"]
    for message in messages:
        for seed in range(5):
            first = encoded(plan(message, CITY_DRAFT, seed, drafts_dir), CITY_DRAFT)
            second = encoded(plan(message, CITY_DRAFT, seed, drafts_dir), CITY_DRAFT)
            assert first == second
    variants = {
        encoded(plan("make a video of a city at night", None, seed, drafts_dir), None) for seed in range(8)
    }
    assert len(variants) > 1


EDIT_MESSAGES = [
    "add a title 'Urban Dreams'",
    "make the title red at the bottom for 4 seconds",
    "add lo-fi music at 35%",
    "turn the music down to 10%",
    "add subtitles",
    'add captions "Hello there"',
    "use a slide transition",
    "add a vintage filter",
    "trim it to 4 seconds",
    "shorten the video",
    "remove the music",
    "remove the title",
    "remove the subtitles",
    "remove the effects",
    "remove the transitions",
    "delete the title and add jazz music at 30%",
    "去掉背景音乐，加字幕",
    "剪短到3秒",
]


@pytest.mark.parametrize("message", EDIT_MESSAGES)
def test_every_apply_is_pure_and_valid(message: str, drafts_dir: Path) -> None:
    """docs/design.md draft format after every change; the input draft is never mutated."""
    for base in (CITY_DRAFT, TWO_SCENES, CLIP_DRAFT):
        for seed in range(3):
            p = plan(message, base, seed, drafts_dir)
            assert p.kind == "edit"
            frozen = copy.deepcopy(base)
            run_applies(p.steps, base)
            assert base == frozen


@pytest.mark.parametrize(
    "message",
    [
        "make a video of a city",
        "make a 20-second vertical video of a city",
        "生成一个城市延时视频",
        "regenerate",
    ],
)
def test_generation_applies_are_pure_and_valid(message: str, drafts_dir: Path, no_drafts: Path) -> None:
    """docs/design.md draft format for both generation stages, from fixtures and without."""
    for folder in (drafts_dir, no_drafts):
        for draft in (None, CLIP_DRAFT):
            run_applies(plan(message, draft, 4, folder).steps, draft)


def test_apply_edit_title_bgm_subtitles() -> None:
    """B-STATE-04/06/07: title on tt 7 (0-3 s, white, top-center, fade-in); BGM on tt 1; captions on tt 7."""
    draft = apply_edit(CLIP_DRAFT, Edit("title", {"text": "Kites"}))
    (title,) = [t for t in draft["t"] if t["tt"] == 7]
    assert title["sg"][0]["m"] == {
        "kind": "title",
        "text": "Kites",
        "color": "white",
        "position": "top-center",
        "animation": "fade-in",
    }
    assert (title["sg"][0]["st"], title["sg"][0]["d"]) == (0, 3000)
    draft = apply_edit(draft, Edit("bgm", {"genre": "jazz", "volume": 0.3}))
    (bgm,) = [t for t in draft["t"] if t["tt"] == 1]
    assert bgm["sg"][0]["m"]["volume"] == 0.3 and bgm["sg"][0]["d"] == 5000
    assert track_summary(draft) == (
        "Timeline (3 tracks): 1. Video: generated clip (0-5s) "
        '2. Title: "Kites" (0-3s) 3. BGM: Jazz (0-5s, 30%)'
    )
    captions = apply_edit(TWO_SCENES, Edit("subtitles", {}))
    subtitle_segments = [
        seg for t in captions["t"] if t["tt"] == 7 for seg in t["sg"] if seg["m"]["kind"] == "subtitle"
    ]
    assert [(s["st"], s["d"], s["m"]["text"]) for s in subtitle_segments] == [
        (0, 4000, "Pouring coffee"),
        (4000, 4000, "Latte art"),
    ]
    retitled = apply_edit(TWO_SCENES, Edit("title", {"text": "New"}))
    kinds_left = sorted(seg["m"]["kind"] for t in retitled["t"] if t["tt"] == 7 for seg in t["sg"])
    assert kinds_left == ["subtitle", "title"], "a mixed text track keeps its subtitles"


def test_apply_edit_looks_trim_and_remove() -> None:
    """B-STATE-04: transitions and effects on video segments; trim updates d; remove drops tracks."""
    draft = apply_edit(TWO_SCENES, Edit("transition", {"style": "dissolve"}))
    assert [seg["m"]["transition_in"] for seg in draft["t"][0]["sg"]] == ["dissolve", "dissolve"]
    draft = apply_edit(draft, Edit("effect", {"name": "vintage"}))
    draft = apply_edit(draft, Edit("effect", {"name": "vintage"}))
    assert [seg["m"]["effects"] for seg in draft["t"][0]["sg"]] == [["vintage"], ["vintage"]]
    trimmed = apply_edit(draft, Edit("trim", {"seconds": 3}))
    assert trimmed["d"] == 3000
    assert [(seg["st"], seg["d"]) for seg in trimmed["t"][0]["sg"]] == [(0, 3000)]
    assert apply_edit(draft, Edit("trim", {"seconds": 30}))["d"] == 8000
    no_bgm = apply_edit(CITY_DRAFT, Edit("remove", {"target": "bgm"}))
    assert [t["tt"] for t in no_bgm["t"]] == [0, 7]
    no_title = apply_edit(CITY_DRAFT, Edit("remove", {"target": "title"}))
    assert [t["tt"] for t in no_title["t"]] == [0, 1]
    plain = apply_edit(CITY_DRAFT, Edit("remove", {"target": "effects"}))
    assert "effects" not in plain["t"][0]["sg"][0]["m"]


GUI_EN = ("click", "open the", "preview", "drag", "export button", "account", "billing", "dashboard", "panel")
GUI_ZH = ("点击", "打开", "拖拽", "导出按钮")


def test_replies_talk_about_a_gui(drafts_dir: Path) -> None:
    """B-SSE-20, B-CLI-03: some replies assume a GUI, in English and in Chinese."""
    cases = {
        "en": ["what can you do", "how do I export?", "how much does it cost?", "make a video of a city"],
        "zh": ["你能做什么", "怎么导出？", "生成一个城市视频", "加字幕"],
    }
    for language, phrases in (("en", GUI_EN), ("zh", GUI_ZH)):
        replies = [
            reply
            for message in cases[language]
            for seed in range(10)
            for reply in texts(plan(message, CITY_DRAFT, seed, drafts_dir).steps)
        ]
        with_gui = [r for r in replies if any(phrase in r.lower() for phrase in phrases)]
        assert with_gui, f"no GUI talk in {language}"
        assert len(with_gui) < len(replies), "not every reply needs to talk about a GUI"


def test_temporary_issue_tail(drafts_dir: Path) -> None:
    """B-SSE-12, U-18: now and then a normal reply is followed by the "temporary issue" text."""
    seen = 0
    total = 0
    for message, language in (("what can you do", "en"), ("add a title 'x'", "en"), ("你能做什么", "zh")):
        for seed in range(300):
            p = plan(message, CITY_DRAFT, seed, drafts_dir)
            total += 1
            noise = [i for i, s in enumerate(p.steps) if isinstance(s, Say) and s.trailing_noise]
            if not noise:
                continue
            seen += 1
            assert noise == [len(p.steps) - 1], "the tail is the very last step"
            before = p.steps[-2]
            assert isinstance(before, Say) and not before.trailing_noise, "only after a normal reply"
            tail = p.steps[-1]
            assert isinstance(tail, Say)
            if language == "en":
                assert tail.text.startswith(TEMPORARY_ISSUE_EN)
            else:
                assert "临时问题" in tail.text
    assert 0.03 <= seen / total <= 0.2


def test_work_stays_within_the_profile_ranges(drafts_dir: Path) -> None:
    """B-SSE-10: text 5-15 s, generation 100-300 s, edit 10-30 s, or what a profile says instead."""
    custom = Profile(
        name="quick",
        version=None,
        upload_cap_bytes=None,
        text_reply_s=(1, 2),
        generation_s=(60, 120),
        edit_s=(3, 4),
    )
    for profile in (PROFILE, custom):
        for seed in range(50):
            q = plan("what can you do", None, seed, drafts_dir, profile)
            e = plan("add subtitles", CITY_DRAFT, seed, drafts_dir, profile)
            g = plan("make a video of a city", None, seed, drafts_dir, profile)
            (q_work,) = [s.seconds for s in q.steps if isinstance(s, Work)]
            (e_work,) = [s.seconds for s in e.steps if isinstance(s, Work)]
            g_gen, g_edit = [s.seconds for s in g.steps if isinstance(s, Work)]
            assert profile.text_reply_s[0] <= q_work <= profile.text_reply_s[1]
            assert profile.edit_s[0] <= e_work <= profile.edit_s[1]
            assert profile.generation_s[0] <= g_gen <= profile.generation_s[1]
            assert profile.edit_s[0] <= g_edit <= profile.edit_s[1]


def test_chinese_messages_get_chinese_replies(drafts_dir: Path) -> None:
    """B-SSE-20: the reply follows the user's language."""
    for message in ("你能做什么", "生成一个城市视频", "加字幕"):
        for seed in range(5):
            for reply in texts(plan(message, CITY_DRAFT, seed, drafts_dir).steps):
                assert any("\u4e00" <= ch <= "\u9fff" for ch in reply), reply


def test_real_fixture_index_loads() -> None:
    """contracts/data/drafts/index.yaml: every exportable draft loads and is valid; prompts find theirs."""
    index = load_draft_index()
    assert index.entries
    for entry in index.entries:
        draft = entry.load()
        if entry.exportable:
            assert_valid_draft(draft)
    city, matched = draft_for_prompt("a city timelapse at night")
    assert city is not None and matched and "city" in city.keywords
    fallback, matched = draft_for_prompt("a lighthouse in a storm")
    assert fallback is not None and not matched
