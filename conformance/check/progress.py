"""Progress of a check run on stderr, one phase at a time.

On a terminal a bar redrawn in place (`[####----] 3/8 examples`); elsewhere (CI logs, pipes) one
plain line when a phase starts and one when it ends, with the requests and failures so far, so a
long run shows where it is without control characters in the log.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from conformance.check.report import Report

BAR_WIDTH = 20


class Progress:
    """`start(phase, index, total)` and `done(phase, index, total, report)`, as `run_check` calls them."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self._began = 0.0

    def start(self, phase: str, index: int, total: int) -> None:
        self._began = time.monotonic()
        if self.tty:
            self._draw(index - 1, total, f"{phase} ...")
        else:
            self._write(f"nemo-contract: phase {index}/{total} {phase} ...\n")

    def done(self, phase: str, index: int, total: int, report: Report) -> None:
        took = time.monotonic() - self._began
        figures = f"{report.requests_sent} requests, {len(report.breaches)} failures so far, {took:.1f} s"
        if self.tty:
            self._draw(index, total, f"{phase} done ({figures})")
            if index == total:
                self._write("\n")
        else:
            self._write(f"nemo-contract: phase {index}/{total} {phase} done: {figures}\n")

    def _draw(self, finished: int, total: int, text: str) -> None:
        filled = BAR_WIDTH * finished // max(total, 1)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self._write(f"\r\x1b[2K[{bar}] {finished}/{total} {text}")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
