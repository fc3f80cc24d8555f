"""Skill profiles: the shipped SKILL.md fixtures and the parser that reads any SKILL.md (B-PROF-*)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest

from contracts import SCHEMAS_DIR
from contracts.profiles import (
    BYTES_PER_MB,
    DEFAULT_PROFILE,
    DOCUMENTED_FORMATS,
    GUI_TRANSLATION_ROWS,
    Profile,
    ProfileError,
    load_profile,
    parse_frontmatter,
    profile_path,
    shipped_profiles,
)

SEED_PROFILES = (
    "text-to-video-kling-ai",
    "text-to-video-diffusion",
    "video-generator-ki-free",
    "generator-video",
    "ai-video-generation-online",
)
ALL_PROFILES = (DEFAULT_PROFILE, *SEED_PROFILES)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS_DIR / "profile.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def write_skill(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "SKILL.md"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- shipped profiles


def test_shipped_profiles_are_upstream_plus_the_five_seeds() -> None:
    """B-PROF-01..06: one profile per seed skill plus nemo-video, the upstream skill."""
    assert shipped_profiles() == sorted(ALL_PROFILES)


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_shipped_frontmatter_validates_against_the_schema(
    name: str, validator: jsonschema.Draft202012Validator
) -> None:
    """B-PROF-01..07: every shipped profile's frontmatter matches profile.schema.json."""
    frontmatter, body = parse_frontmatter(profile_path(name).read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(frontmatter)]
    assert errors == []
    assert frontmatter["name"] == name
    assert body.strip(), "the body says which skill the profile models"


def test_schema_has_its_id_and_rejects_a_bad_block(validator: jsonschema.Draft202012Validator) -> None:
    """B-UPL-08: the schema is the one published at its $id and refuses a non-positive cap."""
    assert validator.schema["$id"] == "https://nemovideo-twin.local/schemas/profile.schema.json"
    frontmatter, _ = parse_frontmatter(profile_path(DEFAULT_PROFILE).read_text(encoding="utf-8"))
    frontmatter["nemo"]["upload_cap_mb"] = 0
    frontmatter["nemo"]["uplaod_cap_mb"] = 10
    errors = {(tuple(e.absolute_path), e.validator) for e in validator.iter_errors(frontmatter)}
    assert errors == {(("nemo",), "additionalProperties"), (("nemo", "upload_cap_mb"), "exclusiveMinimum")}


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_shipped_profile_loads_with_its_source_path(name: str) -> None:
    """B-PROF-01..06: each shipped name loads, and the profile says which file it came from."""
    profile = load_profile(name)
    assert profile.name == name
    assert profile.source_path == str(profile_path(name))


def test_default_profile_is_nemo_video_with_a_500_mb_cap() -> None:
    """B-PROF-01, B-ATTR-05, U-13: no argument loads nemo-video 1.9 with the 500 MB cap."""
    profile = load_profile()
    assert (profile.name, profile.version) == ("nemo-video", "1.9")
    assert profile.upload_cap_bytes == 500 * BYTES_PER_MB
    assert profile.upload_cap_mb == 500
    assert profile.claim_token is True
    assert profile.download_fallback is True
    assert profile.gui_translation_rows == GUI_TRANSLATION_ROWS


def test_nemo_video_spells_out_the_upstream_defaults() -> None:
    """B-PROF-01, B-SSE-10, B-CRED-04: the shipped upstream profile equals the code's defaults."""
    profile = load_profile(DEFAULT_PROFILE)
    defaults = Profile(name="nemo-video", version="1.9", upload_cap_bytes=500 * BYTES_PER_MB)
    assert profile == dataclasses.replace(defaults, source_path=profile.source_path)


# name: (version, cap MB, session language, generation seconds, recommended formats)
SEED_VALUES: dict[str, tuple[str | None, int, str | None, tuple[float, float], tuple[str, ...]]] = {
    "text-to-video-kling-ai": (None, 200, "en", (60.0, 180.0), ("txt", "png", "jpg", "mp4")),
    "text-to-video-diffusion": (None, 500, "<detected>", (60.0, 180.0), ("txt", "docx", "pdf", "plain text")),
    "video-generator-ki-free": (None, 200, "en", (60.0, 120.0), ("mp4", "mov", "jpg", "png")),
    "generator-video": (None, 500, None, (60.0, 120.0), ("mp4", "mov", "png", "jpg")),
    "ai-video-generation-online": ("1.0.0", 200, "en", (60.0, 120.0), ("mp4", "mov", "jpg", "png")),
}


