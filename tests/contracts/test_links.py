"""The document's links, evaluated by schemathesis on real answers of a live mock.

A link is followed after every answer with the status it sits under. In the default error mode a
refused call answers HTTP 200 with a business code (U-01), so a link that copies a value out of the
request would carry an id that names nothing, e.g. an empty render id that turns
`/api/render/proxy/lambda/{id}/cancel` into `/api/render/proxy/lambda/cancel` (HTTP 405). Links
take the ids from the answer instead: a refusal has none, and the link is not followed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from schemathesis.core.transforms import UNRESOLVABLE
from schemathesis.core.transport import Response
from schemathesis.generation.stateful.state_machine import StepOutput
from schemathesis.specs.openapi.expressions import evaluate

from contracts.spec import load_openapi, operation
from mockserver.settings import Settings
from mockserver.testing import LiveServer

pytestmark = pytest.mark.live

DRAFT = {
    "t": [{"tt": 0, "id": "trk", "sg": [{"id": "seg", "st": 0, "d": 1000, "m": {"color": "#1f4e79"}}]}],
    "d": 1000,
    "m": {"width": 320, "height": 240},
}


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(Settings(time_scale=0, seed=5, access_log=False)) as live:
        yield live


@pytest.fixture(scope="module")
def session(server: LiveServer) -> tuple[str, str]:
    """(token, session id) of a paid account on the mock."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        token = http.post("/_mock/accounts", json={"tier": "paid", "credits": 1000}).json()["token"]
        answer = http.post(
            "/api/tasks/me/with-session/nemo_agent",
            json={"task_name": "links"},
            headers={"Authorization": f"Bearer {token}"},
        )
    return token, answer.json()["data"]["session_id"]


def submitted(server: LiveServer, body: dict[str, Any], token: str | None) -> StepOutput:
    """One render submit sent by schemathesis, as its state machine sees it."""
    schema = schemathesis.openapi.from_dict(load_openapi())
    case = schema["/api/render/proxy/lambda"]["POST"].Case(body=body, media_type="application/json")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with requests.Session() as http:
        sent = case.call(base_url=server.url, session=http, headers={**headers, "X-Skill-Source": "links"})
    response = sent if isinstance(sent, Response) else Response.from_requests(sent, verify=False)
    return StepOutput(response, case)


def render_ids(output: StepOutput) -> dict[str, Any]:
    """The `render_id` each link of the submit's 200 answer would carry."""
    _, _, submit = operation("submitRender")
    return {
        name: evaluate(link["parameters"]["path.render_id"], output)
        for name, link in submit["responses"]["200"]["links"].items()
    }


def test_a_refused_submit_leads_nowhere(server: LiveServer, session: tuple[str, str]) -> None:
    """B-REN-03, B-REN-05, B-REN-12, U-01: a submit refused with HTTP 200 + 1001 (here: no token, and an
    empty id it never got to read) gives its links no render id to carry."""
    _, session_id = session
    output = submitted(server, {"id": "", "sessionId": session_id, "draft": DRAFT}, token=None)
    assert output.response.status_code == 200 and output.response.json()["code"] == 1001
    ids = render_ids(output)
    assert set(ids) == {"GetRender", "CancelRender"}
    assert all(value is UNRESOLVABLE for value in ids.values()), ids


def test_an_accepted_submit_leads_to_its_render(server: LiveServer, session: tuple[str, str]) -> None:
    """B-REN-03, B-REN-04, B-REN-05: the links of an accepted submit carry the id the job answers with."""
    token, session_id = session
    output = submitted(server, {"id": "render_linked", "sessionId": session_id, "draft": DRAFT}, token)
    assert output.response.status_code == 200
    assert render_ids(output) == {"GetRender": "render_linked", "CancelRender": "render_linked"}
