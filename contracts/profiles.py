"""Skill profiles: SKILL.md files whose frontmatter sets the limits a skill documents (B-PROF-*).

A profile is read from a shipped one (`contracts/data/profiles/<name>/SKILL.md`) or from any
SKILL.md a user points at. Both the mock and the client read profiles through this module.

Where a value comes from, weakest first: the upstream defaults (the `Profile` field defaults),
what the skill's text says (an upload cap like "up to 200MB", the create-session body, "1-3
minutes" of processing), and the twin's own `nemo:` block in the frontmatter. Marketplace copies
of the skill often have no frontmatter at all, or have it flattened onto one line and mis-decoded
(B-PROF-06); the parser takes what it can from such text instead of failing.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from contracts.resources import PROFILES_DIR

DEFAULT_PROFILE = "nemo-video"
SKILL_FILE = "SKILL.md"

#: Upload caps are written in MB; the twin reads 1 MB as 1024 * 1024 bytes.
BYTES_PER_MB = 1024 * 1024
#: Upstream states no cap (B-UPL-08); the twin uses the largest cap a skill documents.
DEFAULT_UPLOAD_CAP_MB = 500

#: Accepted extensions per file type (B-UPL-05).
DOCUMENTED_FORMATS: dict[str, tuple[str, ...]] = {
    "video": ("mp4", "mov", "avi", "webm", "mkv"),
    "image": ("jpg", "png", "gif", "webp"),
    "audio": ("mp3", "wav", "m4a", "aac"),
}

#: Rows of the upstream GUI-translation table (B-CLI-03), in its order.
GUI_TRANSLATION_ROWS: tuple[str, ...] = (
    "click",
    "open",
    "drag_drop",
    "preview_timeline",
    "export_button",
    "check_billing",
)

#: The client's 402 and 2001 (registered) remedies as upstream words them (B-ERR-05).
DEFAULT_EXPORT_BLOCKED_REMEDY = "Register at nemovideo.com to unlock export."
DEFAULT_TOP_UP_REMEDY = "Top up at nemovideo.com"


@dataclass(frozen=True, slots=True)
class Profile:
    """What one skill documents: identity, limits, cadences and costs."""

    name: str
    version: str | None
    upload_cap_bytes: int | None  # None: no cap
    accepted_formats: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DOCUMENTED_FORMATS))
    recommended_formats: tuple[str, ...] = ()
    session_language: str | None = "en"  # body `language` the skill sends; None: omitted (seed 003)
    poll_interval_s: float = 30.0
    max_polls: int = 10
    sse_timeout_s: float = 900.0
    heartbeat_interval_s: float = 5.0  # U-04, the mock's choice
    generation_cost: int = 100
    edit_cost: int = 50
    export_cost: int = 0
    text_reply_s: tuple[float, float] = (5.0, 15.0)
    generation_s: tuple[float, float] = (100.0, 300.0)
    edit_s: tuple[float, float] = (10.0, 30.0)
    render_s: tuple[float, float] = (30.0, 90.0)
    render_shape: str = "A"  # B-REN-06 (A) or B-REN-07 (B)
    claim_token: bool = True
    cancel_endpoint: bool = False
    gui_translation: bool = True
    source_path: str | None = None  # where the SKILL.md was read from
    download_fallback: bool = True  # B-REN-13; the seeds do not document it (B-PROF-07)
    gui_translation_rows: tuple[str, ...] = GUI_TRANSLATION_ROWS
    gui_translation_note: str | None = None
    export_blocked_remedy: str = DEFAULT_EXPORT_BLOCKED_REMEDY
    top_up_remedy: str = DEFAULT_TOP_UP_REMEDY

    @property
    def upload_cap_mb(self) -> float | None:
        """The upload cap in MB as the skill states it, or None for no cap."""
        return None if self.upload_cap_bytes is None else self.upload_cap_bytes / BYTES_PER_MB

    def extension_type(self, ext: str) -> str | None:
        """The file type ('video', 'image', 'audio') an extension is accepted as, or None."""
        ext = ext.lower().lstrip(".")
        if ext == "jpeg":
            ext = "jpg"
        for kind, exts in self.accepted_formats.items():
            if ext in exts:
                return kind
        return None


class ProfileError(ValueError):
    """A profile that cannot be found, read or understood; says which file and what is wrong."""

    def __init__(self, path: str | os.PathLike[str] | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(problem if self.path is None else f"{self.path}: {problem}")


# ---------------------------------------------------------------------------- finding profiles


def shipped_profiles() -> list[str]:
    """Names of the shipped profiles (contracts/data/profiles), sorted."""
    if not PROFILES_DIR.is_dir():
        return []
    return sorted(p.name for p in PROFILES_DIR.iterdir() if (p / SKILL_FILE).is_file())


def profile_path(name: str) -> Path:
    """The SKILL.md of a shipped profile; ProfileError naming it if there is none."""
    path = PROFILES_DIR / name / SKILL_FILE
    if not _looks_like_name(name) or not path.is_file():
        shipped = ", ".join(shipped_profiles())
        raise ProfileError(None, f"unknown profile {name!r} (shipped profiles: {shipped})")
    return path


def load_profile(name_or_path: str | os.PathLike[str] | None = None) -> Profile:
    """Read a profile: None (the default, nemo-video), a shipped name, or a path to a SKILL.md.

    A path may also name the folder that holds SKILL.md.
    """
    path = _resolve(name_or_path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise ProfileError(path, f"cannot read the file ({exc.strerror or exc})") from exc
    return _load_cached(path, stamp)


@functools.lru_cache(maxsize=64)
def _load_cached(path: Path, stamp: int) -> Profile:
    """Profiles are frozen, so one parse per file version serves every caller."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProfileError(path, f"cannot read the file ({exc.strerror or exc})") from exc
    # Marketplace copies are sometimes mangled; a stray byte must not lose the whole profile.
    text = raw.decode("utf-8", errors="replace")
    return profile_from_text(text, source_path=path)


