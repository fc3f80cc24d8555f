"""The journal masks secrets (INTERFACE.md: headers with secrets masked; B-AUTH-22)."""

from __future__ import annotations

from mockserver.journal import mask_headers, mask_secret


def test_tokens_masked_kind_kept() -> None:
    assert mask_secret("Bearer nmv_usr_0123456789abcdef") == "Bearer nmv_usr_***"
    assert mask_secret("Bearer clm_abc") == "Bearer clm_***"
    assert mask_secret("Basic dXNlcjpwYXNz") == "Basic ***"


def test_only_secret_headers_masked() -> None:
    headers = mask_headers(
        [(b"Authorization", b"Bearer nmv_usr_secret"), (b"X-Client-Id", b"abc"), (b"Cookie", b"session=1")]
    )
    assert headers == {"authorization": "Bearer nmv_usr_***", "x-client-id": "abc", "cookie": "***"}
    assert "secret" not in str(headers)
