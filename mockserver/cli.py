"""`nemo-mock`: serve the mock (INTERFACE.md), and record, replay and reproduce runs.

    nemo-mock serve [--scenario NAME] [--record FILE] ...   the mock on 127.0.0.1:8080 until stopped
    nemo-mock scenarios                                    the shipped failure scenarios
    nemo-mock record --upstream URL --port N --out FILE    a recording proxy in front of a backend
    nemo-mock replay FILE [--time-scale X]                 a recording served back
    nemo-mock export FILE --har OUT                        a recording as HAR 1.2
    nemo-mock repro FILE --pytest OUT.py                   a recording as a self-contained pytest test

Every server prints one ready line `nemo-mock listening on http://HOST:PORT`, flushed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import json
import logging
import socket
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import uvicorn

from contracts.profiles import ProfileError, load_profile
from mockserver.app import create_app
from mockserver.backend import Backend
from mockserver.recording.har import to_har
from mockserver.recording.model import DEFAULT_BODY_LIMIT, RecordingError, load_recording
from mockserver.recording.proxy import recording_proxy
from mockserver.recording.recorder import Recorder, attach
from mockserver.recording.replay import ReplayApp
from mockserver.recording.repro import generate_pytest
from mockserver.scenarios import Scenario, ScenarioError, all_scenarios, install, load_scenario
from mockserver.settings import DIALECTS, ERROR_STATUS_MODES, RATE_LIMIT_PROFILES, RENDER_SHAPES, Settings

#: `serve` flags a scenario may set too: a flag given on the command line wins (flag -> Settings field).
SCENARIO_SETTABLE = {
    "seed": "seed",
    "time_scale": "time_scale",
    "dialect": "dialect",
    "render_shape": "render_shape",
    "error_status": "error_status",
    "rate_limits": "rate_limits",
    "ip_cap": "ip_cap",
    "token_ttl": "token_ttl_s",
    "free_tier_export_blocked": "free_tier_export_blocked",
    "strict_attribution": "strict_attribution",
    "legacy_render_paths": "legacy_render_paths",
}


def _scale(value: str) -> float:
    try:
        scale = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if scale < 0:
        raise argparse.ArgumentTypeError("the time scale is >= 0")
    return scale


def _size(value: str) -> int:
    try:
        size = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of bytes: {value!r}") from None
    if size < 0:
        raise argparse.ArgumentTypeError("the body limit is >= 0")
    return size


def _listen_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")


def _body_limit(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--record-body-limit",
        type=_size,
        default=DEFAULT_BODY_LIMIT,
        metavar="BYTES",
        help=f"bodies up to this size are recorded whole, larger ones by their edges and digest "
        f"(default {DEFAULT_BODY_LIMIT})",
    )


def _serve_parser(commands: Any) -> None:
    serve = commands.add_parser("serve", help="serve the mock until stopped")
    _listen_options(serve)
    serve.add_argument(
        "--time-scale",
        type=_scale,
        default=None,
        help="virtual seconds per real second; 0 = no waiting at all (default 1)",
    )
    serve.add_argument("--seed", type=int, default=None, help="seed of every random choice (default 0)")
    serve.add_argument(
        "--profile",
        default=None,
        help="a shipped skill profile or a path to a SKILL.md (default nemo-video)",
    )
    serve.add_argument(
        "--dialect",
        choices=DIALECTS,
        default=None,
        help="SSE events as documented (default) or as ADK Event objects",
    )
    serve.add_argument("--no-control", action="store_true", help="do not serve the /_mock control API")
    serve.add_argument(
        "--render-shape",
        choices=RENDER_SHAPES,
        default=None,
        help="render answers: A (v1.9, default) or B (api-ref v4.4)",
    )
    serve.add_argument(
        "--error-status",
        choices=ERROR_STATUS_MODES,
        default=None,
        help="business codes with HTTP 200 (body, default) or mapped statuses (mapped)",
    )
    serve.add_argument(
        "--rate-limits",
        choices=RATE_LIMIT_PROFILES,
        default=None,
        help="anonymous-token limits: v19 (1/client + 10/IP per 7 days, default) or v44 (5/IP/hour)",
    )
    serve.add_argument(
        "--ip-cap", type=int, default=None, help="anonymous tokens per IP per window (0 = no cap)"
    )
    serve.add_argument(
        "--token-ttl",
        type=float,
        default=None,
        help="anonymous token lifetime in virtual seconds (default 7 days; 0 = never expires)",
    )
    serve.add_argument(
        "--free-tier-export-blocked",
        action="store_true",
        default=None,
        help="free accounts get HTTP 402 on render even with attribution headers",
    )
    serve.add_argument(
        "--strict-attribution",
        action="store_true",
        default=None,
        help="calls without X-Skill-* headers answer 1001",
    )
    serve.add_argument(
        "--omit-session-user-id",
        action="store_true",
        help="create-session answers without user_id (the v1.9 example)",
    )
    serve.add_argument(
        "--legacy-render-paths",
        action="store_true",
        default=None,
        help="also serve /api/render/proxy/draft and GET /api/render/proxy/<id>",
    )
    serve.add_argument("--crlf", action="store_true", help="end SSE lines with CRLF instead of LF")
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where uploads and renders are kept (default: a temporary directory)",
    )
    serve.add_argument("--quiet", action="store_true", help="no per-request log lines")
    serve.add_argument(
        "--scenario",
        default=None,
        metavar="NAME_OR_FILE",
        help="arm a failure scenario (`nemo-mock scenarios` lists them); its settings apply "
        "unless a flag says otherwise",
    )
    serve.add_argument(
        "--record",
        type=Path,
        default=None,
        metavar="FILE",
        help="write every exchange (requests, answers, SSE events with virtual times) to FILE as JSON Lines",
    )
    _body_limit(serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nemo-mock", description="Offline twin of the NemoVideo backend.")
    commands = parser.add_subparsers(dest="command", required=True)
    _serve_parser(commands)

    commands.add_parser("scenarios", help="list the shipped failure scenarios")

    record = commands.add_parser("record", help="a recording proxy in front of a real backend (or the mock)")
    record.add_argument("--upstream", required=True, help="the backend's base URL, e.g. https://...")
    _listen_options(record)
    record.add_argument(
        "--out",
        type=Path,
        default=Path("nemo-recording.jsonl"),
        metavar="FILE",
        help="the recording to write (default nemo-recording.jsonl)",
    )
    _body_limit(record)
    record.add_argument("--quiet", action="store_true", help="no per-request log lines")

    replay = commands.add_parser("replay", help="serve a recording back")
    replay.add_argument("recording", type=Path, metavar="FILE")
    _listen_options(replay)
    replay.add_argument(
        "--time-scale",
        type=_scale,
        default=1.0,
        help="virtual seconds per real second for the recorded timing; 0 = no waiting (default 1)",
    )

    export = commands.add_parser("export", help="convert a recording")
    export.add_argument("recording", type=Path, metavar="FILE")
    export.add_argument("--har", type=Path, required=True, metavar="OUT", help="write HAR 1.2 to OUT")

    repro = commands.add_parser("repro", help="turn a recording into a self-contained pytest test")
    repro.add_argument("recording", type=Path, metavar="FILE")
    repro.add_argument("--pytest", type=Path, required=True, metavar="OUT", help="the test file to write")
    repro.add_argument(
        "--time-scale",
        type=_scale,
        default=None,
        help="the time scale of the re-run (default: the recording's)",
    )
    return parser


# ---------------------------------------------------------------------------- settings


def explicit_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The `Settings` fields the command line sets, leaving the rest to a scenario or the defaults."""
    values: dict[str, Any] = {
        field: getattr(args, flag)
        for flag, field in SCENARIO_SETTABLE.items()
        if getattr(args, flag) is not None
    }
    values["control"] = not args.no_control
    values["access_log"] = not args.quiet
    values["data_dir"] = args.data_dir
    if args.omit_session_user_id:
        values["session_user_id"] = False
    if args.crlf:
        values["sse_line_ending"] = "\r\n"
    return values


