"""Configuration from the environment, the config directory, attribution headers and clocks."""

from __future__ import annotations

import asyncio
import stat
import uuid
from pathlib import Path

import pytest

from client.attribution import SkillAttribution, detect_platform, header_value
from client.clock import FakeClock, ScaledClock
from client.config import (
    DEFAULT_API_URL,
    DEFAULT_WEB_URL,
    ClientConfig,
    Project,
    clear_project,
    load_project,
    save_project,
)
from client.errors import ConfigError
from contracts.profiles import PROFILES_DIR

TOKEN = "nmv_usr_0123456789abcdef"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment whose home and config dir live in tmp_path."""
    return {"HOME": str(tmp_path / "home")}


def config_dir_of(env: dict[str, str]) -> Path:
    return Path(env["HOME"]) / ".config" / "nemovideo"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_defaults(env: dict[str, str]) -> None:
    """B-ENV-01/02/03, B-PROF-01: every variable is optional; upstream defaults apply."""
    config = ClientConfig.from_env(env)
    assert config.api_url == DEFAULT_API_URL == "https://mega-api-prod.nemovideo.ai"
    assert config.web_url == DEFAULT_WEB_URL == "https://nemovideo.com"
    assert config.token is None
    assert config.time_scale == 1.0
    assert config.config_dir == config_dir_of(env)
    assert config.attribution == SkillAttribution("nemo-video", "1.9", "unknown")
    assert config.language == "en"
    assert config.profile is not None and config.profile.name == "nemo-video"


def test_environment_overrides(env: dict[str, str], tmp_path: Path) -> None:
    """B-ENV-03: NEMO_API_URL, NEMO_WEB_URL, NEMO_TOKEN, NEMO_CONFIG_DIR, NEMO_TIME_SCALE are read."""
    env |= {
        "NEMO_API_URL": "http://127.0.0.1:8787/",
        "NEMO_WEB_URL": "http://127.0.0.1:8787/web/",
        "NEMO_TOKEN": TOKEN,
        "NEMO_CONFIG_DIR": str(tmp_path / "cfg"),
        "NEMO_TIME_SCALE": "0",
    }
    config = ClientConfig.from_env(env)
    assert config.api_url == "http://127.0.0.1:8787"
    assert config.web_url == "http://127.0.0.1:8787/web"
    assert config.token == TOKEN
    assert config.config_dir == tmp_path / "cfg"
    assert config.time_scale == 0.0
    assert TOKEN not in repr(config)


def test_config_dir_tilde_expands_from_env_home(env: dict[str, str]) -> None:
    """NEMO_CONFIG_DIR with `~` expands against the environment's HOME."""
    config = ClientConfig.from_env(env | {"NEMO_CONFIG_DIR": "~/elsewhere"})
    assert config.config_dir == Path(env["HOME"]) / "elsewhere"


def test_client_id_created_persisted_and_reused(env: dict[str, str]) -> None:
    """B-AUTH-12: no env and no file -> a UUID written to client_id (dir 0700, file 0600), then reused."""
    first = ClientConfig.from_env(env)
    assert first.client_id is not None
    uuid.UUID(first.client_id)
    folder = config_dir_of(env)
    assert (folder / "client_id").read_text() == first.client_id + "\n"  # the id only
    assert mode(folder) == 0o700
    assert mode(folder / "client_id") == 0o600
    assert sorted(p.name for p in folder.iterdir()) == ["client_id"]
    assert ClientConfig.from_env(env).client_id == first.client_id


def test_client_id_from_env_wins_and_writes_nothing(env: dict[str, str]) -> None:
    """B-AUTH-12: NEMO_CLIENT_ID comes first; the file is neither read nor written."""
    config = ClientConfig.from_env(env | {"NEMO_CLIENT_ID": " my-agent-42 "})
    assert config.client_id == "my-agent-42"
    assert not (config_dir_of(env) / "client_id").exists()


def test_client_id_file_is_read(env: dict[str, str]) -> None:
    """B-AUTH-12: an existing file is used as it is (surrounding whitespace dropped)."""
    folder = config_dir_of(env)
    folder.mkdir(parents=True)
    (folder / "client_id").write_text("client-1773187200-4242\n")
    assert ClientConfig.from_env(env).client_id == "client-1773187200-4242"


def test_empty_client_id_file_is_replaced(env: dict[str, str]) -> None:
    """B-AUTH-12: an empty file counts as no id."""
    folder = config_dir_of(env)
    folder.mkdir(parents=True)
    (folder / "client_id").write_text("\n")
    client_id = ClientConfig.from_env(env).client_id
    assert client_id and (folder / "client_id").read_text().strip() == client_id


