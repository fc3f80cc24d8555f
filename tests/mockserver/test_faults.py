"""Fault rules as INTERFACE.md defines them."""

from __future__ import annotations

import pytest

from mockserver.faults import FaultError, Faults, drop_after


def test_rule_matching_and_times() -> None:
    faults = Faults()
    faults.arm({"method": "POST", "path": "/run_sse", "times": 2, "sse": "silent"})
    assert faults.take("GET", "/run_sse", ("sse",)) is None
    assert faults.take("POST", "/run_sse", ("respond",)) is None
    assert faults.take("POST", "/run_sse", ("sse",)) is not None
    assert faults.take("POST", "/run_sse", ("sse",)) is not None
    assert faults.take("POST", "/run_sse", ("sse",)) is None  # used up


def test_prefix_paths_and_default_times() -> None:
    faults = Faults()
    rule = faults.arm({"path": "/api/render/*", "render": "fail"})
    assert rule.times == 1 and rule.method is None
    assert faults.take("POST", "/api/render/proxy/lambda", ("render",)) is rule
    assert not faults


def test_unlimited_rule() -> None:
    faults = Faults()
    faults.arm(
        {
            "path": "/api/credits/balance/simple",
            "times": None,
            "respond": {"status": 429, "json": {"code": 429}},
        }
    )
    for _ in range(5):
        assert faults.take("GET", "/api/credits/balance/simple", ("respond",)) is not None


@pytest.mark.parametrize(
    "raw",
    [
        [],
        {"sse": "silent"},
        {"path": "run_sse", "sse": "silent"},
        {"path": "/x"},
        {"path": "/x", "sse": "silent", "render": "fail"},
        {"path": "/x", "sse": "loud"},
        {"path": "/x", "sse": "drop:k"},
        {"path": "/x", "render": "explode"},
        {"path": "/x", "times": 0, "sse": "silent"},
        {"path": "/x", "delay_ms": -1},
        {"path": "/x", "respond": {"status": 99}},
        {"path": "/x", "method": "FETCH", "sse": "silent"},
    ],
)
def test_invalid_rules_refused(raw: object) -> None:
    with pytest.raises(FaultError):
        Faults().arm(raw)


def test_drop_after() -> None:
    assert drop_after("drop:3") == 3
    assert drop_after("silent") is None
