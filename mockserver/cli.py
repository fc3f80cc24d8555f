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
import ipaddress
import json
import logging
import math
import os
import re
import signal
import socket
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from contracts.profiles import ProfileError, load_profile
from mockserver.app import create_app
from mockserver.backend import Backend
from mockserver.config import CONFIG_ENV, ENV_PREFIX, ConfigError, resolve, write_port_file
from mockserver.logformat import LOG_FORMATS, formatter
from mockserver.recording.har import to_har
from mockserver.recording.model import DEFAULT_BODY_LIMIT, RecordingError, load_recording
from mockserver.recording.proxy import recording_proxy
from mockserver.recording.recorder import Recorder, attach
from mockserver.recording.replay import ReplayApp
from mockserver.recording.repro import generate_pytest
from mockserver.scenarios import Scenario, ScenarioError, all_scenarios, install, load_scenario
from mockserver.server import ConnectionLimits, make_server
from mockserver.settings import (
    CONTROL_TOKEN_RULE,
    DIALECTS,
    ERROR_STATUS_MODES,
    RATE_LIMIT_PROFILES,
    RENDER_SHAPES,
    Settings,
    valid_control_token,
)

#: Where `--control-token` may come from instead of the command line (kept out of `ps`).
CONTROL_TOKEN_ENV = "NEMO_MOCK_CONTROL_TOKEN"

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


