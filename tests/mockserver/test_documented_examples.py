"""Every documented request and response example runs against a live mock in the setting it
documents (fixtures/examples/*.yaml: the sources and other public skills built on this backend).

Curl lines run as written, with `bash` and `curl`, substituting only `$API` (or the production
base URL written out), `$TOKEN` and ids; requests described in prose or tables are sent as
described; each documented answer must be a subset of the mock's (tests/mockserver/documented.py).
Tables of codes, formats, stream events, draft keys and costs are checked row by row.

Guards B-ENV-05/06/07/08, B-AUTH-01/02/03/04/08/12/13/14/19, B-SESS-01/02/03/05/06/07,
B-SSE-01/02/03/04/05/06/07/08, B-UPL-01/02/03/04/05/06/07/13, B-CRED-01/02/04, B-STATE-01/02/04,
B-REN-01/04/05/06/07/09/12/13/15/16, B-ATTR-01/05/07/08, B-ERR-01/02.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from documented import Example, load_examples
from documented_run import World, run_request
from documented_tables import TABLE_CHECKS

from checkout import FIXTURES_DIR
from contracts.profiles import BYTES_PER_MB, load_profile
from mockserver.settings import Settings
from mockserver.testing import LiveServer

pytestmark = pytest.mark.live

EXAMPLES_DIR = FIXTURES_DIR / "examples"
EXAMPLES = load_examples(EXAMPLES_DIR)

# ---------------------------------------------------------------------------- servers per setting


def settings_for(setting: dict[str, Any]) -> Settings:
    profile = load_profile(setting.get("profile"))
    if "upload_cap_mb" in setting:
        profile = dataclasses.replace(profile, upload_cap_bytes=int(setting["upload_cap_mb"] * BYTES_PER_MB))
    return Settings(
        profile=profile,
        time_scale=0,
        seed=setting.get("seed", 7),
        access_log=False,
        render_shape=setting.get("render_shape"),
        rate_limits=setting.get("rate_limits", "v19"),
    )


SERVER_KEYS = ("profile", "upload_cap_mb", "render_shape", "rate_limits", "seed")


@pytest.fixture(scope="module")
def servers() -> Iterator[Callable[[dict[str, Any]], LiveServer]]:
    started: dict[tuple[Any, ...], LiveServer] = {}

    def server_for(setting: dict[str, Any]) -> LiveServer:
        key = tuple(setting.get(k) for k in SERVER_KEYS)
        if key not in started:
            started[key] = LiveServer(settings_for(setting)).start()
        server = started[key]
        server.reset()
        return server

    yield server_for
    for server in started.values():
        server.stop()


# ---------------------------------------------------------------------------- the tests


def run_example(example: Example, world: World) -> list[str]:
    if example.kind == "table":
        return TABLE_CHECKS[example.spec["check"]](example, world)
    return run_request(example, world)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_documented_example_holds_against_the_mock(
    example: Example, servers: Callable[[dict[str, Any]], LiveServer], tmp_path: Path
) -> None:
    server = servers(example.setting)
    world = World(server, example, tmp_path)
    try:
        problems = run_example(example, world)
    finally:
        world.http.close()
        server.wait_idle()
    known = example.get("known_difference")
    where = f"{example.source.document} {example.source.version or ''} {example.section}"
    if known is None:
        assert not problems, f"{where}: " + "; ".join(problems)
    else:
        # The document and the mock differ, for the reason the example states; once they agree,
        # this fails so that the note goes.
        assert problems, f"{where}: now holds; drop its known_difference ({known['reason']})"
        assert any(known["shows"] in problem for problem in problems), problems


def test_every_source_names_itself_and_every_example_its_section() -> None:
    assert len({e.file for e in EXAMPLES}) == len(list(EXAMPLES_DIR.glob("*.yaml")))
    for example in EXAMPLES:
        assert example.source.document and example.section, example.id
        assert "/work/" not in json.dumps(example.spec)
    assert len({e.id for e in EXAMPLES}) == len(EXAMPLES), "example names repeat within a file"


def test_a_wrong_documented_answer_fails_against_the_mock(
    servers: Callable[[dict[str, Any]], LiveServer], tmp_path: Path
) -> None:
    """The comparison bites: the v1.9 token example with one value and one field changed (B-AUTH-03)."""
    (original,) = [e for e in EXAMPLES if e.id == "upstream-nemo-video-SKILL-v1.9:anonymous-token"]
    curl = original.spec["curl"].replace('"credits":100', '"credits":101')
    wrong = dataclasses.replace(original, spec={**original.spec, "curl": curl, "fields": ["data.scopes"]})
    world = World(servers(wrong.setting), wrong, tmp_path)
    problems = run_example(wrong, world)
    assert any("documented 101, got 100" in p for p in problems), problems
    assert any("data.scopes: documented field missing" in p for p in problems), problems


STANDIN_CASES = ["anonymous-token", "upload-file", "upload-url", "credits", "render-submit", "render-poll"]


@pytest.mark.parametrize("name", STANDIN_CASES)
def test_the_curl_stand_in_runs_the_documented_commands(
    name: str, servers: Callable[[dict[str, Any]], LiveServer], tmp_path: Path
) -> None:
    """Where no curl is installed the same v1.9 commands run through the stand-in (B-UPL-02/03)."""
    (example,) = [e for e in EXAMPLES if e.id == f"upstream-nemo-video-SKILL-v1.9:{name}"]
    world = World(servers(example.setting), example, tmp_path, standin=True)
    assert run_example(example, world) == []
    assert (tmp_path / "bin" / "curl").is_file()
