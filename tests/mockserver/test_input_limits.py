"""Bad input gets the documented envelope and changes nothing: JSON depth and numbers, body sizes
enforced while the body arrives, bodies that stop, multipart boundaries, clients that leave
(U-02, U-03, U-12, U-13)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

import httpx
import pytest
from conftest import ATTRIBUTION
from rawhttp import closed_by_server, connect, head, read_answer

from mockserver.clock import DEFAULT_START
from mockserver.settings import Settings
from mockserver.testing import LiveServer

pytestmark = pytest.mark.live

#: Every endpoint that reads a JSON body (paths with `me` and a session filled in by `json_paths`).
JSON_ENDPOINTS = (
    "/api/tasks/me/with-session/nemo_agent",
    "/run_sse",
    "/api/render/proxy/lambda",
    "/api/auth/claim-token",
    "/api/upload-video/nemo_agent/me/{session}",
    "/_mock/clock/advance",
    "/_mock/accounts",
    "/_mock/faults",
    "/_mock/tokens/revoke",
)


@pytest.fixture
def paid_headers(new_account) -> dict[str, str]:
    return new_account("paid", 10_000).headers


def json_paths(user) -> list[str]:
    session_id, _ = user.session()
    return [path.format(session=session_id) for path in JSON_ENDPOINTS]


def post_raw(http: httpx.Client, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return http.post(path, content=body, headers={**headers, "Content-Type": "application/json"})


def assert_envelope(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status and body["data"] is None, body
    assert words in body["message"], body["message"]


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 5_000 + b"1" + b"}" * 5_000, b"[" * 65 + b"]" * 65],
    ids=["100k-list", "5k-object", "65-deep"],
)
def test_deep_json_is_refused_on_every_json_endpoint(http, new_account, body: bytes, mock) -> None:
    """U-12, U-02, U-03: nesting past the limit is HTTP 400 with a message, on /_mock too; no 500."""
    user = new_account("paid", 10_000)
    for path in json_paths(user):
        assert_envelope(post_raw(http, path, body, user.headers), 400, "nested deeper than 64")
    assert len(mock.backend.sessions.sessions) == 1  # the one json_paths made, nothing more


def test_64_levels_are_still_json(http, paid_headers) -> None:
    """U-12: the limit refuses only what is deeper than a real client sends."""
    body = b'{"task_name": "p", "x": ' + b"[" * 63 + b"]" * 63 + b"}"
    r = post_raw(http, "/api/tasks/me/with-session/nemo_agent", body, paid_headers)
    assert r.json()["code"] == 0


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e999"])
def test_non_finite_numbers_are_not_json(http, mock, number: bytes) -> None:
    """U-12: NaN and numbers out of range are refused; the clock, the journal and tokens still work."""
    r = post_raw(http, "/_mock/clock/advance", b'{"seconds": ' + number + b"}", {})
    assert_envelope(r, 400, "Malformed JSON")
    fault = post_raw(http, "/_mock/faults", b'{"path": "/x", "delay_ms": ' + number + b"}", {})
    assert_envelope(fault, 400, "Malformed JSON")
    assert http.get("/_mock/clock").json()["now"] == DEFAULT_START
    assert http.get("/_mock/journal").status_code == 200
    assert http.get("/_mock/faults").json() == {"rules": []}
    token = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "after-nan"}).json()["data"][
        "token"
    ]
    credits = http.get(
        "/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}", **ATTRIBUTION}
    )
    assert credits.json()["code"] == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"task_name": "\\ud800"}',
        b'{"task_name": "\\uDFFF x"}',
        '{"task_name": "\ud800"}'.encode("utf-8", "surrogatepass"),
    ],
    ids=["escaped-high", "escaped-low", "raw-bytes"],
)
def test_lone_surrogates_are_refused(http, paid_headers, mock, body: bytes) -> None:
    """U-12: a string that is not Unicode text never reaches the state (it could not be sent back)."""
    r = post_raw(http, "/api/tasks/me/with-session/nemo_agent", body, paid_headers)
    assert_envelope(r, 400, "Malformed JSON")
    assert mock.backend.sessions.sessions == {}


def test_valid_surrogate_pairs_and_non_ascii_pass(http, paid_headers) -> None:
    body = b'{"task_name": "\\ud83c\\udfac \\u89c6\\u9891"}'
    assert post_raw(http, "/api/tasks/me/with-session/nemo_agent", body, paid_headers).json()["code"] == 0


def test_a_declared_oversized_body_is_refused_before_it_is_read(mock: LiveServer) -> None:
    """U-03: Content-Length over the cap is 413 at once; not one byte of the body is sent or buffered."""
    with connect(mock.url) as sock:
        sock.sendall(
            head(
                "POST",
                "/_mock/accounts",
                mock.url,
                {"Content-Type": "application/json", "Content-Length": str(100 * 1024 * 1024)},
            )
        )
        answer = read_answer(sock)
        assert answer.status == 413 and answer.headers.get("connection") == "close"
        assert answer.json()["code"] == 413 and "limit is 8,388,608 bytes" in answer.json()["message"]
        assert closed_by_server(sock)
    assert mock.backend.accounts.accounts == {}


@pytest.fixture(scope="module")
def tight() -> Iterator[LiveServer]:
    """A mock with a 4 kB JSON cap and a 0.3 s body timeout."""
    settings = Settings(time_scale=0, access_log=False, max_json_body=4096, body_timeout_s=0.3)
    with LiveServer(settings) as server:
        yield server


def test_an_undeclared_oversized_body_is_refused_while_it_arrives(tight: LiveServer) -> None:
    """U-03: a chunked body is counted as it comes; past the cap the answer is 413 before its end."""
    with connect(tight.url) as sock:
        sock.sendall(
            head(
                "POST",
                "/_mock/accounts",
                tight.url,
                {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            )
        )
        for _ in range(5):
            sock.sendall(b"400\r\n" + b" " * 1024 + b"\r\n")  # 5 kB, never the final chunk
        answer = read_answer(sock)
        assert answer.status == 413 and "limit is 4,096 bytes" in answer.json()["message"]
    assert tight.backend.accounts.accounts == {}


def test_a_body_shorter_than_its_content_length_times_out(tight: LiveServer) -> None:
    """A body that stops arriving is answered 408 and the connection closed (no request held for ever)."""
    with connect(tight.url) as sock:
        sock.sendall(
            head(
                "POST",
                "/_mock/accounts",
                tight.url,
                {"Content-Type": "application/json", "Content-Length": "100"},
            )
            + b'{"tier": '
        )
        answer = read_answer(sock)
        assert answer.status == 408 and answer.json()["code"] == 408
        assert "stopped arriving" in answer.json()["message"]
        assert closed_by_server(sock)
    assert tight.backend.accounts.accounts == {}


def multipart(boundary: str) -> tuple[bytes, str]:
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n'
        f"Content-Type: image/png\r\n\r\nxxxx\r\n--{boundary}--\r\n"
    ).encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("boundary", ["b" * 71, "b" * 300, "bad<boundary>"], ids=["71", "300", "bad-char"])
def test_malformed_boundaries_are_refused_and_leave_nothing(user, mock: LiveServer, boundary: str) -> None:
    """U-13: RFC 2046 boundaries are 1 to 70 characters of a small set: else 400, no file, no directory."""
    session_id, _ = user.session()
    body, content_type = multipart(boundary)
    r = user.post(
        f"/api/upload-video/nemo_agent/me/{session_id}", content=body, headers={"Content-Type": content_type}
    )
    assert_envelope(r, 400, "multipart boundary")
    assert not any((mock.backend.data_dir / "incoming").iterdir())
    assert user.state(session_id)["video_infos"] == []


def test_a_70_character_boundary_is_fine(user) -> None:
    session_id, _ = user.session()
    body, content_type = multipart("b" * 70)
    r = user.post(
        f"/api/upload-video/nemo_agent/me/{session_id}", content=body, headers={"Content-Type": content_type}
    )
    assert r.json()["code"] != 400  # it gets as far as the content check (4001: not a PNG)


def test_a_client_leaving_mid_upload_is_journalled_499(user, mock: LiveServer, caplog) -> None:
    """U-13: a dropped upload is no server error: journal status 499, no traceback, nothing kept."""
    session_id, _ = user.session()
    path = f"/api/upload-video/nemo_agent/me/{session_id}"
    boundary = "xyz"
    part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="clip.mp4"\r\n\r\n'
    ).encode() + b"\x00" * 50_000
    with caplog.at_level(logging.WARNING), connect(mock.url) as sock:
        sock.sendall(
            head(
                "POST",
                path,
                mock.url,
                {
                    **user.headers,
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                    "Content-Length": str(10 * 1024 * 1024),
                },
            )
            + part
        )
        sock.close()
        entry = wait_for_entry(user.http, path)
    assert entry["status"] == 499
    assert not [r for r in caplog.records if r.name.startswith("uvicorn") and r.levelno >= logging.ERROR]
    mock.wait_idle()
    assert not any((mock.backend.data_dir / "incoming").iterdir())
    assert user.state(session_id)["video_infos"] == []


def wait_for_entry(http: httpx.Client, path: str, deadline_s: float = 15.0) -> dict:
    """The journal entry of `path`, once the server has finished with the request."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        found = [e for e in http.get("/_mock/journal").json()["entries"] if e["path"] == path]
        if found:
            return found[-1]
    raise AssertionError(f"no journal entry for {path}")


def test_clients_still_sending_an_oversized_body_get_the_413(tight: LiveServer) -> None:
    """U-03: refused by Content-Length, the rest of the body is read and thrown away (never kept)
    until the client is done, so a client still sending sees the 413 instead of a reset."""
    body = b" " * (20 * 1024 * 1024)

    async def one(client: httpx.AsyncClient) -> int:
        response = await client.post(
            "/_mock/accounts", content=body, headers={"Content-Type": "application/json"}
        )
        return response.status_code

    async def many() -> list[int]:
        async with httpx.AsyncClient(base_url=tight.url, timeout=60) as client:
            return await asyncio.gather(*[one(client) for _ in range(5)])

    assert asyncio.run(many()) == [413] * 5
    assert tight.backend.accounts.accounts == {}
