"""JSON as RFC 8259 has it: no NaN, no Infinity, no number out of float range.

The API parses request bodies this way (`api.common.parse_json`), and the journal parses kept
bodies this way before showing them, so its own answer (encoded without NaN) never fails.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

#: A `\uD800`-`\uDFFF` escape in JSON text: the only way a lone surrogate gets into strictly
#: decoded UTF-8 JSON (the API refuses one; the journal shows such a body as text).
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (RFC 8259)")


def finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:40]} is out of range")
    return number


def loads(text: str) -> Any:
    """`json.loads`, refusing what RFC 8259 does not allow (ValueError)."""
    return json.loads(text, parse_constant=no_constant, parse_float=finite_float)
