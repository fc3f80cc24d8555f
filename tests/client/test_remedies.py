"""The remedy table and the browser links (B-ERR-05, B-CRED-05, B-CLI-19, B-CLI-20, B-REN-16).

`client.remedies` is the one place a remedy is decided: these tests read it directly; the tests in
`test_client_cli.py` and `test_integration.py` read the same lines off a live mock.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client.errors import (
    ExportBlocked,
    FileTooLarge,
    InsufficientCredits,
    MissingClientId,
    NemoError,
    RateLimited,
    ServerError,
    TokenInvalid,
    UnsupportedFile,
)
from client.gui import contains_gui_instruction
from client.links import DEFAULT_WEB_URL, bind_link, claim_link, is_anonymous
from client.remedies import (
    EXIT_CODES,
    NOTHING_TO_EXPORT,
    RENDER_FAILED_TWICE,
    ROWS,
    ErrorKind,
    Failure,
    RemedyTable,
    default_remedies,
    format_list,
    stated_cap_bytes,
)
from contracts.coverage import load_behaviours
from contracts.profiles import DOCUMENTED_FORMATS, load_profile, shipped_profiles

WEB = "https://nemovideo.com"
TABLE = RemedyTable()  # the upstream skill's words, no profile: no upload cap known
#: One error of each kind, as the backend's answers make them.
ERRORS: list[NemoError] = [
    TokenInvalid("Token expired"),
    InsufficientCredits("Insufficient credits"),
    UnsupportedFile("Unsupported file type"),
    FileTooLarge("File too large"),
    MissingClientId(),
    ExportBlocked("Export not available on the free plan"),
    RateLimited("Too many requests"),
    ServerError("Bad gateway"),
    NemoError("Something else"),
]
#: B-PROF-05, B-PROF-06: seeds 003 and 004 word the 402 and the registered 2001 their own way.
SEEDS_WITH_THEIR_OWN_WORDS = ("generator-video", "ai-video-generation-online")


def line(error: NemoError, *, anonymous: bool = True, user_id: str | None = None) -> str:
    return TABLE.line(error, anonymous=anonymous, user_id=user_id)


def all_error_classes() -> list[type[NemoError]]:
    found: list[type[NemoError]] = [NemoError]
    for cls in found:
        found += cls.__subclasses__()
    return found


# ---------------------------------------------------------------------------- the table itself


def test_every_error_class_has_a_row_and_every_row_a_class() -> None:
    """B-ERR-05: one row per kind of error; a new exception without a row fails here."""
    kinds = {cls.kind for cls in all_error_classes()}
    assert kinds == set(ErrorKind) == set(ROWS)


def test_an_error_made_without_a_client_carries_its_rows_remedy() -> None:
    """B-ERR-05: the exception's remedy is the table's, not a second copy on the class."""
    for cls in all_error_classes():
        assert cls().remedy == default_remedies().remedy(cls.kind)
    assert TokenInvalid(remedy="Ask the admin.").remedy == "Ask the admin."


def test_the_rows_name_rules_of_the_catalogue() -> None:
    """B-ERR-05: every rule id a row names is a rule of contracts/behaviours.yaml."""
    known = set(load_behaviours())
    for kind, row in ROWS.items():
        assert set(row.rules) <= known, kind
    assert "B-ERR-05" in ROWS[ErrorKind.EXPORT_BLOCKED].rules


def test_exit_codes_are_the_documented_ones() -> None:
    """B-ERR-05: README: 1 generic, 3 auth, 4 credits or plan, 5 file, 6 server or transport, 7 timeout."""
    assert dict(EXIT_CODES) == {
        Failure.GENERIC: 1,
        Failure.AUTH: 3,
        Failure.CREDITS: 4,
        Failure.PLAN: 4,
        Failure.FILE: 5,
        Failure.SERVER: 6,
        Failure.TIMEOUT: 7,
    }
    failures = {type(error).kind: TABLE.failure(error.kind) for error in ERRORS}
    assert failures == {
        ErrorKind.TOKEN_INVALID: Failure.AUTH,
        ErrorKind.INSUFFICIENT_CREDITS: Failure.CREDITS,
        ErrorKind.UNSUPPORTED_FILE: Failure.FILE,
        ErrorKind.FILE_TOO_LARGE: Failure.FILE,
        ErrorKind.MISSING_CLIENT_ID: Failure.AUTH,
        ErrorKind.EXPORT_BLOCKED: Failure.PLAN,
        ErrorKind.RATE_LIMITED: Failure.SERVER,
        ErrorKind.SERVER_ERROR: Failure.SERVER,
        ErrorKind.API: Failure.SERVER,
    }


def test_the_upstream_defaults_are_the_upstream_profiles_words() -> None:
    """B-PROF-01, B-ERR-05: without a profile the table speaks as the nemo-video profile does."""
    upstream = RemedyTable(load_profile())
    for kind in ErrorKind:
        assert TABLE.remedy(kind) == upstream.remedy(kind)


# ---------------------------------------------------------------------------- 2001 (B-CRED-05, B-CLI-20)


def test_2001_anonymous_offers_the_bind_link() -> None:
    """B-CRED-05, B-CLI-20: anonymous users register with ?bind=<anonymous id> and keep their work."""
    assert line(InsufficientCredits(), user_id="anon_abc123") == (
        "Out of credits. Register at https://nemovideo.com/register?bind=anon_abc123 "
        "to keep your work and get more credits."
    )
    assert TABLE.wants_user_id(ErrorKind.INSUFFICIENT_CREDITS)
    assert not TABLE.wants_user_id(ErrorKind.EXPORT_BLOCKED)


def test_2001_anonymous_without_an_id_still_points_to_registration() -> None:
    """B-CRED-05: no id known: the plain registration page."""
    assert line(InsufficientCredits()) == (
        "Out of credits. Register at https://nemovideo.com/register to keep your work and get more credits."
    )


def test_2001_registered_tops_up() -> None:
    """B-CRED-05, B-ERR-05: registered users top up on the web, in the upstream skill's words."""
    assert line(InsufficientCredits(), anonymous=False, user_id="usr_1") == (
        "Out of credits. Top up at https://nemovideo.com."
    )


