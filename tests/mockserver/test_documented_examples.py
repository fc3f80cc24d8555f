"""Every documented request and response example runs against a live mock in the setting it
documents (fixtures/examples/*.yaml: the sources and other public skills built on this backend).

Curl lines run as written, with `bash` and `curl`, substituting only `$API` (or the production
base URL written out), `$TOKEN` and ids; requests described in prose or tables are sent as
described; each documented answer must be a subset of the mock's (tests/mockserver/documented.py).
Tables of codes, formats, stream events, draft keys and costs are checked row by row.

Guards B-ENV-05/06/07/08, B-AUTH-01/02/03/04/08/12/13/14/19, B-SESS-01/02/03/05/06/07,
B-SSE-01/02/03/04/05/06/07/08, B-UPL-01/02/03/04/05/06/07/13, B-CRED-01/02/04, B-STATE-01/02/04,
B-REN-01/04/05/06/07/09/12/13/15/16, B-ATTR-01/05/07/08, B-ERR-01/02.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from documented import (
    Example,
    documented_json,
    load_examples,
    lookup,
    mismatches,
    responses_in_comments,
    sse_events,
    table_rows,
)

from checkout import FIXTURES_DIR
from contracts.profiles import BYTES_PER_MB, load_profile
from mockserver.settings import Settings
from mockserver.testing import LiveServer

pytestmark = pytest.mark.live

EXAMPLES_DIR = FIXTURES_DIR / "examples"
MEDIA_DIR = FIXTURES_DIR / "media"
EXAMPLES = load_examples(EXAMPLES_DIR)
CURL_STANDIN = Path(__file__).with_name("curl_standin.py")
#: Base URLs the sources write out; a run replaces them with the mock's (that is `$API`).
DOCUMENTED_BASES = ("https://mega-api-prod.nemovideo.ai", "https://mega-api-dev.nemovideo.ai")
#: Codes answered as HTTP statuses rather than body codes (B-ERR-02).
HTTP_STATUS_CODES = frozenset({400, 402, 429})
TERMINAL = ("completed", "failed")
MAX_POLLS = 10  # B-REN-10
DEFAULT_SKILL = {"name": "nemo-video", "version": "1.9", "platform": "unknown"}
#: The sample file a documented path stands for: by its extension, else by its name.
MEDIA_FOR = {
    ".mp4": "clip-2s.mp4",
    ".png": "still.png",
    "image": "still.png",
    "file": "clip-2s.mp4",
    "path": "clip-2s.mp4",
}


# ---------------------------------------------------------------------------- servers per setting


def settings_for(setting: dict[str, Any]) -> Settings:
    profile = load_profile(setting.get("profile"))
    if "upload_cap_mb" in setting:
        profile = dataclasses.replace(profile, upload_cap_bytes=int(setting["upload_cap_mb"] * BYTES_PER_MB))
    return Settings(
        profile=profile,
        time_scale=0,
        seed=setting.get("seed", 7),
        access_log=False,
        render_shape=setting.get("render_shape"),
        rate_limits=setting.get("rate_limits", "v19"),
    )


SERVER_KEYS = ("profile", "upload_cap_mb", "render_shape", "rate_limits", "seed")


@pytest.fixture(scope="module")
def servers() -> Iterator[Callable[[dict[str, Any]], LiveServer]]:
    started: dict[tuple[Any, ...], LiveServer] = {}

    def server_for(setting: dict[str, Any]) -> LiveServer:
        key = tuple(setting.get(k) for k in SERVER_KEYS)
        if key not in started:
            started[key] = LiveServer(settings_for(setting)).start()
        server = started[key]
        server.reset()
        return server

    yield server_for
    for server in started.values():
        server.stop()


# ---------------------------------------------------------------------------- the world an example needs


class World:
    """What an example refers to (a token, a session, a draft, a render), made on first use."""

    def __init__(self, server: LiveServer, example: Example, workdir: Path, *, standin: bool = False) -> None:
        self.server = server
        self.standin = standin or shutil.which("curl") is None
        self.example = example
        self.workdir = workdir
        self.http = httpx.Client(base_url=server.url, timeout=60)
        self.skill = {**DEFAULT_SKILL, **example.setting.get("skill", {})}
        self._stamp = 1773423613616

    @property
    def message(self) -> str:
        return str(self.example.get("message") or self.example.setting["message"])

    def attribution(self) -> dict[str, str]:
        """The three headers; a skill without a version (seeds 000-003) sends no X-Skill-Version."""
        headers = {"X-Skill-Source": self.skill["name"], "X-Skill-Platform": self.skill["platform"]}
        if self.skill["version"] is not None:
            headers["X-Skill-Version"] = self.skill["version"]
        return headers

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **self.attribution()}

    @cached_property
    def account(self) -> dict[str, Any]:
        tier = self.example.setting.get("account", "anonymous")
        if tier == "anonymous":
            answer = self.http.post(
                "/api/auth/anonymous-token", headers={"X-Client-Id": f"world-{uuid.uuid4()}"}
            )
            answer.raise_for_status()
            return dict(answer.json()["data"])
        answer = self.http.post("/_mock/accounts", json={"tier": tier, "credits": 1000})
        answer.raise_for_status()
        return dict(answer.json())

    @property
    def token(self) -> str:
        return str(self.account["token"])

    @property
    def user_id(self) -> str:
        return str(self.account["user_id"])

    @cached_property
    def session(self) -> dict[str, Any]:
        answer = self.http.post(
            "/api/tasks/me/with-session/nemo_agent",
            json={"task_name": "project", "language": "en"},
            headers=self.headers(),
        )
        return dict(answer.json()["data"])

    def turn(self, text: str, token: str | None = None) -> bytes:
        body = {
            "app_name": "nemo_agent",
            "user_id": "me",
            "session_id": self.session["session_id"],
            "new_message": {"parts": [{"text": text}]},
        }
        headers = (
            self.headers() if token is None else {"Authorization": f"Bearer {token}", **self.attribution()}
        )
        with self.http.stream("POST", "/run_sse", json=body, headers=headers) as answer:
            raw = answer.read()
        self.server.wait_idle()
        return raw

    def state(self) -> dict[str, Any]:
        sid = self.session["session_id"]
        answer = self.http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=self.headers())
        return dict(answer.json()["data"]["state"])

    @cached_property
    def draft(self) -> dict[str, Any]:
        self.turn(self.message)
        draft = self.state()["draft"]
        assert draft and draft.get("t"), f"the generation {self.message!r} left no draft"
        return dict(draft)

    def next_stamp(self) -> str:
        self._stamp += 1
        return str(self._stamp)

    def submit_render(self) -> str:
        render_id = f"render_{self.next_stamp()}"
        body = {"id": render_id, "sessionId": self.session["session_id"], "draft": self.draft}
        answer = self.http.post("/api/render/proxy/lambda", json=body, headers=self.headers())
        assert answer.status_code == 200, answer.text
        return render_id

    @cached_property
    def pending_render(self) -> str:
        return self.submit_render()

    @cached_property
    def completed_render(self) -> str:
        render_id = self.submit_render()
        for _ in range(MAX_POLLS):
            answer = self.http.get(f"/api/render/proxy/lambda/{render_id}", headers=self.headers()).json()
            if render_status(answer) in TERMINAL:
                break
        assert render_status(answer) == "completed", answer
        return render_id

    def media(self, documented_path: str) -> str:
        """A sample file for a documented path, under the documented name where it has one
        (curl sends the file name as written: `video.mp4` stays `video.mp4`)."""
        documented = Path(documented_path)
        sample = MEDIA_FOR[documented.suffix or documented.name]
        target = self.workdir / "upload" / (documented.name if documented.suffix else sample)
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(MEDIA_DIR / sample, target)
        return str(target)


def render_status(answer: dict[str, Any]) -> str | None:
    """Shape A keeps `status` at the top (B-REN-06), shape B inside `data` (B-REN-07)."""
    if "status" in answer:
        return str(answer["status"])
    data = answer.get("data")
    return str(data["status"]) if isinstance(data, dict) and "status" in data else None


# ---------------------------------------------------------------------------- placeholders


def _render_for(world: World) -> str:
    wanted = world.example.get("render", "pending")
    return world.completed_render if wanted == "completed" else world.pending_render


#: Placeholders the sources write, and what a run puts in their place.
PLACEHOLDERS: dict[str, Callable[[World], str]] = {
    '"<draft object from state API>"': lambda w: json.dumps(w.draft, separators=(",", ":")),
    "<unique_id>": lambda w: w.next_stamp(),
    "<sid>": lambda w: str(w.session["session_id"]),
    "<session_id>": lambda w: str(w.session["session_id"]),
    "{session_id}": lambda w: str(w.session["session_id"]),
    "<task_id>": lambda w: str(w.session["task_id"]),
    "{task_id}": lambda w: str(w.session["task_id"]),
    "<user_id>": lambda w: w.user_id,
    "{user_id}": lambda w: w.user_id,
    "<uid>": lambda w: w.user_id,
    "<lang>": lambda w: "en",
    "<detected>": lambda w: "en",
    "<msg>": lambda w: w.message,
    "<message>": lambda w: w.message,
    "<prompt>": lambda w: w.message,
    "your message here": lambda w: w.message,
    "<url>": lambda w: "https://example.com/video.mp4",
    "<json>": lambda w: json.dumps(w.draft, separators=(",", ":")),
    "<draft_json>": lambda w: json.dumps(w.draft, separators=(",", ":")),
    "<ts>": lambda w: w.next_stamp(),
    "<timestamp>": lambda w: w.next_stamp(),
    "<id>": _render_for,
    "<render_id>": _render_for,
    "{render_id}": _render_for,
}
FILE_PATHS = re.compile(r"/path/to/[\w.]+")
UNFILLED = re.compile(r"<[a-z_]+>|\{(?:user_id|session_id|task_id|render_id)\}")


def fill(text: str, world: World) -> str:
    for placeholder, value in PLACEHOLDERS.items():
        if placeholder in text:
            text = text.replace(placeholder, value(world))
    text = FILE_PATHS.sub(lambda m: world.media(m.group(0)), text)
    for base in DOCUMENTED_BASES:
        text = text.replace(base, world.server.url)
    left = UNFILLED.findall(text.replace("<<", ""))
    assert not left, f"{world.example.id}: unfilled placeholder(s) {left}"
    return text


# ---------------------------------------------------------------------------- running one request


@dataclasses.dataclass
class Answer:
    status: int | None  # None for a curl run (curl -s prints the body only)
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def search_path(world: World) -> str:
    """PATH for a documented command: the real curl, or the stand-in where there is none."""
    if not world.standin:
        return os.environ["PATH"]
    bin_dir = world.workdir / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "curl"
    script.write_text(f"#!{sys.executable}\n" + CURL_STANDIN.read_text(encoding="utf-8"), encoding="utf-8")
    script.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def run_curl(example: Example, world: World) -> Answer:
    shell = fill(example.spec["curl"], world)
    env = {
        "PATH": search_path(world),
        "HOME": str(world.workdir),
        "API": world.server.url,
        "NEMO_API_URL": world.server.url,
        "CLIENT_ID": f"client-{uuid.uuid4()}",
        "SKILL_NAME": world.skill["name"],
        "SKILL_VERSION": world.skill["version"] or "",
        "SKILL_SOURCE": world.skill["platform"],
    }
    if "$TOKEN" in shell or "${NEMO_TOKEN}" in shell:
        env["TOKEN"] = env["NEMO_TOKEN"] = world.token
    done = subprocess.run(["bash", "-c", shell], cwd=world.workdir, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, (
        f"{example.id}: exit {done.returncode}: {done.stderr.decode(errors='replace')}"
    )
    return Answer(None, done.stdout)


#: Headers a prose or table request sends, by the names the example files use.
def request_headers(names: list[str], world: World) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name in names:
        if name == "bearer":
            headers["Authorization"] = f"Bearer {world.token}"
        elif name == "attribution":
            headers.update(world.attribution())
        elif name == "sse":
            headers["Accept"] = "text/event-stream"
        elif name == "client-id":
            headers["X-Client-Id"] = f"client-{uuid.uuid4()}"
        else:
            raise ValueError(f"{world.example.id}: unknown header set {name!r}")
    return headers


def body_of_fields(names: list[str], world: World) -> bytes:
    """A run_sse body from the fields a source names ("Body includes app_name, session_id, ...")."""
    values = {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": world.session["session_id"],
        "new_message": {"parts": [{"text": world.message}]},
    }
    return json.dumps({name: values[name] for name in names}).encode()


def run_http(example: Example, world: World) -> Answer:
    request = example.spec["http"]
    quote = example.spec["quote"]
    written = [request.get("path"), request.get("url"), request.get("body"), *request.get("body_fields", [])]
    for part in written:
        assert part is None or part in quote, f"{example.id}: {part!r} is not written in the quote"
    path = fill(request.get("path") or request["url"], world).replace(world.server.url, "")
    headers = request_headers(request.get("headers", world.example.setting.get("headers", [])), world)
    files = None
    content = None
    if "body" in request:
        content = fill(request["body"], world).encode()
        headers["Content-Type"] = "application/json"
    if "body_fields" in request:
        content = body_of_fields(request["body_fields"], world)
        headers["Content-Type"] = "application/json"
    if "multipart" in request:
        upload = Path(world.media("/path/to/video.mp4"))
        files = [(request["multipart"], (upload.name, upload.read_bytes(), "video/mp4"))]
    with world.http.stream(request["method"], path, content=content, files=files, headers=headers) as answer:
        done = Answer(answer.status_code, answer.read())
    if example.get("file") and done.status == 200:
        (world.workdir / example.spec["file"]).write_bytes(done.body)  # what the user saves
    return done


# ---------------------------------------------------------------------------- checking one answer


def check_answer(example: Example, world: World, answer: Answer) -> list[str]:
    """What in the mock's answer contradicts the documented one (empty: nothing)."""
    if example.get("file"):
        return check_file(world.workdir / example.spec["file"])
    if answer.status is not None and answer.status >= 400:
        return [f"HTTP {answer.status}: {answer.body[:300]!r}"]
    if example.get("events") is not None or example.get("stream"):
        return check_stream(example, answer)
    try:
        body = answer.json()
    except ValueError:
        return [f"not JSON: {answer.body[:300]!r}"]
    vary = example.get("vary") or {}
    problems: list[str] = []
    documented = documented_responses(example)
    for text in documented:
        problems += mismatches(documented_json(text), body, vary)
    written = example.get("quote", "") + example.get("curl", "")
    for path in example.get("fields") or []:
        if path.rsplit(".", 1)[-1] not in written:
            problems.append(f"{path}: not written in the source")
        found, _ = lookup(body, path)
        if not found:
            problems.append(f"{path}: documented field missing")
    if not documented and not example.get("fields"):
        problems += accepted(body)
    if example.get("poll") and render_status(body) != "completed":
        problems.append(f"the render ended {render_status(body)!r}, not completed: {body}")
    return problems


