"""The checks have teeth: every planted bug is caught by its rule id, and the real mock is not flagged.

Each variant of `conformance.planted` is served by a real uvicorn and checked with every phase of
`nemo-contract check` on a small example budget; the long runs are behind the `slow` marker.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from conformance.check.report import Report
from conformance.check.runner import CheckOptions, run_check
from conformance.planted.variants import CATALOGUE, PlantedBug, planted
from contracts.coverage import load_behaviours
from contracts.profiles import load_profile
from mockserver.settings import Settings
from mockserver.testing import LiveServer

SEED = 3
SMALL_BUDGET = 1  # generated cases per operation; probes and the journey run in full regardless
#: The default profile with a 1 MB cap: the over-the-cap probe then sends 1 MB, not 500 (B-UPL-08).
SMALL_CAP = replace(load_profile(None), upload_cap_bytes=1024 * 1024)

pytestmark = pytest.mark.live


def check(server: LiveServer, max_examples: int = SMALL_BUDGET) -> Report:
    return run_check(CheckOptions(base_url=server.url, max_examples=max_examples, seed=SEED), sleep=None)


@pytest.fixture(scope="module")
def baseline() -> Iterator[Report]:
    """The unchanged mock, checked exactly as the variants are."""
    with LiveServer(Settings(time_scale=0, seed=7, access_log=False, profile=SMALL_CAP)) as server:
        yield check(server)


MOCK_SETTINGS = {
    "default": {},
    "real time": {"time_scale": 1.0, "profile": SMALL_CAP},
    "render shape B": {"render_shape": "B", "profile": SMALL_CAP},
    "ADK dialect": {"dialect": "adk", "profile": SMALL_CAP},
    "mapped statuses": {"error_status": "mapped", "profile": SMALL_CAP},
    "CRLF streams": {"sse_line_ending": "\r\n", "profile": SMALL_CAP},
    "v4.4 token limits": {"rate_limits": "v44", "profile": SMALL_CAP},
}


@pytest.mark.parametrize("settings", MOCK_SETTINGS.values(), ids=list(MOCK_SETTINGS))
def test_the_real_mock_is_not_flagged(settings: dict[str, object]) -> None:
    """B-ENV-06, B-ERR-01, B-CRED-02, B-SSE-04/05/06/08/09, B-REN-06/07/09/15, B-ADK-03, U-01, U-16:
    the unchanged mock, in each documented shape, breaks no rule."""
    with LiveServer(Settings(**{"time_scale": 0, "seed": 7, "access_log": False, **settings})) as server:
        report = check(server)
    assert report.ok, "\n".join(report.console_lines())
    assert len(report.checked) >= 45


def test_v44_token_limits_are_checked_as_v44_documents_them() -> None:
    """B-AUTH-10: a mock on api-ref v4.4's limits issues a token without X-Client-Id; the checker
    holds it to that rule, not to v1.9's B-AUTH-02 and B-AUTH-08."""
    settings = Settings(time_scale=0, seed=7, access_log=False, rate_limits="v44", profile=SMALL_CAP)
    with LiveServer(settings) as server:
        report = check(server)
    assert report.ok, "\n".join(report.console_lines())
    assert "B-AUTH-10" in report.checked and "B-AUTH-02" not in report.checked


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_the_probes_between_events_never_flag_the_real_mock(seed: int) -> None:
    """B-AUTH-05, B-AUTH-08, B-AUTH-20, B-REN-11, B-UPL-08, U-08, U-13: the probes that move the clock
    past expiries and send a file over the cap hold on the unchanged mock, whatever the seeds."""
    settings = Settings(time_scale=0, seed=seed, access_log=False, profile=SMALL_CAP)
    with LiveServer(settings) as server:
        options = CheckOptions(base_url=server.url, seed=seed, phases=("probes",))
        report = run_check(options, sleep=None)
    assert report.ok, "\n".join(report.console_lines())
    assert {"B-AUTH-05", "B-AUTH-08", "B-AUTH-20", "B-REN-11", "B-UPL-08", "U-08", "U-13"} <= set(
        report.checked
    )


def test_the_catalogue_is_big_and_names_catalogue_rules() -> None:
    """B-ERR-01 and every rule the variants break: at least 15 variants, each bound to a catalogue rule
    that binds someone (B-AUTH-22, a client rule, binds the server's URLs as much)."""
    rules = load_behaviours()
    assert len(CATALOGUE) >= 15
    assert len({bug.name for bug in CATALOGUE}) == len(CATALOGUE)
    for bug in CATALOGUE:
        assert bug.catches and bug.what
        for rule_id in bug.catches:
            assert rules[rule_id].binds != "none", (bug.name, rule_id)
    assert planted("render-goes-back").catches == ("B-REN-09",)
    with pytest.raises(KeyError):
        planted("no-such-bug")


@pytest.mark.parametrize("bug", CATALOGUE, ids=[bug.name for bug in CATALOGUE])
def test_each_planted_bug_is_caught(bug: PlantedBug, baseline: Report) -> None:
    """B-CRED-01, B-SESS-07, B-CRED-02, B-SSE-06, B-REN-09, B-SSE-04, U-12, B-UPL-07, U-16, B-SSE-09,
    B-SSE-08, B-AUTH-02, U-03, B-REN-03, B-REN-15, B-CRED-05, B-REN-06, B-STATE-04, B-AUTH-22, B-ERR-01,
    U-14, B-CRED-08, U-10, B-AUTH-05, B-UPL-08, B-REN-11, B-AUTH-08, B-AUTH-20: each variant is reported
    under the rule it breaks, which the real mock keeps."""
    with bug.server(profile=SMALL_CAP) as server:
        report = check(server)
    missed = set(bug.catches) - set(report.breaches)
    assert not missed, f"{bug.name} ({bug.what}) not caught as {sorted(missed)}:\n" + "\n".join(
        report.console_lines()
    )
    assert not set(bug.catches) & set(baseline.breaches), "the real mock breaks these rules too"
    for rule_id in bug.catches:
        assert report.breaches[rule_id].line().startswith(f"FAIL {rule_id} [")


@pytest.mark.slow
@pytest.mark.parametrize("bug", CATALOGUE, ids=[bug.name for bug in CATALOGUE])
def test_each_planted_bug_is_caught_with_the_default_budget(bug: PlantedBug) -> None:
    """B-CRED-02, B-SSE-06, B-REN-09, U-16 and the rest of the catalogue, at `--max-examples 20`."""
    with bug.server() as server:
        report = check(server, max_examples=20)
    assert set(bug.catches) <= set(report.breaches), "\n".join(report.console_lines())


@pytest.mark.slow
def test_a_long_fuzz_run_leaves_the_real_mock_clean() -> None:
    """B-ERR-01, U-12, B-CRED-02, B-REN-09, B-SSE-04: a soak of 200 generated cases per operation."""
    with LiveServer(Settings(time_scale=0, seed=11, access_log=False)) as server:
        report = check(server, max_examples=200)
    assert report.ok, "\n".join(report.console_lines())
    assert report.requests_sent > 3000
