"""Documented tables checked row by row against a live mock: error codes, accepted formats,
stream event kinds, draft keys, credit costs and attribution values.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from documented import Example, documented_json, mismatches, sse_events, table_rows
from documented_run import World

from contracts.profiles import BYTES_PER_MB

#: Codes answered as HTTP statuses rather than body codes (B-ERR-02).
HTTP_STATUS_CODES = frozenset({400, 402, 429})


def provoke(code: int, world: World) -> tuple[int, Any]:
    """Make the mock answer `code` the way the code's meaning says (HTTP status, body)."""
    http = world.http
    sid = str(world.session["session_id"])
    if code == 0:
        answer = http.get("/api/credits/balance/simple", headers=world.headers())
    elif code == 1001:
        answer = http.get("/api/credits/balance/simple", headers={"Authorization": "Bearer nmv_usr_expired"})
    elif code == 1002:
        answer = http.get("/api/state/nemo_agent/me/0/latest", headers=world.headers())
    elif code == 2001:
        broke = http.post("/_mock/accounts", json={"tier": "anonymous", "credits": 0}).json()
        headers = {"Authorization": f"Bearer {broke['token']}", **world.attribution()}
        session = http.post("/api/tasks/me/with-session/nemo_agent", json={"task_name": "p"}, headers=headers)
        body = {
            "app_name": "nemo_agent",
            "user_id": "me",
            "session_id": session.json()["data"]["session_id"],
            "new_message": {"parts": [{"text": world.message}]},
        }
        answer = http.post("/run_sse", json=body, headers=headers)
    elif code == 4001:
        answer = http.post(
            f"/api/upload-video/nemo_agent/me/{sid}",
            json={"urls": ["https://example.com/notes.txt"], "source_type": "url"},
            headers=world.headers(),
        )
    elif code == 4002:
        cap = world.server.settings.profile.upload_cap_bytes
        assert cap is not None, "4002 needs a capped profile (setting upload_cap_mb)"
        big = b"\0" * (cap + BYTES_PER_MB)
        answer = http.post(
            f"/api/upload-video/nemo_agent/me/{sid}",
            files={"files": ("big.mp4", big)},
            headers=world.headers(),
        )
    elif code == 400:
        answer = http.post("/api/auth/anonymous-token")
    elif code == 402:
        body = {"id": "render_402", "sessionId": sid, "draft": world.draft}
        answer = http.post(
            "/api/render/proxy/lambda", json=body, headers={"Authorization": f"Bearer {world.token}"}
        )
    elif code == 429:
        client = {"X-Client-Id": f"client-{uuid.uuid4()}"}
        for _ in range(12):  # 1 per client per 7 days (v1.9) or 5 per IP per hour (v4.4)
            answer = http.post("/api/auth/anonymous-token", headers=client)
            if answer.status_code == 429:
                break
    else:
        raise ValueError(f"no way to provoke documented code {code}")
    return answer.status_code, answer.json()


def documented_codes(table: str) -> list[int]:
    """The codes of an error table, or of a list written `0 — success, ...` (seeds run them together)."""
    cells = re.findall(r"`?(\d+)`? —", table) or [row[0] for row in table_rows(table)]
    return [int(cell.strip("`")) for cell in cells]


def check_codes(example: Example, world: World) -> list[str]:
    problems = []
    codes = documented_codes(example.spec["table"])
    assert codes, f"{example.id}: no codes read from the table"
    for code in codes:
        status, body = provoke(code, world)
        if code in HTTP_STATUS_CODES:
            if status != code:
                problems.append(f"{code}: HTTP {status} {body}")
        elif (status, body.get("code")) != (200, code):
            problems.append(f"{code}: HTTP {status} {body}")
    return problems


def check_formats(example: Example, world: World) -> list[str]:
    """Every listed extension is accepted, as the type its group names (B-UPL-05, B-UPL-06)."""
    text = example.spec["table"]
    groups = re.findall(r"^\s*-\s*(Video|Image|Audio):\s*(.+)$", text, re.MULTILINE)
    if groups:
        wanted = [(ext.strip(), kind.lower()) for kind, exts in groups for ext in exts.split(",")]
    else:
        listed = text.rsplit(":", 1)[-1].strip().rstrip(".")
        wanted = [(ext.strip().strip("`"), None) for ext in listed.split(",")]
    urls = [f"https://example.com/sample.{ext}" for ext, _ in wanted]
    sid = world.session["session_id"]
    body = world.http.post(
        f"/api/upload-video/nemo_agent/me/{sid}",
        json={"urls": urls, "source_type": "url"},
        headers=world.headers(),
    ).json()
    if body.get("code") != 0:
        return [f"refused: {body}"]
    seen = [(f["filename"].rsplit(".", 1)[-1], f["file_type"]) for f in body["data"]["files"]]
    return [
        f"{ext}: got {got}"
        for (ext, kind), got in zip(wanted, seen, strict=True)
        if kind not in (None, got[1])
    ]