def _resolve(name_or_path: str | os.PathLike[str] | None) -> Path:
    if name_or_path is None:
        return profile_path(DEFAULT_PROFILE)
    if isinstance(name_or_path, str) and _looks_like_name(name_or_path):
        if (PROFILES_DIR / name_or_path / SKILL_FILE).is_file():
            return PROFILES_DIR / name_or_path / SKILL_FILE
        if not Path(name_or_path).exists():
            return profile_path(name_or_path)  # raises, listing the shipped names
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        path = path / SKILL_FILE
    if not path.is_file():
        raise ProfileError(path, "no such SKILL.md file")
    return path


def _looks_like_name(value: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value) is not None and not value.endswith(".md")


# ---------------------------------------------------------------------------- frontmatter

_FENCE = "---"
_FENCE_ENDS = ("---", "...")


def parse_frontmatter(text: str) -> tuple[dict[str, Any], str]:
    """Split a SKILL.md into its frontmatter mapping and its body.

    Without a `---` fenced block at the top (after blank lines) the frontmatter is empty and the
    body is the whole text. YAML that does not parse, such as a frontmatter flattened onto one
    line, is read loosely for its `name`, `version`, `description` and `metadata`.
    """
    text = text.removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start == len(lines) or lines[start].strip() != _FENCE:
        return {}, text
    for end in range(start + 1, len(lines)):
        if lines[end].strip() in _FENCE_ENDS:
            block = "".join(lines[start + 1 : end])
            return _yaml_mapping(block), "".join(lines[end + 1 :])
    return {}, text  # an opening fence that never closes is not frontmatter


