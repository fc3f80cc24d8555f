"""Everything the project adds to schemathesis' own CLI, in one hooks module:

    SCHEMATHESIS_HOOKS=conformance.schemathesis_hooks st run URL/openapi.json --checks all

- real image files for upload parts (`conformance.schemathesis_files`);
- the contract checker's response checks as schemathesis checks, named `nemo_envelope`,
  `nemo_documented_codes`, `nemo_content_types`, `nemo_response_shape`, `nemo_credits_balance`
  and `nemo_token_masking` (`conformance.check.checks`): `--checks all` includes them, and
  `--checks nemo_envelope,...` picks some.
"""

from __future__ import annotations

from conformance import schemathesis_files
from conformance.check.checks import SCHEMATHESIS_CHECKS

__all__ = ["SCHEMATHESIS_CHECKS", "schemathesis_files"]