@pytest.mark.parametrize("bad", ["x" * 65, "has space", "tab\tid"])
def test_unusable_client_id_is_a_config_error(env: dict[str, str], bad: str) -> None:
    """B-AUTH-11: at most 64 characters, usable as a header value."""
    with pytest.raises(ConfigError):
        ClientConfig.from_env(env | {"NEMO_CLIENT_ID": bad})


@pytest.mark.parametrize(("raw", "expected"), [("1", 1.0), ("0", 0.0), ("60", 60.0), ("0.5", 0.5)])
def test_time_scale(env: dict[str, str], raw: str, expected: float) -> None:
    """NEMO_TIME_SCALE: any finite number >= 0; 0 means no real waiting."""
    assert ClientConfig.from_env(env | {"NEMO_TIME_SCALE": raw}).time_scale == expected


@pytest.mark.parametrize("raw", ["fast", "-1", "nan", "inf"])
def test_invalid_time_scale(env: dict[str, str], raw: str) -> None:
    """NEMO_TIME_SCALE that is not a finite number >= 0 is a ConfigError, before anything is written."""
    with pytest.raises(ConfigError, match="NEMO_TIME_SCALE"):
        ClientConfig.from_env(env | {"NEMO_TIME_SCALE": raw})
    assert not config_dir_of(env).exists()


def test_claim_token_as_api_token_is_refused(env: dict[str, str]) -> None:
    """B-AUTH-20/21: a clm_ token grants no API access; catch the mix-up at configuration time."""
    with pytest.raises(ConfigError, match="claim token"):
        ClientConfig.from_env(env | {"NEMO_TOKEN": "clm_abc"})


