"""The browser links the client builds, and who counts as anonymous.

Two links go to the user: the task detail link `?ct=<claim token>` (B-CLI-19) and the
registration link `?bind=<anonymous user id>` that keeps an anonymous user's work (B-CLI-20,
B-CRED-05). No link ever carries a user token (`nmv_usr_…`, B-AUTH-22): the builders refuse one,
and `register_link` leaves the bind parameter out rather than leak it.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import quote, urlsplit

from contracts import wording

DEFAULT_WEB_URL = "https://nemovideo.com"  # B-ENV-02
#: The host the skills' own sentences name ("Top up at nemovideo.com"); the client puts its web
#: base in its place (`at_web`).
DOCUMENTED_WEB_HOST = urlsplit(DEFAULT_WEB_URL).hostname or "nemovideo.com"
USER_TOKEN_PREFIX = wording.USER_TOKEN_PREFIX  # B-AUTH-04
ANONYMOUS_USER_PREFIX = "anon_"  # B-AUTH-04


def looks_like_token(value: str) -> bool:
    """Whether `value` holds a user token, in any letter case (B-AUTH-22)."""
    return USER_TOKEN_PREFIX in value.lower()


def web_base(web_url: str) -> str:
    """The web base without a trailing slash; a URL holding a user token is never used."""
    base = web_url.strip().rstrip("/")
    return DEFAULT_WEB_URL if not base or looks_like_token(base) else base


def is_local_host(host: str) -> bool:
    """Whether a URL's host is this machine: `localhost`, `*.localhost` or a loopback address."""
    host = host.strip().lower().rstrip(".").strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_web_url(api_url: str) -> str:
    """The web base when NEMO_WEB_URL is not set (B-ENV-02).

    The real service's web front end is `DEFAULT_WEB_URL`. An API on this machine's loopback is a
    local mock, which serves the workspace page itself (`GET /workspace/claim`): its links then
    open there, at the API URL's scheme, host and port. Any other API keeps the documented default.
    """
    parts = urlsplit(api_url.strip())
    if parts.scheme in ("http", "https") and parts.hostname and is_local_host(parts.hostname):
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    return DEFAULT_WEB_URL


def is_anonymous(user_id: str | None) -> bool:
    """Anonymous accounts have ids starting `anon_` (B-AUTH-04)."""
    return bool(user_id) and str(user_id).startswith(ANONYMOUS_USER_PREFIX)


def claim_link(web_url: str, claim_token: str) -> str:
    """The task detail link `{web}/workspace/claim?ct=<claim_token>` (B-CLI-19, B-AUTH-20).

    Raises ValueError for a user token: only the claim token may go into a URL (B-AUTH-22).
    """
    if looks_like_token(claim_token) or looks_like_token(web_url):
        raise ValueError("a user token must never be put in a URL (B-AUTH-22); pass the clm_ claim token")
    return f"{web_base(web_url)}/workspace/claim?ct={quote(claim_token, safe='')}"


def bind_link(web_url: str, user_id: str) -> str:
    """The registration link `{web}/register?bind=<anonymous user id>` (B-CLI-20, B-CRED-05).

    Raises ValueError when `user_id` is a user token rather than a user id (B-AUTH-22).
    """
    if looks_like_token(user_id) or looks_like_token(web_url):
        raise ValueError("bind takes the anonymous user id (anon_…), never the user token (B-AUTH-22)")
    return f"{web_base(web_url)}/register?bind={quote(user_id, safe='')}"


def register_link(web_url: str, user_id: str | None) -> str:
    """`bind_link` when the anonymous user id is known (and is no token), else the plain page."""
    web = web_base(web_url)
    if user_id and not looks_like_token(user_id):
        return bind_link(web, user_id)
    return f"{web}/register"
