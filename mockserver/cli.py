"""`nemo-mock serve`: the mock on 127.0.0.1:8080 until stopped (INTERFACE.md)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import logging
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from contracts.profiles import ProfileError, load_profile
from mockserver.app import create_app
from mockserver.settings import DIALECTS, ERROR_STATUS_MODES, RATE_LIMIT_PROFILES, RENDER_SHAPES, Settings


def _scale(value: str) -> float:
    try:
        scale = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if scale < 0:
        raise argparse.ArgumentTypeError("the time scale is >= 0")
    return scale


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nemo-mock", description="Offline twin of the NemoVideo backend.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the mock until stopped")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    serve.add_argument(
        "--time-scale",
        type=_scale,
        default=1.0,
        help="virtual seconds per real second; 0 = no waiting at all (default 1)",
    )
    serve.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    serve.add_argument(
        "--profile",
        default="nemo-video",
        help="a shipped skill profile or a path to a SKILL.md (default nemo-video)",
    )
    serve.add_argument(
        "--dialect",
        choices=DIALECTS,
        default="documented",
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
        default="body",
        help="business codes with HTTP 200 (body, default) or mapped statuses (mapped)",
    )
    serve.add_argument(
        "--rate-limits",
        choices=RATE_LIMIT_PROFILES,
        default="v19",
        help="anonymous-token limits: v19 (1/client + 10/IP per 7 days) or v44 (5/IP/hour)",
    )
    serve.add_argument(
        "--ip-cap", type=int, default=None, help="anonymous tokens per IP per window (0 = no cap)"
    )
    serve.add_argument(
        "--token-ttl",
        type=float,
        default=7 * 86400.0,
        help="anonymous token lifetime in virtual seconds (0 = never expires)",
    )
    serve.add_argument(
        "--free-tier-export-blocked",
        action="store_true",
        help="free accounts get HTTP 402 on render even with attribution headers",
    )
    serve.add_argument(
        "--strict-attribution", action="store_true", help="calls without X-Skill-* headers answer 1001"
    )
    serve.add_argument(
        "--omit-session-user-id",
        action="store_true",
        help="create-session answers without user_id (the v1.9 example)",
    )
    serve.add_argument(
        "--legacy-render-paths",
        action="store_true",
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
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings(
        profile=load_profile(args.profile),
        dialect=args.dialect,
        seed=args.seed,
        time_scale=args.time_scale,
        control=not args.no_control,
        error_status=args.error_status,
        render_shape=args.render_shape,
        token_ttl_s=args.token_ttl,
        rate_limits=args.rate_limits,
        ip_cap=args.ip_cap,
        free_tier_export_blocked=args.free_tier_export_blocked,
        strict_attribution=args.strict_attribution,
        session_user_id=not args.omit_session_user_id,
        legacy_render_paths=args.legacy_render_paths,
        sse_line_ending="\r\n" if args.crlf else "\n",
        access_log=not args.quiet,
        data_dir=args.data_dir,
    )


async def serve(settings: Settings, host: str, port: int) -> None:
    app = create_app(settings)
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from(args)
    except (ProfileError, ValueError) as exc:
        print(f"nemo-mock: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO if settings.access_log else logging.WARNING,
        format="%(message)s",
        stream=sys.stderr,
    )
    gc.set_threshold(50_000, 50, 100)
    try:
        # uvicorn[standard]: uvloop + httptools give about three times the throughput of asyncio + h11.
        if importlib.util.find_spec("uvloop") is not None:
            import uvloop

            uvloop.run(serve(settings, args.host, args.port))
        else:
            asyncio.run(serve(settings, args.host, args.port))
    except OSError as exc:
        print(f"nemo-mock: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