# ---------------------------------------------------------------------------- files (B-UPL-05/07/08)


def test_4001_lists_the_accepted_formats() -> None:
    """B-UPL-05, B-UPL-07: the formats come from the profile."""
    assert line(UnsupportedFile()) == (
        "Unsupported file type. Supported: mp4, mov, avi, webm, mkv, jpg, png, gif, webp, mp3, wav, m4a, aac."
    )
    narrow = dataclasses.replace(load_profile(), accepted_formats={"video": ("mp4",), "image": ("png",)})
    table = RemedyTable(narrow)
    assert table.line(UnsupportedFile(), anonymous=True) == "Unsupported file type. Supported: mp4, png."
    assert table.remedy(ErrorKind.UNSUPPORTED_FILE) == "Send one of the supported formats: mp4, png."


def test_format_list_flattens_profile_formats() -> None:
    """B-UPL-05: the profile's format table, in order, without duplicates."""
    assert format_list(DOCUMENTED_FORMATS).split(", ")[:3] == ["mp4", "mov", "avi"]
    assert format_list({"video": "mp4"}) == "mp4"
    assert format_list(["MP4", ".mov", "mp4"]) == "mp4, mov"


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


def test_4002_suggests_compress_or_trim_with_the_cap() -> None:
    """B-UPL-07, B-UPL-08: too large: compress or trim, with the server's cap, else the profile's."""
    assert line(FileTooLarge("File too large")) == "File too large. Compress or trim it, then send it again."
    capped = RemedyTable(dataclasses.replace(load_profile(), upload_cap_bytes=200 * 1024 * 1024))
    assert capped.line(FileTooLarge("File too large"), anonymous=True).startswith(
        "File too large (limit 200 MB)."
    )
    stated = FileTooLarge("big.mp4 is over the 1 MB limit")
    assert capped.line(stated, anonymous=True).startswith("File too large (limit 1 MB).")


# ---------------------------------------------------------------------------- 402 (B-REN-16)


def test_402_is_a_plan_limit_not_credits_for_every_user() -> None:
    """B-REN-16, B-ERR-05: 402 means register/upgrade, explicitly not credits, in the profile's words."""
    expected = (
        "Export needs a plan upgrade: register at https://nemovideo.com to unlock export "
        "(this is a subscription limit, not credits)."
    )
    assert line(ExportBlocked()) == expected
    assert line(ExportBlocked(), anonymous=False) == expected
    assert TABLE.remedy(ErrorKind.EXPORT_BLOCKED) == "Register at nemovideo.com to unlock export."


# ---------------------------------------------------------------------------- the profile's own words


@pytest.mark.parametrize("name", shipped_profiles())
def test_each_profile_words_its_402_and_top_up_itself(name: str) -> None:
    """B-PROF-01..06, B-ERR-05: the 402 and registered-2001 lines carry the profile's own sentence,
    with the configured web base where the sentence names nemovideo.com (B-ENV-02)."""
    profile = load_profile(name)
    table = RemedyTable(profile, "https://web.test/")
    export_line = table.line(ExportBlocked(), anonymous=True)
    top_up_line = table.line(InsufficientCredits(), anonymous=False)
    own_402 = profile.export_blocked_remedy.rstrip(".").replace("nemovideo.com", "https://web.test")
    own_top_up = profile.top_up_remedy.rstrip(".").replace("nemovideo.com", "https://web.test")
    assert own_402[0].lower() + own_402[1:] in export_line and "not credits" in export_line
    assert top_up_line == f"Out of credits. {own_top_up}."
    assert table.remedy(ErrorKind.EXPORT_BLOCKED) == profile.export_blocked_remedy
    own_words = profile.top_up_remedy.rstrip(".")
    assert table.remedy(ErrorKind.INSUFFICIENT_CREDITS).lower().endswith(f"registered: {own_words.lower()}.")