@pytest.mark.parametrize("name", SEED_PROFILES)
def test_seed_profile_values(name: str) -> None:
    """B-PROF-02..06, B-ATTR-05, B-UPL-08, B-UPL-09, B-SESS-05, B-SSE-17: per-seed versions and limits."""
    version, cap_mb, language, generation_s, recommended = SEED_VALUES[name]
    profile = load_profile(name)
    assert profile.version == version
    assert profile.upload_cap_bytes == cap_mb * BYTES_PER_MB
    assert profile.session_language == language
    assert profile.generation_s == generation_s
    assert profile.recommended_formats == recommended


def test_generator_video_sends_no_language() -> None:
    """B-SESS-05, B-PROF-05: seed 003's session body has no `language`, so the profile holds None."""
    assert load_profile("generator-video").session_language is None


@pytest.mark.parametrize("name", SEED_PROFILES)
def test_seed_profiles_share_the_common_seed_traits(name: str) -> None:
    """B-PROF-07, B-UPL-05, B-REN-10, B-REN-11, B-SSE-16: what all five seeds document alike."""
    profile = load_profile(name)
    assert profile.accepted_formats == DOCUMENTED_FORMATS
    assert (profile.poll_interval_s, profile.max_polls) == (30.0, 10)
    assert profile.render_s == (30.0, 90.0)
    assert profile.sse_timeout_s == 900.0
    assert profile.render_shape == "A"
    assert not profile.claim_token
    assert not profile.cancel_endpoint
    assert not profile.download_fallback
    assert (profile.generation_cost, profile.edit_cost, profile.export_cost) == (100, 50, 0)


def test_recommended_types_outside_the_accepted_list() -> None:
    """B-UPL-09: seeds 000 and 001 recommend types that the accepted list refuses (4001)."""
    for name in ("text-to-video-kling-ai", "text-to-video-diffusion"):
        profile = load_profile(name)
        refused = [fmt for fmt in profile.recommended_formats if profile.extension_type(fmt) is None]
        assert "txt" in refused
    assert load_profile("text-to-video-diffusion").extension_type("PDF") is None


def test_extension_type_ignores_case_and_reads_jpeg_as_jpg() -> None:
    """U-13, B-UPL-06: extensions are case-insensitive and jpeg counts as jpg."""
    profile = load_profile()
    assert profile.extension_type(".JPEG") == "image"
    assert profile.extension_type("MOV") == "video"
    assert profile.extension_type("m4a") == "audio"
    assert profile.extension_type("txt") is None


def test_gui_translation_tables_per_profile() -> None:
    """B-PROF-02, B-PROF-03, B-PROF-04, B-CLI-03: which profiles document which GUI-translation rows."""
    kling = load_profile("text-to-video-kling-ai")
    assert not kling.gui_translation
    assert kling.gui_translation_rows == ()
    assert kling.gui_translation_note is not None and "missing" in kling.gui_translation_note
    diffusion = load_profile("text-to-video-diffusion")
    assert diffusion.gui_translation
    assert diffusion.gui_translation_rows == GUI_TRANSLATION_ROWS[:5]
    assert "check_billing" not in diffusion.gui_translation_rows
    assert not load_profile("video-generator-ki-free").gui_translation


def test_error_wording_of_seeds_003_and_004() -> None:
    """B-PROF-05, B-PROF-06, B-ERR-05: the seeds' own 402 and top-up remedies."""
    for name in ("generator-video", "ai-video-generation-online"):
        profile = load_profile(name)
        assert profile.export_blocked_remedy == "Register or upgrade your plan to unlock export."
        assert profile.top_up_remedy == "Top up credits in your account"
    assert load_profile().export_blocked_remedy == "Register at nemovideo.com to unlock export."


def test_seed_004_mojibake_is_kept_and_tolerated() -> None:
    """B-PROF-06: seed 004's mis-decoded text (UTF-8 read as a Greek code page) still parses."""
    text = profile_path("ai-video-generation-online").read_text(encoding="utf-8")
    frontmatter, body = parse_frontmatter(text)
    assert frontmatter["metadata"]["openclaw"]["emoji"] == "π¬"  # 🎬 mis-decoded
    assert frontmatter["metadata"]["openclaw"]["variant"] == "greeting_v2"
    assert frontmatter["metadata"]["openclaw"]["requires"]["env"] == ["NEMO_TOKEN"]
    assert "β" in frontmatter["displayName"]
    assert "ε―ΌεΊ" in body  # 导出 mis-decoded
    profile = load_profile("ai-video-generation-online")
    assert (profile.name, profile.version) == ("ai-video-generation-online", "1.0.0")


