"""Where a remedy is decided: the one table from a failure to what the user is told (B-ERR-05).

Every kind of error the client knows (`ErrorKind`; each `NemoError` subclass names its kind) has
one row in `ROWS`:

- `rules`: the rule ids that document it (none for failures the sources do not describe);
- `failure`: the category a request that ends with it falls in, and with it the exit code of
  `nemo-client` (`Failure.exit_code`, the README's table);
- `remedy`: what to do, as the exception carries it (`NemoError.remedy`) for a caller of `Client`;
- `line`, and `registered` where a registered user reads another one: the one line the skill
  shows when the request ends with this error (`client.flows`);
- `notice`: what the skill says when it handles the error itself (a 1002 starts a new session).

The texts are templates. A `RemedyTable` fills them with one skill profile's own wording (its 402
and top-up sentences, B-PROF-05/06; its accepted formats and upload cap) and the web base
(B-ENV-02), once, and per error with what only the error knows (its message, a cap the server
states, the anonymous user id for the `?bind=` link, B-CLI-20). Each client builds one from its
profile (`BaseClient.remedies`); an error made without a client takes `default_remedies()`, which
speaks with the upstream skill's words.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from contracts.profiles import (
    DEFAULT_EXPORT_BLOCKED_REMEDY,
    DEFAULT_TOP_UP_REMEDY,
    DOCUMENTED_FORMATS,
    Profile,
)

from .links import DEFAULT_WEB_URL, DOCUMENTED_WEB_HOST, register_link, web_base

if TYPE_CHECKING:
    from .errors import NemoError

#: B-ERR-05: a 429 waits 30 s and retries once (the retry policy in `client._core` waits this long).
RATE_LIMIT_WAIT_S = 30.0
# The failures v1.9 §7 lists as "Common", which end a request without an error of the API:
#: Render failed again after the one retry with a new id (B-CLI-16).
RENDER_FAILED_TWICE = "Export failed twice; please try again later."
#: Export asked for before there is anything to render (B-CLI-14, v1.9 §3.5a).
NOTHING_TO_EXPORT = "Nothing to export yet: describe the video you want and I'll generate it first."
#: Disconnect recovery saw no change (B-CLI-17, v1.9 §3.6); `{waits}`: what the checks really took
#: ("5 checks over 0.02 s at the server's time scale 0").
RECOVERY_FAILED = (
    "No change after {waits}: the request seems to have failed. Send the same message again to retry."
)


class ErrorKind(StrEnum):
    """The kinds of failure the client tells apart; each `NemoError` subclass names one."""

    API = "api"
    TOKEN_INVALID = "token_invalid"
    SESSION_NOT_FOUND = "session_not_found"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    UNSUPPORTED_FILE = "unsupported_file"
    FILE_TOO_LARGE = "file_too_large"
    BAD_REQUEST = "bad_request"
    MISSING_CLIENT_ID = "missing_client_id"
    EXPORT_BLOCKED = "export_blocked"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    TRANSPORT_ERROR = "transport_error"
    STREAM_TIMEOUT = "stream_timeout"


class Failure(StrEnum):
    """Why a request did not succeed; each category is one exit code of `nemo-client`."""

    GENERIC = "generic"  # nothing to export yet, and anything not named below
    AUTH = "auth"  # 1001 after the re-auth, 400 after a new client id
    CREDITS = "credits"  # 2001
    PLAN = "plan"  # 402: a subscription limit, not credits (B-REN-16)
    FILE = "file"  # 4001, 4002, an unreadable local file
    SERVER = "server"  # 5xx, transport failures, 429 after the one retry, failed renders
    TIMEOUT = "timeout"  # recovery found no change after 5 checks, a render that never finished

    @property
    def exit_code(self) -> int:
        """The exit code `nemo-client` ends with (README, `nemo-client --help`)."""
        return EXIT_CODES[self]


#: The exit code of each failure category; 0 (success), 2 (usage) and 130 belong to the CLI.
EXIT_CODES: Final[Mapping[Failure, int]] = MappingProxyType(
    {
        Failure.GENERIC: 1,
        Failure.AUTH: 3,
        Failure.CREDITS: 4,
        Failure.PLAN: 4,
        Failure.FILE: 5,
        Failure.SERVER: 6,
        Failure.TIMEOUT: 7,
    }
)


@dataclass(frozen=True, slots=True)
class Remedy:
    """One row of the table (see the module docstring); the texts are templates."""

    rules: tuple[str, ...]
    failure: Failure
    remedy: str
    line: str = "{message} {remedy}"
    registered: str | None = None
    notice: str | None = None


#: The table. Template fields: {web}, {formats}, {wait}; the profile's sentences as written,
#: {export_blocked} whole and {top_up} as a clause; {unlock_export} and {top_up_here} with the web
#: base in place of the documented host; per error {message}, {remedy}, {register} (the `?bind=`
#: link) and {limit} (" (limit 200 MB)" or nothing).
ROWS: Final[Mapping[ErrorKind, Remedy]] = MappingProxyType(
    {
        ErrorKind.API: Remedy(("B-ERR-01",), Failure.SERVER, "Try again later."),
        ErrorKind.TOKEN_INVALID: Remedy(
            ("B-AUTH-14", "B-ERR-05"),
            Failure.AUTH,
            "Get a new anonymous token with the same client id, or set a valid NEMO_TOKEN.",
            # The core has already re-authenticated once (B-AUTH-14): now the user has to act.
            "Your NEMO_TOKEN is invalid, expired or revoked; "
            "create a new one under Settings → API Tokens at {web}.",
        ),
        ErrorKind.SESSION_NOT_FOUND: Remedy(
            ("B-SESS-07", "B-ERR-05"),
            Failure.SERVER,
            "Create a new session and continue there.",
            notice="That session no longer exists; starting a new session.",
        ),
        ErrorKind.INSUFFICIENT_CREDITS: Remedy(
            ("B-CRED-05", "B-CLI-20", "B-ERR-05"),
            Failure.CREDITS,
            "Anonymous: register at {web} with the ?bind=<user id> link to keep your work; "
            "registered: {top_up}.",
            "Out of credits. Register at {register} to keep your work and get more credits.",
            registered="Out of credits. {top_up_here}.",
        ),
        ErrorKind.UNSUPPORTED_FILE: Remedy(
            ("B-UPL-05", "B-UPL-07", "B-ERR-05"),
            Failure.FILE,
            "Send one of the supported formats: {formats}.",
            "Unsupported file type. Supported: {formats}.",
        ),
        ErrorKind.FILE_TOO_LARGE: Remedy(
            ("B-UPL-07", "B-UPL-08", "B-ERR-05"),
            Failure.FILE,
            "Compress or trim the file, then upload it again.",
            "File too large{limit}. Compress or trim it, then send it again.",
        ),
        ErrorKind.BAD_REQUEST: Remedy(
            ("B-ERR-02",), Failure.SERVER, "Check the request; this is a client bug if it persists."
        ),
        ErrorKind.MISSING_CLIENT_ID: Remedy(
            ("B-AUTH-02", "B-ERR-05"),
            Failure.AUTH,
            "Create a client id (a UUID), save it and retry.",
            "{message} Set NEMO_CLIENT_ID to a UUID and try again.",
        ),
        ErrorKind.EXPORT_BLOCKED: Remedy(
            ("B-REN-16", "B-ATTR-08", "B-ERR-05"),
            Failure.PLAN,
            "{export_blocked}",
            # B-REN-16: say it is the plan, so the user does not go buying credits.
            "Export needs a plan upgrade: {unlock_export} (this is a subscription limit, not credits).",
        ),
        ErrorKind.RATE_LIMITED: Remedy(
            ("B-AUTH-08", "B-ERR-05"),
            Failure.SERVER,
            "Wait {wait:g} seconds and retry once.",
            "Rate limited; wait {wait:g} s and retry.",
        ),
        ErrorKind.SERVER_ERROR: Remedy((), Failure.SERVER, "Try again in a little while."),
        ErrorKind.TRANSPORT_ERROR: Remedy(
            (), Failure.SERVER, "Check the network connection and NEMO_API_URL."
        ),
        ErrorKind.STREAM_TIMEOUT: Remedy(
            ("B-SSE-16", "B-CLI-07"),
            Failure.TIMEOUT,
            "Do not re-send the message: query the state to see whether the work went on.",
        ),
    }
)


class RemedyTable:
    """The rows filled with one profile's wording and one web base; built once per client."""

    __slots__ = ("_remedies", "_words", "upload_cap_bytes", "web")

    def __init__(self, profile: Profile | None = None, web_url: str = DEFAULT_WEB_URL) -> None:
        self.web = web_base(web_url)
        self.upload_cap_bytes = profile.upload_cap_bytes if profile is not None else None
        export_blocked = (
            profile.export_blocked_remedy if profile is not None else DEFAULT_EXPORT_BLOCKED_REMEDY
        )
        top_up = profile.top_up_remedy if profile is not None else DEFAULT_TOP_UP_REMEDY
        formats = profile.accepted_formats if profile is not None else DOCUMENTED_FORMATS
        self._words: dict[str, object] = {
            "web": self.web,
            "formats": format_list(formats),
            "wait": RATE_LIMIT_WAIT_S,
            "export_blocked": export_blocked.strip(),
            "top_up": _clause(top_up),
            "unlock_export": _clause(_at_web(export_blocked, self.web)),
            "top_up_here": _sentence(_at_web(top_up, self.web)),
        }
        self._remedies = {kind: row.remedy.format_map(self._words) for kind, row in ROWS.items()}

    def remedy(self, kind: ErrorKind) -> str:
        """What to do about an error of `kind`, as its exception carries it."""
        return self._remedies[kind]

    def failure(self, kind: ErrorKind) -> Failure:
        """The failure category (and exit code) of a request that ends with an error of `kind`."""
        return ROWS[kind].failure

    def notice(self, kind: ErrorKind) -> str:
        """What the skill says when it handles an error of `kind` itself; KeyError if it never does."""
        text = ROWS[kind].notice
        if text is None:
            raise KeyError(f"the client does not handle {kind} itself")
        return text.format_map(self._words)

    def wants_user_id(self, kind: ErrorKind) -> bool:
        """Whether the anonymous line for `kind` carries the `?bind=<user id>` link (B-CLI-20)."""
        return "{register}" in ROWS[kind].line

    def line(self, error: NemoError, *, anonymous: bool, user_id: str | None = None) -> str:
        """The one line the user reads when a request ends with `error` (B-ERR-05).

        `anonymous` picks the wording (B-CRED-05); `user_id` is the anonymous user id for the
        registration link; a 4002 names the cap the server's message states, else the profile's.
        """
        row = ROWS[error.kind]
        template = row.registered if row.registered is not None and not anonymous else row.line
        cap = stated_cap_bytes(error.message) or self.upload_cap_bytes
        return template.format_map(
            {
                **self._words,
                "message": error.message,
                "remedy": error.remedy,
                "register": register_link(self.web, user_id),
                "limit": f" (limit {_size(cap)})" if cap else "",
            }
        )


@functools.cache
def default_remedies() -> RemedyTable:
    """The table with the upstream skill's wording and web base, for errors made without a client."""
    return RemedyTable()


# ---------------------------------------------------------------------------- fitting words into lines

_DOCUMENTED_HOST = re.compile(
    r"(?<![\w.-])(?:https?://)?(?:www\.)?" + re.escape(DOCUMENTED_WEB_HOST) + r"(?![\w-])", re.IGNORECASE
)


def _at_web(text: str, web: str) -> str:
    """`text` with the configured web base where a skill's sentence names nemovideo.com (B-ENV-02)."""
    return _DOCUMENTED_HOST.sub(lambda _: web, text)


def _sentence(text: str) -> str:
    """A sentence without its closing full stop, so a line can end it (or go on) itself."""
    return text.strip().rstrip(".").rstrip()


def _clause(text: str) -> str:
    """A sentence fitted into the middle of a line: no full stop, a lower-case first word."""
    body = _sentence(text)
    if body[:2].isupper():  # an acronym stays as it is
        return body
    return body[:1].lower() + body[1:]


Formats = Mapping[str, Iterable[str]] | Iterable[str]


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