def _yaml_mapping(block: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError:
        return _loose_mapping(block)
    if data is None:
        return {}
    if not isinstance(data, dict):
        return _loose_mapping(block)
    return {str(key): value for key, value in data.items()}


#: Keys a skill's frontmatter has and that may be read from a flattened line.
_LOOSE_KEYS = ("name", "version", "displayName", "description", "homepage", "repository", "metadata")
_LOOSE_KEY = re.compile(r"(?:^|(?<=\s))(" + "|".join(_LOOSE_KEYS) + r"):(?=\s)", re.MULTILINE)


def _loose_mapping(block: str) -> dict[str, Any]:
    """Known `key: value` pairs from text that is not valid YAML (e.g. all keys on one line)."""
    found = list(_LOOSE_KEY.finditer(block))
    data: dict[str, Any] = {}
    for match, following in zip(found, [*found[1:], None], strict=True):
        key = match.group(1)
        if key in data:
            continue  # the first occurrence is the frontmatter's; later ones are prose
        end = following.start() if following is not None else len(block)
        value = " ".join(block[match.end() : end].split())
        data[key] = _loose_value(key, value)
    return data


def _loose_value(key: str, value: str) -> Any:
    if key == "metadata":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    value = value.removeprefix(">").removeprefix("|").strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return value


# ---------------------------------------------------------------------------- what the text says

_INSTALL = re.compile(r"(?:openclaw\s+skills|clawhub)\s+install\s+([a-z0-9][a-z0-9._-]*)")
# The lower-case pattern stops where marketplace text glues the next sentence on ("...-aiSend me").
_SOURCE_HEADER = re.compile(r"X-Skill-Source\s*(?:\||:|is\b)\s*([a-z0-9][a-z0-9._-]*)")
_UPLOAD_CAP = re.compile(
    r"(?:up\s+to|max(?:imum)?(?:\s+file)?\s+size(?:\s+is|\s+of)?|size\s+(?:cap|limit)(?:\s+is|\s+of)?)"
    r"\s*:?\s*(\d+(?:\.\d+)?)\s*(MB|GB)\b",
    re.IGNORECASE,
)
_SESSION_BODY = re.compile(
    r'\{\s*"task_name"\s*:\s*"[^"]*"\s*(?:,\s*"language"\s*:\s*"([^"]*)"\s*)?\}',
)
_MINUTES = re.compile(r"\b(\d+)\s*[-–]\s*(\d+)\s*min(?:ute)?s?\b", re.IGNORECASE)
_INLINE_FRONTMATTER = re.compile(r"^[ \t]*name:[ \t]*\S.*$", re.MULTILINE)
#: The create-session body's template placeholder: the skill sends the user's language.
_LANGUAGE_PLACEHOLDER = "<lang>"


def _name_from_text(text: str) -> str | None:
    """The skill name an install command (or the X-Skill-Source statement) in the text gives."""
    installs = _INSTALL.findall(text)
    candidates = installs + _SOURCE_HEADER.findall(text)
    if not candidates:
        return None
    # Glued text yields names with extra tails; the one all others start with is the real name.
    for name in sorted(set(candidates), key=len):
        if all(other.startswith(name) for other in candidates):
            return name
    return installs[0] if installs else candidates[0]


def _settings_from_text(text: str) -> dict[str, Any]:
    """Profile values the prose of a skill states, for files without a `nemo:` block."""
    settings: dict[str, Any] = {}
    if cap := _UPLOAD_CAP.search(text):
        amount = float(cap.group(1)) * (1024 if cap.group(2).upper() == "GB" else 1)
        settings["upload_cap_bytes"] = int(amount * BYTES_PER_MB)
    if body := _SESSION_BODY.search(text):
        language = body.group(1)
        if language != _LANGUAGE_PLACEHOLDER:
            settings["session_language"] = language  # None: the body has no language (B-SESS-05)
    if minutes := _MINUTES.search(text):
        low, high = sorted((float(minutes.group(1)) * 60, float(minutes.group(2)) * 60))
        settings["generation_s"] = (low, high)
    return settings


# ---------------------------------------------------------------------------- the nemo: block


class _Invalid(Exception):
    """One bad value in a `nemo:` block, reported as a ProfileError by the caller."""


def _number(key: str, value: Any, *, minimum: float = 0.0, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(f"nemo.{key} must be a number, got {value!r}")
    if value < minimum or (positive and value == 0):
        raise _Invalid(f"nemo.{key} must be {'above' if positive else 'at least'} {minimum:g}, got {value!r}")
    return float(value)


def _count(key: str, value: Any, *, positive: bool = True) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"nemo.{key} must be an integer, got {value!r}")
    if value < (1 if positive else 0):
        raise _Invalid(f"nemo.{key} must be {'positive' if positive else 'zero or more'}, got {value!r}")
    return value


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"nemo.{key} must be true or false, got {value!r}")
    return value


