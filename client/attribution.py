"""The three attribution headers every API call carries (B-ATTR-01, B-ATTR-07).

`X-Skill-Source` is the skill's frontmatter `name`, `X-Skill-Version` its `version` and
`X-Skill-Platform` where it was installed from (B-ATTR-02): env `SKILL_SOURCE`, else a known
directory in the skill file's path, else `unknown`. Nothing is hard-coded (B-ATTR-04): the values
come from a profile (B-ATTR-05) or any SKILL.md.

A profile without a version (seeds 000-003) sends no `X-Skill-Version` at all rather than a made-up
value. Header values are cut down to printable ASCII, so a mis-decoded file (seed 004, B-PROF-06)
can neither break the request nor inject a header.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.profiles import DEFAULT_PROFILE, Profile, load_profile

UNKNOWN_PLATFORM = "unknown"

#: Install directories and the platform they mean, first match wins (B-ATTR-02).
PLATFORM_DIRS: tuple[tuple[str, str], ...] = (
    ("/.clawhub/", "clawhub"),
    ("/.cursor/skills/", "cursor"),
)

_MAX_HEADER = 128


def header_value(value: Any) -> str | None:
    """`value` as a safe header value: printable ASCII, single spaces, at most 128 chars; None if empty."""
    if value is None:
        return None
    text = "".join(ch if " " <= ch <= "~" else " " for ch in str(value))
    text = " ".join(text.split())[:_MAX_HEADER].strip()
    return text or None


@dataclass(frozen=True, slots=True)
class SkillAttribution:
    """Who is calling: the skill's name and version and the platform it was installed from."""

    name: str
    version: str | None
    platform: str = UNKNOWN_PLATFORM

    def headers(self) -> dict[str, str]:
        """The attribution headers; `X-Skill-Version` is left out when the skill has no version."""
        headers = {"X-Skill-Source": self.name}
        if self.version is not None:
            headers["X-Skill-Version"] = self.version
        headers["X-Skill-Platform"] = self.platform
        return headers


def detect_platform(skill_path: str | Path | None, env: Mapping[str, str]) -> str:
    """B-ATTR-02: env `SKILL_SOURCE`, else a known install directory in the path, else `unknown`."""
    explicit = header_value(env.get("SKILL_SOURCE"))
    if explicit:
        return explicit
    if skill_path is not None:
        path = str(skill_path).replace("\\", "/")
        if path.startswith("~"):
            path = "/" + path  # "~/.clawhub/x" must match "/.clawhub/"
        for marker, platform in PLATFORM_DIRS:
            if marker in path:
                return platform
    return UNKNOWN_PLATFORM


def attribution_from_profile(
    profile: Profile,
    *,
    env: Mapping[str, str],
    skill_path: str | Path | None = None,
) -> SkillAttribution:
    """Headers for `profile`; the platform is detected from `skill_path` or the profile's own file."""
    name = header_value(profile.name) or "unknown"
    path = skill_path if skill_path is not None else profile.source_path
    return SkillAttribution(name, header_value(profile.version), detect_platform(path, env))


def load_attribution(
    env: Mapping[str, str],
    *,
    skill_file: str | Path | None = None,
    profile: str | None = None,
) -> tuple[SkillAttribution, Profile]:
    """Attribution and profile for a skill file, a profile name, or the default `nemo-video`.

    `load_profile` reads the frontmatter with `parse_frontmatter` and falls back to a loose reading
    of mangled text (seed 004, B-PROF-06), so a user's SKILL.md always yields a name.
    """
    if skill_file is not None:
        path = Path(skill_file).expanduser()
        loaded = load_profile(path)
        return attribution_from_profile(loaded, env=env, skill_path=path), loaded
    loaded = load_profile(profile or DEFAULT_PROFILE)
    return attribution_from_profile(loaded, env=env), loaded
