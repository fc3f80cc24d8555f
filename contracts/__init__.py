"""The NemoVideo API as data: OpenAPI document, JSON Schemas, behaviour catalogue, profiles.

Where each shipped file lives is decided in `contracts.resources`. This is the bottom layer: the
mock and the client read it, the checkers in `conformance` judge by it, and it imports none of them
(docs/design.md, "Layers").
"""

from __future__ import annotations

from contracts.resources import BEHAVIOURS_PATH, OPENAPI_PATH, PACKAGE_DIR, SCHEMAS_DIR

__all__ = ["BEHAVIOURS_PATH", "OPENAPI_PATH", "PACKAGE_DIR", "SCHEMAS_DIR"]
