"""`nemo-contract`: check a NemoVideo server (the mock or a real backend) against the contract.

    nemo-contract check --base-url http://127.0.0.1:8080 [--token T] [--junit-xml PATH]
                        [--max-examples N] [--allow-spend] [--seed N] [--phases a,b]
                        [--format text|json] [--no-progress]

Prints one line per broken rule (rule id, reason, the request as curl with the token masked),
then the figures: rules checked, requests sent, failures, duration. Exit status: 0 when every
rule held, 1 when one broke (or a phase could not finish), 2 when the server cannot be checked.
`--format json` prints the report as one JSON document instead. Progress goes to stderr, phase by
phase: a bar on a terminal, plain lines otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance.check.progress import Progress
from conformance.check.runner import ALL_PHASES, DEFAULT_MAX_EXAMPLES, CheckOptions, run_check
from conformance.check.target import DEFAULT_TIMEOUT_S, TargetError
from conformance.clientcheck import cli as client_check

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNUSABLE = 2


def _phases(value: str) -> tuple[str, ...]:
    phases = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = [phase for phase in phases if phase not in ALL_PHASES]
    if unknown or not phases:
        raise argparse.ArgumentTypeError(f"phases are a comma list of: {', '.join(ALL_PHASES)}")
    return phases


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="nemo-contract", description=__doc__.split("\n\n")[0])
    commands = root.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="check a server against contracts/openapi.yaml and the rules")
    check.add_argument("--base-url", required=True, help="the server, e.g. http://127.0.0.1:8080")
    check.add_argument("--token", help="a user token (nmv_usr_...); default: one from the server")
    check.add_argument("--junit-xml", type=Path, metavar="PATH", help="also write a JUnit XML report")
    check.add_argument(
        "--max-examples",
        type=_positive,
        default=DEFAULT_MAX_EXAMPLES,
        help=f"generated cases per operation (default {DEFAULT_MAX_EXAMPLES})",
    )
    check.add_argument(
        "--allow-spend",
        action="store_true",
        help="on a real backend, also send generations, edits, uploads and renders (costs credits)",
    )
    check.add_argument(
        "--seed", type=int, help="seed of every generated case (default: a fresh one, printed)"
    )
    check.add_argument(
        "--phases", type=_phases, default=ALL_PHASES, help=f"comma list (default all: {','.join(ALL_PHASES)})"
    )
    check.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per request (default %(default)s)"
    )
    check.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="the report on stdout: text lines (default) or one JSON document",
    )
    check.add_argument("--no-progress", action="store_true", help="no progress on stderr")
    clients = commands.add_parser(
        "client-check",
        help="check a client (a command or a Python callable) against the client-side rules",
        epilog=client_check.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    client_check.add_arguments(clients)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "client-check":
        return client_check.run(args)
    options = CheckOptions(
        base_url=args.base_url,
        token=args.token,
        max_examples=args.max_examples,
        allow_spend=args.allow_spend,
        seed=args.seed,
        phases=args.phases,
        timeout_s=args.timeout,
    )
    as_text = args.format == "text"
    target_line: list[str] = []
    try:
        report = run_check(
            options,
            on_start=lambda line: print(line, flush=True) if as_text else target_line.append(line),
            progress=None if args.no_progress else Progress(),
        )
    except TargetError as exc:
        print(f"nemo-contract: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    if as_text:
        for line in report.console_lines():
            print(line)
    else:
        print(json.dumps({"target": target_line[0] if target_line else None, **report.as_json()}, indent=2))
    if args.junit_xml is not None:
        args.junit_xml.parent.mkdir(parents=True, exist_ok=True)
        args.junit_xml.write_text(report.junit_xml(), encoding="utf-8")
    return EXIT_OK if report.ok else EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