def test_bad_api_url(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        ClientConfig.from_env(env | {"NEMO_API_URL": "mega-api-prod.nemovideo.ai"})


# ---------------------------------------------------------------------------- project file


def test_project_round_trip_without_token(env: dict[str, str]) -> None:
    """B-SESS-04, B-ENV-04: project.json keeps session, task, claim token, user id; never the token."""
    config = ClientConfig.from_env(env | {"NEMO_TOKEN": TOKEN})
    assert config.config_dir is not None
    assert load_project(config.config_dir) is None
    project = Project("5529798706024415232", "task_1", "clm_1", "anon_1")
    save_project(config.config_dir, project)
    assert load_project(config.config_dir) == project
    assert mode(config.config_dir / "project.json") == 0o600
    for path in config.config_dir.iterdir():
        assert TOKEN not in path.read_text()
    clear_project(config.config_dir)
    assert load_project(config.config_dir) is None
    clear_project(config.config_dir)  # clearing twice is fine


def test_unreadable_project_file_counts_as_none(tmp_path: Path) -> None:
    (tmp_path / "project.json").write_text("{not json")
    assert load_project(tmp_path) is None
    (tmp_path / "project.json").write_text('{"task_id": "t"}')
    assert load_project(tmp_path) is None


# ---------------------------------------------------------------------------- attribution


@pytest.mark.parametrize(
    ("profile", "version"),
    [
        ("nemo-video", "1.9"),
        ("text-to-video-kling-ai", None),
        ("text-to-video-diffusion", None),
        ("video-generator-ki-free", None),
        ("generator-video", None),
        ("ai-video-generation-online", "1.0.0"),
    ],
)
def test_attribution_per_profile(env: dict[str, str], profile: str, version: str | None) -> None:
    """B-ATTR-01/05: source = frontmatter name, version = frontmatter version; no version -> no header."""
    config = ClientConfig.from_env(env, profile=profile)
    headers = config.attribution.headers()
    assert headers["X-Skill-Source"] == profile
    assert headers.get("X-Skill-Version") == version
    assert ("X-Skill-Version" in headers) is (version is not None)
    assert headers["X-Skill-Platform"] == "unknown"


@pytest.mark.parametrize(
    ("folder", "platform"),
    [
        (".clawhub/skills/my-skill", "clawhub"),
        (".cursor/skills/my-skill", "cursor"),
        (".openclaw/skills/nemo-video", "unknown"),  # B-ATTR-09
        ("work/skills/my-skill", "unknown"),
    ],
)
def test_platform_from_skill_path(env: dict[str, str], tmp_path: Path, folder: str, platform: str) -> None:
    """B-ATTR-02: the install directory in the skill file's path names the platform."""
    skill = tmp_path / folder / "SKILL.md"
    skill.parent.mkdir(parents=True)
    skill.write_bytes((PROFILES_DIR / "ai-video-generation-online" / "SKILL.md").read_bytes())
    config = ClientConfig.from_env(env, skill_file=skill)
    assert config.attribution == SkillAttribution("ai-video-generation-online", "1.0.0", platform)


def test_skill_source_env_wins(env: dict[str, str], tmp_path: Path) -> None:
    """B-ATTR-02: env SKILL_SOURCE comes before path detection."""
    skill = tmp_path / ".clawhub" / "x" / "SKILL.md"
    skill.parent.mkdir(parents=True)
    skill.write_text("---\nname: my-skill\nversion: '2.0'\n---\nbody\n")
    config = ClientConfig.from_env(env | {"SKILL_SOURCE": "github"}, skill_file=skill)
    assert config.attribution == SkillAttribution("my-skill", "2.0", "github")


def test_detect_platform_tilde_paths() -> None:
    """B-ATTR-02 words the directories as `~/.clawhub/` and `~/.cursor/skills/`."""
    assert detect_platform("~/.clawhub/nemo/SKILL.md", {}) == "clawhub"
    assert detect_platform("C:\\Users\\a\\.cursor\\skills\\n\\SKILL.md", {}) == "cursor"
    assert detect_platform(None, {"SKILL_SOURCE": ""}) == "unknown"


def test_mis_decoded_skill_file(env: dict[str, str], tmp_path: Path) -> None:
    """B-PROF-06 (seed 004): frontmatter flattened onto one mis-decoded line still yields name and version."""
    text = (
        "Ai Video Generation Online\nclawhub install ai-video-generation-onlineπ About This Skill\n"
        'name: ai-video-generation-online version: "1.0.0" displayName: "AI Video β Generate" '
        'metadata: {"openclaw": {"emoji": "π¬"}}\nGetting Started\n'
    )
    skill = tmp_path / "seed" / "SKILL.md"
    skill.parent.mkdir()
    skill.write_bytes(text.encode("utf-8") + b"\xff\xfe stray bytes\n")
    config = ClientConfig.from_env(env, skill_file=skill)
    assert config.skill_name == "ai-video-generation-online"
    assert config.skill_version == "1.0.0"
    config.attribution.headers()["X-Skill-Source"].encode("ascii")


def test_header_values_are_safe_ascii() -> None:
    """Attribution values can neither inject headers nor break the ASCII header encoding."""
    assert header_value("nemo\r\nX-Evil: 1") == "nemo X-Evil: 1"
    assert header_value("vidéo β") == "vid o"
    assert header_value("  ") is None
    assert header_value(None) is None


def test_missing_skill_file_is_a_config_error(env: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        ClientConfig.from_env(env, skill_file=tmp_path / "nope" / "SKILL.md")


# ---------------------------------------------------------------------------- clocks


class RealTimeStub:
    """Stands in for the real clock and sleeps: records requested waits, time stands still."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return 100.0

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.waits.append(seconds)


def scaled(scale: float, stub: RealTimeStub) -> ScaledClock:
    return ScaledClock(
        scale, start=1000.0, real=stub.monotonic, real_sleep=stub.sleep, real_asleep=stub.asleep
    )


def test_scaled_clock_runs_waits_faster() -> None:
    """NEMO_TIME_SCALE X: a 30 s wait sleeps 30/X real seconds; virtual time moves the full 30 s."""
    stub = RealTimeStub()
    clock = scaled(10.0, stub)
    clock.sleep(30.0)
    assert stub.waits == [3.0]
    assert clock.now() == 1030.0
    asyncio.run(clock.asleep(60.0))
    assert stub.waits == [3.0, 6.0]
    assert clock.now() == 1090.0


def test_scale_zero_never_waits_but_time_moves() -> None:
    """NEMO_TIME_SCALE 0: no real wait at all; virtual time still advances so notices fire (B-CLI-06)."""
    stub = RealTimeStub()
    clock = scaled(0.0, stub)
    clock.sleep(120.0)
    assert stub.waits == []
    assert clock.now() == 1120.0
    asyncio.run(clock.asleep(30.0))
    assert stub.waits == [0.0]  # the async wait only yields to the loop
    assert clock.now() == 1150.0


def test_scaled_clock_rejects_bad_scales() -> None:
    for bad in (-1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            ScaledClock(bad)


def test_fake_clock_records_sleeps() -> None:
    """FakeClock: waits return at once, are recorded, and advance virtual time."""
    clock = FakeClock(start=5.0)
    clock.sleep(30.0)
    asyncio.run(clock.asleep(2.5))
    clock.advance(1.0)
    assert clock.sleeps == [30.0, 2.5]
    assert clock.now() == 38.5
