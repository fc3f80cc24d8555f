"""`nemo-client`: the reference client on the command line, one request per run.

    nemo-client chat "make a 10 second video of a city at night"
    nemo-client chat "add a title 'Night Owls'"
    nemo-client export --out night.mp4

The current project (session, task, claim token, user id) lives in the config directory, so
`chat` and then `export` continue one project (B-SESS-04); the client id lives there too
(B-AUTH-12). Lines are printed as the workflow says them: progress on stdout, errors on stderr
as one line naming the remedy. Tokens and raw JSON are never printed (B-CLI-21).

Why the CLI keeps an anonymous token on disk: a skill runs in one agent session and keeps its
token in memory ("save token as NEMO_TOKEN"), but each `nemo-client` run is a new process, and a
second anonymous token for the same client id inside 7 days is refused with 429 (B-AUTH-08,
U-06). So an anonymous token the CLI obtained is kept in `<config dir>/anonymous_token` (mode
0600) and used by the next run until it expires; a NEMO_TOKEN the user set is never written.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from client._sync import Client
from client.config import ClientConfig, clear_project
from client.errors import ConfigError, mask_secrets
from client.flows import Message, MessageKind, Outcome, Skill
from client.remedies import Failure

#: Exit codes, as the --help epilog documents them. A failed request ends with its failure
#: category's code, which the remedy table decides (`client.remedies.EXIT_CODES`).
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_GENERIC = Failure.GENERIC.exit_code
EXIT_AUTH = Failure.AUTH.exit_code
EXIT_CREDITS = Failure.CREDITS.exit_code
EXIT_FILE = Failure.FILE.exit_code
EXIT_SERVER = Failure.SERVER.exit_code
EXIT_TIMEOUT = Failure.TIMEOUT.exit_code

#: The CLI's own cache of the anonymous token it obtained (see the module docstring).
TOKEN_FILE = "anonymous_token"

EPILOG = """\
environment (all optional):
  NEMO_API_URL      API base (default https://mega-api-prod.nemovideo.ai)
  NEMO_WEB_URL      web base for the project and registration links (default https://nemovideo.com;
                    with an API on this machine's loopback, the API URL's own origin: a local mock)
  NEMO_TOKEN        a user token; without it an anonymous token is requested
  NEMO_CLIENT_ID    the X-Client-Id (default: read from or written to the config directory)
  SKILL_SOURCE      the X-Skill-Platform value (default: detected from the skill file's path)
  NEMO_CONFIG_DIR   where the client id, the current project and an anonymous token obtained
                    by the CLI are kept (default ~/.config/nemovideo); NEMO_TOKEN is never stored
  NEMO_TIME_SCALE   how much faster documented waits run; 0 = do not wait (default: the time
                    scale the server states in GET /_mock/health, else 1)

exit codes:
  0  success
  1  generic failure (e.g. nothing to export yet)
  2  usage or configuration error
  3  authentication failed (token refused after a re-auth, client id refused)
  4  out of credits (2001) or export not in the plan (402)
  5  file refused (unsupported type 4001, too large 4002, unreadable)
  6  server or transport failure (5xx, connection, rate limit after the retry, render failed twice)
  7  timeout (no change after disconnect recovery, render never finished)
"""

#: Lines that only report progress; --quiet leaves them out.
_CHATTY = frozenset({MessageKind.STATUS, MessageKind.PROGRESS})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nemo-client",
        description="Create and edit videos with NemoVideo by chatting, from the command line.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--profile",
        metavar="NAME_OR_SKILL_FILE",
        help="a shipped skill profile (e.g. nemo-video) or the path of a SKILL.md (default nemo-video)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print results only, no progress lines")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chat = commands.add_parser("chat", help="send a message (routed like the skill: export, credits, ...)")
    chat.add_argument("text", nargs="+", help="the message")
    chat.add_argument(
        "-f", "--file", dest="files", action="append", default=[], metavar="FILE_OR_URL",
        help="send a file or URL with the message (repeatable)",
    )  # fmt: skip
    chat.add_argument("--new", action="store_true", help="start a new project instead of continuing")

    commands.add_parser("credits", help="show the credit balance")
    commands.add_parser("status", help="show the current project's tracks")

    upload = commands.add_parser("upload", help="upload files or URLs to the current project")
    upload.add_argument("items", nargs="+", metavar="FILE_OR_URL")

    export = commands.add_parser("export", help="render the current project and download the MP4")
    export.add_argument(
        "--out", type=Path, metavar="FILE", help="where to save the MP4 (default ./<render id>.mp4)"
    )
    return parser


def _skill_source(value: str | None) -> dict[str, str]:
    """`--profile` as from_env's keyword: a path when it looks like one, else a profile name."""
    if value is None:
        return {}
    if os.sep in value or "/" in value or value.lower().endswith(".md") or Path(value).exists():
        return {"skill_file": value}
    return {"profile": value}


class Printer:
    """Prints each message as it comes: errors on stderr, the rest on stdout."""

    def __init__(self, out: TextIO, err: TextIO, *, quiet: bool) -> None:
        self.out = out
        self.err = err
        self.quiet = quiet

    def __call__(self, message: Message) -> None:
        if self.quiet and message.kind in _CHATTY:
            return
        stream = self.err if message.kind is MessageKind.ERROR else self.out
        prefix = "error: " if message.kind is MessageKind.ERROR else ""
        print(prefix + message.text, file=stream, flush=True)


def exit_code(outcome: Outcome) -> int:
    """The documented exit code of a request's outcome."""
    return EXIT_OK if outcome.failure is None else outcome.failure.exit_code


def run(args: argparse.Namespace, env: dict[str, str] | None = None) -> int:
    """Run one parsed command; returns the exit code."""
    printer = Printer(sys.stdout, sys.stderr, quiet=args.quiet)
    try:
        config = ClientConfig.from_env(env, **_skill_source(args.profile))
    except ConfigError as exc:
        print(f"error: {mask_secrets(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    config_dir = config.config_dir
    if args.command == "chat" and args.new and config_dir is not None:
        clear_project(config_dir)
    cached = load_cached_token(config_dir) if config.token is None and config_dir is not None else None
    with Client(config) as client:
        if cached is not None:
            client.set_token(cached, "anonymous")
        skill = Skill(client, on_message=printer)
        if args.command == "chat":
            outcome = skill.handle(" ".join(args.text), args.files)
        elif args.command == "credits":
            outcome = skill.credits()
        elif args.command == "status":
            outcome = skill.status()
        elif args.command == "upload":
            outcome = skill.upload(*args.items)
        else:
            outcome = skill.export(args.out)
        if client.token_origin == "anonymous" and client.token != cached and config_dir is not None:
            save_cached_token(config_dir, client.token)
    return exit_code(outcome)


def load_cached_token(config_dir: Path) -> str | None:
    """The anonymous token a previous run obtained, or None."""
    try:
        token = (config_dir / TOKEN_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return token or None


def save_cached_token(config_dir: Path, token: str | None) -> None:
    """Keep the anonymous token for the next run (mode 0600), or forget it."""
    target = config_dir / TOKEN_FILE
    if not token:
        target.unlink(missing_ok=True)
        return
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = config_dir / f".{TOKEN_FILE}.{os.getpid()}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.replace(temp, target)


def main(argv: Sequence[str] | None = None) -> int:
    """The console script `nemo-client`."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")  # emoji status lines on a terminal that cannot show them
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except ConfigError as exc:
        print(f"error: {mask_secrets(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        print(f"error: {mask_secrets(str(exc))}", file=sys.stderr)
        return EXIT_GENERIC
