"""GUI translation of backend text, and the trailing "temporary issue" filter.

The backend agent believes its user sits in front of the web editor, so its replies say "click
Export", "open the panel", "preview in timeline" or "check your dashboard" (B-SSE-20). The client
must never forward such instructions; it keeps the content descriptions and performs the matching
action itself (B-CLI-03, B-CLI-04, v1.9 §4):

=====================================  ==========  ==========================================
backend says                           action      the client then
=====================================  ==========  ==========================================
"Export button" / "click Export" /     export      runs the export flow (v1.9 §3.5)
"导出按钮" / "点击导出"
"open … panel" / "打开"                state       shows the state (v1.9 §3.4)
"preview in timeline" / "在时间线预览"   summary     shows the track summary
"check account/billing", "dashboard",  credits     checks the balance (v1.9 §3.3)
"go to settings"
"drag/drop" / "拖拽"                   edit        sends the edit over SSE
"click [button]" / "点击" (other)      api         does it through the API
=====================================  ==========  ==========================================

Text is cut into sentences (on . ! ? followed by white space, on 。！？ and on new lines). A sentence
with no GUI instruction is kept verbatim. In a sentence with one, the clauses before the
instruction are kept when they describe content ("Your video is ready, click Export to save it."
keeps "Your video is ready."); clauses that only lead into the instruction ("To save it, …") go
with it. `contains_gui_instruction` is the check the contract suite applies to everything the
client shows; `translate` guarantees its output passes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from contracts.wording import is_temporary_issue


class GuiAction(StrEnum):
    """A follow-up the client performs instead of showing a GUI instruction (B-CLI-03)."""

    EXPORT = "export"
    STATE = "state"
    SUMMARY = "summary"
    CREDITS = "credits"
    EDIT = "edit"
    API = "api"


@dataclass(frozen=True, slots=True)
class Translation:
    """Backend text made fit for a chat user: `text` to show, `actions` to perform, in order."""

    text: str
    actions: tuple[GuiAction, ...]


def _en(words: str) -> str:
    # English words are guarded by ASCII letters only, so "click导出" is still caught.
    return rf"(?<![A-Za-z])(?:{words})(?![A-Za-z])"


#: Words that never reach the user: the contract suite's definition of a GUI instruction.
GUI_WORDS_PATTERN = re.compile(
    "|".join(
        (
            _en(r"click(?:s|ed|ing)?|drag(?:s|ged|ging)?|buttons?|panels?"),
            r"点击|单击|双击|拖拽|拖动|按钮|面板",
        )
    ),
    re.IGNORECASE,
)

_EDITOR_NOUNS = (
    r"panel|menu|editor|tab|sidebar|toolbar|window|page|project|timeline|library|inspector|player|workspace"
)

#: Instruction patterns per action, English and Chinese (B-CLI-03, v1.9 §4, v4.4 §4).
_ACTION_PATTERNS: tuple[tuple[GuiAction, re.Pattern[str]], ...] = tuple(
    (action, re.compile(pattern, re.IGNORECASE))
    for action, pattern in (
        (
            GuiAction.EXPORT,
            _en(r"export\s+button")
            + "|"
            + _en(r"(?:click|tap|press|hit|select)\s+(?:on\s+)?(?:the\s+)?[\"“'‘]?export")
            + r"|导出按钮|点击[「“\"]?导出|「导出」|“导出”",
        ),
        (
            GuiAction.SUMMARY,
            _en(r"preview")
            + r"[^.!?。！？\n]{0,40}?"
            + _en(r"timeline|player|editor|panel|window")
            + "|"
            + _en(r"(?:timeline|player)\s+preview")
            + r"|时间[线轴][^。！？\n]{0,8}预览|播放器[^。！？\n]{0,8}预览"
            + r"|预览[^。！？\n]{0,8}(?:时间[线轴]|播放器|窗口)",
        ),
        (
            GuiAction.STATE,
            _en(rf"open(?:\s+(?:the|your|a|an))?(?:\s+[\w-]+){{0,2}}?\s+(?:{_EDITOR_NOUNS})s?") + r"|打开",
        ),
        (
            GuiAction.CREDITS,
            _en(r"check\s+(?:your\s+|the\s+)?(?:account|billing|balance|credits?|plan|subscription)")
            + "|"
            + _en(r"dashboard")
            + "|"
            + _en(
                r"(?:go\s+to|visit|open|head\s+to|navigate\s+to)\s+(?:your\s+|the\s+)?"
                r"(?:account\s+|billing\s+|user\s+)?(?:settings|account|billing)"
            )
            + r"|控制台|仪表盘|计费页面|(?:查看|检查|前往|进入|打开|去)(?:一下)?(?:您的|你的)?"
            + r"(?:账户|账号|账单|计费|余额|积分|设置)",
        ),
        (
            GuiAction.EDIT,
            _en(r"drag(?:s|ged|ging)?|drop(?:ping)?\s+(?:it|them|the\s+\w+)\s+(?:on|onto|into|in|to)")
            + r"|拖拽|拖动|拖到|拖入",
        ),
        (
            GuiAction.API,
            _en(r"click(?:s|ed|ing)?|(?:tap|press)\s+on|buttons?|panels?") + r"|点击|单击|双击|按钮|面板",
        ),
    )
)

_MENTIONS_EXPORT = re.compile(_en("export") + "|导出", re.IGNORECASE)

# Clause separators inside a sentence; a conjunction counts as one when an instruction follows it.
_CLAUSE_SPLIT = re.compile(
    r"[,;:，；：、]|\s[—–-]\s|\s(?=(?:and|or|but|then|so)\s+(?:you|please|simply|just|now|click|tap|drag|"
    r"open|check|go|preview|press|hit)(?![A-Za-z]))|(?=然后|或者|并且|即可|请)",
    re.IGNORECASE,
)

# Clauses that only lead into an instruction ("To save it, click Export"): dropped with it.
_LEAD_IN = re.compile(
    r"^\s*(?:to|if|when|once|then|so\s+that|you\s+can|please)(?![A-Za-z])"
    r"|^\s*(?:如果|如需|若|要|然后|请|您可以|你可以|可以|即可)",
    re.IGNORECASE,
)

_SENTENCE_END = "。！？"
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
_CLOSERS = "\"'”’」』)）]"
_SEPARATORS = " ,;:，；：、—–-"


def contains_gui_instruction(text: str) -> bool:
    """True if `text` shows a GUI word a chat user cannot act on (B-CLI-03, B-CLI-04)."""
    return GUI_WORDS_PATTERN.search(text) is not None


def _is_gui(text: str) -> bool:
    return contains_gui_instruction(text) or any(p.search(text) for _, p in _ACTION_PATTERNS)


def split_sentences(text: str) -> list[str]:
    """Cut text into pieces that join back to it exactly; each piece holds one sentence.

    A piece ends after a terminator (with any closing quotes, the blanks that follow and a new
    line right after them) or at a new line. "." "!" "?" end a sentence only before white space
    or the end, so "1.5s" and "nemovideo.com" stay whole.
    """
    pieces: list[str] = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            pieces.append(text[start : i + 1])
            start = i = i + 1
            continue
        if ch in _SENTENCE_END or ch in ".!?":
            j = i
            while j < n and (text[j] in _SENTENCE_END or text[j] in ".!?"):
                j += 1
            while j < n and text[j] in _CLOSERS:
                j += 1
            if ch in _SENTENCE_END or j == n or text[j].isspace():
                while j < n and text[j] in " \t\r\f\v":
                    j += 1
                if j < n and text[j] == "\n":
                    j += 1
                pieces.append(text[start:j])
                start = i = j
                continue
            i = j
            continue
        i += 1
    if start < n:
        pieces.append(text[start:])
    return pieces


def _sentence_actions(sentence: str) -> list[GuiAction]:
    """The actions a GUI sentence asks for, in the order it mentions them."""
    hits: list[tuple[int, GuiAction]] = []
    for action, pattern in _ACTION_PATTERNS:
        match = pattern.search(sentence)
        if match:
            hits.append((match.start(), action))
    export = _MENTIONS_EXPORT.search(sentence)
    if hits and export and all(a is not GuiAction.EXPORT for _, a in hits):
        hits.append((export.start(), GuiAction.EXPORT))
    found = [action for _, action in sorted(hits, key=lambda hit: hit[0])]
    if GuiAction.EXPORT in found:
        # "open the export panel" and "click Export" both mean: run the export flow.
        found = [a for a in found if a not in (GuiAction.STATE, GuiAction.API)]
    if len(found) > 1 and GuiAction.API in found:
        found.remove(GuiAction.API)
    return found


def _salvage(sentence: str) -> str:
    """The content a GUI sentence holds before its instruction, with its terminator; or ""."""
    end = len(sentence)
    while end > 0 and (
        sentence[end - 1] in _SENTENCE_END or sentence[end - 1] in ".!?" or sentence[end - 1] in _CLOSERS
    ):
        end -= 1
    core, terminator = sentence[:end], sentence[end:].strip(_CLOSERS)
    bounds = [0, *(m.start() for m in _CLAUSE_SPLIT.finditer(core)), len(core)]
    kept_end = 0
    for k in range(len(bounds) - 1):
        clause = core[bounds[k] : bounds[k + 1]].lstrip(_SEPARATORS)
        if _is_gui(clause):
            break
        if clause.strip() and not _LEAD_IN.search(clause):
            kept_end = bounds[k + 1]
    else:
        return ""  # no clause on its own is an instruction: the sentence is one as a whole
    kept = core[:kept_end].rstrip(_SEPARATORS)
    if not kept.strip():
        return ""
    return kept + (terminator or ("。" if _CJK.search(kept) else "."))


def translate(text: str) -> Translation:
    """Strip GUI instructions from backend text and say which client actions replace them.

    Sentences without GUI talk are kept verbatim; if all of it was GUI talk the text is empty
    and `actions` tells the client what to do (B-CLI-03, B-CLI-04, B-SSE-20).
    """
    actions: list[GuiAction] = []
    out: list[str] = []
    for piece in split_sentences(text):
        if not _is_gui(piece):
            out.append(piece)
            continue
        for action in _sentence_actions(piece):
            if action not in actions:
                actions.append(action)
        sentence = piece.rstrip()
        trail = piece[len(sentence) :]
        kept = _salvage(sentence)
        if kept and not _is_gui(kept):
            out.append(kept + trail)
        elif "\n" in trail and out and not out[-1].endswith("\n"):
            out.append("\n")  # the line goes on after a dropped sentence: keep its break
    result = _tidy("".join(out))
    if contains_gui_instruction(result):
        # Defensive: pieces end in punctuation or blanks, so no GUI word can form across a seam.
        result = ""
    return Translation(result, tuple(actions))


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


# ---------------------------------------------------------------------------- backend noise


def is_temporary_issue_tail(text: str) -> bool:
    """True for the backend's "I encountered a temporary issue" noise text (B-SSE-12, U-18).

    The pattern lives in `contracts.wording` with the mock's own wording, so the two cannot drift.
    """
    return is_temporary_issue(text)


def filter_trailing_noise(texts: list[str]) -> list[str]:
    """Drop trailing "temporary issue" texts when an earlier text was a normal reply (B-CLI-09).

    When no normal text came before, the tail is the only answer and is kept: then it may be a
    real failure the user must hear about.
    """
    end = len(texts)
    while end > 0 and is_temporary_issue_tail(texts[end - 1]):
        end -= 1
    if end == len(texts):
        return list(texts)
    if any(t.strip() and not is_temporary_issue_tail(t) for t in texts[:end]):
        return list(texts[:end])
    return list(texts)
