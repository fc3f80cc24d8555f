"""Running one documented example against a live mock: the world it refers to (a token, a
session, a draft, a render, made on first use), its placeholders filled in, the request sent as
written (curl lines with bash and curl), and the answer held against the documented one.
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
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import av
import httpx
from documented import Example, documented_json, lookup, mismatches, responses_in_comments, sse_events

from checkout import FIXTURES_DIR
from mockserver.testing import LiveServer

MEDIA_DIR = FIXTURES_DIR / "media"
CURL_STANDIN = Path(__file__).with_name("curl_standin.py")
#: Base URLs the sources write out; a run replaces them with the mock's (that is `$API`).
DOCUMENTED_BASES = ("https://mega-api-prod.nemovideo.ai", "https://mega-api-dev.nemovideo.ai")
#: Render states after which polling stops (B-REN-09).
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
