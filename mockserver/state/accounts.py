"""Accounts and tokens: anonymous tokens per X-Client-Id, claim tokens, rate limits (B-AUTH-*)."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

from contracts.wording import CLAIM_TOKEN_PREFIX, USER_TOKEN_PREFIX
from mockserver.errors import bad_request, rate_limited, token_invalid
from mockserver.state.ledger import Ledger

DAY = 86400.0
WEEK = 7 * DAY

ANONYMOUS_SCOPES = frozenset({"read", "write", "upload"})  # B-AUTH-16
ALL_SCOPES = frozenset({"read", "write", "upload", "render"})
TIERS = ("anonymous", "free", "paid")
MAX_CLIENT_ID_LENGTH = 64  # B-AUTH-11, U-07


@dataclass(slots=True)
class Account:
    """A user: anonymous (from a client id), or a free or paid account made by the control API."""

    user_id: str
    tier: str
    ledger: Ledger
    client_id: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.tier == "anonymous"


@dataclass(slots=True)
class Token:
    """A bearer token (`nmv_usr_…`) or a claim token (`clm_…`, no API access: B-AUTH-20/21)."""

    value: str
    user_id: str
    kind: str  # user | claim
    issued_at: float
    expires_at: float | None
    scopes: frozenset[str] = ANONYMOUS_SCOPES
    task_id: str | None = None
    session_id: str | None = None
    revoked: bool = False

    def live(self, now: float) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Anonymous-token limits: v1.9 (1/client and 10/IP per 7 days) or api-ref v4.4 (5/IP/hour)."""

    per_client: int | None = 1
    per_ip: int | None = 10
    window_s: float = WEEK
    #: X-Client-Id came with the per-client limit (ff57a62); before it (v4.4) the call took no header.
    client_id_required: bool = True

    @classmethod
    def named(cls, name: str, ip_cap: int | None = None) -> RateLimits:
        if name == "v19":
            return cls(1, 10 if ip_cap is None else (ip_cap or None), WEEK)  # B-AUTH-08, B-AUTH-09
        if name == "v44":
            return cls(None, 5 if ip_cap is None else (ip_cap or None), 3600.0, False)  # B-AUTH-10
        raise ValueError(f"unknown rate-limit profile {name!r} (v19 or v44)")


@dataclass(slots=True)
class Accounts:
    """Every account and token, and the anonymous-token limits."""

    rng: random.Random
    limits: RateLimits = field(default_factory=RateLimits)
    token_ttl_s: float = WEEK  # 0: never expires (v1.0-v1.7)
    starting_credits: int = 100  # B-CRED-03
    accounts: dict[str, Account] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    by_client: dict[str, str] = field(default_factory=dict)  # client id -> user id
    client_issues: dict[str, deque[float]] = field(default_factory=dict)
    ip_issues: dict[str, deque[float]] = field(default_factory=dict)

    def _hex(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def _new_token(self, account: Account, now: float, scopes: frozenset[str]) -> Token:
        expires = None if self.token_ttl_s == 0 else now + self.token_ttl_s
        token = Token(f"{USER_TOKEN_PREFIX}{self._hex(32)}", account.user_id, "user", now, expires, scopes)
        self.tokens[token.value] = token
        return token

    def issue_anonymous(self, client_id: str | None, ip: str, now: float) -> tuple[Token, Account]:
        """B-AUTH-01..09: one token per client id per window, a per-IP cap; same account after expiry."""
        if client_id is None or not client_id.strip():
            if self.limits.client_id_required:
                raise bad_request("Missing X-Client-Id header: create a client id (a UUID) and retry")
            client_id = ""  # v4.4: no client id; each call is a new account, the IP cap still holds
        client_id = client_id.strip()
        if len(client_id) > MAX_CLIENT_ID_LENGTH:
            raise bad_request(f"X-Client-Id is longer than {MAX_CLIENT_ID_LENGTH} characters")
        window = self.limits.window_s
        client_log = self.client_issues.setdefault(client_id, deque()) if client_id else deque()
        ip_log = self.ip_issues.setdefault(ip, deque())
        for log in (client_log, ip_log):
            while log and log[0] <= now - window:
                log.popleft()
        if self.limits.per_client is not None and len(client_log) >= self.limits.per_client:
            # A token still alive inside the window is not re-sent (U-06): 429, retry later.
            raise rate_limited("Rate limited: 1 anonymous token per client per 7 days")
        if self.limits.per_ip is not None and len(ip_log) >= self.limits.per_ip:
            raise rate_limited(f"Rate limited: {self.limits.per_ip} anonymous tokens per IP per window")
        user_id = self.by_client.get(client_id) if client_id else None
        account = self.accounts.get(user_id) if user_id else None
        if account is None:
            ledger = Ledger()
            ledger.grant(self.starting_credits, now)
            account = Account(f"anon_{self._hex(12)}", "anonymous", ledger, client_id or None)
            self.accounts[account.user_id] = account
            if client_id:
                self.by_client[client_id] = account.user_id
        client_log.append(now)
        ip_log.append(now)
        return self._new_token(account, now, ANONYMOUS_SCOPES), account

    def create_account(self, tier: str, credits: int, now: float) -> tuple[Token, Account]:
        """The control API's `POST /_mock/accounts`: a registered account with chosen credits."""
        if tier not in TIERS:
            raise bad_request(f"tier must be one of {', '.join(TIERS)}")
        ledger = Ledger()
        ledger.grant(credits, now)
        prefix = "anon_" if tier == "anonymous" else "user_"
        account = Account(f"{prefix}{self._hex(12)}", tier, ledger)
        self.accounts[account.user_id] = account
        scopes = ANONYMOUS_SCOPES if tier == "anonymous" else ALL_SCOPES
        return self._new_token(account, now, scopes), account

    def issue_claim(self, account: Account, task_id: str, session_id: str, now: float) -> Token:
        """B-AUTH-19/20: 7 days, reusable, opens one project in the browser, no API access."""
        token = Token(
            f"{CLAIM_TOKEN_PREFIX}{self._hex(32)}",
            account.user_id,
            "claim",
            now,
            now + WEEK,
            frozenset(),
            task_id,
            session_id,
        )
        self.tokens[token.value] = token
        return token

    def authenticate(self, authorization: str | None, now: float) -> Account:
        """The account behind `Authorization: Bearer …`, or 1001 (B-AUTH-13/14/21, U-08)."""
        if not authorization:
            raise token_invalid("Unauthorized: missing Authorization: Bearer <token>")
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise token_invalid("Unauthorized: expected Authorization: Bearer <token>")
        token = self.tokens.get(value.strip())
        if token is None:
            raise token_invalid("Unauthorized: unknown token")
        if token.kind != "user":
            raise token_invalid("Unauthorized: a claim token opens a project in the browser only")
        if token.revoked:
            raise token_invalid("Unauthorized: token revoked")
        if token.expires_at is not None and now >= token.expires_at:  # `live`, inlined (revoked: above)
            raise token_invalid("Unauthorized: token expired, request a new one with the same X-Client-Id")
        return self.accounts[token.user_id]

    def revoke(self, value: str) -> bool:
        token = self.tokens.get(value)
        if token is None:
            return False
        token.revoked = True
        return True
