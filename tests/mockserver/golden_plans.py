"""Golden turn plans: what the scripted agent plans for many messages, drafts, seeds and profiles.

`fixtures/golden/plans.json` holds, for every case of `cases()`, a digest of the plan (its steps,
the drafts its Apply steps produce, its billing) as the planner made it when the file was written.
`tests/mockserver/test_golden_plans.py` plans every case again and compares, so a change to the
agent's code that changes any plan (a text, a wait, a draft, the order of random draws) shows up
as the cases it changed. Regenerate only for a change of behaviour that is meant:

    python tests/mockserver/golden_plans.py
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from contracts.profiles import Profile, load_profile
from mockserver.agent import Plan, classify, plan_turn
from mockserver.events import Apply, Call, Result, Say, Work

if __name__ == "__main__":  # run as a script: pytest's `pythonpath` by hand
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from checkout import FIXTURES_DIR

GOLDEN_FILE = FIXTURES_DIR / "golden" / "plans.json"
SEEDS = range(8)
#: The default profile at every seed; another (other costs, waits and answers) at a few.
PROFILES = {"nemo-video": SEEDS, "text-to-video-kling-ai": range(2)}
#: Drafts the edits and regenerations start from: made by the planner from these prompts (seed 0),
#: and kept in the golden file so that every case starts from the same draft.
BASE_PROMPTS = (
    "Generate a 10-second city timelapse video",
    "make a 30 second product promo video",
    "make a vertical coffee reel video",
    "make a video of the ocean with overlapping layers",
    "生成一个5秒的雪地狐狸短片",
)

GENERATIONS = (
    "make a 10-second video of a city timelapse at night",
    "Generate a clip of a cat playing piano",
    "create a vertical video of ocean waves for TikTok",
    "I want a square video of a sunset with epic music",
    "a 5s clip of waves crashing",
    "regenerate",
    "Can you make me a new video about coffee?",
    "make a video of a forest without music",
    "make a city video called 'Night Owls'",
    "make a 720p 16:9 video of mountains, 45 seconds, with jazz music at 20%",
    "make a product promo video without effects and without a title",
    "generate a 2 minute video of a river",
    "make a 0.5 second video of a spark",
    "create a layered video of the beach with a glitch effect and a whoosh at 2 seconds",
    'make a vertical reel video titled "Morning" with a heart sticker',
    "make a 1:1 720p video of a garden",
    "生成一个10秒的竖屏城市夜景视频",
    "帮我制作一段关于海边日落的视频",
    "重新生成",
    "生成一个关于产品宣传的视频，不要背景音乐",
    "制作一个叫「晨光」的视频",
)
QUESTIONS = (
    "what can you do",
    "How long does it take to generate a video?",
    "How do I add subtitles?",
    "Is the export free?",
    "hello",
    "what is on the timeline?",
    "你能做什么",
    "生成视频要多久？",
    "你好",
)
EDITS = (
    "add a title 'Urban Dreams'",
    'change the title to "Summer Vibes" in yellow at the bottom for 4 seconds',
    "add a title",
    "add lo-fi music at 35%",
    "add music",
    "put an epic soundtrack under it",
    "turn the music down to 10%",
    "Can you add subtitles?",
    "add a red caption 'hello world' at 2 seconds",
    "use a dissolve transition",
    "add a zoom transition at 12 seconds",
    "apply color grading",
    "add a black and white filter",
    "add a glitch effect at 3.25 seconds",
    "add a slow zoom-in effect of 140%",
    "zoom in 1.5x at the end",
    "add a zoom out effect",
    "speed up the video 2x",
    "slow the clip at 12 seconds down to 0.5x",
    "play it at normal speed",
    "crop the video to a square",
    "crop it to 4:3",
    "crop the video to 80%",
    "crop the video",
    "add a red filter at the end",
    "add a dreamy-neon look",
    "add a whoosh sound effect at 2 seconds",
    "at 2 seconds, add a whoosh",
    "add applause at 99 seconds",
    "add a heart sticker at 1 second",
    "put a star sticker in the top right",
    "add a crown emoji",
    "trim it to 5 seconds",
    "shorten the video",
    "make it 8 seconds",
    "trim it to 500 seconds",
    "remove the music",
    "cut the music",
    "delete the title and add jazz music at 30%",
    "strip the subtitles",
    "remove the music and the title",
    "remove the title, then add subtitles",
    "remove the glitch effect",
    "remove all effects and transitions",
    "remove the sound effects and the stickers",
    "remove the text",
    "add a fade transition and a sepia filter, then add a title 'End'",
    "加上标题「城市之光」",
    "添加背景音乐，音量百分之三十",
    "加一段爵士配乐",
    "加字幕",
    "加个淡入淡出的转场",
    "加一个复古滤镜",
    "调色",
    "剪短到5秒",
    "裁剪成三秒",
    "去掉背景音乐",
    "删除标题",
    "去掉背景音乐，加字幕",
    "在3.25秒处加一个故障特效",
    "放大到140%",
    "把画面裁剪成竖屏",
    "在2秒处加一个嗖的音效",
    "在第1秒加一个爱心贴纸",
    "在右上角加星星贴纸",
)
MESSAGES = GENERATIONS + QUESTIONS + EDITS

Case = tuple[str, int, str, str | None]  # profile, seed, message, base prompt (None: no draft yet)


def new_ids(seed: int) -> Callable[[str], str]:
    """Ids as the backend makes them for a turn: prefix and random hex from a seeded stream."""
    ids = random.Random(f"{seed}:ids")
    return lambda prefix: f"{prefix}_{ids.getrandbits(48):012x}"


def plan(message: str, draft: dict[str, Any] | None, seed: int, profile: Profile) -> Plan:
    return plan_turn(classify(message), draft, random.Random(seed), profile, new_id=new_ids(seed))


def applied(p: Plan, draft: dict[str, Any] | None) -> dict[str, Any] | None:
    for step in p.steps:
        if isinstance(step, Apply):
            draft = step.change(draft)
    return draft


def record(p: Plan, draft: dict[str, Any] | None) -> dict[str, Any]:
    """A plan as data: every step, each Apply as the draft it makes from the draft of its moment
    and from no draft at all (a turn's Apply runs on the draft as it is when the turn gets there)."""
    steps: list[Any] = []
    for step in p.steps:
        if isinstance(step, Say):
            steps.append(["say", step.text, step.trailing_noise])
        elif isinstance(step, Call):
            steps.append(["call", step.name, step.args, step.call_id])
        elif isinstance(step, Result):
            steps.append(["result", step.name, step.result, step.call_id])
        elif isinstance(step, Work):
            steps.append(["work", step.seconds])
        else:
            from_none = step.change(None)
            draft = step.change(draft)
            steps.append(["apply", step.label, list(step.generated_media), draft, from_none])
    return {
        "kind": p.kind,
        "chargeable": p.chargeable,
        "silent": p.silent,
        "language": p.language,
        "steps": steps,
    }


def digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def make_bases() -> dict[str, dict[str, Any]]:
    default = load_profile()
    bases = {}
    for prompt in BASE_PROMPTS:
        draft = applied(plan(prompt, None, 0, default), None)
        assert draft is not None
        bases[prompt] = draft
    return bases


def cases() -> Iterator[Case]:
    """Every case, in the order of the golden file: profile, message, seed, base."""
    for profile, seeds in PROFILES.items():
        for message, seed, base in itertools.product(MESSAGES, seeds, (None, *BASE_PROMPTS)):
            yield profile, seed, message, base


def case_digest(case: Case, bases: dict[str, dict[str, Any]]) -> str:
    profile, seed, message, base = case
    draft = bases[base] if base is not None else None
    return digest(record(plan(message, draft, seed, load_profile(profile)), draft))


def case_name(case: Case) -> str:
    profile, seed, message, base = case
    return f"{profile} seed {seed}: {message!r} on {base or 'no draft'!r}"


def digests_by_case(rows: dict[str, dict[str, str]]) -> dict[Case, str]:
    """The golden file's rows (profile -> message -> digests in seed and base order) by case."""
    found: dict[Case, str] = {}
    for profile, seeds in PROFILES.items():
        for message, row in rows.get(profile, {}).items():
            pairs = itertools.product(seeds, (None, *BASE_PROMPTS))
            found.update(
                {
                    (profile, seed, message, base): d
                    for (seed, base), d in zip(pairs, row.split(), strict=True)
                }
            )
    return found


def load() -> tuple[dict[str, dict[str, Any]], dict[Case, str]]:
    """The golden bases and the digest of every case."""
    data = json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))
    return data["bases"], digests_by_case(data["digests"])


def write() -> int:
    bases = make_bases()
    rows: dict[str, dict[str, list[str]]] = {}
    for case in cases():
        profile, _, message, _ = case
        rows.setdefault(profile, {}).setdefault(message, []).append(case_digest(case, bases))
    digests = {
        profile: {m: " ".join(row) for m, row in by_message.items()} for profile, by_message in rows.items()
    }
    GOLDEN_FILE.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"bases": bases, "digests": digests}, ensure_ascii=False, indent=1, sort_keys=True)
    GOLDEN_FILE.write_text(text + "\n", encoding="utf-8")
    return sum(len(row) for by_message in rows.values() for row in by_message.values())


if __name__ == "__main__":
    print(f"{write()} plans written to {GOLDEN_FILE.name}")
