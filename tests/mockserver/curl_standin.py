"""A stand-in for `curl` where the machine has none: the options the documented commands use
(`-s`, `-X`, `-H`, `-d`, `-F name=@file`, `-o`, `--max-time`) with httpx, the body on stdout.

tests/mockserver/test_documented_examples.py puts it on PATH as `curl` only when no real curl is
installed, so the documented commands still run as written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx


def main(argv: list[str]) -> int:
    method = None
    headers: dict[str, str] = {}
    data: str | None = None
    files: list[tuple[str, tuple[str, bytes]]] = []
    out: str | None = None
    timeout = 300.0
    url = None
    args = iter(argv)
    for arg in args:
        if arg in ("-s", "--silent"):
            continue
        if arg in ("-X", "--request"):
            method = next(args)
        elif arg in ("-H", "--header"):
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip()
        elif arg in ("-d", "--data"):
            data = next(args)
        elif arg in ("-F", "--form"):
            name, _, value = next(args).partition("=")
            path = Path(value.removeprefix("@"))
            files.append((name, (path.name, path.read_bytes())))
        elif arg in ("-o", "--output"):
            out = next(args)
        elif arg == "--max-time":
            timeout = float(next(args))
        elif arg.startswith("-"):
            print(f"curl stand-in: unsupported option {arg}", file=sys.stderr)
            return 2
        else:
            url = arg
    if url is None:
        print("curl stand-in: no URL", file=sys.stderr)
        return 2
    method = method or ("POST" if data is not None or files else "GET")
    if data is not None and "content-type" not in {k.lower() for k in headers}:
        headers["Content-Type"] = "application/x-www-form-urlencoded"  # what curl -d sends
    try:
        answer = httpx.request(
            method, url, headers=headers, content=data, files=files or None, timeout=timeout
        )
    except httpx.HTTPError as exc:
        print(f"curl stand-in: {exc}", file=sys.stderr)
        return 7
    if out is not None:
        Path(out).write_bytes(answer.content)
    else:
        sys.stdout.buffer.write(answer.content)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