@pytest.mark.parametrize("name", SEEDS_WITH_THEIR_OWN_WORDS)
def test_seeds_003_and_004_speak_their_own_words(name: str) -> None:
    """B-PROF-05, B-PROF-06, B-ERR-05: "Register or upgrade your plan to unlock export." and
    "Top up credits in your account" reach the user."""
    table = RemedyTable(load_profile(name), WEB)
    assert table.line(ExportBlocked(), anonymous=True) == (
        "Export needs a plan upgrade: register or upgrade your plan to unlock export "
        "(this is a subscription limit, not credits)."
    )
    top_up = table.line(InsufficientCredits(), anonymous=False)
    assert top_up == "Out of credits. Top up credits in your account."
    assert table.line(InsufficientCredits(), anonymous=True, user_id="anon_1") == (
        f"Out of credits. Register at {WEB}/register?bind=anon_1 to keep your work and get more credits."
    )


def test_web_url_from_config_is_used_without_trailing_slash() -> None:
    """B-ENV-02: NEMO_WEB_URL decides the links, also inside the profile's sentences."""
    table = RemedyTable(load_profile(), "https://web.test/")
    assert table.line(InsufficientCredits(), anonymous=False) == "Out of credits. Top up at https://web.test."
    assert "register at https://web.test to unlock export" in table.line(ExportBlocked(), anonymous=True)
    bind = table.line(InsufficientCredits(), anonymous=True, user_id="anon_1")
    assert "https://web.test/register?bind=anon_1" in bind


# ---------------------------------------------------------------------------- the other rows


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (TokenInvalid(), "API Tokens at https://nemovideo.com"),
        (MissingClientId(), "NEMO_CLIENT_ID"),
        (RateLimited(), "wait 30 s and retry"),
        (ServerError("Bad gateway"), "Bad gateway Try again in a little while."),
    ],
)
def test_other_lines(error: NemoError, words: str) -> None:
    """B-ERR-05, B-AUTH-02, B-AUTH-06, B-AUTH-14: one line naming what the user does."""
    assert words in line(error)


def test_the_client_says_what_it_does_about_a_lost_session() -> None:
    """B-SESS-07, B-ERR-05: 1002 is handled by the client, which says so."""
    notice = TABLE.notice(ErrorKind.SESSION_NOT_FOUND)
    assert notice == "That session no longer exists; starting a new session."
    with pytest.raises(KeyError):
        TABLE.notice(ErrorKind.EXPORT_BLOCKED)


def test_common_failures() -> None:
    """B-CLI-14, B-CLI-16: nothing to export; render failed after the retry."""
    assert "try again later" in RENDER_FAILED_TWICE
    assert "generate" in NOTHING_TO_EXPORT


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: e.kind)
def test_lines_are_one_line_and_free_of_gui_words(error: NemoError) -> None:
    """B-ERR-05, B-CLI-03: every line is a single line a chat user can act on."""
    for anonymous in (True, False):
        message = line(error, anonymous=anonymous, user_id="anon_x")
        assert "\n" not in message
        assert message
        assert not contains_gui_instruction(message)


@given(
    st.sampled_from(ERRORS),
    st.booleans(),
    st.none() | st.text(max_size=30) | st.text(max_size=10).map(lambda s: f"anon_{s}NMV_usr_{s}"),
    st.sampled_from([WEB, "https://web.test/", "", "https://nmv_usr_leak.example"]),
)
def test_lines_never_contain_a_user_token(
    error: NemoError, anonymous: bool, user_id: str | None, web: str
) -> None:
    """B-AUTH-22: no line ever shows a `nmv_usr_` token, whatever it is given."""
    message = RemedyTable(None, web).line(error, anonymous=anonymous, user_id=user_id)
    assert "nmv_usr_" not in message.lower()
    assert "\n" not in message


def test_a_token_passed_as_user_id_never_reaches_the_line() -> None:
    """B-AUTH-22: a user token given by mistake is left out, not printed."""
    message = line(InsufficientCredits(), user_id="nmv_usr_secret")
    assert "nmv_usr_" not in message
    assert "https://nemovideo.com/register " in message


def test_errors_module_keeps_no_remedy_of_its_own() -> None:
    """B-ERR-05: one home for remedies: no error class carries remedy text of its own."""
    assert not any("default_remedy" in vars(cls) for cls in all_error_classes())


# ---------------------------------------------------------------------------- links (B-CLI-19, B-CLI-20)


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


def test_is_anonymous() -> None:
    """B-AUTH-04: anonymous ids start with anon_."""
    assert is_anonymous("anon_abc123")
    assert not is_anonymous("usr_1")
    assert not is_anonymous(None)


def test_default_web_url() -> None:
    """B-ENV-02: the v1.9 default web base."""
    assert DEFAULT_WEB_URL == "https://nemovideo.com"
