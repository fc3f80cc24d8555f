"""Words and codes that both sides of the wire use: one home for the mock, the client and client-check.

The mock (`mockserver`) says these, the reference client (`client`) recognises them and
client-check (`conformance.clientcheck`) serves and looks for them. Each fact lives here once, so
the sides cannot drift apart; this module imports nothing from any of them.

- tool names of the backend agent (B-SSE-07);
- business codes (B-ERR-01) and the HTTP statuses the mock maps them to (U-01);
- token prefixes (B-AUTH-04, B-AUTH-20);
- the trailing "temporary issue" noise (B-SSE-12): the mock's wording in each language (U-18),
  the pattern a client recognises it by, and the looser pattern that finds any mention of it.
"""

from __future__ import annotations

import re
from typing import Final, Literal

Language = Literal["en", "zh"]

# ---------------------------------------------------------------------------- tools (B-SSE-07)

GENERATE_TOOL: Final = "generate_video_with_seedance"
EDIT_TOOL: Final = "edit_multitrack"

# ---------------------------------------------------------------------------- codes (B-ERR-01, U-01)

TOKEN_INVALID: Final = 1001
SESSION_NOT_FOUND: Final = 1002
INSUFFICIENT_CREDITS: Final = 2001
UNSUPPORTED_FILE: Final = 4001
FILE_TOO_LARGE: Final = 4002

BUSINESS_CODES: Final = (
    TOKEN_INVALID,
    SESSION_NOT_FOUND,
    INSUFFICIENT_CREDITS,
    UNSUPPORTED_FILE,
    FILE_TOO_LARGE,
)

#: `--error-status mapped`: the HTTP status each business code is sent with (U-01).
MAPPED_STATUS: Final[dict[int, int]] = {
    TOKEN_INVALID: 401,
    SESSION_NOT_FOUND: 404,
    INSUFFICIENT_CREDITS: 402,
    UNSUPPORTED_FILE: 415,
    FILE_TOO_LARGE: 413,
}

# ---------------------------------------------------------------------------- tokens

USER_TOKEN_PREFIX: Final = "nmv_usr_"  # B-AUTH-04
CLAIM_TOKEN_PREFIX: Final = "clm_"  # B-AUTH-20: opens the browser link, no API access

# ---------------------------------------------------------------------------- the trailing noise (B-SSE-12)

#: U-18: the whole text the mock sends. Only the English opening is documented ("I encountered a
#: temporary issue"); the rest, and the Chinese a Chinese conversation gets, are the mock's wording.
TEMPORARY_ISSUE: Final[dict[Language, str]] = {
    "en": "I encountered a temporary issue while processing your request. Please try again.",
    "zh": "处理您的请求时遇到了临时问题，请稍后重试。",
}

#: How a client recognises the noise: a text that *opens* with it, in either language, with the
#: usual variations ("Sorry, I've encountered a temporary issue", "抱歉，我遇到了临时问题").
TEMPORARY_ISSUE_OPENING: Final = re.compile(
    r"^[\W_]*(?:sorry[,!.]?\s*)?i(?:'ve|’ve|\s+have)?\s+encountered\s+a\s+temporary\s+issue"
    r"|^[\W_]*(?:抱歉|对不起)?[\W_]*我?在?(?:处理(?:您|你)的请求时)?遇到了(?:一个|一些)?临时(?:性)?问题",
    re.IGNORECASE,
)

#: Any mention of the noise anywhere in a text: what must not reach a user after a normal reply.
TEMPORARY_ISSUE_MENTION: Final = re.compile(r"temporary issue|临时(?:性)?问题", re.IGNORECASE)


def is_temporary_issue(text: str) -> bool:
    """True for the backend's "I encountered a temporary issue" noise text (B-SSE-12, U-18)."""
    return TEMPORARY_ISSUE_OPENING.search(text.strip()) is not None