# ---------------------------------------------------------------------------- finding files


def test_load_by_path_by_folder_and_by_pathlike() -> None:
    """B-ATTR-01: any SKILL.md path (str or Path) or its folder loads, naming the skill from the file."""
    path = profile_path("generator-video")
    for ref in (path, str(path), path.parent):
        profile = load_profile(ref)
        assert profile.name == "generator-video"
        assert profile.source_path == str(path)


def test_unknown_profile_is_a_profile_error_naming_it() -> None:
    """`--profile` interface: an unknown name fails clearly, naming it and the shipped profiles."""
    with pytest.raises(ProfileError) as caught:
        load_profile("no-such-skill")
    assert "no-such-skill" in str(caught.value)
    assert DEFAULT_PROFILE in str(caught.value)
    with pytest.raises(ProfileError):
        profile_path("../nemo-video")


def test_missing_file_is_a_profile_error_with_its_path(tmp_path: Path) -> None:
    """`--profile` interface: a path without a SKILL.md fails with that path in the message."""
    empty = tmp_path / "empty-skill"
    empty.mkdir()
    with pytest.raises(ProfileError) as caught:
        load_profile(empty)
    assert caught.value.path == str(empty / "SKILL.md")
    assert str(empty) in str(caught.value)
    with pytest.raises(ProfileError, match=r"no such SKILL\.md"):
        load_profile(tmp_path / "nowhere" / "SKILL.md")


def test_bad_nemo_values_are_reported_with_key_and_path(tmp_path: Path) -> None:
    """B-UPL-08: a wrong value or an unknown key in the nemo: block names the key and the file."""
    bad_cap = write_skill(tmp_path / "a", "---\nname: a\nnemo:\n  upload_cap_mb: big\n---\n")
    with pytest.raises(ProfileError, match="upload_cap_mb") as caught:
        load_profile(bad_cap)
    assert caught.value.path == str(bad_cap)
    typo = write_skill(tmp_path / "b", "---\nname: b\nnemo:\n  uplaod_cap_mb: 10\n---\n")
    with pytest.raises(ProfileError, match="uplaod_cap_mb"):
        load_profile(typo)
    bad_range = write_skill(tmp_path / "c", "---\nname: c\nnemo:\n  durations: {render_s: [90, 30]}\n---\n")
    with pytest.raises(ProfileError, match="render_s"):
        load_profile(bad_range)


def test_partial_nemo_block_falls_back_to_defaults_and_null_cap_means_none(tmp_path: Path) -> None:
    """B-PROF-01, U-13: keys a nemo: block leaves out take the upstream defaults; a null cap is no cap."""
    path = write_skill(
        tmp_path / "partial",
        "---\nname: partial\nversion: 2.0.1\nnemo:\n  upload_cap_mb: null\n  render_shape: B\n---\nBody.\n",
    )
    profile = load_profile(path)
    assert profile.upload_cap_bytes is None
    assert profile.upload_cap_mb is None
    assert profile.render_shape == "B"
    assert profile.version == "2.0.1"
    assert (profile.poll_interval_s, profile.heartbeat_interval_s) == (30.0, 5.0)


# ---------------------------------------------------------------------------- user SKILL.md files


def test_user_file_without_nemo_block_takes_name_version_and_cap_from_text(tmp_path: Path) -> None:
    """B-ATTR-01, B-UPL-08: a plain SKILL.md yields its frontmatter identity and the cap its text states."""
    path = write_skill(
        tmp_path / "my-skill",
        "---\nname: my-video-skill\nversion: 1.9\ndescription: Makes videos.\n---\n"
        "# My skill\n\nMax file size is 200MB. Stick to MP4 for the smoothest experience.\n",
    )
    profile = load_profile(path)
    assert (profile.name, profile.version) == ("my-video-skill", "1.9")
    assert profile.upload_cap_bytes == 200 * BYTES_PER_MB
    assert profile.accepted_formats == DOCUMENTED_FORMATS
    assert profile.session_language == "en"


def test_user_file_without_cap_text_gets_the_default_cap(tmp_path: Path) -> None:
    """U-13, B-UPL-08: without a stated cap the upstream default of 500 MB applies."""
    path = write_skill(tmp_path / "plain", "---\nname: plain\n---\nNothing about sizes here.\n")
    assert load_profile(path).upload_cap_bytes == 500 * BYTES_PER_MB


