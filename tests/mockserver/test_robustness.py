"""The robustness suite: hypothesis drives every route of a live mock, /_mock included, with hostile
input. No answer is a 500, none hangs, every refusal is the documented envelope, and a refused
request leaves the state as it was: ledger, accounts and tokens, sessions, renders, faults, clock
(the journal aside) (U-02, U-03, U-12, U-13, B-ERR-01, B-ERR-02).

1,000 cases run by default (seconds); `-m slow` runs 10,000 more and 2,000 raw request lines. The
cases are derived the same way every run; NEMO_ROBUSTNESS_SEED=N draws others. Set
NEMO_ROBUSTNESS_REPORT to a file path to get the table of input classes and outcomes there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from robustness import MAX_JSON_BODY, Case, Tally, cases, raw_exchange, routes, send, send_raw, snapshot

from mockserver.settings import Settings
from mockserver.testing import LiveServer

pytestmark = pytest.mark.live

ROUTES = routes()
#: Classes whose refusal may close the connection under a client still sending (413, 431).
MAY_CLOSE = ("oversized-body", "oversized-head")
DEFAULT_CASES = 1000
SLOW_CASES = 10_000


class Target:
    """The live mock, a paid account with a session on it, and the outcomes so far."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=30)
        self.tally = Tally()
        self.auth: dict[str, str] = {}
        self.ensure_account()

    def ensure_account(self) -> None:
        """A paid account and a session, made again after a reset, a revoke or the clock moving on."""
        backend = self.server.backend
        token = self.auth.get("Authorization", "")

        def usable() -> bool:
            try:
                account = backend.authenticate(token)
            except Exception:
                return False
            return any(s.owner == account.user_id for s in backend.sessions.sessions.values())

        if self.server.call(usable):
            return

        def make() -> str:
            value, account = backend.accounts.create_account("paid", 10**6, backend.clock.now())
            backend.create_session(account, "robustness", "en")
            return value.value

        self.auth = {"Authorization": f"Bearer {self.server.call(make)}", "X-Skill-Source": "nemo-video"}

    def state(self) -> tuple[Any, ...]:
        return self.server.call(snapshot, self.server.backend)

    def run(self, case: Case) -> None:
        self.ensure_account()
        before = self.state()
        try:
            try:
                response = send(self.http, case)
            except httpx.LocalProtocolError:  # httpx would not send it: the socket will
                response = send_raw(self.server.url, case)
        except (httpx.TimeoutException, TimeoutError):
            self.tally.add(case.kind, "hang")
            raise AssertionError(f"no answer within 30 s: {case.method} {case.url[:200]}") from None
        except (httpx.TransportError, ConnectionError) as exc:
            self.tally.add(case.kind, "closed")
            assert case.kind in MAY_CLOSE, f"{case.method} {case.url[:200]}: connection broken: {exc!r}"
            assert self.state() == before
            return
        status = response.status_code
        if status >= 500:
            self.tally.add(case.kind, "500")
            raise AssertionError(
                f"{status} for {case.method} {case.url[:200]} ({case.kind}): {response.text[:300]}"
            )
        accepted = 200 <= status < 300 and _code(response) in (0, None)
        if not accepted and case.method != "HEAD" and status >= 400:
            body = response.json()  # U-02: every refusal is the envelope
            assert set(body) >= {"code", "message", "data"} and body["data"] is None, body
            assert isinstance(body["message"], str) and body["message"], body
        if accepted:
            self.tally.add(case.kind, "accepted")
            self.server.wait_idle()
            self.server.call(self.server.backend.faults.clear)  # an armed rule would answer for later cases
        else:
            self.tally.add(case.kind, "refused")
            after = self.state()
            assert after == before, (
                f"a refused {case.method} {case.url[:200]} ({case.kind}) changed the state"
            )


def _code(response: httpx.Response) -> Any:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    server_settings = Settings(
        time_scale=0, seed=3, access_log=False, max_json_body=MAX_JSON_BODY, legacy_render_paths=True
    )
    with LiveServer(server_settings) as server:
        target = Target(server)
        yield target
        target.http.close()
        report = os.environ.get("NEMO_ROBUSTNESS_REPORT")
        if report:
            Path(report).write_text(target.tally.table() + "\n", encoding="utf-8")


def seeded(test: Any) -> Any:
    """Reproducible: a fixed derivation of the cases, or the seed in NEMO_ROBUSTNESS_SEED."""
    chosen = os.environ.get("NEMO_ROBUSTNESS_SEED")
    return seed(int(chosen))(test) if chosen else test


def drive(target: Target, count: int) -> None:
    @seeded
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize=not os.environ.get("NEMO_ROBUSTNESS_SEED"),
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        target.run(data.draw(cases(ROUTES, target.auth)))

    one()
    assert sum(row["tried"] for row in target.tally.rows.values()) >= count
    assert not any(row["500"] or row["hang"] for row in target.tally.rows.values())


def test_hostile_requests_sample(target: Target) -> None:
    """A few hundred cases of every input class on every route: no 500, no hang, nothing changed."""
    drive(target, DEFAULT_CASES)


@pytest.mark.slow
def test_hostile_requests_ten_thousand(target: Target) -> None:
    drive(target, SLOW_CASES)


raw_requests = st.one_of(
    st.binary(max_size=512),
    st.builds(
        lambda method, target, rest: method + b" " + target + b" HTTP/1.1\r\n" + rest,
        st.sampled_from([b"GET", b"POST", b"FOO", b"", b"G\x00T"]),
        st.binary(max_size=64),
        st.binary(max_size=256),
    ),
)


def drive_raw(target: Target, count: int) -> None:
    @seeded
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize=not os.environ.get("NEMO_ROBUSTNESS_SEED"),
        suppress_health_check=list(HealthCheck),
    )
    @given(payload=raw_requests)
    def one(payload: bytes) -> None:
        before = target.state()
        answer = raw_exchange(target.server.url, payload)
        assert not answer.startswith(b"HTTP/1.1 5"), answer[:300]
        outcome = "refused" if answer.startswith(b"HTTP/1.1 4") else "closed" if not answer else "accepted"
        target.tally.add("raw-request", outcome)
        if outcome != "accepted":
            assert target.state() == before

    one()


def test_raw_request_lines(target: Target) -> None:
    """Bytes that are barely HTTP: a 400 envelope or a close, never a 500 or a hang."""
    drive_raw(target, 200)


@pytest.mark.slow
def test_raw_request_lines_many(target: Target) -> None:
    drive_raw(target, 2000)
