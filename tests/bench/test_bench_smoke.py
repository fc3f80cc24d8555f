"""The bench harness at tiny sizes: every bench runs end to end and reports its fields.

Smoke runs, not measurements: nothing here asserts a speed, a ratio or a target.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
if str(PROJECT) not in sys.path:  # `bench` is not an installed package
    sys.path.insert(0, str(PROJECT))

from bench import bench_http, bench_session, bench_streams, run  # noqa: E402

WRK_REPORT = """\
Running 5s test @ http://127.0.0.1:40000/api/credits/balance/simple
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.61ms  358.29us   9.03ms   90.10%
    Req/Sec    12.26k   512.11    12.93k    78.00%
  Latency Distribution
     50%    2.52ms
     75%    2.66ms
     90%    2.90ms
     99%  850.00us
  61012 requests in 5.01s, 10.94MB read
  Non-2xx or 3xx responses: 3
  Socket errors: connect 0, read 1, write 0, timeout 2
Requests/sec:  12178.24
Transfer/sec:      2.18MB
"""


def test_parse_wrk_report() -> None:
    """B-CRED-01 throughput bench: wrk's report gives requests, duration, errors and latency percentiles."""
    result = bench_http.parse_wrk(WRK_REPORT)
    assert (result.tool, result.requests, result.errors) == ("wrk", 61012, 6)
    assert result.duration_s == 5.01
    assert result.p50_ms == 2.52 and result.p99_ms == 0.85
    assert round(result.rps) == 12178


def test_beat_stats_on_the_streams_own_grid() -> None:
    """B-SSE-06 heartbeat lag: measured against the stream's most punctual beat; late and missing beats."""
    # Beats due at 10 + 5k: beat 3 is 40 ms late, beat 5 never comes.
    arrivals = [15.0, 20.0, 25.04, 30.0]
    stats = bench_streams.beat_stats(arrivals, 5.0, (18.0, 36.0), grace_s=1.0)
    assert stats.due == 4  # 20, 25, 30, 35
    assert stats.missed == 1
    assert [round(lag, 3) for lag in stats.lags_s] == [0.0, 0.04, 0.0]
    # A stream the server ended is not owed beats after its end.
    closed = bench_streams.beat_stats(arrivals, 5.0, (18.0, 36.0), closed_at=31.0)
    assert (closed.due, closed.missed) == (3, 0)
    assert bench_streams.beat_stats([], 5.0, (0.0, 10.0)).due == 0


def test_http_bench_loads_mock_and_bare() -> None:
    """B-CRED-01: both servers answer the balance route under the Python load generator; fields reported."""
    report = bench_http.run(connections=4, duration_s=0.3, warmup_s=0.0, rounds=1, load="python")
    assert report["load"] == "python"
    for side in ("mock", "bare", "mock_journal_off"):
        assert report[side]["requests"] > 0 and report[side]["errors"] == 0
        assert report[side]["rps"] > 0 and report[side]["p99_ms"] is not None
    assert report["ratio"] == round(report["mock"]["rps"] / report["bare"]["rps"], 3)
    off = round(report["mock_journal_off"]["rps"] / report["bare"]["rps"], 3)
    assert report["ratio_journal_off"] == off
    assert set(report) >= {"target_ratio", "ok", "connections", "duration_s", "rounds"}


def test_stream_bench_holds_streams_on_mock_and_bare() -> None:
    """B-SSE-06/10, U-04: generation streams held, both heartbeat forms counted; memory and lag reported."""
    report = bench_streams.run(
        streams=20, warm=2, sessions=2, window_s=0.4, settle_s=0.1, time_scale=50.0, pause_s=0.05
    )
    assert report["interval_s"] == 0.1
    for side in ("mock", "bare"):
        result = report[side]
        assert (result["open"], result["failed"], result["warm_open"]) == (20, 0, 2)
        assert result["due"] > 0 and result["beats"] + result["missed"] == result["due"]
        assert result["lag_ms"]["p99"] is not None
        assert result["rss_after_kib"] > 0 and "kib_per_stream" in result
    assert set(report["checks"]) == {"streams", "lag_p99", "memory"}
    assert report["checks"]["streams"] is False  # 20 streams are not the target's 10,000


def test_runner_session_and_render(tmp_path: Path, capsys) -> None:
    """B-AUTH-01, B-UPL-01, B-REN-01/05/13: the session flow and the render run; one table, one JSON."""
    out = tmp_path / "latest.json"
    assert run.main(["--quick", "--only", "session,render", "--output", str(out)]) == 0
    report = json.loads(out.read_text())
    session = report["results"]["session"]
    assert set(session["steps_ms"]) == set(bench_session.STEPS) and session["wall_ms"] > 0
    assert report["results"]["render"]["frames"] > 0
    assert [row["verdict"] in ("PASS", "MISS") for row in report["table"]] == [True, True]
    printed = capsys.readouterr().out
    assert "| 3 full session, time scale 0" in printed and "| 4 render 30 s 1080x1920" in printed


def test_table_rows_for_every_bench() -> None:
    """The runner turns each bench's figures into PASS/MISS rows (B-CRED-01, B-SSE-06)."""
    http = {
        "connections": 32,
        "load": "wrk",
        "mock": {"rps": 9000.0},
        "bare": {"rps": 10000.0},
        "ratio": 0.9,
        "mock_journal_off": {"rps": 9500.0},
        "ratio_journal_off": 0.95,
        "target_ratio": 0.8,
        "ok": True,
    }
    side = {
        "open": 10000,
        "failed": 0,
        "missed": 0,
        "lag_ms": {"p50": 1.0, "p99": 60.0, "max": 90.0},
        "kib_per_stream": 40.0,
    }
    streams = {
        "window_s": 40.0,
        "mock": side,
        "bare": {**side, "kib_per_stream": 35.0},
        "memory_ratio": 1.143,
        "targets": {"streams": 10000, "lag_p99_ms": 50.0, "memory_ratio": 1.25},
        "checks": {"streams": True, "lag_p99": False, "memory": True},
    }
    rows = run.http_rows(http) + run.stream_rows(streams)
    assert [row.verdict for row in rows] == ["PASS", "-", "PASS", "MISS", "PASS"]
    text = run.table(rows)
    assert text.splitlines()[0].startswith("| target") and "0.90x" in text and "1.14x" in text


def test_console_bench_loads_with_and_without_consoles() -> None:
    """The console-cost bench at tiny sizes: every round ran, the consoles really held the feed."""
    from bench import bench_console

    report = bench_console.run(consoles=3, connections=4, duration_s=0.5, warmup_s=0, rounds=1, load="python")
    rounds = report["rps_rounds"]
    assert [len(rounds[key]) for key in ("none", "open", "after", "bare")] == [1, 1, 1, 1]
    assert all(value > 0 for value in report["rps"].values())
    assert report["errors"] == 0 and report["ratio_open"] > 0
    rows = run.console_rows(report)
    assert [row.target for row in rows] == ["5 API with 3 consoles open", "5 API after the consoles left"]
