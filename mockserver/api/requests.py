"""Request bodies held to the contract's request schemas: one home for what a request must look like.

A body that is no instance of its schema in contracts/openapi.yaml is HTTP 400 with a message naming
the field (U-12), before any lookup or business rule: a malformed request is refused as malformed in
either error mode, and a request the document calls valid is never refused for its shape.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from jsonschema.exceptions import best_match

from contracts.spec import component_validator
from mockserver.errors import bad_request

MAX_MESSAGE = 200


def conforming(body: dict[str, Any], component: str) -> dict[str, Any]:
    """`body` when it is a `#/components/schemas/<component>`; else HTTP 400 saying what is wrong."""
    error = best_match(component_validator(component).iter_errors(body))
    if error is None:
        return body
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
    message = error.message if len(error.message) <= MAX_MESSAGE else error.message[: MAX_MESSAGE - 3] + "..."
    raise bad_request(f"`{where.lstrip('.')}`: {message}" if where else message)


@cache
def upload_url_pattern(extensions: tuple[str, ...]) -> str:
    """The URLs an upload by URL takes (B-UPL-03, B-UPL-05, U-13): http(s), a host, and a path whose
    last segment ends in an accepted extension, in any case (`jpeg` is `jpg`), then an optional query."""
    spelled = sorted({*extensions, *(["jpeg"] if "jpg" in extensions else [])})
    any_case = "|".join(
        "".join(f"[{ch.lower()}{ch.upper()}]" if ch.isalpha() else re.escape(ch) for ch in ext)
        for ext in spelled
    )
    segment = r"[A-Za-z0-9._~!$&'()+,;=@%-]"
    return (
        rf"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+(:[0-9]{{1,5}})?/({segment}+/)*"
        rf"{segment}*\.({any_case})(\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$"
    )
