"""Accounts and tokens, without HTTP (B-AUTH-*)."""

from __future__ import annotations

import random

import pytest

from mockserver.errors import ApiError
from mockserver.state.accounts import WEEK, Accounts, RateLimits


def make(limits: RateLimits | None = None, ttl: float = WEEK) -> Accounts:
    return Accounts(random.Random(1), limits or RateLimits.named("v19"), ttl)


def test_token_shapes() -> None:
    """B-AUTH-03/04: nmv_usr_ tokens, anon_ user ids, 100 credits (B-CRED-03)."""
    accounts = make()
    token, account = accounts.issue_anonymous("client-a", "127.0.0.1", 0.0)
    assert token.value.startswith("nmv_usr_") and account.user_id.startswith("anon_")
    assert account.ledger.available == 100
    assert token.expires_at == WEEK


def test_missing_or_long_client_id_is_400() -> None:
    """B-AUTH-02: no X-Client-Id -> HTTP 400; U-07: longer than 64 characters -> 400."""
    accounts = make()
    for bad in (None, "", "   ", "x" * 65):
        with pytest.raises(ApiError) as info:
            accounts.issue_anonymous(bad, "ip", 0.0)
        assert info.value.status == 400
    assert accounts.tokens == {}


def test_one_token_per_client_per_week_then_regranted_same_account() -> None:
    """B-AUTH-08 (429 inside the window, U-06) and B-AUTH-07 (same client id after expiry, same user)."""
    accounts = make()
    first, account = accounts.issue_anonymous("client-a", "ip", 0.0)
    with pytest.raises(ApiError) as info:
        accounts.issue_anonymous("client-a", "ip", WEEK - 1)
    assert info.value.status == 429 and info.value.headers["Retry-After"] == "30"
    with pytest.raises(ApiError) as expired:
        accounts.authenticate(f"Bearer {first.value}", WEEK)
    assert expired.value.code == 1001  # B-AUTH-05, B-AUTH-14
    second, again = accounts.issue_anonymous("client-a", "ip", WEEK)
    assert again is account and second.value != first.value
    assert accounts.authenticate(f"Bearer {second.value}", WEEK + 1) is account


def test_per_ip_cap() -> None:
    """B-AUTH-09: 10 anonymous tokens per IP per 7 days; the 11th client id from that IP gets 429."""
    accounts = make()
    for n in range(10):
        accounts.issue_anonymous(f"client-{n}", "10.9.9.9", float(n))
    with pytest.raises(ApiError) as info:
        accounts.issue_anonymous("client-10", "10.9.9.9", 11.0)
    assert info.value.status == 429
    accounts.issue_anonymous("client-10", "10.9.9.8", 11.0)  # another IP is fine
    accounts.issue_anonymous("client-11", "10.9.9.9", WEEK + 1)  # the window slid


def test_v44_limits() -> None:
    """B-AUTH-10: the older limit, 5 per IP per hour."""
    accounts = make(RateLimits.named("v44"))
    for n in range(5):
        accounts.issue_anonymous(f"c{n}", "ip", 0.0)
    with pytest.raises(ApiError):
        accounts.issue_anonymous("c5", "ip", 10.0)
    accounts.issue_anonymous("c5", "ip", 3600.0)


def test_never_expiring_tokens_option() -> None:
    """B-AUTH-05 disagreement: v1.0-v1.7 tokens never expired (token_ttl 0)."""
    accounts = make(ttl=0)
    token, _ = accounts.issue_anonymous("c", "ip", 0.0)
    assert token.expires_at is None
    accounts.authenticate(f"Bearer {token.value}", 100 * WEEK)


def test_claim_token_grants_no_api_access() -> None:
    """B-AUTH-19/20/21: clm_ tokens live 7 days and are refused as bearer with 1001."""
    accounts = make()
    _, account = accounts.issue_anonymous("c", "ip", 0.0)
    claim = accounts.issue_claim(account, "task_1", "123", 0.0)
    assert claim.value.startswith("clm_") and claim.expires_at == WEEK
    with pytest.raises(ApiError) as info:
        accounts.authenticate(f"Bearer {claim.value}", 1.0)
    assert info.value.code == 1001


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "Bearer nmv_usr_unknown", "nmv_usr_x"])
def test_bad_authorization_is_1001(header: str | None) -> None:
    """B-AUTH-13/14: a missing, malformed or unknown token -> 1001."""
    with pytest.raises(ApiError) as info:
        make().authenticate(header, 0.0)
    assert info.value.code == 1001


def test_revoked_token_is_1001() -> None:
    """B-AUTH-06, U-08: a revoked token answers 1001."""
    accounts = make()
    token, _ = accounts.issue_anonymous("c", "ip", 0.0)
    assert accounts.revoke(token.value)
    with pytest.raises(ApiError) as info:
        accounts.authenticate(f"Bearer {token.value}", 1.0)
    assert info.value.code == 1001


def test_control_accounts_tiers() -> None:
    """POST /_mock/accounts: free and paid accounts with chosen credits (B-AUTH-18)."""
    accounts = make()
    token, account = accounts.create_account("paid", 25000, 0.0)
    assert account.tier == "paid" and account.ledger.available == 25000
    assert "render" in token.scopes
    with pytest.raises(ApiError):
        accounts.create_account("gold", 1, 0.0)
