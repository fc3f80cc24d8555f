"""GUI translation of backend text and the trailing "temporary issue" filter
(B-CLI-03, B-CLI-04, B-CLI-09, B-SSE-12, B-SSE-20)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client.gui import (
    GuiAction,
    Translation,
    contains_gui_instruction,
    filter_trailing_noise,
    is_temporary_issue_tail,
    split_sentences,
    translate,
)
from contracts import wording

E, S, SUM, CR, ED, API = (
    GuiAction.EXPORT,
    GuiAction.STATE,
    GuiAction.SUMMARY,
    GuiAction.CREDITS,
    GuiAction.EDIT,
    GuiAction.API,
)

# backend text -> (text shown to the user, actions the client performs)
BACKEND_TEXTS: list[tuple[str, str, tuple[GuiAction, ...]]] = [
    (
        "Your video is ready! Preview in Timeline panel or click Export to save it.",
        "Your video is ready!",
        (SUM, E),
    ),
    (
        "I've added the title 'Urban Dreams' at the top. You can drag it on the timeline to move it.",
        "I've added the title 'Urban Dreams' at the top.",
        (ED,),
    ),
    ("Your video is ready, click the Export button to download it.", "Your video is ready.", (E,)),
    ("Your video is ready and you can click Export to save it.", "Your video is ready.", (E,)),
    ("To save it, click Export.", "", (E,)),
    ("Open the Tracks panel to see every layer.", "", (S,)),
    ("Done, check your dashboard for remaining credits.", "Done.", (CR,)),
    ("Go to Settings to change your plan.", "", (CR,)),
    ("Please check your billing page. The BGM is now at 20%.", "The BGM is now at 20%.", (CR,)),
    (
        "Added a 1.5s fade transition between the clips. Visit nemovideo.com for more.",
        "Added a 1.5s fade transition between the clips. Visit nemovideo.com for more.",
        (),
    ),
    ("The video opens with a wide shot of the city.", "The video opens with a wide shot of the city.", ()),
    ("Click the title to edit it.\nThe title lasts 3 seconds.", "The title lasts 3 seconds.", (API,)),
    (
        'Title added "Urban Dreams" (white, top-center) – open the Text panel to restyle it!',
        'Title added "Urban Dreams" (white, top-center)!',
        (S,),
    ),
    ("Great! Click Export.\nAnything else?", "Great!\nAnything else?", (E,)),
    ("Para one.\n\nDrag and drop the clip.\n\nPara two.", "Para one.\n\nPara two.", (ED,)),
    ("视频已生成，点击导出按钮即可下载。", "视频已生成。", (E,)),
    (
        "已添加背景音乐《Lo-fi》，音量35%。你可以在时间线预览效果。",
        "已添加背景音乐《Lo-fi》，音量35%。",
        (SUM,),
    ),
    ("请拖拽字幕到合适位置。字幕共 4 行。", "字幕共 4 行。", (ED,)),
    ("打开轨道面板查看所有图层。", "", (S,)),
    (
        "标题“城市之梦”已添加（白色，顶部居中）。点击导出保存视频！",
        "标题“城市之梦”已添加（白色，顶部居中）。",
        (E,),
    ),
    ("积分不足，请前往控制台查看账户余额。", "积分不足。", (CR,)),
    ("已添加淡入转场。", "已添加淡入转场。", ()),
    ("已生成视频，并添加了背景音乐，点击导出即可。", "已生成视频，并添加了背景音乐。", (E,)),
    ("Now the title fades in, click Export when ready.", "Now the title fades in.", (E,)),
    ("视频已生成（10秒，城市夜景）。点击标题即可编辑。", "视频已生成（10秒，城市夜景）。", (API,)),
]


@pytest.mark.parametrize(("backend", "shown", "actions"), BACKEND_TEXTS)
def test_translate_keeps_content_and_maps_gui_to_actions(
    backend: str, shown: str, actions: tuple[GuiAction, ...]
) -> None:
    """B-CLI-03, B-CLI-04, B-SSE-20: GUI sentences go, content stays, actions replace them."""
    result = translate(backend)
    assert result == Translation(shown, actions)
    assert not contains_gui_instruction(result.text)


def test_all_gui_text_becomes_empty_with_actions() -> None:
    """B-CLI-03: when everything was GUI talk only the actions remain."""
    result = translate("Click Export. Open the project panel. Check your account.")
    assert result.text == ""
    assert result.actions == (E, S, CR)


def test_actions_are_deduplicated_in_order_of_appearance() -> None:
    """B-CLI-03: each action once, in the order the backend asked for them."""
    result = translate("Preview it in the timeline. Click Export. Preview in the player again. 点击导出。")
    assert result.actions == (SUM, E)


def test_export_panel_means_export() -> None:
    """B-CLI-03: "open the export panel" runs the export, not a state query."""
    assert translate("Open the export panel to render.").actions == (E,)
    assert translate("打开导出面板。").actions == (E,)


def test_actions_compare_as_strings() -> None:
    """B-CLI-03: actions are the documented names export/state/summary/credits/edit/api."""
    assert [str(a) for a in GuiAction] == ["export", "state", "summary", "credits", "edit", "api"]
    assert translate("Click Export.").actions == ("export",)


@pytest.mark.parametrize(
    "text",
    [
        "click here",
        "Double-click the clip",
        "dragging the title",
        "the Export button",
        "open the panels",
        "点击这里",
        "拖拽片段",
        "导出按钮",
        "时间线面板",
        "click导出",
    ],
)
def test_contains_gui_instruction_catches_gui_words(text: str) -> None:
    """B-CLI-03, B-CLI-04: the contract suite's check flags GUI words in both languages."""
    assert contains_gui_instruction(text)


