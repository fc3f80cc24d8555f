"""Every edit the scripted agent accepts changes the draft; one it cannot apply is answered with text
(B-SSE-09, B-SSE-19, B-CLI-10).

A silent edit (B-SSE-09) is why clients re-read the state after a stream without text; a silent
edit that changes nothing is a behaviour no source describes. The phrasings below are what users
type for sound effects, glitches, zooms, speed, crops, filters, stickers, transitions and
captions, in English and Chinese, with moments, percentages and colours drawn by hypothesis.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from conftest import account
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from client.timeline import describe_changes, diff_states
from contracts.profiles import load_profile
from mockserver.agent import Plan, classify, plan_turn, same_content
from mockserver.events import Apply, Call, Result, Say
from mockserver.settings import Settings
from mockserver.testing import LiveServer

PROFILE = load_profile()


def new_ids() -> Callable[[str], str]:
    counter = itertools.count(1)
    return lambda prefix: f"{prefix}_{next(counter)}"


def plan(message: str, draft: dict[str, Any] | None, seed: int = 1) -> Plan:
    return plan_turn(classify(message), draft, random.Random(seed), PROFILE, new_id=new_ids())


def applied(p: Plan, draft: dict[str, Any] | None) -> dict[str, Any] | None:
    for step in p.steps:
        if isinstance(step, Apply):
            draft = step.change(draft)
    return draft


def says(p: Plan) -> list[str]:
    return [step.text for step in p.steps if isinstance(step, Say)]


#: Drafts a user edits: generated from the shipped fixtures (one clip, three stills, two clips, layers).
BASES = {
    prompt: applied(plan(prompt, None), None)
    for prompt in (
        "Generate a 10-second city timelapse video",
        "make a 30 second product promo video",
        "make a vertical coffee reel video",
        "make a video of the ocean with overlapping layers",
        "make a 5 second clip of a fox in the snow",
    )
}
CITY = BASES["Generate a 10-second city timelapse video"]


def tracks_of(draft: dict[str, Any], tt: int) -> list[dict[str, Any]]:
    return [track for track in draft["t"] if track["tt"] == tt]


def changed_only(before: dict[str, Any], message: str, seed: int = 1) -> dict[str, Any]:
    """The draft after `message`, asserting the plan edits it (and is billed as an edit)."""
    p = plan(message, before, seed)
    assert p.kind == "edit" and p.chargeable, (message, says(p))
    after = applied(p, before)
    assert after is not None and not same_content(before, after), message
    return after


# ------------------------------------------------------------------------------ the phrasings


@pytest.mark.parametrize(
    "message",
    ["add a whoosh sound effect at 2 seconds", "在2秒处加一个嗖的音效", "at 2 seconds, add a whoosh"],
)
def test_a_sound_effect_becomes_an_audio_segment(message: str) -> None:
    """B-SSE-09, B-STATE-04: a sound effect is a segment of its own audio track, at its moment."""
    after = changed_only(CITY, message)
    (sounds,) = [t for t in tracks_of(after, 1) if t["sg"][0]["m"].get("kind") == "sfx"]
    (segment,) = sounds["sg"]
    assert (segment["st"], segment["d"], segment["m"]["name"]) == (2000, 1000, "whoosh")
    assert [t["sg"][0]["m"]["name"] for t in tracks_of(after, 1) if t is not sounds] == ["Lo-fi"]  # BGM kept


@pytest.mark.parametrize(
    ("message", "effect", "moment_ms"),
    [
        ("add a glitch effect at 3.25 seconds", "glitch", 3250),
        ("在3.25秒处加一个故障特效", "glitch", 3250),
        ("add a slow zoom-in effect of 140%", "zoom_in 140%", None),
        ("放大到140%", "zoom_in 140%", None),
        ("speed up the video 2x", "speed 2x", None),
        ("slow the clip at 12 seconds down to 0.5x", "speed 0.5x", 12000),
        ("crop the video to a square", "crop 1:1", None),
        ("把画面裁剪成竖屏", "crop 9:16", None),
        ("add a sepia filter", "sepia", None),
        ("add a red filter at the end", "tint red", None),
    ],
)
def test_effects_land_on_the_clip_playing_at_their_moment(
    message: str, effect: str, moment_ms: int | None
) -> None:
    """B-SSE-09, B-STATE-04: glitch, zoom, speed, crop and filters are effects on the clip at that time
    (every clip when no moment is named)."""
    base = BASES["make a 30 second product promo video"]  # three 10 s stills
    after = changed_only(base, message)
    (video,) = tracks_of(after, 0)
    having = [seg for seg in video["sg"] if effect in seg["m"].get("effects", [])]
    if moment_ms is not None:
        assert [(s["st"] <= moment_ms < s["st"] + s["d"]) for s in having] == [True]
    elif "at the end" in message:
        assert having == [video["sg"][-1]]
    else:
        assert len(having) == len(video["sg"])


def test_an_effect_with_a_new_value_replaces_the_old_one() -> None:
    """B-SSE-09: "zoom in to 140%" after "zoom in to 120%" changes the value, once."""
    first = changed_only(CITY, "zoom in to 120%")
    second = changed_only(first, "zoom in to 140%")
    (segment,) = tracks_of(second, 0)[0]["sg"]
    assert [e for e in segment["m"]["effects"] if e.startswith("zoom_in")] == ["zoom_in 140%"]


@pytest.mark.parametrize(
    ("message", "name", "moment_ms"),
    [("add a heart sticker at 1 second", "heart", 1000), ("在第1秒加一个爱心贴纸", "heart", 1000)],
)
def test_a_sticker_is_an_overlay(message: str, name: str, moment_ms: int) -> None:
    """B-STATE-04: a sticker is a text-track overlay (`m.kind` sticker) at its moment."""
    after = changed_only(CITY, message)
    stickers = [s for t in tracks_of(after, 7) for s in t["sg"] if s["m"].get("kind") == "sticker"]
    assert [(s["m"]["name"], s["st"], s["d"]) for s in stickers] == [(name, moment_ms, 2000)]
    assert stickers[0]["m"]["text"]  # the symbol shown


def test_a_caption_and_a_transition_at_a_moment() -> None:
    """B-STATE-07: a caption at 2 s is one subtitle there; a transition goes on the clip at its moment."""
    after = changed_only(CITY, "add a yellow caption 'Night falls' at 2 seconds")
    captions = [s for t in tracks_of(after, 7) for s in t["sg"] if s["m"].get("kind") == "subtitle"]
    assert [(s["m"]["text"], s["st"], s["d"], s["m"]["color"]) for s in captions] == [
        ("Night falls", 2000, 3000, "yellow")
    ]
    base = BASES["make a vertical coffee reel video"]
    moved = changed_only(base, "add a spin transition at 5 seconds")
    looks = [(s["st"], s["m"].get("transition_in")) for s in tracks_of(moved, 0)[0]["sg"]]
    assert ("spin" in dict(looks).values()) and sum(1 for _, style in looks if style == "spin") == 1


# ------------------------------------------------------------------------------ edits that change nothing


@pytest.mark.parametrize(
    ("message", "words", "billed"),
    [
        ("add a glitch effect at 25 seconds", "no picture at 25s", False),
        ("在25秒处加一个嗖的音效", "25秒处没有画面", False),
        ("crop the video", "What shape", False),
        ("remove the stickers", "no sticker to remove", True),
        ("去掉音效", "没有可以删除的音效", True),
        ("add colour grading", "already has that (color_grading)", True),
        ("trim it to 30 seconds", "already 10s long", True),
    ],
)
def test_an_edit_that_changes_nothing_is_answered_with_text(message: str, words: str, billed: bool) -> None:
    """B-SSE-19, B-SSE-09, B-SSE-15: nothing to change -> a text saying why, no tool, never silent;
    an edit the draft already satisfies is billed as an edit, one that needs the user is free."""
    for seed in range(20):
        p = plan(message, CITY, seed)
        assert p.kind == "edit" and p.chargeable is billed and not p.silent
        assert not any(isinstance(step, Apply | Call | Result) for step in p.steps)
        assert words in says(p)[0]


def test_a_partly_applied_message_is_never_silent() -> None:
    """B-SSE-09: one edit applied, one impossible: the reply says what was not done."""
    for seed in range(40):
        p = plan("add a whoosh sound effect at 2 seconds and a glitch effect at 40 seconds", CITY, seed)
        assert p.chargeable and not p.silent
        assert "no picture at 40s" in says(p)[0]


# ------------------------------------------------------------------------------ the property


@dataclass(frozen=True, slots=True)
class Phrasing:
    text: str
    op: str  # the edit kind the message asks for


_SECONDS = st.one_of(
    st.integers(0, 14).map(float), st.floats(0, 14, allow_nan=False).map(lambda x: round(x, 2))
)


def _n(value: float) -> str:
    return f"{value:g}"


@st.composite
def moments(draw: st.DrawFn, language: str) -> str:
    """A moment phrase ("at 3.25 seconds", "在3.25秒处"), or nothing."""
    if draw(st.booleans()):
        return ""
    t = _n(draw(_SECONDS))
    if language == "zh":
        return draw(st.sampled_from([f"在{t}秒处", f"第{t}秒", f"{t}秒的时候", "在结尾", "在开头"]))
    return draw(
        st.sampled_from(
            [f" at {t} seconds", f" at {t}s", f" at the {t}-second mark", f" {t} seconds in", " at the end"]
        )
    )


EN_SOUNDS = ["whoosh", "pop", "ding", "applause", "thunder", "click", "boom", "camera shutter", "drum roll"]
ZH_SOUNDS = ["嗖", "掌声", "雷声", "叮", "爆炸", "快门", "心跳", "笑声", "鼓点", "铃声"]
EN_LOOKS = [
    "glitch",
    "blur",
    "vintage",
    "black and white",
    "sepia",
    "vignette",
    "shake",
    "neon",
    "VHS",
    "dreamy",
]
ZH_LOOKS = ["故障", "模糊", "复古", "黑白", "暗角", "抖动", "霓虹", "梦幻", "鱼眼", "暖色"]
EN_COLORS = ["red", "blue", "yellow", "gold", "green", "purple", "pink", "orange", "white"]
ZH_COLORS = ["红色", "蓝色", "黄色", "金色", "绿色", "紫色", "粉色", "橙色", "白色"]
EN_STICKERS = ["heart", "star", "smiley", "thumbs up", "fire", "sparkles", "crown", "sun", "arrow"]
ZH_STICKERS = ["爱心", "星星", "笑脸", "点赞", "火焰", "皇冠", "太阳", "箭头"]
EN_CORNERS = ["top right", "bottom left", "top left", "bottom right", "middle"]
ZH_CORNERS = ["右上角", "左下角", "左上角", "右下角", "中间"]
EN_STYLES = ["fade", "dissolve", "slide", "wipe", "zoom", "spin", "glitch", "flash", "blur"]
ZH_STYLES = ["淡入淡出", "溶解", "滑动", "擦除", "缩放", "旋转", "故障", "闪白", "模糊"]
EN_SHAPES = ["a square", "vertical", "landscape", "9:16", "1:1", "4:3", "16:9"]
ZH_SHAPES = ["正方形", "竖屏", "横屏", "9:16", "4比3"]
CAPTION_TEXT = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz ABCXYZ"), min_size=1, max_size=16).filter(
    lambda text: text.strip() != ""
)
ZH_CAPTION_TEXT = st.text(st.sampled_from("你好城市夜景的光影"), min_size=1, max_size=8)


@st.composite
def phrasings(draw: st.DrawFn) -> Phrasing:
    """One edit request, of one kind, in one language, with drawn moments and values."""
    zh = draw(st.booleans())
    at = draw(moments("zh" if zh else "en"))
    kind = draw(
        st.sampled_from(
            ["sound", "look", "zoom", "speed", "crop", "filter", "sticker", "transition", "caption"]
        )
    )
    pick = lambda options: draw(st.sampled_from(options))  # noqa: E731
    percent = draw(st.integers(50, 300))
    factor = _n(draw(st.sampled_from([0.25, 0.5, 0.75, 1.5, 2, 3, 4])))
    if zh:
        text = {
            "sound": lambda: f"{at}加一个{pick(ZH_SOUNDS)}音效",
            "look": lambda: pick([f"{at}加一个{pick(ZH_LOOKS)}特效", f"给视频{at}加{pick(ZH_LOOKS)}滤镜"]),
            "zoom": lambda: pick([f"{at}放大到{percent}%", f"{at}加一个缩小效果", f"画面{at}推近{percent}%"]),
            "speed": lambda: pick(
                [f"把视频加速到{factor}倍", f"{at}{factor}倍速播放", f"{at}放慢到{factor}倍"]
            ),
            "crop": lambda: pick([f"把画面裁剪成{pick(ZH_SHAPES)}", f"画幅裁切为{pick(ZH_SHAPES)}"]),
            "filter": lambda: f"{at}加一个{pick(ZH_COLORS)}滤镜",
            "sticker": lambda: pick(
                [f"{at}加一个{pick(ZH_STICKERS)}贴纸", f"{at}在{pick(ZH_CORNERS)}加{pick(ZH_STICKERS)}贴纸"]
            ),
            "transition": lambda: f"{at}加一个{pick(ZH_STYLES)}转场",
            "caption": lambda: f"{at}加一条{pick(ZH_COLORS)}字幕「{draw(ZH_CAPTION_TEXT)}」",
        }[kind]()
    else:
        text = {
            "sound": lambda: pick(
                [
                    f"add a {pick(EN_SOUNDS)} sound effect{at}",
                    f"put a {pick(EN_SOUNDS)} sound{at}",
                    f"insert the {pick(EN_SOUNDS)} sfx{at}",
                ]
            ),
            "look": lambda: pick(
                [
                    f"add a {pick(EN_LOOKS)} effect{at}",
                    f"apply a {pick(EN_LOOKS)} filter{at}",
                    f"give the clip a {pick(EN_LOOKS)} look{at}",
                ]
            ),
            "zoom": lambda: pick(
                [
                    f"add a slow zoom-in effect of {percent}%{at}",
                    f"zoom in to {percent}%{at}",
                    f"add a zoom out effect{at}",
                    f"zoom in {factor}x{at}",
                ]
            ),
            "speed": lambda: pick(
                [
                    f"speed up the video {factor}x",
                    f"make it play at {factor}x speed{at}",
                    f"slow it down to {factor}x{at}",
                    f"play the clip at half speed{at}",
                ]
            ),
            "crop": lambda: pick(
                [f"crop the video to {pick(EN_SHAPES)}", f"crop it to {pick(EN_SHAPES)}{at}"]
            ),
            "filter": lambda: pick(
                [f"add a {pick(EN_COLORS)} filter{at}", f"apply a {pick(EN_COLORS)} tint{at}"]
            ),
            "sticker": lambda: pick(
                [
                    f"add a {pick(EN_STICKERS)} sticker{at}",
                    f"put a {pick(EN_STICKERS)} sticker in the {pick(EN_CORNERS)}{at}",
                ]
            ),
            "transition": lambda: pick(
                [f"add a {pick(EN_STYLES)} transition{at}", f"use a {pick(EN_STYLES)} transition"]
            ),
            "caption": lambda: f"add a {pick(EN_COLORS)} caption '{draw(CAPTION_TEXT).strip()}'{at}",
        }[kind]()
    op = {"sound": "sound", "sticker": "sticker", "transition": "transition", "caption": "subtitles"}.get(
        kind, "effect"
    )
    return Phrasing(text.strip(), op)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(phrasing=phrasings(), base=st.sampled_from(sorted(BASES)), seed=st.integers(0, 2**32 - 1))
def test_every_text_less_reply_changes_the_draft(phrasing: Phrasing, base: str, seed: int) -> None:
    """B-SSE-09, B-SSE-19: whatever the phrasing, a reply without text changed the draft, and a reply
    that changed nothing said why; the phrasing is understood as the edit it asks for."""
    intent = classify(phrasing.text)
    assert intent.kind == "edit" and phrasing.op in [edit.op for edit in intent.edits], (phrasing, intent)
    before = BASES[base]
    p = plan_turn(intent, before, random.Random(seed), PROFILE, new_id=new_ids())
    after = applied(p, before)
    unchanged = same_content(before, after)
    outcome = "unchanged, answered" if unchanged else "silent" if not says(p) else "changed, said"
    event(f"{phrasing.op}: {outcome}")
    if not says(p):
        assert p.silent and not unchanged, phrasing
    if unchanged:
        assert says(p), phrasing


# ------------------------------------------------------------------------------ the property, over HTTP


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(Settings(time_scale=0, seed=19, access_log=False)) as live:
        yield live


def _texts(blocks: list[bytes]) -> list[str]:
    found = []
    for block in blocks:
        for line in block.split(b"\n"):
            if line.startswith(b"data:") and line[5:].strip():
                event = json.loads(line[5:])
                if event.get("type") == "text":
                    found.append(str(event["content"]))
    return found


@pytest.mark.live
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(phrasing=phrasings(), prompt=st.sampled_from(sorted(BASES)))
def test_over_http_a_text_less_edit_changes_the_state_and_the_client_names_the_change(
    server: LiveServer, phrasing: Phrasing, prompt: str
) -> None:
    """B-SSE-09, B-CLI-10: on the live mock, an edit stream without text leaves a state that differs,
    and the reference client's change report names each change concretely."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        user = account(http, "paid", 1000)
        session_id, _ = user.session()
        user.chat(session_id, prompt)
        before = user.state(session_id)
        replies = _texts(user.chat(session_id, phrasing.text))
        server.wait_idle()
        after = user.state(session_id)
    changes = diff_states(before, after)
    event("silent" if not replies else "answered")
    if not replies:
        assert changes, phrasing
    if before["draft"] == after["draft"]:
        assert replies, phrasing
    for line in describe_changes(changes):
        assert line != "✅ Timeline updated", (phrasing, line)
