"""Everything `nemo-mock serve` can be told, with the defaults the README documents.

Where the sources disagree the default follows the newest upstream document and the option
gives the other shape (see the disagreement table of the behaviour catalogue).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from contracts.profiles import Profile, load_profile

DIALECTS = ("documented", "adk")
ERROR_STATUS_MODES = ("body", "mapped")
RENDER_SHAPES = ("A", "B")
RATE_LIMIT_PROFILES = ("v19", "v44")
CONTROL_TOKEN_RULE = "the control token is 8 to 256 visible ASCII characters"


def valid_control_token(token: str) -> bool:
    return 8 <= len(token) <= 256 and all("!" <= ch <= "~" for ch in token)


@dataclass(slots=True)
class Settings:
    """The mock's configuration; fixed for the life of an app (a reset keeps it)."""

    profile: Profile = field(default_factory=load_profile)
    dialect: str = "documented"
    seed: int = 0
    time_scale: float = 1.0
    control: bool = True
    # U-01: business codes with HTTP 200 ("body") or a mapped status ("mapped").
    error_status: str = "body"
    # B-REN-06 (A, default) or B-REN-07 (B).
    render_shape: str | None = None  # None: the profile's
    # B-AUTH-05: 7 days; 0 = never expires (v1.0-v1.7).
    token_ttl_s: float = 7 * 86400.0
    rate_limits: str = "v19"
    ip_cap: int | None = None  # None: the profile default of `rate_limits`; 0 = no cap
    # B-ATTR-08 / U-15: 402 on render for anonymous and free accounts without attribution headers;
    # with this on, free accounts get 402 on render whatever they send.
    free_tier_export_blocked: bool = False
    # v1.9 "auth failures": with this on, a call without attribution headers answers 1001.
    strict_attribution: bool = False
    # B-SESS-03: include `user_id` in the create-session answer (api-ref v4.4) or not (v1.9 example).
    session_user_id: bool = True
    # B-REN-17: also mount /api/render/proxy/draft and GET /api/render/proxy/<id>.
    legacy_render_paths: bool = False
    sse_line_ending: str = "\n"
    #: False: no request is journalled (`--journal off`, a load mode: see bench/README.md).
    journal: bool = True
    journal_limit: int = 10000
    #: The journal's bound in bytes (mockserver.journal: what an entry counts, what is cut).
    journal_bytes: int = 16 * 1024 * 1024
    access_log: bool = True
    #: None: a temporary directory removed at shutdown. Given: the mock works in a directory of
    #: its own inside it (`nemo-mock-run-*`) and never touches anything else there.
    data_dir: Path | None = None
    #: A JSON body larger than this is refused with HTTP 413 while it arrives.
    max_json_body: int = 8 * 1024 * 1024
    #: Real seconds a request body may pause before the request is answered 408 and closed.
    body_timeout_s: float = 30.0
    #: With a token, every /_mock call needs `Authorization: Bearer <token>` (`--control-token`).
    control_token: str | None = None

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}")
        if self.error_status not in ERROR_STATUS_MODES:
            raise ValueError(f"error status mode must be one of {', '.join(ERROR_STATUS_MODES)}")
        if self.render_shape is None:
            self.render_shape = self.profile.render_shape
        if self.render_shape not in RENDER_SHAPES:
            raise ValueError(f"render shape must be one of {', '.join(RENDER_SHAPES)}")
        if self.rate_limits not in RATE_LIMIT_PROFILES:
            raise ValueError(f"rate limits must be one of {', '.join(RATE_LIMIT_PROFILES)}")
        if not math.isfinite(self.time_scale) or self.time_scale < 0:
            raise ValueError("time scale must be a finite number >= 0")
        if not math.isfinite(self.token_ttl_s) or self.token_ttl_s < 0:
            raise ValueError("token TTL must be a finite number of seconds >= 0")
        if self.ip_cap is not None and self.ip_cap < 0:
            raise ValueError("IP cap must be >= 0")
        if self.journal_limit < 1 or self.journal_bytes < 1:
            raise ValueError("the journal keeps at least one entry and one byte")
        if self.max_json_body < 1:
            raise ValueError("the JSON body limit is at least 1 byte")
        if not math.isfinite(self.body_timeout_s) or self.body_timeout_s <= 0:
            raise ValueError("the body timeout is a finite number of seconds > 0")
        if self.control_token is not None and not valid_control_token(self.control_token):
            raise ValueError(CONTROL_TOKEN_RULE)
        if self.sse_line_ending not in ("\n", "\r\n"):
            raise ValueError("SSE line ending must be LF or CRLF")
