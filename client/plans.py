"""Plans: each API call written once, as a generator that the sync and the async face both drive.

A plan is what httpx's auth flows are, applied to a whole call: a generator that yields steps and
returns the parsed model. It yields

- a `RequestSpec` (send this request): the face sends it and sends the `Reply` back in;
- a `Sleep` (wait this long on the client's clock): the face waits and sends None back in;

and raises a `NemoError` for a failed call. The retry policy (one re-auth on 1001, one wait of
30 s on 429, a new client id on a 400 at anonymous-token) is written inside the plans, so both
faces follow it without a line of their own.

The plans of the API are public methods of the core (`client.BaseClient`), one per endpoint:

    plan_anonymous_token()                      plan_ensure_token()
    plan_claim_token(task_id, session_id)       plan_create_session(task_name, language)
    plan_upload_files(session_id, paths)        plan_upload_urls(session_id, urls)
    plan_credits()                              plan_state(session_id)
    plan_submit_render(session_id, draft, render_id, output)
    plan_get_render(render_id)                  plan_cancel_render(render_id)
    plan_download_render(render_id, out_path)   plan_download_url(url, out_path)

`Client.drive(plan)` runs one with blocking I/O, `await AsyncClient.drive(plan)` with asyncio;
`Client.wait(seconds)` and `AsyncClient.wait` perform a `Sleep` on their own. The workflows
(`client.flows`) build on exactly this: they hand plans to a face and read the results.

`/run_sse` is the one call that is no plan: it is never retried (B-CLI-08), so the faces open it
outside any plan (`Client.run_sse`).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """One HTTP request, fully described; the faces turn it into an httpx request."""

    operation: str
    method: str
    url: str
    headers: dict[str, str]
    json: Any = None  # None: no JSON body
    upload_paths: tuple[Path, ...] = ()  # multipart field `files`, streamed from disk (B-UPL-02)
    sink: Path | None = None  # on a 2xx file answer, stream the body to this path
    timeout: httpx.Timeout | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """What came back: status, headers and body (empty when the body went to `saved`)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""
    saved: Path | None = None


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait `seconds` of clock time before the next step."""

    seconds: float


Step = RequestSpec | Sleep
#: A plan that returns a `T`: it yields steps and is sent a `Reply` (or None after a `Sleep`).
Plan = Generator[Step, Reply | None, T]