class Parser(argparse.ArgumentParser):
    """argparse with errors on one line: `nemo-mock: argument --port: ...` and exit status 2."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.partition(" ")[2]
        self.exit(2, f"nemo-mock: {message} (see nemo-mock {command + ' ' if command else ''}--help)\n")


def _number(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"not a finite number: {value!r}")
    return number


def _scale(value: str) -> float:
    scale = _number(value)
    if scale < 0:
        raise argparse.ArgumentTypeError("the time scale is >= 0")
    return scale


def _seconds(value: str) -> float:
    """A duration in seconds, >= 0."""
    seconds = _number(value)
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"a duration in seconds is >= 0, got {value}")
    return seconds


def _timeout(value: str) -> float:
    """A timeout in real seconds, > 0."""
    seconds = _number(value)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"a timeout is a number of seconds > 0, got {value}")
    return seconds


def _integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None


def _count(minimum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        number = _integer(value)
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {number}")
        return number

    return parse


_SIZE = re.compile(r"(\d+)\s*([kmg]?)i?b?", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def _size(value: str) -> int:
    """A number of bytes, e.g. 65536, 64k, 8M, 1GiB."""
    match = _SIZE.fullmatch(value.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a number of bytes: {value!r} (e.g. 65536, 64k, 8M)")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def _port(value: str) -> int:
    port = _integer(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535 (0 picks a free one), got {port}")
    return port


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")


def _host(value: str) -> str:
    host = value.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not _HOSTNAME.fullmatch(host):
        raise argparse.ArgumentTypeError(f"not an IP address or host name: {value!r}")
    return host


def _directory(value: str) -> Path:
    """A directory that exists or can be made, and that the mock may write to."""
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"not a directory: {value}")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write in {existing}")
    return path


def _output_file(value: str) -> Path:
    """A file to write: its directory exists, and it is not a directory itself."""
    path = Path(value).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"is a directory: {value}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"no such directory: {parent}")
    return path


def _control_token(value: str) -> str:
    if not valid_control_token(value):
        raise argparse.ArgumentTypeError(CONTROL_TOKEN_RULE)
    return value


def _listen_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", type=_host, default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8080, help="port (default 8080; 0 picks a free one)")


def _connection_options(parser: argparse.ArgumentParser) -> None:
    defaults = ConnectionLimits()
    parser.add_argument(
        "--header-timeout",
        type=_timeout,
        default=defaults.header_timeout_s,
        metavar="S",
        help="real seconds a client has to send its request line and headers "
        f"(default {defaults.header_timeout_s:g})",
    )
    parser.add_argument(
        "--keep-alive-timeout",
        type=_timeout,
        default=defaults.keep_alive_s,
        metavar="S",
        help=f"real seconds an idle kept-alive connection stays open (default {defaults.keep_alive_s:g})",
    )
    parser.add_argument(
        "--max-header-bytes",
        type=_size,
        default=defaults.max_header_bytes,
        metavar="BYTES",
        help=f"larger request heads are HTTP 431 (default {defaults.max_header_bytes // 1024}k)",
    )
    parser.add_argument(
        "--max-connections",
        type=_count(1),
        default=None,
        metavar="N",
        help="open connections at most, more are HTTP 503 (default: the open-files limit less 256)",
    )


def connection_limits(args: argparse.Namespace) -> ConnectionLimits:
    return ConnectionLimits(
        header_timeout_s=args.header_timeout,
        keep_alive_s=args.keep_alive_timeout,
        max_header_bytes=args.max_header_bytes,
        max_connections=args.max_connections,
    )


def _body_limit(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--record-body-limit",
        type=_size,
        default=DEFAULT_BODY_LIMIT,
        metavar="BYTES",
        help=f"bodies up to this size are recorded whole, larger ones by their edges and digest "
        f"(default {DEFAULT_BODY_LIMIT})",
    )


def _serve_parser(commands: Any) -> argparse.ArgumentParser:
    serve: argparse.ArgumentParser = commands.add_parser("serve", help="serve the mock until stopped")
    _listen_options(serve)
    serve.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"a TOML file of serve settings (keys: the flags without --; also ${CONFIG_ENV}); "
        f"a flag wins over ${ENV_PREFIX}* variables, which win over the file",
    )
    serve.add_argument(
        "--print-config",
        action="store_true",
        help="print every setting with where it came from (flag, env, file, default) and exit",
    )
    serve.add_argument(
        "--port-file",
        type=_output_file,
        default=None,
        metavar="PATH",
        help="once listening, write the URL (http://HOST:PORT) to PATH, atomically",
    )
    serve.add_argument(
        "--time-scale",
        type=_scale,
        default=None,
        help="virtual seconds per real second; 0 = no waiting at all (default 1)",
    )
    serve.add_argument("--seed", type=_integer, default=None, help="seed of every random choice (default 0)")
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
        help="anonymous-token limits: v19 (1/client + 10/IP per 7 days, default) "
        "or v44 (5/IP/hour, X-Client-Id optional)",
    )
    serve.add_argument(
        "--ip-cap", type=_count(0), default=None, help="anonymous tokens per IP per window (0 = no cap)"
    )
    serve.add_argument(
        "--token-ttl",
        type=_seconds,
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
        type=_directory,
        default=None,
        help="keep uploads and renders in a directory of this run (nemo-mock-run-*) inside DIR, "
        "and leave them there (default: a temporary directory, removed at exit)",
    )
    serve.add_argument(
        "--control-token",
        type=_control_token,
        default=None,
        metavar="TOKEN",
        help=f"every /_mock call needs Authorization: Bearer TOKEN; required with a non-loopback "
        f"--host (also ${CONTROL_TOKEN_ENV})",
    )
    serve.add_argument(
        "--max-json-body",
        type=_size,
        default=None,
        metavar="BYTES",
        help="larger JSON bodies are HTTP 413, refused while they arrive (default 8M)",
    )
    serve.add_argument(
        "--body-timeout",
        type=_timeout,
        default=None,
        metavar="S",
        help="real seconds a request body may pause before HTTP 408 (default 30)",
    )
    _connection_options(serve)
    serve.add_argument("--quiet", action="store_true", help="no per-request log lines")
    serve.add_argument(
        "--journal",
        choices=("on", "off"),
        default="on",
        help="keep the request journal (GET /_mock/journal, the console); `off` is a load mode: "
        "requests run at the bare floor but nothing can be read back (default on)",
    )
    serve.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text",
        help="request log lines as text (default) or one JSON object each (wall and virtual time, latency)",
    )
    serve.add_argument(
        "--scenario",
        default=None,
        metavar="NAME_OR_FILE",
        help="arm a failure scenario (`nemo-mock scenarios` lists them); its settings apply "
        "unless a flag says otherwise",
    )
    serve.add_argument(
        "--record",
        type=_output_file,
        default=None,
        metavar="FILE",
        help="write every exchange (requests, answers, SSE events with virtual times) to FILE as JSON Lines",
    )
    _body_limit(serve)
    return serve


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="nemo-mock", description="Offline twin of the NemoVideo backend.")
    commands = parser.add_subparsers(dest="command", required=True)
    parser.set_defaults(serve_parser=_serve_parser(commands))

    commands.add_parser("scenarios", help="list the shipped failure scenarios")

    record = commands.add_parser("record", help="a recording proxy in front of a real backend (or the mock)")
    record.add_argument("--upstream", required=True, help="the backend's base URL, e.g. https://...")
    _listen_options(record)
    _connection_options(record)
    record.add_argument(
        "--out",
        type=_output_file,
        default=Path("nemo-recording.jsonl"),
        metavar="FILE",
        help="the recording to write (default nemo-recording.jsonl)",
    )
    _body_limit(record)
    record.add_argument("--quiet", action="store_true", help="no per-request log lines")

    replay = commands.add_parser("replay", help="serve a recording back")
    replay.add_argument("recording", type=Path, metavar="FILE")
    _listen_options(replay)
    _connection_options(replay)
    replay.add_argument(
        "--time-scale",
        type=_scale,
        default=1.0,
        help="virtual seconds per real second for the recorded timing; 0 = no waiting (default 1)",
    )

    export = commands.add_parser("export", help="convert a recording")
    export.add_argument("recording", type=Path, metavar="FILE")
    export.add_argument("--har", type=_output_file, required=True, metavar="OUT", help="write HAR 1.2 to OUT")

    repro = commands.add_parser("repro", help="turn a recording into a self-contained pytest test")
    repro.add_argument("recording", type=Path, metavar="FILE")
    repro.add_argument(
        "--pytest", type=_output_file, required=True, metavar="OUT", help="the test file to write"
    )
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
    values["journal"] = getattr(args, "journal", "on") == "on"
    values["data_dir"] = args.data_dir
    values["control_token"] = args.control_token
    if args.max_json_body is not None:
        values["max_json_body"] = args.max_json_body
    if args.body_timeout is not None:
        values["body_timeout_s"] = args.body_timeout
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


class Stopped(Exception):
    """SIGTERM: stop like Ctrl-C does, through the same graceful shutdown, and exit 0."""


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Stopped


async def serve_app(
    app: Any,
    host: str,
    port: int,
    limits: ConnectionLimits | None = None,
    on_shutdown: Callable[[], None] | None = None,
    port_file: Path | None = None,
) -> None:
    """Serve `app` until stopped, after printing the ready line."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    bound_port = sock.getsockname()[1]
    server = make_server(app, limits, on_shutdown=on_shutdown)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started:
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{bound_port}"
        if port_file is not None:
            write_port_file(port_file, url)
        print(f"nemo-mock listening on {url}", flush=True)
        # Start-up objects never die: keep them out of the collector's way (long GC pauses stall streams).
        gc.freeze()
    await task


