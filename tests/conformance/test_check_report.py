"""What `nemo-contract check` prints and writes: one line per broken rule, curl with masked tokens, JUnit."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx

from conformance.check.checks import broken, held
from conformance.check.exchange import Exchange, mask_token, operation_for
from conformance.check.report import Report

TOKEN = "nmv_usr_0123456789abcdef0123456789abcdef"


def credits_exchange(body: bytes = b'{"code":0,"data":{"available":0,"frozen":100,"total":0}}') -> Exchange:
    request = httpx.Request(
        "GET",
        "http://127.0.0.1:8080/api/credits/balance/simple",
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "X-Skill-Source": "nemo-video",
            "Accept-Encoding": "gzip",
        },
    )
    response = httpx.Response(
        200, headers={"content-type": "application/json"}, content=body, request=request
    )
    return Exchange.from_httpx(response)


def test_curl_reproduces_the_request_with_the_token_masked() -> None:
    """B-AUTH-22: the reproduction never shows the token; only the headers that matter are kept."""
    ex = credits_exchange()
    curl = ex.curl()
    assert curl.startswith("curl -X GET http://127.0.0.1:8080/api/credits/balance/simple")
    assert "'Authorization: Bearer nmv_usr_***'" in curl and "'X-Skill-Source: nemo-video'" in curl
    assert TOKEN not in curl and "Accept-Encoding" not in curl
    assert ex.operation == "getCredits"


def test_bodies_and_leaked_tokens_are_masked_in_curl() -> None:
    """B-AUTH-22: a token inside a body is masked too; multipart bodies are summarised."""
    request = httpx.Request(
        "POST",
        "http://h/api/auth/claim-token",
        json={"note": f"leak {TOKEN}"},
        headers={"Authorization": "Bearer clm_secret123456"},
    )
    ex = Exchange.from_httpx(httpx.Response(200, json={"code": 0, "data": {}}, request=request))
    curl = ex.curl()
    assert "leak nmv_usr_***" in curl and "Bearer clm_***" in curl and "secret123456" not in curl
    assert mask_token("plain-secret") == "***"
    files = httpx.Request(
        "POST", "http://h/api/upload-video/nemo_agent/me/1", files={"files": ("a.png", b"\x89PNG")}
    )
    assert "'<multipart body>'" in Exchange.from_httpx(httpx.Response(200, request=files)).curl()


def test_operations_are_found_from_concrete_paths() -> None:
    """B-REN-05/13: the poll and download paths are told apart; unknown paths have no operation."""
    assert operation_for("GET", "/api/render/proxy/lambda/render_1") == "getRender"
    assert operation_for("POST", "/api/render/proxy/lambda/render_1/cancel") == "cancelRender"
    assert operation_for("GET", "/api/render/proxy/render_1/download") == "downloadRender"
    assert operation_for("GET", "/api/state/nemo_agent/me/123/latest") == "getState"
    assert operation_for("DELETE", "/api/credits/balance/simple") is None
    assert operation_for("GET", "/_mock/health") is None


def test_one_line_per_broken_rule_then_the_figures() -> None:
    """B-CRED-02: a rule broken three times is one line with its first request and a count."""
    report = Report(seed=42)
    ex = credits_exchange()
    report.sent(5)
    for _ in range(3):
        report.record(
            [held("B-ENV-06"), broken("B-CRED-02", "total 0 != available 0 + frozen 100")], ex, "journey"
        )
    report.note("U-16 not checked: no second account")
    report.finish()
    lines = report.console_lines()
    assert lines[0].startswith(
        "FAIL B-CRED-02 [journey] total 0 != available 0 + frozen 100 (seen 3 times) | curl "
    )
    assert "nmv_usr_***" in lines[0] and TOKEN not in lines[0]
    assert lines[1] == "note: U-16 not checked: no second account"
    assert lines[-1].startswith("rules checked: 2  requests sent: 5  failures: 1  duration: ")
    assert lines[-1].endswith("seed: 42")
    assert not report.ok and report.failed_rules == ["B-CRED-02"]


def test_junit_has_a_case_per_rule_and_a_failure_per_broken_rule() -> None:
    """B-CRED-02, B-ENV-06, U-12: CI reads one test case per rule checked; errors are listed apart."""
    report = Report(seed=1)
    report.record(
        [held("B-ENV-06"), held("U-12"), broken("B-CRED-02", "total off")], credits_exchange(), "probes"
    )
    report.error("links", "stopped: RuntimeError: boom")
    report.finish()
    suite = ET.fromstring(report.junit_xml()).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    cases = {case.get("name", "").split()[0]: case for case in suite.findall("testcase")}
    assert cases["B-CRED-02"].find("failure") is not None
    assert cases["B-ENV-06"].find("failure") is None
    assert "available + frozen" in cases["B-CRED-02"].get("name", "")  # the catalogue statement
    assert cases["[links]"].find("error") is not None
    failure = cases["B-CRED-02"].find("failure")
    assert failure is not None and "nmv_usr_***" in (failure.text or "")
