"""Reading a user message before it goes anywhere: its language, whether it is a question, and the
honest limits the client states up front.

- `detect_language` gives the ISO code create-session sends as `language` (B-SESS-02): by script
  for Chinese, Japanese, Korean, Cyrillic, Arabic, Thai, Hindi; by a few function words for
  Spanish, French, German and Portuguese; None when nothing is clear (the caller keeps its default).
- `looks_like_question` decides whether "This may take a few minutes." (B-CLI-05) would be
  wrong: a question gets a text reply in seconds (B-SSE-10).
- `limit_notes` says what the backend cannot do before the message goes to it, without holding
  the message back: generation parameters pass unchanged (B-CLI-22, v1.9 §6).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ja", re.compile(r"[\u3040-\u30ff]")),  # kana first: Japanese text also uses Han characters
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")),
    ("zh-CN", re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
)

#: Function words that English does not use; two distinct hits name the language.
_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("es", frozenset({"el", "los", "las", "una", "con", "para", "por", "del", "quiero", "hazme", "crea"})),
    ("fr", frozenset({"le", "les", "une", "avec", "pour", "des", "je", "veux", "fais", "crée", "du", "sur"})),
    ("de", frozenset({"der", "die", "das", "ein", "eine", "mit", "und", "für", "ich", "möchte", "erstelle"})),
    ("pt", frozenset({"um", "uma", "com", "para", "quero", "faça", "crie", "os", "das", "dos", "não"})),
)
_WORD = re.compile(r"[^\W\d_]+")


def detect_language(text: str) -> str | None:
    """The ISO code of the message's language, or None when it is English or unclear (B-SESS-02)."""
    for code, pattern in _SCRIPTS:
        if pattern.search(text):
            return code
    words = {w.lower() for w in _WORD.findall(text)}
    best: tuple[int, str | None] = (1, None)
    for code, markers in _WORDS:
        hits = len(words & markers)
        if hits > best[0]:
            best = (hits, code)
    return best[1]


_QUESTION_START = re.compile(
    r"^\s*(?:what|what's|whats|how|why|when|where|which|who|does|do|did|is|are|can|could|should|will)\b",
    re.IGNORECASE,
)
_QUESTION_ZH = re.compile(r"吗[？?]?\s*$|什么|怎么|怎样|如何|为什么|多少|哪")


def looks_like_question(text: str) -> bool:
    """True when the message asks something rather than orders work (no "may take minutes")."""
    stripped = text.strip()
    if stripped.endswith(("?", "？")):
        return True
    return bool(_QUESTION_START.search(stripped) or _QUESTION_ZH.search(stripped))


# ---------------------------------------------------------------------------- honest limits (B-CLI-22)

#: Hosts whose links the backend cannot fetch; the built-in library stands in (v1.9 §6).
STREAMING_HOSTS = ("youtube.com", "youtu.be", "spotify.com")

ASPECT_NOTE = "Changing the aspect ratio means regenerating the video; the current clip is replaced."
LIBRARY_NOTE = (
    "I can't use YouTube or Spotify links; the built-in library has similar styles, "
    "so describe the music or look you want."
)
SLIDESHOW_NOTE = "I can't retouch photos, but I can make a slideshow video from them."
SEND_FILES_NOTE = "Send the file in chat or give me a URL; files on your computer can't be reached otherwise."

_ASPECT = re.compile(
    r"\baspect(?:\s+ratio)?\b|\b(?:9|16|1|4|3):(?:16|9|1|3|4)\b|\b(?:vertical|portrait|landscape|square)\b"
    r"|宽高比|横屏|竖屏|画幅",
    re.IGNORECASE,
)
_PHOTO_EDIT = re.compile(
    r"\b(?:edit|retouch|photoshop|crop|touch\s+up|enhance)\b[^.!?]{0,30}\b(?:photos?|pictures?|images?|selfies?)\b"
    r"|修图|修照片|编辑照片|美化照片",
    re.IGNORECASE,
)
_LOCAL_PATH = re.compile(r"(?:^|\s)(?:~|/(?:home|Users|tmp)|[A-Za-z]:\\)[^\s]*\.\w{2,4}\b")
_URL = re.compile(r"https?://[^\s\"'<>]+", re.IGNORECASE)


def is_streaming_link(url: str) -> bool:
    """True for a YouTube or Spotify link (B-CLI-22)."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in STREAMING_HOSTS)


def limit_notes(text: str, *, has_video: bool) -> list[str]:
    """Honest-limit notes for a chat message (B-CLI-22); the message itself is sent unchanged."""
    notes: list[str] = []
    if has_video and _ASPECT.search(text):
        notes.append(ASPECT_NOTE)
    if any(is_streaming_link(url) for url in _URL.findall(text)):
        notes.append(LIBRARY_NOTE)
    if _PHOTO_EDIT.search(text):
        notes.append(SLIDESHOW_NOTE)
    if _LOCAL_PATH.search(text):
        notes.append(SEND_FILES_NOTE)
    return notes
