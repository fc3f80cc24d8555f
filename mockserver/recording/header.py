"""The recording header of a mock run, and the mock's settings rebuilt from one.

The header carries everything a re-run needs: the `Settings` fields (seed, time scale, dialect
...), the profile (a shipped name, or the SKILL.md text of any other file, plus the upload cap
when a scenario lowered it) and the scenario armed at start, in full.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from contracts.profiles import PROFILES_DIR, SKILL_FILE, Profile, load_profile, profile_from_text
from mockserver.backend import Backend
from mockserver.recording.model import DEFAULT_BODY_LIMIT, header_record
from mockserver.scenarios import Scenario, scenario_from_dict
from mockserver.settings import Settings

#: Settings that describe this machine rather than the run; the control token is a secret besides.
LOCAL_SETTINGS = frozenset(
    {
        "profile",
        "data_dir",
        "journal",
        "journal_limit",
        "journal_bytes",
        "access_log",
        "control_token",
        "max_json_body",
        "body_timeout_s",
    }
)


def profile_record(profile: Profile) -> dict[str, Any]:
    """A shipped profile by its folder name; any other by its text. Changed caps are noted."""
    record: dict[str, Any] = {"name": profile.name}
    source = Path(profile.source_path) if profile.source_path else None
    if source is not None and source.name == SKILL_FILE and source.parent.parent == PROFILES_DIR:
        record["shipped"] = source.parent.name
        base = load_profile(source.parent.name)
    elif source is not None and source.is_file():
        record["text"] = source.read_text(encoding="utf-8", errors="replace")
        base = profile_from_text(record["text"], source_path=source)
    else:
        record["shipped"] = "nemo-video"
        base = load_profile(None)
    if profile.upload_cap_bytes != base.upload_cap_bytes:
        record["upload_cap_bytes"] = profile.upload_cap_bytes
    return record


def profile_from_record(record: dict[str, Any]) -> Profile:
    if "text" in record:
        profile = profile_from_text(str(record["text"]))
    else:
        profile = load_profile(str(record.get("shipped") or record.get("name") or "nemo-video"))
    if "upload_cap_bytes" in record:
        profile = dataclasses.replace(profile, upload_cap_bytes=record["upload_cap_bytes"])
    return profile


def mock_header(
    backend: Backend, scenario: Scenario | None = None, *, body_limit: int = DEFAULT_BODY_LIMIT
) -> dict[str, Any]:
    """The header of a recording of this mock."""
    settings = backend.settings
    recorded = {
        f.name: getattr(settings, f.name)
        for f in dataclasses.fields(Settings)
        if f.name not in LOCAL_SETTINGS
    }
    return header_record(
        source="mock",
        settings=recorded,
        profile=profile_record(backend.profile),
        scenario=None if scenario is None else scenario.to_dict(),
        clock={"start": backend.clock.start, "time_scale": settings.time_scale},
        body_limit=body_limit,
    )


def proxy_header(upstream: str, *, start: float, body_limit: int = DEFAULT_BODY_LIMIT) -> dict[str, Any]:
    """The header of a recording made in front of another server (real time, scale 1)."""
    return header_record(
        source="proxy",
        upstream=upstream.rstrip("/"),
        settings=None,
        profile=None,
        scenario=None,
        clock={"start": start, "time_scale": 1.0},
        body_limit=body_limit,
    )


def settings_from_header(header: dict[str, Any], **overrides: Any) -> Settings:
    """The mock's settings for a re-run; keyword arguments (not None) win over the header's."""
    known = {f.name for f in dataclasses.fields(Settings)} - LOCAL_SETTINGS
    values = {key: value for key, value in (header.get("settings") or {}).items() if key in known}
    values.update({key: value for key, value in overrides.items() if value is not None and key != "profile"})
    profile = overrides.get("profile")
    if profile is None:
        profile = profile_from_record(header["profile"]) if header.get("profile") else load_profile(None)
    elif not isinstance(profile, Profile):
        profile = load_profile(profile)
    values.setdefault("access_log", False)
    return Settings(profile=profile, **values)


def scenario_from_header(header: dict[str, Any]) -> Scenario | None:
    raw = header.get("scenario")
    return None if raw is None else scenario_from_dict(raw, "recording header")
