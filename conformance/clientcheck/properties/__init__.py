"""The client-side contract, stated once: properties over a world and a recorded interaction.

Each property is a function `(world, interaction) -> Verdict`. It reads only what any client
leaves behind: the requests it sent with the world's answers (recorded on the server side), the
lines it showed the user, whether it said it succeeded, and, for in-process runs, its clock at
each request. So the same code judges the reference client and any other implementation.

The words a property looks for in the user's lines are the documented ones (B-CLI-06 "Still
working", B-ERR-05's remedies), matched loosely (`REMEDIES`, `STILL_WORKING` ...), in English and
Chinese, so a client may phrase them its own way.

`core` holds the machinery (Verdict, Property, the registry, `judge`), `wording` the phrases and
`facts` what the properties read off a recording; `conversation`, `errors` and `renders` state
the properties themselves.
"""

from __future__ import annotations

# The property modules register their properties on import, in this order.
from . import conversation, errors, renders  # noqa: F401
from .core import (
    HOLDS,
    NOT_APPLICABLE,
    PROPERTIES,
    Check,
    Property,
    Verdict,
    Violation,
    broken,
    judge,
    prop,
    property_named,
)

__all__ = [
    "HOLDS",
    "NOT_APPLICABLE",
    "PROPERTIES",
    "Check",
    "Property",
    "Verdict",
    "Violation",
    "broken",
    "judge",
    "prop",
    "property_named",
]