async def serve(settings: Settings, host: str, port: int) -> None:
    """`nemo-mock serve` without a scenario or a recording."""
    await serve_app(create_app(settings), host, port)


def run_server(start: Callable[[], Coroutine[Any, Any, None]], host: str, port: int) -> int:
    gc.set_threshold(50_000, 50, 100)
    # uvicorn turns SIGTERM into a graceful shutdown, then raises it again once done: this
    # handler makes that last step a clean exit instead of the default kill, so what follows
    # (the recording's end record) still runs.
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
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
    except (KeyboardInterrupt, Stopped):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _logging(access_log: bool, log_format: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    logging.basicConfig(level=logging.INFO if access_log else logging.WARNING, handlers=[handler])


def cmd_serve(args: argparse.Namespace) -> int:
    if not args.no_control and args.control_token is None and not is_loopback(args.host):
        print(
            f"nemo-mock: refusing to serve the /_mock control API on {args.host} without a token: "
            f"give --control-token (or ${CONTROL_TOKEN_ENV}), or --no-control, or bind 127.0.0.1",
            file=sys.stderr,
        )
        return 2
    try:
        scenario = load_scenario(args.scenario) if args.scenario else None
        settings = settings_from(args, scenario)
        backend = Backend(settings)
    except (ProfileError, ScenarioError, ValueError) as exc:
        print(f"nemo-mock: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"nemo-mock: cannot use --data-dir {args.data_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    _logging(settings.access_log, args.log_format)
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
    limits = connection_limits(args)
    try:
        return run_server(
            lambda: serve_app(app, args.host, args.port, limits, backend.end_streams, args.port_file),
            args.host,
            args.port,
        )
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
    limits = connection_limits(args)
    try:
        return run_server(lambda: serve_app(app, args.host, args.port, limits), args.host, args.port)
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
    limits = connection_limits(args)
    return run_server(lambda: serve_app(app, args.host, args.port, limits), args.host, args.port)


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


def configure_serve(args: argparse.Namespace, argv: Sequence[str]) -> int | None:
    """Fill `args` from flags, `NEMO_MOCK_*` and the config file; an exit status when that ends the run."""
    serve_argv = list(argv)[list(argv).index("serve") + 1 :]
    try:
        resolved = resolve(args.serve_parser, serve_argv, args, os.environ)
    except ConfigError as exc:
        print(f"nemo-mock: {exc}", file=sys.stderr)
        return 2
    resolved.apply(args)
    if args.print_config:
        print("\n".join(resolved.lines()))
        return 0
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        stop = configure_serve(args, argv)
        if stop is not None:
            return stop
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
