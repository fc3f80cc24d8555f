"""The NemoVideo API as data: OpenAPI document, JSON Schemas, behaviour catalogue, profiles."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
FIXTURES_DIR = PROJECT_DIR / "fixtures"
SCHEMAS_DIR = PACKAGE_DIR / "schemas"
OPENAPI_PATH = PACKAGE_DIR / "openapi.yaml"
BEHAVIOURS_PATH = PACKAGE_DIR / "behaviours.yaml"
