"""The one masking policy: which values are secrets, and what a masked secret looks like.

The journal (`GET /_mock/journal`), the access log, recordings and their HAR exports all mask
through this module, so a secret hidden in one is hidden in all, the same way:

- headers whose whole value is a credential (`Authorization`, `Proxy-Authorization`,
  `X-Auth-Token`, `X-Api-Key`): the scheme stays, the credential becomes its alias;
- cookies (`Cookie`, `Set-Cookie`): each cookie's value becomes its alias, names stay;
- query parameters named like credentials (`token`, `ct`, `access_token`, ...): the value;
- a user token (`nmv_usr_…`) or a claim token (`clm_…`) anywhere else: in a path, a query, any
  header value, a body.

A secret becomes a stable alias that keeps its kind: `nmv_usr_9f2c…` is written as
`nmv_usr_MASKED_<12 hex digits of its SHA-256>`, a claim token as `clm_MASKED_…`, any other
credential as `MASKED_…`. The same token gives the same alias wherever it shows up (the journal,
the log, a recording), so a reader can still follow one token through a run, and nobody can read
it back.

A `Masker` (recordings) also remembers the secrets it has seen (in memory only, never written)
so that it masks them in bodies as well, and `unmask()` turns aliases back into the tokens, which
is how a generated repro test sends requests with the tokens the re-run mock hands out.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from contracts import wording

MARK = "MASKED_"
#: Token kinds kept in the alias (B-AUTH-04: user tokens; B-AUTH-19: claim tokens).
KINDS = (wording.USER_TOKEN_PREFIX, wording.CLAIM_TOKEN_PREFIX)
#: A token of a known kind wherever it appears; an alias is never masked a second time.
KNOWN_TOKEN = re.compile(
    "(?:" + "|".join(map(re.escape, KINDS)) + ")(?!" + MARK + r")[A-Za-z0-9_\-]{8,}(?:\.[A-Za-z0-9_\-]+)*"
)
#: Headers whose whole value is a credential.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "x-auth-token"})
COOKIE_HEADERS = frozenset({"cookie", "set-cookie"})
#: JSON fields and query parameters whose string values are credentials (`ct`: the claim link, B-CLI-19).
SECRET_FIELDS = frozenset(
    {"token", "access_token", "refresh_token", "claim_token", "api_key", "apikey", "secret", "password", "ct"}
)
#: Shorter values are not learnt as secrets to replace everywhere: that would mangle the text.
#: (A value that is a credential by position, a header or a named parameter, is masked at any length.)
MIN_SECRET_LENGTH = 8
ALIAS_DIGITS = 12


def alias_of(secret: str) -> str:
    """The stable alias of one secret."""
    kind = next((prefix for prefix in KINDS if secret.startswith(prefix)), "")
    digest = hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:ALIAS_DIGITS]
    return f"{kind}{MARK}{digest}"


def _alias(value: str) -> str:
    return value if not value or MARK in value else alias_of(value)


def mask_text(text: str) -> str:
    """`text` with every token of a known kind (`nmv_usr_…`, `clm_…`) replaced by its alias."""
    if "nmv_usr_" not in text and "clm_" not in text:  # the common case, without a regex
        return text
    return KNOWN_TOKEN.sub(lambda match: alias_of(match.group(0)), text)


def mask_credential(value: str) -> str:
    """A credential header's value: `Bearer <alias>`; a value without a scheme is all credential."""
    stripped = value.strip()
    scheme, sep, credential = stripped.partition(" ")
    if not sep:
        return _alias(stripped)
    return f"{scheme} {_alias(credential.strip())}"


def mask_cookies(value: str, *, set_cookie: bool = False) -> str:
    """Each cookie's value aliased, names kept; in `Set-Cookie` only the first pair is a cookie."""
    crumbs = value.split(";")
    out = []
    for index, crumb in enumerate(crumbs):
        name, eq, cookie_value = crumb.partition("=")
        if eq and (index == 0 or not set_cookie):
            out.append(f"{name}={_alias(cookie_value.strip())}")
        else:
            out.append(mask_text(crumb))
    return ";".join(out)


