"""Client configuration from the environment, and the little the client keeps on disk.

Environment (all optional, B-ENV-03): `NEMO_API_URL` (B-ENV-01), `NEMO_WEB_URL` (B-ENV-02),
`NEMO_TOKEN` (B-AUTH-13), `NEMO_CLIENT_ID` (B-AUTH-12), `SKILL_SOURCE` (B-ATTR-02), and the twin's
own `NEMO_CONFIG_DIR` (default `~/.config/nemovideo`) and `NEMO_TIME_SCALE` (default: the time
scale the server states in `GET /_mock/health`, else 1; see `client.timescale`).

The config directory holds `client_id` (the id only, B-AUTH-12) and `project.json` (the current
session, task, claim token and user id). The user token is never written there: B-ENV-04 names the
directory a config path, not a secret store.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from contracts.profiles import DEFAULT_PROFILE, Profile, ProfileError
from contracts.wording import CLAIM_TOKEN_PREFIX

from .attribution import SkillAttribution, load_attribution
from .clock import check_time_scale
from .errors import ConfigError
from .links import DEFAULT_WEB_URL, default_web_url
from .timescale import ScaleMode

DEFAULT_API_URL = "https://mega-api-prod.nemovideo.ai"
DEFAULT_CONFIG_DIR = "~/.config/nemovideo"
DEFAULT_USER_AGENT = "nemovideo-twin-client/0.1"
CLIENT_ID_FILE = "client_id"
PROJECT_FILE = "project.json"
#: B-AUTH-11: a UUID, or any unique stable string of at most 64 characters.
MAX_CLIENT_ID = 64


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Everything a client needs to talk to one backend as one skill."""

    api_url: str = DEFAULT_API_URL
    web_url: str = DEFAULT_WEB_URL
    token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    config_dir: Path | None = None  # None: nothing is persisted (a new client id stays in memory)
    time_scale: float = 1.0
    #: The time-scale handshake (client.timescale): "follow" the server's, "check" ours against it
    #: (warn when they differ), or "ignore" it. `from_env` follows when NEMO_TIME_SCALE is unset.
    time_scale_mode: ScaleMode = "ignore"
    skill_name: str = DEFAULT_PROFILE
    skill_version: str | None = "1.9"
    skill_platform: str = "unknown"
    user_agent: str = DEFAULT_USER_AGENT
    language: str | None = "en"  # create-session `language`; None omits it (B-SESS-05)
    profile: Profile | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("api_url", "web_url"):
            url = getattr(self, name).strip().rstrip("/")
            if not url.startswith(("http://", "https://")):
                raise ConfigError(f"{name} must be an http(s) URL, got {url!r}")
            object.__setattr__(self, name, url)
        try:
            object.__setattr__(self, "time_scale", check_time_scale(self.time_scale))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"time scale: {exc}") from None
        if self.client_id is not None:
            object.__setattr__(self, "client_id", check_client_id(self.client_id))
        if self.token is not None and self.token.startswith(CLAIM_TOKEN_PREFIX):
            # B-AUTH-20/21: a claim token only opens the browser link; as a bearer it always fails.
            raise ConfigError("NEMO_TOKEN holds a claim token (clm_…); it grants no API access")
        if self.config_dir is not None:
            object.__setattr__(self, "config_dir", Path(self.config_dir))

    @property
    def attribution(self) -> SkillAttribution:
        """The attribution headers' values (B-ATTR-01)."""
        return SkillAttribution(self.skill_name, self.skill_version, self.skill_platform)

    def with_token(self, token: str | None) -> ClientConfig:
        return replace(self, token=token)

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        skill_file: str | Path | None = None,
        profile: str | None = None,
    ) -> ClientConfig:
        """Read the environment; creates and persists a client id when there is none (B-AUTH-12)."""
        env = os.environ if env is None else env
        config_dir = expand_path(env.get("NEMO_CONFIG_DIR") or DEFAULT_CONFIG_DIR, env)
        raw_scale = (env.get("NEMO_TIME_SCALE") or "").strip() or "1"
        scale_mode: ScaleMode = "check" if (env.get("NEMO_TIME_SCALE") or "").strip() else "follow"
        try:
            time_scale = check_time_scale(float(raw_scale))
        except ValueError:
            raise ConfigError(f"NEMO_TIME_SCALE must be a finite number >= 0, got {raw_scale!r}") from None
        try:
            attribution, loaded = load_attribution(
                env,
                skill_file=expand_path(str(skill_file), env) if skill_file is not None else None,
                profile=profile,
            )
        except (OSError, ProfileError) as exc:
            raise ConfigError(f"cannot use the skill profile: {exc}") from None
        api_url = env.get("NEMO_API_URL") or DEFAULT_API_URL
        return cls(
            api_url=api_url,
            web_url=env.get("NEMO_WEB_URL") or default_web_url(api_url),
            token=(env.get("NEMO_TOKEN") or "").strip() or None,
            client_id=resolve_client_id(env, config_dir),
            config_dir=config_dir,
            time_scale=time_scale,
            time_scale_mode=scale_mode,
            skill_name=attribution.name,
            skill_version=attribution.version,
            skill_platform=attribution.platform,
            language=loaded.session_language,
            profile=loaded,
        )


