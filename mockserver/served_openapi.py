"""The contract a running mock serves at /openapi.json: contracts/openapi.yaml narrowed to its settings.

`contracts/openapi.yaml` describes every shape the sources allow, so that one document can judge
any server. A running mock is one of them, and a tool that reads its /openapi.json (schemathesis,
a client generator) should find that one: the error mode (business errors with HTTP 200 in `body`
mode, mapped statuses in `mapped` mode, U-01), the render shape (B-REN-06/07), the SSE dialect,
the upload formats and cap of its profile (B-UPL-05/08), the headers it enforces, its own URL.

Parts of the document that exist only under some settings say so with `x-twin-when`, e.g.
`{error_status: mapped}`; whatever does not apply is cut out, together with every reference to
it, and an emptied `oneOf`, media type or response goes with it.
"""

from __future__ import annotations

import re
from typing import Any

from contracts.profiles import Profile
from contracts.spec import load_openapi
from mockserver.settings import Settings
from mockserver.state.assets import upload_url_pattern

WHEN = "x-twin-when"
COMPONENT_REF = re.compile(r"^#/components/(schemas|responses)/([^/]+)$")
#: Media types of the upload extensions (B-UPL-05); an extension a profile adds maps to `<kind>/<ext>`.
MEDIA_TYPES = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "avi": "video/x-msvideo",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
}


class _Cut:
    """A node that does not exist under the settings."""


CUT = _Cut()


def served_document(settings: Settings, base_url: str) -> dict[str, Any]:
    """The OpenAPI document of the mock configured by `settings`, reachable at `base_url`."""
    facts = {
        "error_status": settings.error_status,
        "render_shape": settings.render_shape,
        "dialect": settings.dialect,
    }
    document = load_openapi()
    components = document["components"]
    gone = {
        (kind, name)
        for kind in ("schemas", "responses")
        for name, node in components[kind].items()
        if not _applies(node, facts)
    }
    for kind, name in gone:
        del components[kind][name]
    narrowed = _narrow(document, facts, gone)
    assert isinstance(narrowed, dict)
    _describe_server(narrowed, settings, base_url)
    _describe_uploads(narrowed, settings.profile)
    if settings.strict_attribution:
        _require_attribution(narrowed)
    if settings.rate_limits == "v44":
        _optional_client_id(narrowed)
    return narrowed


# ---------------------------------------------------------------------------- narrowing


def _applies(node: Any, facts: dict[str, Any]) -> bool:
    when = node.get(WHEN) if isinstance(node, dict) else None
    return when is None or all(facts.get(key) == value for key, value in when.items())


def _narrow(node: Any, facts: dict[str, Any], gone: set[tuple[str, str]]) -> Any:
    """`node` without what does not apply; CUT when nothing of it is left."""
    if isinstance(node, list):
        return [kept for kept in (_narrow(item, facts, gone) for item in node) if kept is not CUT]
    if not isinstance(node, dict):
        return node
    if not _applies(node, facts):
        return CUT
    ref = node.get("$ref")
    match = COMPONENT_REF.match(ref) if isinstance(ref, str) else None
    if match and (match.group(1), match.group(2)) in gone:
        return CUT
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == WHEN:
            continue
        kept = _narrow(value, facts, gone)
        if kept is CUT:
            if key in ("schema", "allOf"):
                return CUT  # a media type without its schema, a schema without a part of itself
            continue  # a response, media type, example or property that does not exist here
        if key in ("oneOf", "anyOf") and not kept:
            return CUT
        if key == "content" and isinstance(value, dict) and value and not kept:
            return CUT  # a response whose every media type is gone
        out[key] = kept
    return out


# ---------------------------------------------------------------------------- what the settings add


def _describe_server(document: dict[str, Any], settings: Settings, base_url: str) -> None:
    profile = settings.profile
    served = {
        "profile": f"{profile.name} {profile.version or ''}".strip(),
        "error_status": settings.error_status,
        "render_shape": settings.render_shape,
        "dialect": settings.dialect,
        "upload_cap_bytes": profile.upload_cap_bytes,
        "strict_attribution": settings.strict_attribution,
    }
    document["servers"] = [{"url": base_url.rstrip("/"), "description": "This nemo-mock."}]
    errors = (
        "business errors (1001, 1002, 2001, 4001, 4002) come with HTTP 200 and the code in the body"
        if settings.error_status == "body"
        else "business errors come with the mapped statuses 401, 404, 402, 415 and 413"
    )
    info = document["info"]
    info["description"] = (
        f"Served by nemo-mock for its settings: {errors} (U-01); render answers in shape "
        f"{settings.render_shape} (B-REN-06/07); the `{settings.dialect}` SSE dialect; profile "
        f"{served['profile']}. The full contract, every shape at once, is contracts/openapi.yaml.\n\n"
        + info["description"]
    )
    info["x-twin-served"] = served


def _describe_uploads(document: dict[str, Any], profile: Profile) -> None:
    """The accepted formats and the cap of the profile (B-UPL-05, B-UPL-07, B-UPL-08)."""
    extensions = [ext for exts in profile.accepted_formats.values() for ext in exts]
    kinds = {ext: kind for kind, exts in profile.accepted_formats.items() for ext in exts}
    cap = profile.upload_cap_bytes
    cap_text = f"{cap // (1024 * 1024)} MB" if cap else "none"
    upload = document["paths"]["/api/upload-video/nemo_agent/{user_id}/{session_id}"]["post"]
    upload["description"] = (
        f"{upload['description']}\nThis server (profile {profile.name}) accepts {', '.join(extensions)}; "
        f"upload cap per file: {cap_text}. A file's content must be what its extension says (U-13)."
    )
    upload["x-upload-cap-bytes"] = cap
    content = upload["requestBody"]["content"]
    media_types = [MEDIA_TYPES.get(ext, f"{kinds[ext]}/{ext}") for ext in extensions]
    content["multipart/form-data"]["encoding"] = {"files": {"contentType": ", ".join(media_types)}}
    urls = document["components"]["schemas"]["UploadUrlsRequest"]["properties"]["urls"]
    urls["items"]["pattern"] = upload_url_pattern(tuple(extensions))


def _optional_client_id(document: dict[str, Any]) -> None:
    """The v4.4 limits predate X-Client-Id (B-AUTH-10): the call takes it but does not need it."""
    client_id = document["components"]["parameters"]["ClientId"]
    client_id["required"] = False
    client_id["description"] += " Under the v4.4 limits this server does not need it (an account per call)."


def _require_attribution(document: dict[str, Any]) -> None:
    """With strict attribution every authenticated call without X-Skill-Source answers 1001."""
    source = document["components"]["parameters"]["SkillSource"]
    source["required"] = True
    source["description"] += " This server enforces it: without it a call is refused with 1001."
