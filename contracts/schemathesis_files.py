"""The schemathesis upload hook's old address: `SCHEMATHESIS_HOOKS=contracts.schemathesis_files` still works.

The hook lives in `conformance.schemathesis_files` (README: "Schemathesis against the mock"); this
module only loads it. It is the one module of `contracts` that imports the layer above, and does
nothing else (tests/test_layers.py holds it to that).
"""

from __future__ import annotations

from conformance.schemathesis_files import IMAGE_SAMPLES, MAX_FILES

__all__ = ["IMAGE_SAMPLES", "MAX_FILES"]