def expand_path(text: str, env: Mapping[str, str]) -> Path:
    """`text` with a leading `~` expanded, from `env["HOME"]` when the mapping has one."""
    if (text == "~" or text.startswith("~/")) and env.get("HOME"):
        return Path(env["HOME"] + text[1:])
    return Path(text).expanduser()


def check_client_id(value: str) -> str:
    """`value` stripped, if usable as `X-Client-Id` (B-AUTH-11); ConfigError otherwise."""
    client_id = value.strip()
    if not client_id or len(client_id) > MAX_CLIENT_ID or any(not ("!" <= ch <= "~") for ch in client_id):
        raise ConfigError(f"a client id must be 1-{MAX_CLIENT_ID} printable ASCII characters without spaces")
    return client_id


def new_client_id() -> str:
    """A fresh client id: a UUID (B-AUTH-11)."""
    return str(uuid.uuid4())


def read_client_id(config_dir: Path) -> str | None:
    """The id stored in `<config_dir>/client_id`, or None when there is none (empty counts as none)."""
    try:
        text = (config_dir / CLIENT_ID_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the client id file: {exc.strerror or exc}") from None
    if not text.strip():
        return None
    try:
        return check_client_id(text)
    except ConfigError as exc:
        raise ConfigError(f"{config_dir / CLIENT_ID_FILE}: {exc}") from None


def save_client_id(config_dir: Path, client_id: str) -> None:
    """Write the id, and only the id, to `<config_dir>/client_id` (B-AUTH-12)."""
    _write_private(config_dir, CLIENT_ID_FILE, check_client_id(client_id) + "\n")


def resolve_client_id(env: Mapping[str, str], config_dir: Path) -> str:
    """B-AUTH-12: `NEMO_CLIENT_ID`, else the file, else a new UUID written to the file."""
    from_env = (env.get("NEMO_CLIENT_ID") or "").strip()
    if from_env:
        return check_client_id(from_env)
    stored = read_client_id(config_dir)
    if stored is not None:
        return stored
    client_id = new_client_id()
    save_client_id(config_dir, client_id)
    return client_id


@dataclass(frozen=True, slots=True)
class Project:
    """The current project: what a later command needs to continue it (B-SESS-04). No token."""

    session_id: str
    task_id: str | None = None
    claim_token: str | None = None
    user_id: str | None = None


def load_project(config_dir: Path) -> Project | None:
    """The saved project, or None when there is none or the file cannot be read as one."""
    try:
        raw: Any = json.loads((config_dir / PROJECT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("session_id"), str):
        return None

    def text(key: str) -> str | None:
        value = raw.get(key)
        return value if isinstance(value, str) else None

    return Project(raw["session_id"], text("task_id"), text("claim_token"), text("user_id"))


def save_project(config_dir: Path, project: Project) -> None:
    """Write `project.json` (mode 0600)."""
    _write_private(config_dir, PROJECT_FILE, json.dumps(asdict(project), indent=2) + "\n")


def clear_project(config_dir: Path) -> None:
    """Forget the current project."""
    with contextlib.suppress(FileNotFoundError):
        (config_dir / PROJECT_FILE).unlink()


def _write_private(config_dir: Path, name: str, text: str) -> None:
    """Write atomically, the directory 0700 and the file 0600 when they are created."""
    try:
        config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = config_dir / name
        temp = config_dir / f".{name}.{os.getpid()}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
            raise
    except OSError as exc:
        raise ConfigError(f"cannot write {config_dir / name}: {exc.strerror or exc}") from None
