"""What to tell the user for each documented error, and the two browser links the client builds.

One line per error code, from the skill's error table (B-ERR-05, v1.9 §7) with the seeds' wording
for 402 (seeds 003/004: "register or upgrade your plan"). The anonymous out-of-credits message
carries the registration link with `?bind=<anonymous user id>` so the work is kept (B-CRED-05,
B-CLI-20). No message or link ever carries a user token (`nmv_usr_…`, B-AUTH-22): the link
builders refuse one, and `remedy` leaves the bind parameter out rather than leak it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote

from contracts import wording
from contracts.profiles import DOCUMENTED_FORMATS

DEFAULT_WEB_URL = "https://nemovideo.com"  # B-ENV-02
USER_TOKEN_PREFIX = wording.USER_TOKEN_PREFIX  # B-AUTH-04
ANONYMOUS_USER_PREFIX = "anon_"  # B-AUTH-04

#: Render failed again after the one retry with a new id (B-CLI-16, v1.9 §7 "Common").
RENDER_FAILED_TWICE = "Export failed twice; please try again later."
#: Export asked for before there is anything to render (B-CLI-14, v1.9 §3.5a).
NOTHING_TO_EXPORT = "Nothing to export yet: describe the video you want and I'll generate it first."

Formats = Mapping[str, Iterable[str]] | Iterable[str]


def _looks_like_token(value: str) -> bool:
    return USER_TOKEN_PREFIX in value.lower()


def _web(web_url: str) -> str:
    """The web base without a trailing slash; a URL holding a user token is never used."""
    base = web_url.strip().rstrip("/")
    return DEFAULT_WEB_URL if not base or _looks_like_token(base) else base


def is_anonymous(user_id: str | None) -> bool:
    """Anonymous accounts have ids starting `anon_` (B-AUTH-04)."""
    return bool(user_id) and str(user_id).startswith(ANONYMOUS_USER_PREFIX)


def claim_link(web_url: str, claim_token: str) -> str:
    """The task detail link `{web}/workspace/claim?ct=<claim_token>` (B-CLI-19, B-AUTH-20).

    Raises ValueError for a user token: only the claim token may go into a URL (B-AUTH-22).
    """
    if _looks_like_token(claim_token) or _looks_like_token(web_url):
        raise ValueError("a user token must never be put in a URL (B-AUTH-22); pass the clm_ claim token")
    return f"{_web(web_url)}/workspace/claim?ct={quote(claim_token, safe='')}"


def bind_link(web_url: str, user_id: str) -> str:
    """The registration link `{web}/register?bind=<anonymous user id>` (B-CLI-20, B-CRED-05).

    Raises ValueError when `user_id` is a user token rather than a user id (B-AUTH-22).
    """
    if _looks_like_token(user_id) or _looks_like_token(web_url):
        raise ValueError("bind takes the anonymous user id (anon_…), never the user token (B-AUTH-22)")
    return f"{_web(web_url)}/register?bind={quote(user_id, safe='')}"


def format_list(accepted_formats: Formats) -> str:
    """Accepted extensions as "mp4, mov, …", from a profile's format table or a flat list."""
    groups = accepted_formats.values() if isinstance(accepted_formats, Mapping) else [accepted_formats]
    seen: list[str] = []
    for group in groups:
        for ext in [group] if isinstance(group, str) else group:
            ext = str(ext).lower().lstrip(".")
            if ext and ext not in seen:
                seen.append(ext)
    return ", ".join(seen)


_UNITS = {"b": 1, "bytes": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2, "mib": 1024**2}
_UNITS |= {"g": 1024**3, "gb": 1024**3, "gib": 1024**3}
#: A size in a message ("1 MB", "200MB", "1.5 GB"); digits inside a file name ("clip_2mb") are none.
_STATED_SIZE = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)\s*(bytes|kib|mib|gib|kb|mb|gb|b|k|m|g)\b", re.IGNORECASE
)


def stated_cap_bytes(message: str | None) -> int | None:
    """The upload cap a 4002 message states ("... over the 1 MB limit"), in bytes, or None.

    The server's own words are the truth about its cap; the skill profile only documents one.
    """
    match = _STATED_SIZE.search(message or "")
    if match is None:
        return None
    return round(float(match.group(1)) * _UNITS[match.group(2).lower()])


def _size(cap_bytes: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if cap_bytes >= size:
            return f"{cap_bytes / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{cap_bytes} bytes"


def remedy(
    code: int,
    *,
    anonymous: bool = True,
    user_id: str | None = None,
    web_url: str = DEFAULT_WEB_URL,
    accepted_formats: Formats = DOCUMENTED_FORMATS,
    upload_cap_bytes: int | None = None,
) -> str:
    """The one-line message (and what the client does) for a body code or HTTP status (B-ERR-05).

    `anonymous` picks the 2001 and 402 wording; `user_id` is the anonymous user id for the bind
    link (B-CLI-20); `accepted_formats` and `upload_cap_bytes` come from the skill profile.
    """
    web = _web(web_url)
    if code == 1001:
        if anonymous:
            return "Your access token expired or is invalid; getting a new one with the same client id."
        return (
            "Your NEMO_TOKEN is invalid, expired or revoked; "
            f"create a new one under Settings → API Tokens at {web}."
        )
    if code == 1002:
        return "That session no longer exists; starting a new session."
    if code == 2001:
        if not anonymous:
            return f"Out of credits. Top up at {web}."
        register = f"{web}/register"
        if user_id and not _looks_like_token(user_id):
            register = bind_link(web, user_id)
        return f"Out of credits. Register at {register} to keep your work and get more credits."
    if code == 4001:
        return f"Unsupported file type. Supported: {format_list(accepted_formats)}."
    if code == 4002:
        limit = f" (limit {_size(upload_cap_bytes)})" if upload_cap_bytes else ""
        return f"File too large{limit}. Compress or trim it, then send it again."
    if code == 400:
        return "The request lacked a client id; creating one and retrying."
    if code == 402:
        how = f"register at {web}" if anonymous else f"upgrade your plan at {web}"
        # B-REN-16: say it is the plan, so the user does not go buying credits.
        return (
            f"Export needs a plan upgrade: {how} to unlock export "
            "(this is a subscription limit, not credits)."
        )
    if code == 429:
        return "Rate limited; wait 30 s and retry."
    return f"Unexpected error (code {code}); please try again."