def documented_responses(example: Example) -> list[str]:
    texts = [example.spec["response"]] if example.get("response") else []
    if example.kind == "curl":
        for comment in responses_in_comments(example.spec["curl"]):
            if comment.startswith("{"):
                texts.append(comment)
            elif not example.get("fields"):
                raise ValueError(f"{example.id}: the answer {comment!r} needs `fields`")
    return texts


def accepted(body: Any) -> list[str]:
    """No documented answer: the request must simply succeed."""
    if isinstance(body, dict) and body.get("code", 0) != 0:
        return [f"refused: {body}"]
    if isinstance(body, dict) and body.get("success", True) is not True:
        return [f"refused: {body}"]
    return []


def check_stream(example: Example, answer: Answer) -> list[str]:
    try:
        events = sse_events(answer.body.decode())
    except ValueError as exc:
        return [str(exc)]  # B-SSE-04: every line of an event is a data: line
    parsed = [json.loads(data) for data in events if data]
    problems = []
    for line in example.get("events") or []:
        documented = documented_json(line.removeprefix("data:").strip())
        if not any(not mismatches(documented, event, example.get("vary") or {}) for event in parsed):
            problems.append(
                f"no event holds the documented {line!r}; types seen: {[e.get('type') for e in parsed]}"
            )
    return problems


