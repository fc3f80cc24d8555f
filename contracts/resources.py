"""Where the files the twin reads at run time live: the one resolver every reader goes through.

They ship inside this package as package data, so a checkout, an editable install and an
installed wheel find them at the same place, next to this module:

    contracts/openapi.yaml          the API as served and checked
    contracts/behaviours.yaml       every rule id
    contracts/schemas/*.json        JSON Schemas of the bodies
    contracts/data/profiles/<name>/SKILL.md   the shipped skill profiles (`--profile NAME`)
    contracts/data/drafts/          timeline drafts generations start from, and their index
    contracts/data/scenarios/*.yaml failure scenarios (`nemo-mock serve --scenario NAME`)

Test material that nothing reads at run time (media samples, recorded streams, documented
commands and examples) stays in the repository's top-level `fixtures/` and is not installed.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
OPENAPI_PATH = PACKAGE_DIR / "openapi.yaml"
BEHAVIOURS_PATH = PACKAGE_DIR / "behaviours.yaml"
SCHEMAS_DIR = PACKAGE_DIR / "schemas"

#: Run-time data of the mock and the client; pyproject.toml ships this folder whole.
DATA_DIR = PACKAGE_DIR / "data"
PROFILES_DIR = DATA_DIR / "profiles"
DRAFTS_DIR = DATA_DIR / "drafts"
SCENARIOS_DIR = DATA_DIR / "scenarios"
