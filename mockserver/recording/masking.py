"""Secrets out of recordings: every token becomes a stable alias that keeps its kind.

`nmv_usr_9f2c…` is written as `nmv_usr_MASKED_<12 hex digits of its SHA-256>`, a claim token as
`clm_MASKED_…`, any other credential (the value of `Authorization`, a cookie, a JSON `token`
field) as `MASKED_…`. The alias is the same wherever the token shows up (the anonymous-token
answer, then every `Authorization` header after it), so a reader can still follow one token
through a run; the same token gives the same alias in every recording.

A `Masker` remembers the secrets it has masked (in memory only, never written): `unmask()` turns
aliases back into the tokens, which is how a generated repro test sends requests with the tokens
the re-run mock hands out.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

MARK = "MASKED_"
#: Token kinds kept in the alias (B-AUTH-04: user tokens; B-AUTH-19: claim tokens).
KINDS = ("nmv_usr_", "clm_")
#: A token of a known kind wherever it appears; an alias is never masked a second time.
KNOWN_TOKEN = re.compile(r"(?:nmv_usr_|clm_)(?!" + MARK + r")[A-Za-z0-9_\-]{8,}(?:\.[A-Za-z0-9_\-]+)*")
#: Headers whose whole value is a credential.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "x-auth-token"})
COOKIE_HEADERS = frozenset({"cookie", "set-cookie"})
#: JSON fields and query parameters whose string values are credentials (`ct`: the claim link, B-CLI-19).
SECRET_FIELDS = frozenset(
    {"token", "access_token", "refresh_token", "claim_token", "api_key", "apikey", "secret", "password", "ct"}
)
#: Shorter values are not treated as secrets: replacing them everywhere would mangle the text.
MIN_SECRET_LENGTH = 8
ALIAS_DIGITS = 12


def alias_of(secret: str) -> str:
    """The stable alias of one secret."""
    kind = next((prefix for prefix in KINDS if secret.startswith(prefix)), "")
    digest = hashlib.sha256(secret.encode("utf-8")).hexdigest()[:ALIAS_DIGITS]
    return f"{kind}{MARK}{digest}"


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
        except ValueError:
            return
        self._walk(document)

    def _walk(self, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, str) and str(key).lower() in SECRET_FIELDS:
                    self.learn(item)
                else:
                    self._walk(item)
        elif isinstance(value, list):
            for item in value:
                self._walk(item)

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

    def mask_headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        pairs = list(headers)
        self.learn_headers(pairs)
        return [(name, self.mask(value)) for name, value in pairs]

    def unmask(self, text: str) -> str:
        """Aliases this masker made turned back into the secrets (for re-sending recorded requests)."""
        if not self._aliases or MARK not in text:
            return text
        if self._alias_pattern is None:
            self._alias_pattern = re.compile("|".join(re.escape(alias) for alias in self._aliases))
        return self._alias_pattern.sub(lambda match: self._aliases[match.group(0)], text)