def check_file(path: Path) -> list[str]:
    if not path.is_file():
        return [f"{path.name} was not written"]
    with av.open(str(path)) as container:
        if not container.streams.video or container.streams.video[0].codec_context.name != "h264":
            return [f"{path.name} is not an H.264 video"]
    return []


def run_request(example: Example, world: World) -> list[str]:
    runner = run_curl if example.kind == "curl" else run_http
    for _ in range(MAX_POLLS if example.get("poll") else 1):
        answer = runner(example, world)
        if not example.get("poll") or render_status(answer.json()) in TERMINAL:
            break
    problems = check_answer(example, world, answer)
    for written in example.get("writes") or []:
        if not (world.workdir / written).read_text(encoding="utf-8").strip():
            problems.append(f"{written} is empty")
    return problems


# ---------------------------------------------------------------------------- tables


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


# ---------------------------------------------------------------------------- the tests


def run_example(example: Example, world: World) -> list[str]:
    if example.kind == "table":
        return TABLE_CHECKS[example.spec["check"]](example, world)
    return run_request(example, world)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_documented_example_holds_against_the_mock(
    example: Example, servers: Callable[[dict[str, Any]], LiveServer], tmp_path: Path
) -> None:
    server = servers(example.setting)
    world = World(server, example, tmp_path)
    try:
        problems = run_example(example, world)
    finally:
        world.http.close()
        server.wait_idle()
    known = example.get("known_difference")
    where = f"{example.source.document} {example.source.version or ''} {example.section}"
    if known is None:
        assert not problems, f"{where}: " + "; ".join(problems)
    else:
        # The document and the mock differ, for the reason the example states; once they agree,
        # this fails so that the note goes.
        assert problems, f"{where}: now holds; drop its known_difference ({known['reason']})"
        assert any(known["shows"] in problem for problem in problems), problems


