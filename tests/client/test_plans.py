"""The public plans API (`client.plans`, the core's `plan_*` methods) and the flows built on it alone.

The workflows (`client/flows/`) drive API calls through public names only: a flow that reaches for
another module's `_private` name (a `client._plan_state`, a `from client._core import ...`) couples
itself to the core's insides, which is what these tests fail on.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
from pathlib import Path

import httpx
import pytest

import client
import client.flows
import client.plans
from client import AsyncClient, BaseClient, Client, ClientConfig, Credits, FakeClock, Plan, Reply, RequestSpec
from client.remedies import RATE_LIMIT_WAIT_S

FLOWS_DIR = Path(client.flows.__file__).parent
API = "https://api.test"


def private_uses(source: str) -> list[str]:
    """Each use in `source` of a `_private` name of another object or module, as "line: what".

    `self._x` and `cls._x` are the object's own; dunders (`__name__`) are public protocol.
    """
    found: list[str] = []

    def private(name: str) -> bool:
        return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and private(node.attr):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                found.append(f"{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".")
            names = [alias.name for alias in node.names]
            if any(private(part) for part in parts) or any(private(name) for name in names):
                module = "." * node.level + (node.module or "")
                found.append(f"{node.lineno}: from {module} import {', '.join(names)}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if any(private(part) for part in alias.name.split(".")):
                    found.append(f"{node.lineno}: import {alias.name}")
    return sorted(found, key=lambda use: int(use.partition(":")[0]))


def test_the_check_finds_private_uses() -> None:
    """The check is not blind: each way of reaching into another module is reported."""
    source = (
        "from client._core import Sleep\n"
        "import client._sync\n"
        "from .context import _helper\n"
        "def plan(ctx):\n"
        "    state = yield Do(ctx.client._plan_state(ctx.project.session_id))\n"
        "    ctx.client._drive(plan)\n"
    )
    assert private_uses(source) == [
        "1: from client._core import Sleep",
        "2: import client._sync",
        "3: from .context import _helper",
        "5: ._plan_state",
        "6: ._drive",
    ]
    own = "class A:\n    def f(self):\n        return self._lock, type(self).__name__, cls._x\n"
    assert private_uses(own) == []


@pytest.mark.parametrize("path", sorted(FLOWS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_flows_use_only_public_names_of_other_modules(path: Path) -> None:
    """The flows run the core's public plans (`client.plans`) and touch nothing private."""
    assert private_uses(path.read_text(encoding="utf-8")) == []


def test_every_plan_is_public_and_documented() -> None:
    """Each API call but `/run_sse` has a public, documented plan listed in `client.plans`; each
    face's method of the same name drives exactly that plan."""
    members = inspect.getmembers(BaseClient, inspect.isfunction)
    plans = {name for name, _ in members if name.startswith("plan_")}
    assert plans == {
        "plan_anonymous_token",
        "plan_ensure_token",
        "plan_claim_token",
        "plan_create_session",
        "plan_upload_files",
        "plan_upload_urls",
        "plan_credits",
        "plan_state",
        "plan_submit_render",
        "plan_get_render",
        "plan_cancel_render",
        "plan_download_render",
        "plan_download_url",
    }
    doc = client.plans.__doc__ or ""
    for name in plans:
        assert inspect.getdoc(getattr(BaseClient, name)), name
        assert f"{name}(" in doc, name
        for face in (Client, AsyncClient):
            method = name.removeprefix("plan_")
            assert f"self.{name}(" in inspect.getsource(getattr(face, method)), (face, method)
    for public in ("Plan", "RequestSpec", "Reply", "Sleep"):
        assert public in client.__all__


def test_a_plan_is_a_generator_either_face_drives() -> None:
    """B-CRED-01, B-ERR-05: one plan, stepped by hand and by both faces, makes the same request and
    the same model; a 429 inside it is a Sleep of the documented 30 s."""
    config = ClientConfig(api_url=API, token="nmv_usr_t0", client_id="cid-1")
    core = BaseClient(config, clock=FakeClock())
    plan: Plan[Credits] = core.plan_credits()
    first = next(plan)
    assert isinstance(first, RequestSpec) and (first.method, first.url) == (
        "GET",
        f"{API}/api/credits/balance/simple",
    )
    wait = plan.send(Reply(429, {}, b'{"code": 429, "message": "slow down", "data": null}'))
    assert wait == client.Sleep(RATE_LIMIT_WAIT_S)
    again = plan.send(None)
    assert isinstance(again, RequestSpec) and again.url == first.url
    body = b'{"code": 0, "data": {"available": 7, "frozen": 0, "total": 7}}'
    with pytest.raises(StopIteration) as done:
        plan.send(Reply(200, {"content-type": "application/json"}, body))
    by_hand = done.value.value

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    with Client(config, transport=httpx.MockTransport(answer), clock=FakeClock()) as sync:
        driven = sync.drive(sync.plan_credits())

    async def run_async() -> Credits:
        async with AsyncClient(config, transport=httpx.MockTransport(answer), clock=FakeClock()) as face:
            return await face.drive(face.plan_credits())

    assert by_hand == driven == asyncio.run(run_async())
    assert driven.available == 7
