"""The reference client under each chaos fault (issue 13): `nemo-client` against the live mock.

What every stream fault must get from it (B-CLI-08, B-CLI-17, B-SSE-14): the message goes out
once and only once, a broken stream is said to be broken, the outcome is read from the project
state, and the exit code follows the README's table.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from client.cli import EXIT_OK, EXIT_SERVER, EXIT_TIMEOUT
from mockserver.testing import LiveServer
from tests.client import test_client_cli as base
from tests.client.test_client_cli import GENERATE, Run, fault

# The command-line fixtures of the CLI tests, used here as they are.
env = base.env
cli = base.cli

pytestmark = pytest.mark.live

RECOVERY = "I won't send the message again"


def run_sse_posts(server: LiveServer) -> int:
    entries: list[dict[str, Any]] = httpx.get(server.url + "/_mock/journal", timeout=30).json()["entries"]
    return sum(1 for e in entries if e["method"] == "POST" and e["path"] == "/run_sse")


def chat_under(cli: Run, mock: LiveServer, sse: str) -> tuple[int, str, str]:
    assert cli("status")[0] == EXIT_OK  # sign in and make the project first
    fault(mock, method="POST", path="/run_sse", sse=sse)
    result = cli("chat", GENERATE)
    assert run_sse_posts(mock) == 1  # B-CLI-08: never sent again, whatever the stream did
    return result


@pytest.mark.parametrize(
    ("sse", "why"),
    [
        ("truncate:53", "The stream was cut off inside an event."),
        ("truncate:1", "The stream was cut off inside an event."),
        ("reset:20", "The connection dropped."),
        ("reset:0", "The connection dropped."),
    ],
)
def test_a_cut_stream_is_recovered_from_state(cli: Run, mock: LiveServer, sse: str, why: str) -> None:
    """`truncate:K`, `reset:K`; B-CLI-17, B-SSE-14: the cut is reported, the state read after 30 s
    shows the finished video, exit 0."""
    code, out, err = chat_under(cli, mock, sse)
    assert code == EXIT_OK, err
    assert why in out and RECOVERY in out
    assert "Video" in out or "video" in out


@pytest.mark.parametrize("sse", ["stall:1:300", "heartbeat_gap:300", "slow:200", "buffered", "garbage:1"])
def test_a_slow_or_odd_stream_is_read_to_its_end(cli: Run, mock: LiveServer, sse: str) -> None:
    """`stall`, `heartbeat_gap`, `slow`, `buffered`, `garbage`: the stream ends normally; the invalid
    block is skipped (U-05), no recovery is needed; the report comes from the state (B-CLI-10)."""
    code, out, err = chat_under(cli, mock, sse)
    assert code == EXIT_OK, err
    assert RECOVERY not in out
    assert "✅ Video generated" in out


@pytest.mark.parametrize("k", [1, 53, 59])
def test_a_duplicated_event_is_not_taken_twice(cli: Run, mock: LiveServer, k: int) -> None:
    """`duplicate:K`: a tool call seen twice is one call (no false drop); a text seen twice shows once."""
    code, out, err = chat_under(cli, mock, f"duplicate:{k}")
    assert code == EXIT_OK, err
    assert RECOVERY not in out
    lines = out.splitlines()
    assert len(lines) == len(set(lines)), out  # nothing said twice (a clean run repeats no line)
    assert "✅ Video generated" in out


@pytest.mark.parametrize(
    "kind", ["empty_response", "malformed_chunk", "random_data_then_close", "connection_reset"]
)
def test_a_broken_connection_is_one_clear_line_exit_6(cli: Run, mock: LiveServer, kind: str) -> None:
    """`connection` faults on a read: the client says the connection broke, in one line, exit 6."""
    assert cli("status")[0] == EXIT_OK
    fault(mock, method="GET", path="/api/credits/balance/simple", connection=kind, times=None)
    code, _, err = cli("credits")
    assert code == EXIT_SERVER, err
    assert len(err.strip().splitlines()) == 1 and "connection" in err.lower()


def test_a_broken_connection_before_the_stream_is_never_resent(cli: Run, mock: LiveServer) -> None:
    """B-CLI-08: `/run_sse` answered by a reset: the message may not have arrived, it is not re-sent."""
    assert cli("status")[0] == EXIT_OK
    fault(mock, method="POST", path="/run_sse", connection="connection_reset")
    code, _, err = cli("chat", GENERATE)
    assert run_sse_posts(mock) == 1
    assert code in (EXIT_SERVER, EXIT_TIMEOUT) and err.strip()


def test_flapping_and_latency_on_reads(cli: Run, mock: LiveServer) -> None:
    """`statuses` and `latency`: a 503 is exit 6 with one line; a slow answer is just an answer."""
    assert cli("status")[0] == EXIT_OK
    fault(mock, path="/api/credits/balance/simple", statuses=[503, 200], cycle=True, times=None)
    assert cli("credits")[0] == EXIT_SERVER
    assert cli("credits")[0] == EXIT_OK
    assert httpx.delete(mock.url + "/_mock/faults", timeout=30).status_code == 200
    fault(mock, path="/api/credits/*", latency={"median_ms": 3000, "sigma": 1.0}, times=None)
    assert cli("credits")[0] == EXIT_OK