def test_every_source_names_itself_and_every_example_its_section() -> None:
    assert len({e.file for e in EXAMPLES}) == len(list(EXAMPLES_DIR.glob("*.yaml")))
    for example in EXAMPLES:
        assert example.source.document and example.section, example.id
        assert "/work/" not in json.dumps(example.spec)
    assert len({e.id for e in EXAMPLES}) == len(EXAMPLES), "example names repeat within a file"


def test_a_wrong_documented_answer_fails_against_the_mock(
    servers: Callable[[dict[str, Any]], LiveServer], tmp_path: Path
) -> None:
    """The comparison bites: the v1.9 token example with one value and one field changed (B-AUTH-03)."""
    (original,) = [e for e in EXAMPLES if e.id == "upstream-nemo-video-SKILL-v1.9:anonymous-token"]
    curl = original.spec["curl"].replace('"credits":100', '"credits":101')
    wrong = dataclasses.replace(original, spec={**original.spec, "curl": curl, "fields": ["data.scopes"]})
    world = World(servers(wrong.setting), wrong, tmp_path)
    problems = run_example(wrong, world)
    assert any("documented 101, got 100" in p for p in problems), problems
    assert any("data.scopes: documented field missing" in p for p in problems), problems


STANDIN_CASES = ["anonymous-token", "upload-file", "upload-url", "credits", "render-submit", "render-poll"]


@pytest.mark.parametrize("name", STANDIN_CASES)
def test_the_curl_stand_in_runs_the_documented_commands(
    name: str, servers: Callable[[dict[str, Any]], LiveServer], tmp_path: Path
) -> None:
    """Where no curl is installed the same v1.9 commands run through the stand-in (B-UPL-02/03)."""
    (example,) = [e for e in EXAMPLES if e.id == f"upstream-nemo-video-SKILL-v1.9:{name}"]
    world = World(servers(example.setting), example, tmp_path, standin=True)
    assert run_example(example, world) == []
    assert (tmp_path / "bin" / "curl").is_file()