@pytest.mark.parametrize(
    "text",
    [
        "Your video is ready!",
        "The dragon flies over the city",
        "视频已生成（10秒）",
        "Export done",
        "clickbait-free",
    ],
)
def test_contains_gui_instruction_leaves_content_alone(text: str) -> None:
    """B-CLI-03: content words that merely contain a GUI word are not flagged."""
    assert not contains_gui_instruction(text)


def test_split_sentences_joins_back_exactly() -> None:
    """B-CLI-03: splitting is lossless; decimals and domains do not end a sentence."""
    text = "A 1.5s fade. See nemovideo.com! Why? 中文。英文\nlast"
    pieces = split_sentences(text)
    assert "".join(pieces) == text
    assert pieces == ["A 1.5s fade. ", "See nemovideo.com! ", "Why? ", "中文。", "英文\n", "last"]


GUI_PHRASES = [
    "Click Export.",
    "click the button",
    "Drag it to the timeline.",
    "Open the panel.",
    "点击导出。",
    "拖拽到时间线",
    "导出按钮",
    "面板",
    "Preview in timeline.",
    "check your dashboard",
]


@given(
    st.lists(
        st.one_of(st.sampled_from(GUI_PHRASES), st.text(max_size=40)),
        max_size=8,
    ).map(lambda parts: " ".join(parts))
)
def test_translate_never_leaves_a_gui_word(text: str) -> None:
    """B-CLI-03, B-CLI-04: whatever the backend says, the shown text has no GUI word."""
    result = translate(text)
    assert not contains_gui_instruction(result.text)
    assert set(result.actions) <= set(GuiAction)


@given(st.text(max_size=300))
def test_translate_never_raises(text: str) -> None:
    """B-CLI-04: translation is total over any text."""
    assert not contains_gui_instruction(translate(text).text)


# ---------------------------------------------------------------------------- trailing noise


@pytest.mark.parametrize(
    "text",
    [
        "I encountered a temporary issue. Please try again.",
        "  I encountered a temporary issue while processing",
        "Sorry, I encountered a temporary issue.",
        "I've encountered a temporary issue",
        "遇到了临时问题，请稍后重试。",
        "抱歉，我遇到了临时问题。",
    ],
)
def test_temporary_issue_tail_is_recognised(text: str) -> None:
    """B-SSE-12, U-18: the noise text in English and Chinese."""
    assert is_temporary_issue_tail(text)


@pytest.mark.parametrize("language", sorted(wording.TEMPORARY_ISSUE))
def test_the_mocks_own_wording_is_recognised(language: str) -> None:
    """B-SSE-12, U-18: the text the mock sends in each language is the text the client filters."""
    text = wording.TEMPORARY_ISSUE[language]  # type: ignore[index]
    assert is_temporary_issue_tail(text)
    assert filter_trailing_noise(["Done.", text]) == ["Done."]


@pytest.mark.parametrize(
    "text",
    ["Your video is ready!", "The issue with the title is fixed.", "", "I encountered a bug in the title"],
)
def test_normal_text_is_not_a_tail(text: str) -> None:
    """B-SSE-12: only the documented opening counts as noise."""
    assert not is_temporary_issue_tail(text)


def test_trailing_noise_dropped_after_a_normal_reply() -> None:
    """B-CLI-09: a final "temporary issue" after a normal text is ignored."""
    texts = ["Title added.", "I encountered a temporary issue."]
    assert filter_trailing_noise(texts) == ["Title added."]
    assert texts == ["Title added.", "I encountered a temporary issue."]  # input untouched
    assert filter_trailing_noise(["已添加标题。", "遇到了临时问题。", "I encountered a temporary issue"]) == [
        "已添加标题。"
    ]


def test_lone_noise_is_kept() -> None:
    """B-CLI-09: with no normal reply before it, the tail may be a real failure: keep it."""
    assert filter_trailing_noise(["I encountered a temporary issue."]) == ["I encountered a temporary issue."]
    assert filter_trailing_noise(["", "遇到了临时问题"]) == ["", "遇到了临时问题"]
    assert filter_trailing_noise([]) == []


def test_noise_in_the_middle_is_not_trailing() -> None:
    """B-CLI-09: only a trailing tail is dropped."""
    texts = ["I encountered a temporary issue.", "Title added."]
    assert filter_trailing_noise(texts) == texts
