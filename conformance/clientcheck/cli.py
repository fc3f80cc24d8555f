"""`client-check`: the client-side contract suite against any client, from the command line.

    python -m conformance.clientcheck --command 'nemo-client chat {message}'
    python -m conformance.clientcheck --callable mypkg.skill:answer --max-examples 200
    python -m conformance.clientcheck --reference --focus drops

Each generated world is served on a loopback port; the client is run once per world (twice when
the world has a setup turn) and its requests and output are judged by the same properties the
reference client passes. One line per broken property (its rule ids, the problem, the minimal
world that shows it), then the figures. Exit code 0 when every property holds, 1 when one breaks,
2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, TextIO, cast

from .properties import PROPERTIES, Property, property_named
from .runners import (
    DEFAULT_TIMEOUT_S,
    CallableClient,
    ClientError,
    CommandClient,
    ServedClient,
    load_callable,
    run_reference,
)
from .search import check_client
from .strategies import ALL_KINDS, FOCI, SERVED_KINDS, Focus, worlds
from .world import RequestKind

EXIT_OK = 0
EXIT_BROKEN = 1
EXIT_USAGE = 2

EPILOG = """\
a command template is split like a shell line; {message} (required), {base_url} and {config_dir}
are filled in per run. The client also gets NEMO_API_URL, NEMO_CONFIG_DIR, NEMO_WEB_URL,
NEMO_TIME_SCALE=0 and, for a registered user, NEMO_TOKEN. Output is stdout and stderr; exit code 0
means success.

a callable is called as fn(base_url, message, env) and returns the text it showed the user, or
(text, exit_code).

time is virtual: the worlds send a heartbeat every 5 virtual seconds (U-04) and no real time
passes, so a client at NEMO_TIME_SCALE=0 counts heartbeats to say "Still working" every 2 minutes
(B-CLI-06) and to give up on a stream after 10 (B-CLI-07).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `client-check`, for a parser of its own or a subcommand's."""
    target = parser.add_mutually_exclusive_group()
    # dest differs from "command", which a parent parser's subcommands may use.
    target.add_argument(
        "--command",
        dest="command_template",
        metavar="TEMPLATE",
        help="run the client as this command per message",
    )
    target.add_argument("--callable", metavar="MODULE:FUNCTION", help="call fn(base_url, message, env)")
    target.add_argument(
        "--reference",
        action="store_true",
        help="the reference client in-process on a fake clock (also checks the documented waits)",
    )
    parser.add_argument("--max-examples", type=int, default=100, metavar="N", help="worlds to generate (100)")
    parser.add_argument("--seed", type=int, default=0, help="the generation seed (0)")
    parser.add_argument("--focus", choices=FOCI, default="all", help="lean the worlds toward one behaviour")
    parser.add_argument(
        "--kinds",
        default=",".join(SERVED_KINDS),
        metavar="K1,K2",
        help=f"requests to make, of {', '.join(ALL_KINDS)} (upload only with --reference)",
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S", help="per run of a command (60)"
    )
    parser.add_argument("--only", metavar="P1,P2", help="check only these properties (names as --list shows)")
    parser.add_argument("--no-shrink", action="store_true", help="report the first world seen, unshrunk")
    parser.add_argument(
        "--list", action="store_true", help="list the properties and their rule ids, then exit"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="client-check",
        description="Check a NemoVideo client against the documented client-side behaviours.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return parser


def _kinds(value: str, *, reference: bool) -> tuple[RequestKind, ...]:
    kinds = tuple(k.strip() for k in value.split(",") if k.strip())
    unknown = [k for k in kinds if k not in ALL_KINDS]
    if unknown or not kinds:
        raise ClientError(f"--kinds takes some of {', '.join(ALL_KINDS)}, got {value!r}")
    if "upload" in kinds and not reference:
        raise ClientError("upload worlds need an attachment, which only --reference can pass")
    return cast(tuple[RequestKind, ...], kinds)


def _properties(value: str | None) -> tuple[Property, ...]:
    if value is None:
        return tuple(PROPERTIES)
    chosen: list[Property] = []
    for name in (n.strip() for n in value.split(",") if n.strip()):
        try:
            chosen.append(property_named(name))
        except KeyError:
            raise ClientError(f"no property {name!r}; --list shows them") from None
    if not chosen:
        raise ClientError("--only names no property")
    return tuple(chosen)


def list_properties(out: TextIO) -> None:
    for candidate in PROPERTIES:
        print(f"{candidate.name} [{', '.join(candidate.rules)}]: {candidate.summary}", file=out)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run a parsed `client-check`; returns the exit code."""
    out = out or sys.stdout
    if args.list:
        list_properties(out)
        return EXIT_OK
    if not (args.reference or args.command_template or args.callable):
        print("error: say which client to check: --command, --callable or --reference", file=sys.stderr)
        return EXIT_USAGE
    if args.max_examples < 1:
        print("error: --max-examples must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    try:
        kinds = _kinds(args.kinds, reference=args.reference)
        strategy = worlds(kinds, cast(Focus, args.focus))
        options: dict[str, Any] = {
            "max_examples": args.max_examples,
            "seed": args.seed,
            "shrink": not args.no_shrink,
            "properties": _properties(args.only),
        }
        if args.reference:
            report = check_client(run_reference, strategy, **options)
        else:
            invoker: CommandClient | CallableClient = (
                CommandClient(args.command_template, timeout_s=args.timeout)
                if args.command_template is not None
                else load_callable(args.callable)
            )
            with ServedClient(invoker) as served:
                report = check_client(served, strategy, **options)
    except ClientError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for line in report.lines():
        print(line, file=out)
    return EXIT_OK if report.ok else EXIT_BROKEN


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m conformance.clientcheck` and `nemo-contract client-check`."""
    return run(build_parser().parse_args(argv))