def mask_header(name: str, value: str) -> str:
    """One header value as every output of the mock shows it (`name` in any case)."""
    key = name.lower()
    if key in CREDENTIAL_HEADERS:
        return mask_credential(value)
    if key in COOKIE_HEADERS:
        return mask_cookies(value, set_cookie=key == "set-cookie")
    return mask_text(value)


def mask_query(query: str) -> str:
    """A raw query string with credential-named parameters and known tokens masked, layout kept."""
    if not query:
        return query
    pairs = []
    for pair in query.split("&"):
        key, eq, value = pair.partition("=")
        if eq and unquote_plus(key).lower() in SECRET_FIELDS and value:
            pairs.append(f"{key}={_alias(unquote_plus(value))}")
        else:
            pairs.append(mask_text(pair))
    return "&".join(pairs)


def mask_url(url: str) -> str:
    """A URL or a path with its query: the path's tokens and the query's secrets masked."""
    path, sep, query = url.partition("?")
    return mask_text(path) + (sep + mask_query(query) if sep else "")


class Masker:
    """Finds credentials in headers, JSON bodies and query strings, and masks them everywhere."""

    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}  # secret -> alias
        self._aliases: dict[str, str] = {}  # alias -> secret
        self._pattern: re.Pattern[str] | None = None
        self._alias_pattern: re.Pattern[str] | None = None

    # ------------------------------------------------------------------ learning secrets

    def learn(self, secret: str) -> str:
        """Remember `secret` (if long enough to be one) and return its alias."""
        secret = secret.strip()
        if len(secret) < MIN_SECRET_LENGTH or MARK in secret:
            return secret
        alias = self._secrets.get(secret)
        if alias is None:
            alias = alias_of(secret)
            self._secrets[secret] = alias
            self._aliases[alias] = secret
            self._pattern = self._alias_pattern = None
        return alias

    def learn_headers(self, headers: Iterable[tuple[str, str]]) -> None:
        for name, value in headers:
            key = name.lower()
            if key in CREDENTIAL_HEADERS:
                scheme, sep, credential = value.strip().partition(" ")
                self.learn(credential if sep else scheme)
            elif key in COOKIE_HEADERS:
                for crumb in value.split(";"):
                    _, eq, cookie_value = crumb.partition("=")
                    if eq:
                        self.learn(cookie_value)

    def learn_query(self, query: str) -> None:
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key.lower() in SECRET_FIELDS:
                self.learn(value)

    def learn_json(self, text: str) -> None:
        """Secrets in the string values of credential-named fields of a JSON document."""
        stripped = text.lstrip()
        if not stripped.startswith(("{", "[")):
            return
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            return
        self._walk(document)

    def _walk(self, root: Any) -> None:
        stack = [root]  # iterative: a recorded body may nest deeper than the recursion limit
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                for key, item in value.items():
                    if isinstance(item, str) and str(key).lower() in SECRET_FIELDS:
                        self.learn(item)
                    else:
                        stack.append(item)
            elif isinstance(value, list):
                stack.extend(value)

    # ------------------------------------------------------------------ masking

    def mask(self, text: str) -> str:
        """`text` with every known secret, and every token of a known kind, replaced by its alias."""
        if not text:
            return text
        for match in KNOWN_TOKEN.findall(text):
            self.learn(match)
        if not self._secrets:
            return text
        if self._pattern is None:
            longest_first = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(secret) for secret in longest_first))
        return self._pattern.sub(lambda match: self._secrets[match.group(0)], text)

    def mask_query(self, query: str) -> str:
        self.learn_query(query)
        return self.mask(mask_query(query))

    def mask_headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Credential headers and cookies masked by position (whatever their length), the rest by content."""
        pairs = list(headers)
        self.learn_headers(pairs)
        return [
            (name, mask_header(name, value) if name.lower() in _POSITIONAL else self.mask(value))
            for name, value in pairs
        ]

    def unmask(self, text: str) -> str:
        """Aliases this masker made turned back into the secrets (for re-sending recorded requests)."""
        if not self._aliases or MARK not in text:
            return text
        if self._alias_pattern is None:
            self._alias_pattern = re.compile("|".join(re.escape(alias) for alias in self._aliases))
        return self._alias_pattern.sub(lambda match: self._aliases[match.group(0)], text)


_POSITIONAL = CREDENTIAL_HEADERS | COOKIE_HEADERS