def _text(key: str, value: Any, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _Invalid(f"nemo.{key} must be a string{' or null' if optional else ''}, got {value!r}")
    return value


def _words(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Invalid(f"nemo.{key} must be a list of strings, got {value!r}")
    return tuple(item.strip().lower().lstrip(".") for item in value)


def _mapping(key: str, value: Any, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(f"nemo.{key} must be a mapping, got {value!r}")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise _Invalid(f"nemo.{key} has unknown keys {unknown} (known: {list(allowed)})")
    return value


def _range(key: str, value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise _Invalid(f"nemo.{key} must be a [low, high] pair, got {value!r}")
    low = _number(key, value[0], positive=False)
    high = _number(key, value[1], positive=False)
    if low > high:
        raise _Invalid(f"nemo.{key} must have low <= high, got {value!r}")
    return (low, high)


def _upload_cap(value: Any) -> dict[str, Any]:
    if value is None:
        return {"upload_cap_bytes": None}
    return {"upload_cap_bytes": int(_number("upload_cap_mb", value) * BYTES_PER_MB)}


def _accepted_formats(value: Any) -> dict[str, Any]:
    kinds = _mapping("accepted_formats", value, tuple(DOCUMENTED_FORMATS))
    formats = {str(kind): _words(f"accepted_formats.{kind}", exts) for kind, exts in kinds.items()}
    return {"accepted_formats": formats}


def _session_language(value: Any) -> dict[str, Any]:
    return {"session_language": _text("session_language", value, optional=True)}


def _costs(value: Any) -> dict[str, Any]:
    costs = _mapping("costs", value, ("generation", "edit", "export"))
    return {f"{kind}_cost": _count(f"costs.{kind}", n, positive=False) for kind, n in costs.items()}


def _durations(value: Any) -> dict[str, Any]:
    durations = _mapping("durations", value, ("text_reply_s", "generation_s", "edit_s", "render_s"))
    return {str(kind): _range(f"durations.{kind}", pair) for kind, pair in durations.items()}


def _render_shape(value: Any) -> dict[str, Any]:
    if value not in ("A", "B"):
        raise _Invalid(f"nemo.render_shape must be 'A' or 'B', got {value!r}")
    return {"render_shape": value}


def _gui_rows(value: Any) -> dict[str, Any]:
    rows = _words("gui_translation_rows", value)
    unknown = [row for row in rows if row not in GUI_TRANSLATION_ROWS]
    if unknown:
        raise _Invalid(
            f"nemo.gui_translation_rows has unknown rows {unknown} (known: {list(GUI_TRANSLATION_ROWS)})"
        )
    return {"gui_translation_rows": rows}


def _remedies(value: Any) -> dict[str, Any]:
    remedies = _mapping("remedies", value, ("export_blocked", "top_up"))
    return {f"{kind}_remedy": _text(f"remedies.{kind}", text) for kind, text in remedies.items()}


def _scalar(key: str, convert: Callable[[str, Any], Any]) -> Callable[[Any], dict[str, Any]]:
    return lambda value: {key: convert(key, value)}


#: Each `nemo:` key and how it becomes Profile fields.
_NEMO_KEYS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "upload_cap_mb": _upload_cap,
    "accepted_formats": _accepted_formats,
    "recommended_formats": _scalar("recommended_formats", _words),
    "session_language": _session_language,
    "poll_interval_s": _scalar("poll_interval_s", _number),
    "max_polls": _scalar("max_polls", _count),
    "sse_timeout_s": _scalar("sse_timeout_s", _number),
    "heartbeat_interval_s": _scalar("heartbeat_interval_s", _number),
    "costs": _costs,
    "durations": _durations,
    "render_shape": _render_shape,
    "claim_token": _scalar("claim_token", _flag),
    "cancel_endpoint": _scalar("cancel_endpoint", _flag),
    "download_fallback": _scalar("download_fallback", _flag),
    "gui_translation": _scalar("gui_translation", _flag),
    "gui_translation_rows": _gui_rows,
    "gui_translation_note": _scalar("gui_translation_note", lambda k, v: _text(k, v, optional=True)),
    "remedies": _remedies,
}


def _settings_from_block(block: Any) -> dict[str, Any]:
    if not isinstance(block, dict):
        raise _Invalid(f"the nemo: block must be a mapping, got {block!r}")
    unknown = sorted(str(key) for key in block if key not in _NEMO_KEYS)
    if unknown:
        raise _Invalid(f"the nemo: block has unknown keys {unknown} (known: {list(_NEMO_KEYS)})")
    settings: dict[str, Any] = {}
    for key, value in block.items():
        settings.update(_NEMO_KEYS[key](value))
    return settings


# ---------------------------------------------------------------------------- assembling a Profile


def profile_from_text(text: str, source_path: str | os.PathLike[str] | None = None) -> Profile:
    """Build a Profile from the text of a SKILL.md (see the module docstring for precedence)."""
    frontmatter, _ = parse_frontmatter(text)
    if not frontmatter and (inline := _INLINE_FRONTMATTER.search(text)):
        frontmatter = _loose_mapping(inline.group(0))  # e.g. seed 004: frontmatter kept on one line
    try:
        block = _settings_from_block(frontmatter.get("nemo") or {})  # an empty `nemo:` is no block
    except _Invalid as exc:
        raise ProfileError(source_path, str(exc)) from None
    settings = {**_settings_from_text(text), **block}
    settings.setdefault("upload_cap_bytes", DEFAULT_UPLOAD_CAP_MB * BYTES_PER_MB)
    return Profile(
        name=_skill_name(frontmatter, text, source_path),
        version=_skill_version(frontmatter, source_path),
        source_path=None if source_path is None else str(source_path),
        **settings,
    )


def _skill_name(frontmatter: Mapping[str, Any], text: str, source_path: str | os.PathLike[str] | None) -> str:
    name = frontmatter.get("name")
    if name is not None and not isinstance(name, str):
        raise ProfileError(source_path, f"frontmatter name must be a string, got {name!r}")
    if name and name.strip():
        return name.strip()
    if derived := _name_from_text(text):
        return derived
    if source_path is not None and Path(source_path).parent.name:
        return Path(source_path).parent.name
    raise ProfileError(source_path, "no skill name: no frontmatter name, install command or folder")


def _skill_version(frontmatter: Mapping[str, Any], source_path: str | os.PathLike[str] | None) -> str | None:
    version = frontmatter.get("version")
    if version is None:
        return None
    if isinstance(version, bool) or not isinstance(version, str | int | float):
        raise ProfileError(source_path, f"frontmatter version must be a string, got {version!r}")
    return str(version).strip() or None  # an unquoted `version: 1.9` is read as a number
