"""A live mock for tests and generated repro tests: with a scenario armed, recording or not.

with live_mock(settings, scenario=load_scenario("silent-edit"), record="run.jsonl") as server:
    ...   # server.url, server.backend as with mockserver.testing.LiveServer
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from mockserver.recording.model import DEFAULT_BODY_LIMIT
from mockserver.recording.recorder import Recorder, attach
from mockserver.scenarios import Scenario, install
from mockserver.settings import Settings
from mockserver.testing import LiveServer


@contextlib.contextmanager
def live_mock(
    settings: Settings | None = None,
    *,
    scenario: Scenario | None = None,
    record: str | Path | None = None,
    body_limit: int = DEFAULT_BODY_LIMIT,
) -> Iterator[LiveServer]:
    """A `LiveServer` (scenario settings unless `settings` is given), stopped at the end.

    With `record`, every exchange is written to that file; the recording is closed (its `end`
    record written) once the server has stopped.
    """
    if settings is None:
        settings = scenario.mock_settings(access_log=False) if scenario else Settings(time_scale=0)
    server = LiveServer(settings)
    recorder = None
    if record is not None:
        recorder = Recorder.for_mock(record, server.backend, scenario, body_limit=body_limit)
        attach(server.app, server.backend, recorder)
    if scenario is not None:
        install(server.app, server.backend, scenario)
    try:
        with server:
            yield server
    finally:
        if recorder is not None:
            recorder.close()