def settings_from(args: argparse.Namespace, scenario: Scenario | None = None) -> Settings:
    values = explicit_settings(args)
    if scenario is not None:
        return scenario.mock_settings(profile=args.profile, **values)
    return Settings(profile=load_profile(args.profile), **values)


# ---------------------------------------------------------------------------- serving


async def serve_app(app: Any, host: str, port: int) -> None:
    """Serve `app` until stopped, after printing the ready line."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started:
        shown = f"[{host}]" if ":" in host else host
        print(f"nemo-mock listening on http://{shown}:{bound_port}", flush=True)
        # Start-up objects never die: keep them out of the collector's way (long GC pauses stall streams).
        gc.freeze()
    await task


async def serve(settings: Settings, host: str, port: int) -> None:
    """`nemo-mock serve` without a scenario or a recording."""
    await serve_app(create_app(settings), host, port)


def run_server(start: Callable[[], Coroutine[Any, Any, None]], host: str, port: int) -> int:
    gc.set_threshold(50_000, 50, 100)
    try:
        # uvicorn[standard]: uvloop + httptools give about three times the throughput of asyncio + h11.
        if importlib.util.find_spec("uvloop") is not None:
            import uvloop

            uvloop.run(start())
        else:
            asyncio.run(start())
    except OSError as exc:
        print(f"nemo-mock: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def _logging(access_log: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if access_log else logging.WARNING, format="%(message)s", stream=sys.stderr
    )


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        scenario = load_scenario(args.scenario) if args.scenario else None
        settings = settings_from(args, scenario)
    except (ProfileError, ScenarioError, ValueError) as exc:
        print(f"nemo-mock: {exc}", file=sys.stderr)
        return 2
    _logging(settings.access_log)
    backend = Backend(settings)
    app = create_app(backend=backend)
    recorder = None
    if args.record is not None:
        try:
            recorder = Recorder.for_mock(args.record, backend, scenario, body_limit=args.record_body_limit)
        except OSError as exc:
            print(f"nemo-mock: cannot write {args.record}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        attach(app, backend, recorder)
    if scenario is not None:
        install(app, backend, scenario)
    try:
        return run_server(lambda: serve_app(app, args.host, args.port), args.host, args.port)
    finally:
        if recorder is not None:
            recorder.close()


def cmd_scenarios(args: argparse.Namespace) -> int:
    try:
        scenarios = all_scenarios()
    except ScenarioError as exc:
        print(f"nemo-mock: {exc}", file=sys.stderr)
        return 2
    width = max((len(s.name) for s in scenarios), default=0)
    for scenario in scenarios:
        print(f"{scenario.name:<{width}}  {scenario.summary}")
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    _logging(not args.quiet)
    try:
        app, recorder = recording_proxy(args.upstream, args.out, body_limit=args.record_body_limit)
    except ValueError as exc:
        print(f"nemo-mock: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"nemo-mock: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        return run_server(lambda: serve_app(app, args.host, args.port), args.host, args.port)
    finally:
        recorder.close()


def cmd_replay(args: argparse.Namespace) -> int:
    try:
        recording = load_recording(args.recording)
    except RecordingError as exc:
        print(f"nemo-mock: {exc}", file=sys.stderr)
        return 2
    _logging(False)
    app = ReplayApp(recording, time_scale=args.time_scale)
    return run_server(lambda: serve_app(app, args.host, args.port), args.host, args.port)


def cmd_export(args: argparse.Namespace) -> int:
    try:
        recording = load_recording(args.recording)
        args.har.write_text(
            json.dumps(to_har(recording), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    except RecordingError as exc:
        print(f"nemo-mock: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"nemo-mock: cannot write {args.har}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"{args.har}: {len(recording.exchanges)} entries (HAR 1.2)")
    return 0


def cmd_repro(args: argparse.Namespace) -> int:
    try:
        recording = load_recording(args.recording)
        args.pytest.write_text(generate_pytest(recording, time_scale=args.time_scale), encoding="utf-8")
    except RecordingError as exc:
        print(f"nemo-mock: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"nemo-mock: cannot write {args.pytest}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    scale = recording.time_scale if args.time_scale is None else args.time_scale
    print(f"{args.pytest}: {len(recording.exchanges)} exchanges; run it with python -m pytest {args.pytest}")
    if scale > 0:
        print(
            f"nemo-mock: the test runs at time scale {scale:g} and waits as long as the recorded run did; "
            "--time-scale 0 runs it without waiting",
            file=sys.stderr,
        )
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": cmd_serve,
    "scenarios": cmd_scenarios,
    "record": cmd_record,
    "replay": cmd_replay,
    "export": cmd_export,
    "repro": cmd_repro,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