SEED_000_LIKE = """Install
openclaw skills install text-to-video-kling-aigenerate text prompts into AI generated clips. Works with \
TXT, PNG, JPG, MP4 files up to 200MB. Processing takes 1-3 minutes on cloud GPUs.
openclaw skills install text-to-video-kling-aiSend me your text prompts.
Then create a session with body {"task_name":"project","language":"en"}.
X-Skill-Source | text-to-video-kling-ai |
"""


def test_frontmatterless_marketplace_text_loads(tmp_path: Path) -> None:
    """B-PROF-02, B-ATTR-05, B-SSE-17: a raw marketplace copy without frontmatter still yields a profile.

    The install line glues the next sentence to the name; the parser recovers the real name.
    """
    profile = load_profile(write_skill(tmp_path / "download", SEED_000_LIKE))
    assert profile.name == "text-to-video-kling-ai"
    assert profile.version is None
    assert profile.upload_cap_bytes == 200 * BYTES_PER_MB
    assert profile.session_language == "en"
    assert profile.generation_s == (60.0, 180.0)


def test_frontmatterless_text_without_language_or_install_line(tmp_path: Path) -> None:
    """B-SESS-05, B-PROF-05: a session body without language gives None; the folder names the skill."""
    text = 'Session: POST with body {"task_name":"project"}. Max file size is 500MB.\n'
    profile = load_profile(write_skill(tmp_path / "generator-copy", text))
    assert profile.name == "generator-copy"
    assert profile.session_language is None
    assert profile.upload_cap_bytes == 500 * BYTES_PER_MB


SEED_004_LIKE = (
    "Ai Video Generation Online\n"
    "clawhub install ai-video-generation-onlineπ About This Skill\n"
    'name: ai-video-generation-online version: "1.0.0" displayName: "AI Video Generation Online β '
    'Generate Videos" description: > generate videos. Works with MP4, MOV, JPG, PNG files up to 200MB. '
    'metadata: {"openclaw": {"emoji": "π¬", "variant": "greeting_v2"}}\n'
    '| "Export button" / "ε―ΌεΊ" | Execute export workflow |\n'
)


def test_mis_decoded_one_line_frontmatter_loads(tmp_path: Path) -> None:
    """B-PROF-06: seed 004's flattened, mis-decoded frontmatter line still gives name and version."""
    profile = load_profile(write_skill(tmp_path / "x", SEED_004_LIKE))
    assert (profile.name, profile.version) == ("ai-video-generation-online", "1.0.0")
    assert profile.upload_cap_bytes == 200 * BYTES_PER_MB


def test_fenced_one_line_frontmatter_is_read_loosely() -> None:
    """B-PROF-06: odd YAML between fences is read for its known keys instead of failing."""
    text = "---\n" + SEED_004_LIKE.splitlines()[2] + "\n---\nBody\n"
    frontmatter, body = parse_frontmatter(text)
    assert frontmatter["name"] == "ai-video-generation-online"
    assert frontmatter["version"] == "1.0.0"
    assert frontmatter["metadata"] == {"openclaw": {"emoji": "π¬", "variant": "greeting_v2"}}
    assert frontmatter["description"].startswith("generate videos.")
    assert body == "Body\n"


def test_undecodable_bytes_do_not_lose_the_profile(tmp_path: Path) -> None:
    """B-PROF-06: bytes that are not UTF-8 are replaced, and the rest of the file still counts."""
    folder = tmp_path / "bytes"
    folder.mkdir()
    (folder / "SKILL.md").write_bytes(b"---\nname: bytes-skill\n---\n\xff\xfe files up to 200MB\n")
    profile = load_profile(folder)
    assert profile.name == "bytes-skill"
    assert profile.upload_cap_bytes == 200 * BYTES_PER_MB


def test_parse_frontmatter_edge_cases() -> None:
    """B-ENV-04: frontmatter (requires.env and all) is the fenced YAML block at the top; the rest is body."""
    assert parse_frontmatter("no frontmatter\n") == ({}, "no frontmatter\n")
    assert parse_frontmatter("---\nname: x\nno closing fence\n") == ({}, "---\nname: x\nno closing fence\n")
    assert parse_frontmatter("\ufeff\n---\nname: x\n---\nbody\n") == ({"name": "x"}, "body\n")
    assert parse_frontmatter("---\n---\nbody") == ({}, "body")
    frontmatter, _ = parse_frontmatter(
        '---\nname: x\nmetadata: {"openclaw": {"requires": {"env": []}}}\n---\n'
    )
    assert frontmatter["metadata"]["openclaw"]["requires"]["env"] == []
