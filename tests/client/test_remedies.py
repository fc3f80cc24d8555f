"""Error-table remedies and the browser links (B-ERR-05, B-CRED-05, B-CLI-19, B-CLI-20, B-REN-16)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client.gui import contains_gui_instruction
from client.remedies import (
    DEFAULT_WEB_URL,
    NOTHING_TO_EXPORT,
    RENDER_FAILED_TWICE,
    bind_link,
    claim_link,
    format_list,
    is_anonymous,
    remedy,
    stated_cap_bytes,
)
from contracts.profiles import DOCUMENTED_FORMATS

WEB = "https://nemovideo.com"
DOCUMENTED_CODES = [1001, 1002, 2001, 4001, 4002, 400, 402, 429]


def test_2001_anonymous_offers_the_bind_link() -> None:
    """B-CRED-05, B-CLI-20: anonymous users register with ?bind=<anonymous id> and keep their work."""
    assert remedy(2001, anonymous=True, user_id="anon_abc123") == (
        "Out of credits. Register at https://nemovideo.com/register?bind=anon_abc123 "
        "to keep your work and get more credits."
    )


def test_2001_anonymous_without_an_id_still_points_to_registration() -> None:
    """B-CRED-05: no id known: the plain registration page."""
    assert remedy(2001, anonymous=True) == (
        "Out of credits. Register at https://nemovideo.com/register to keep your work and get more credits."
    )


def test_2001_registered_tops_up() -> None:
    """B-CRED-05, B-ERR-05: registered users top up on the web."""
    assert (
        remedy(2001, anonymous=False, user_id="usr_1") == "Out of credits. Top up at https://nemovideo.com."
    )


def test_4001_lists_the_accepted_formats() -> None:
    """B-UPL-05, B-UPL-07: the formats come from the profile."""
    assert remedy(4001) == (
        "Unsupported file type. Supported: mp4, mov, avi, webm, mkv, jpg, png, gif, webp, mp3, wav, m4a, aac."
    )
    assert (
        remedy(4001, accepted_formats=["MP4", ".mov", "mp4"]) == "Unsupported file type. Supported: mp4, mov."
    )
    assert remedy(4001, accepted_formats={"video": ("mp4",), "image": ("png",)}).endswith(
        "Supported: mp4, png."
    )


@pytest.mark.parametrize(
    ("message", "cap"),
    [
        ("File too large: big.mp4 is over the 1 MB limit; compress or trim it", 1024 * 1024),
        ("File too large (max 200MB)", 200 * 1024 * 1024),
        ("clip_2mb.mp4 exceeds the 1.5 GB cap", round(1.5 * 1024**3)),
        ("Upload limit is 800 KB", 800 * 1024),
        ("File too large", None),
        ("Payload Too Large: clip_99mb.mov", None),
    ],
)
def test_the_cap_a_4002_message_states(message: str, cap: int | None) -> None:
    """B-UPL-07, U-13: the cap the server states in its 4002 message (a file name's digits are no cap)."""
    assert stated_cap_bytes(message) == cap


def test_4002_suggests_compress_or_trim() -> None:
    """B-UPL-07, B-UPL-08: too large: compress or trim, with the profile's cap when known."""
    assert remedy(4002) == "File too large. Compress or trim it, then send it again."
    assert remedy(4002, upload_cap_bytes=200 * 1024 * 1024).startswith("File too large (limit 200 MB).")


def test_402_is_a_plan_limit_not_credits() -> None:
    """B-REN-16, B-ERR-05: 402 means register/upgrade, explicitly not credits."""
    assert remedy(402) == (
        "Export needs a plan upgrade: register at https://nemovideo.com to unlock export "
        "(this is a subscription limit, not credits)."
    )
    registered = remedy(402, anonymous=False)
    assert "upgrade your plan at https://nemovideo.com" in registered
    assert "not credits" in registered


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (1001, "same client id"),
        (1002, "new session"),
        (400, "client id"),
        (429, "wait 30 s and retry"),
    ],
)
def test_other_codes(code: int, words: str) -> None:
    """B-ERR-05, B-AUTH-02, B-AUTH-07, B-SESS-07: one line naming what the client does."""
    assert words in remedy(code)


