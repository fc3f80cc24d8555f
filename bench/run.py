"""Run the mock server's benchmarks, print one table of figures, ratios and targets, save them as JSON.

    python -m bench.run                  # everything at full size (several minutes)
    python -m bench.run --quick          # every bench at tiny sizes (a harness check, not a measurement)
    python -m bench.run --only http,session --strict

Each row is one target: PASS when met, MISS when not. The exit status is 0 either way, unless
`--strict` (1 on any MISS); a bench that breaks is an ERROR row and exit status 1. The figures
are written to bench/results/latest.json (git-ignored). Ratios are taken within this run only:
the reference and the mock are measured back to back with the same settings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # `python bench/run.py` from anywhere, without installing
    sys.path.insert(0, str(PROJECT))

from bench import bench_console, bench_http, bench_render, bench_session, bench_streams  # noqa: E402

BENCHES = ("http", "streams", "session", "render", "console")
RESULTS = PROJECT / "bench" / "results" / "latest.json"
#: Generation turns last at least 100 virtual s: past that, the first streams may end in the window.
STREAM_LIFETIME_S = 100.0


@dataclass(slots=True)
class Row:
    """One target of the table."""

    target: str
    measure: str
    mock: str
    reference: str
    ratio: str
    goal: str
    verdict: str  # PASS | MISS | ERROR


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def http_rows(r: dict[str, Any]) -> list[Row]:
    return [
        Row(
            "1 HTTP GET credits balance",
            f"req/s, {r['connections']} conn ({r['load']})",
            _num(r["mock"]["rps"], 0),
            _num(r["bare"]["rps"], 0) + " bare Starlette",
            f"{r['ratio']:.2f}x",
            f">= {r['target_ratio']:.2f}x bare",
            _verdict(r["ok"]),
        ),
        Row(
            "1b same, --journal off",
            f"req/s, {r['connections']} conn ({r['load']})",
            _num(r["mock_journal_off"]["rps"], 0),
            _num(r["bare"]["rps"], 0) + " bare Starlette",
            f"{r['ratio_journal_off']:.2f}x",
            "(load mode, no target)",
            "-",
        ),
    ]


def stream_rows(r: dict[str, Any]) -> list[Row]:
    mock, bare, targets, checks = r["mock"], r["bare"], r["targets"], r["checks"]
    memory_ratio = r["memory_ratio"]
    return [
        Row(
            "2 SSE streams held",
            "streams open (failed)",
            f"{_num(mock['open'])} ({mock['failed']})",
            f"{_num(bare['open'])} ({bare['failed']})",
            "-",
            f">= {_num(targets['streams'])}",
            _verdict(checks["streams"]),
        ),
        Row(
            "2 heartbeat lag",
            f"p99 ms (p50 / max), missed, {r['window_s']:.0f} s",
            f"{_num(mock['lag_ms']['p99'])} ({_num(mock['lag_ms']['p50'])} / {_num(mock['lag_ms']['max'])}), "
            f"{mock['missed']}",
            f"{_num(bare['lag_ms']['p99'])} ({_num(bare['lag_ms']['p50'])} / {_num(bare['lag_ms']['max'])}), "
            f"{bare['missed']}",
            "-",
            f"< {targets['lag_p99_ms']:.0f} ms",
            _verdict(checks["lag_p99"]),
        ),
        Row(
            "2 memory per stream",
            "KiB RSS / stream",
            _num(mock["kib_per_stream"]),
            _num(bare["kib_per_stream"]) + " bare sse-starlette",
            "-" if memory_ratio is None else f"{memory_ratio:.2f}x",
            f"<= {targets['memory_ratio']:.2f}x bare",
            _verdict(checks["memory"]),
        ),
    ]


def session_rows(r: dict[str, Any]) -> list[Row]:
    return [
        Row(
            "3 full session, time scale 0",
            f"median wall ms of {r['repeats']}",
            _num(r["wall_ms"]),
            "-",
            f"{r['ratio_to_target']:.2f} of goal",
            f"< {r['target_ms']:.0f} ms",
            _verdict(r["ok"]),
        )
    ]


def render_rows(r: dict[str, Any]) -> list[Row]:
    return [
        Row(
            "4 render 30 s 1080x1920",
            f"median CPU s of {r['repeats']}",
            _num(r["cpu_s"], 3),
            "-",
            f"{r['ratio_to_target']:.2f} of goal",
            f"< {r['target_cpu_s']:.0f} s CPU",
            _verdict(r["ok"]),
        )
    ]


def console_rows(r: dict[str, Any]) -> list[Row]:
    rps = r["rps"]
    return [
        Row(
            f"5 API with {r['consoles']} consoles open",
            f"req/s, {r['connections']} conn ({r['load']})",
            _num(rps["consoles_open"], 0),
            _num(rps["no_console"], 0) + " no console",
            f"{r['ratio_open']:.2f}x",
            f">= {r['target_ratio']:.2f}x",
            _verdict(r["ratio_open"] >= r["target_ratio"] and r["errors"] == 0),
        ),
        Row(
            "5 API after the consoles left",
            f"req/s (mock/bare with none: {r['mock_bare_ratio_no_console']}x)",
            _num(rps["after_they_left"], 0),
            _num(rps["no_console"], 0) + " no console",
            f"{r['ratio_after']:.2f}x",
            f">= {1 - r['after_tolerance']:.2f}x",
            _verdict(r["ratio_after"] >= 1 - r["after_tolerance"]),
        ),
    ]


ROWS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "http": http_rows,
    "streams": stream_rows,
    "session": session_rows,
    "render": render_rows,
    "console": console_rows,
}


def table(rows: Sequence[Row]) -> str:
    """The rows as an aligned Markdown table."""
    header = Row("target", "measure", "mock", "reference", "ratio", "goal", "result")
    cells = [list(asdict(row).values()) for row in (header, *rows)]
    widths = [max(len(line[n]) for line in cells) for n in range(len(cells[0]))]
    lines = ["| " + " | ".join(cell.ljust(widths[n]) for n, cell in enumerate(line)) + " |" for line in cells]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def plan(args: argparse.Namespace) -> dict[str, Callable[[], dict[str, Any]]]:
    """What each selected bench runs, at the sizes asked for."""
    quick = args.quick
    return {
        "http": lambda: bench_http.run(
            connections=args.connections,
            duration_s=1.0 if quick else args.http_duration,
            warmup_s=0.2 if quick else bench_http.WARMUP_S,
            rounds=1 if quick else args.http_rounds,
            load=args.load,
        ),
        "streams": lambda: bench_streams.run(
            streams=200 if quick else args.streams,
            warm=10 if quick else bench_streams.WARM,
            sessions=5 if quick else bench_streams.SESSIONS,
            window_s=2.0 if quick else args.stream_window,
            settle_s=0.5 if quick else bench_streams.SETTLE_S,
            time_scale=20.0 if quick else bench_streams.TIME_SCALE,
        ),
        "session": lambda: bench_session.run(repeats=2 if quick else args.session_repeats),
        "render": lambda: bench_render.run(repeats=1 if quick else args.render_repeats),
        "console": lambda: bench_console.run(
            consoles=bench_console.CONSOLES,
            connections=args.connections,
            duration_s=1.0 if quick else bench_console.DURATION_S,
            warmup_s=0.2 if quick else bench_console.WARMUP_S,
            rounds=1 if quick else bench_console.ROUNDS,
            load=args.load,
        ),
    }


def notes(results: dict[str, dict[str, Any]]) -> list[str]:
    """What a reader of the table should know about this run."""
    out = []
    streams = results.get("streams")
    if streams and "mock" in streams:
        mock = streams["mock"]
        age = mock["open_s"] + streams["settle_s"] + streams["window_s"]
        if streams["time_scale"] == 1.0 and age >= STREAM_LIFETIME_S:
            out.append(
                f"streams: the first streams were {age:.0f} s old at the window's end, generations last "
                f">= {STREAM_LIFETIME_S:.0f} s: {mock['ended_by_server']} streams ended before that end"
            )
        if streams["streams"] < bench_streams.TARGET_STREAMS:
            out.append(f"streams: {streams['streams']} streams held, fewer than the target's count")
        bare = streams["bare"]
        out.append(
            f"streams: opening took {mock['open_s']:.1f} s on the mock, {bare['open_s']:.1f} s on the bare "
            f"endpoint; server CPU while holding them {mock['server_cpu_pct']}% / {bare['server_cpu_pct']}%; "
            f"client loop lag p99 {mock['client_loop_lag_ms']['p99']} ms"
        )
    session = results.get("session")
    if session and "steps_ms" in session:
        steps = ", ".join(f"{name} {ms:.1f}" for name, ms in session["steps_ms"].items())
        out.append(f"session steps (median ms): {steps}")
    http = results.get("http")
    if http and "mock" in http:
        out.append(
            f"http: req/s per round mock {http['mock']['rps_rounds']}, bare {http['bare']['rps_rounds']}; "
            f"p99 latency mock {http['mock']['p99_ms']} ms, bare {http['bare']['p99_ms']} ms; "
            f"errors mock {http['mock']['errors']}, bare {http['bare']['errors']}"
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(BENCHES), help=f"comma-separated: {', '.join(BENCHES)}")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: checks the harness, not the targets"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when any target is missed")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument("--load", choices=bench_http.LOADS, default="auto", help="HTTP load generator")
    parser.add_argument("--connections", type=int, default=bench_http.CONNECTIONS)
    parser.add_argument("--http-duration", type=float, default=bench_http.DURATION_S, help="s per round")
    parser.add_argument("--http-rounds", type=int, default=bench_http.ROUNDS)
    parser.add_argument("--streams", type=int, default=bench_streams.STREAMS)
    parser.add_argument("--stream-window", type=float, default=bench_streams.WINDOW_S, help="s of heartbeats")
    parser.add_argument("--session-repeats", type=int, default=bench_session.REPEATS)
    parser.add_argument("--render-repeats", type=int, default=bench_render.REPEATS)
    args = parser.parse_args(argv)
    selected = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in selected if name not in BENCHES]
    if unknown:
        parser.error(f"unknown bench {', '.join(unknown)} (known: {', '.join(BENCHES)})")

    started = time.time()
    results: dict[str, dict[str, Any]] = {}
    rows: list[Row] = []
    runners = plan(args)
    for name in selected:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            results[name] = runners[name]()
            rows += ROWS[name](results[name])
        except Exception as exc:
            results[name] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
            rows.append(Row(name, "-", "-", "-", "-", "-", "ERROR"))
            print(traceback.format_exc(), file=sys.stderr)
    report = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "elapsed_s": round(time.time() - started, 1),
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.platform(),
        },
        "results": results,
        "table": [asdict(row) for row in rows],
        "notes": notes(results),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(table(rows))
    for note in report["notes"]:
        print(f"- {note}")
    print(f"(figures in {args.output}{'; --quick sizes, not a measurement' if args.quick else ''})")
    if any(row.verdict == "ERROR" for row in rows):
        return 1
    if args.strict and any(row.verdict == "MISS" for row in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