def check_stream_table(example: Example, world: World) -> list[str]:
    """The event kinds a handling table names all occur in a generation stream (B-SSE-04..08)."""
    events = sse_events(world.turn(world.message).decode())
    types = {json.loads(data).get("type") if data else "" for data in events}
    wanted = {
        "text": {"text"},
        "tool call/result": {"tool_call", "tool_result"},
        "tool call": {"tool_call"},
        "tool result": {"tool_result"},
        "heartbeat": {"heartbeat"},
        "empty": {""},
    }
    problems = []
    for row in table_rows(example.spec["table"]):
        name = row[0].lower().replace("`", "")
        for key, needed in wanted.items():
            if key in name and not needed <= types:
                problems.append(f"{row[0]}: no {sorted(needed)} event; types seen {sorted(types)}")
        if "close" in name and types & {"done", "end"}:
            problems.append(f"{row[0]}: the stream sent an end event")
    return problems


def check_draft_table(example: Example, world: World) -> list[str]:
    """The short keys of a generated draft (B-STATE-04): t, tt in the listed types, sg, d, m."""
    text = example.spec["table"]
    draft = world.draft
    problems = []
    track_types = {int(n) for n in re.findall(r"(\d+)=[a-z]|[a-z]=(\d+)", text) for n in n if n}
    if not isinstance(draft.get("t"), list) or not draft["t"]:
        return [f"t: no tracks in {draft}"]
    for track in draft["t"]:
        if track.get("tt") not in track_types:
            problems.append(f"tt {track.get('tt')!r} is none of the documented {sorted(track_types)}")
        if not isinstance(track.get("sg"), list):
            problems.append(f"sg is not a list in {track}")
    names_d = "`d`" in text or "d=" in text or "d for" in text
    if names_d and not isinstance(draft.get("d"), int):
        problems.append(f"d is not milliseconds: {draft.get('d')!r}")
    if re.search(r"`m`|m=|m for", text):
        example_m = re.search(r"`(\{.+?\})`", text)
        documented = documented_json(example_m.group(1)) if example_m else {}
        problems += mismatches(documented, draft.get("m"), {}, "m")
    return problems


def check_costs(example: Example, world: World) -> list[str]:
    """Generation and editing cost what the source says, export nothing (B-CRED-04, B-REN-15)."""
    text = example.spec["table"].lower()
    generation = int(re.search(r"generation[^~\n]*~(\d+)", text).group(1))  # type: ignore[union-attr]
    edit = int(re.search(r"edit\w*[^~\n]*~(\d+)", text).group(1))  # type: ignore[union-attr]
    assert re.search(r"(export|render)[^\n]*free", text), f"{example.id}: export is not said to be free"

    def available() -> int:
        answer = world.http.get("/api/credits/balance/simple", headers=world.headers())
        return int(answer.json()["data"]["available"])

    before = available()
    world.draft  # noqa: B018 - the generation
    after_generation = available()
    world.turn(str(example.setting["edit"]))
    after_edit = available()
    world.completed_render  # noqa: B018 - an export
    after_export = available()
    spent = (before - after_generation, after_generation - after_edit, after_edit - after_export)
    return [] if spent == (generation, edit, 0) else [f"spent {spent}, documented ({generation}, {edit}, 0)"]


def check_attribution(example: Example, world: World) -> list[str]:
    """The three headers with the documented values let an anonymous export through (B-ATTR-08)."""
    text = example.spec["table"]
    named = re.search(r"X-Skill-Source\W+(?:is\s+)?([a-z0-9][a-z0-9-]*)", text)
    named = re.search(r"skill source is\W+([a-z0-9][a-z0-9-]*)", text) or named
    assert named and named.group(1) == world.skill["name"], (named, world.skill)
    render_id = world.submit_render()  # sends the three headers
    answer = world.http.get(f"/api/render/proxy/lambda/{render_id}", headers=world.headers())
    return [] if answer.status_code == 200 else [f"HTTP {answer.status_code}: {answer.text}"]


TABLE_CHECKS: dict[str, Callable[[Example, World], list[str]]] = {
    "codes": check_codes,
    "formats": check_formats,
    "stream": check_stream_table,
    "draft": check_draft_table,
    "costs": check_costs,
    "attribution": check_attribution,
}