def test_1001_for_a_configured_token_points_to_api_tokens() -> None:
    """B-AUTH-06, B-AUTH-14: a user's own NEMO_TOKEN cannot be re-issued anonymously."""
    assert "API Tokens at https://nemovideo.com" in remedy(1001, anonymous=False)


def test_common_failures() -> None:
    """B-CLI-14, B-CLI-16: nothing to export; render failed after the retry."""
    assert "try again later" in RENDER_FAILED_TWICE
    assert "generate" in NOTHING_TO_EXPORT
    assert remedy(5555) == "Unexpected error (code 5555); please try again."


def test_web_url_from_config_is_used_without_trailing_slash() -> None:
    """B-ENV-02: NEMO_WEB_URL decides the links."""
    assert (
        remedy(2001, anonymous=False, web_url="https://web.test/")
        == "Out of credits. Top up at https://web.test."
    )
    assert "https://web.test/register?bind=anon_1" in remedy(
        2001, user_id="anon_1", web_url="https://web.test"
    )


def test_claim_link() -> None:
    """B-CLI-19, B-AUTH-22: the task link carries only the claim token."""
    assert claim_link(WEB, "clm_abc") == "https://nemovideo.com/workspace/claim?ct=clm_abc"
    assert claim_link("https://web.test/", "clm_a b") == "https://web.test/workspace/claim?ct=clm_a%20b"
    with pytest.raises(ValueError, match="B-AUTH-22"):
        claim_link(WEB, "nmv_usr_secret")


def test_bind_link() -> None:
    """B-CLI-20: the registration link binds the anonymous id; a token is refused."""
    assert bind_link(WEB, "anon_abc123") == "https://nemovideo.com/register?bind=anon_abc123"
    assert bind_link(WEB, "anon_a&b") == "https://nemovideo.com/register?bind=anon_a%26b"
    with pytest.raises(ValueError, match="B-AUTH-22"):
        bind_link(WEB, "nmv_usr_secret")


def test_a_token_passed_as_user_id_never_reaches_the_message() -> None:
    """B-AUTH-22: a user token given by mistake is left out, not printed."""
    message = remedy(2001, user_id="nmv_usr_secret")
    assert "nmv_usr_" not in message
    assert "https://nemovideo.com/register " in message


def test_is_anonymous() -> None:
    """B-AUTH-04: anonymous ids start with anon_."""
    assert is_anonymous("anon_abc123")
    assert not is_anonymous("usr_1")
    assert not is_anonymous(None)


def test_format_list_flattens_profile_formats() -> None:
    """B-UPL-05: the profile's format table, in order, without duplicates."""
    assert format_list(DOCUMENTED_FORMATS).split(", ")[:3] == ["mp4", "mov", "avi"]
    assert format_list({"video": "mp4"}) == "mp4"


@pytest.mark.parametrize("code", DOCUMENTED_CODES)
def test_remedies_are_one_line_and_free_of_gui_words(code: int) -> None:
    """B-ERR-05, B-CLI-03: every remedy is a single line a chat user can act on."""
    for anonymous in (True, False):
        message = remedy(code, anonymous=anonymous, user_id="anon_x")
        assert "\n" not in message
        assert message
        assert not contains_gui_instruction(message)


@given(
    st.sampled_from([*DOCUMENTED_CODES, 0, 500]) | st.integers(),
    st.booleans(),
    st.none() | st.text(max_size=30) | st.text(max_size=10).map(lambda s: f"anon_{s}NMV_usr_{s}"),
    st.sampled_from([WEB, "https://web.test/", "", "https://nmv_usr_leak.example"]),
)
def test_remedies_never_contain_a_user_token(
    code: int, anonymous: bool, user_id: str | None, web: str
) -> None:
    """B-AUTH-22: no remedy ever shows a `nmv_usr_` token, whatever it is given."""
    message = remedy(code, anonymous=anonymous, user_id=user_id, web_url=web)
    assert "nmv_usr_" not in message.lower()
    assert "\n" not in message


def test_default_web_url() -> None:
    """B-ENV-02: the v1.9 default web base."""
    assert DEFAULT_WEB_URL == "https://nemovideo.com"
