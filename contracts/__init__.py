"""The NemoVideo API as data: OpenAPI document, JSON Schemas, behaviour catalogue, profiles.

Where each shipped file lives is decided in `contracts.resources`.
"""

from __future__ import annotations

from contracts.resources import BEHAVIOURS_PATH, OPENAPI_PATH, PACKAGE_DIR, SCHEMAS_DIR

__all__ = ["BEHAVIOURS_PATH", "OPENAPI_PATH", "PACKAGE_DIR", "SCHEMAS_DIR"]
