"""Where the mock keeps files (uploads, renders, uploads still arriving), and how a reset clears them.

The mock works in a directory of its own: a temporary one, or one it makes inside `--data-dir`
(`nemo-mock-run-*`), so that nothing it did not create is ever touched, and files a crashed run
left behind never stand in the way of the next one.

A reset must not pull a file from under a request that is still sending it (a download checks
the file, then opens it): it starts a new generation, a fresh subdirectory (`reset-N`), and
removes the previous one `GRACE_S` seconds later, or at shutdown. Generation 0 is the run
directory itself.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

SUBDIRS = ("uploads", "renders", "incoming")
#: The directory of one run inside `--data-dir`.
RUN_DIR_PREFIX = "nemo-mock-run-"
#: Real seconds the files of a previous generation stay after a reset.
GRACE_S = 10.0


def run_dir(data_dir: Path | None) -> Path:
    if data_dir is None:
        return Path(tempfile.mkdtemp(prefix="nemo-mock-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=RUN_DIR_PREFIX, dir=data_dir))


class FileStore:
    """The run directory and its current generation."""

    def __init__(self, data_dir: Path | None) -> None:
        self.owned = data_dir is None  # a temporary directory: removed whole at shutdown
        self.root = run_dir(data_dir)
        self.current = self.root
        self.generation = 0
        self._retired: list[Path] = []
        #: Removals under way (`settled` waits for them).
        self.pending: set[asyncio.Future[None]] = set()
        self._make()

    def _make(self) -> None:
        for sub in SUBDIRS:
            (self.current / sub).mkdir(parents=True, exist_ok=True)

    def reset(self) -> None:
        """A fresh generation; the previous one goes after the grace period."""
        old = self.current
        self.generation += 1
        self.current = self.root / f"reset-{self.generation}"
        self._make()
        self._retired.append(old)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a plain call from a test): no request can be reading
            self._remove(old)
        else:
            loop.call_later(GRACE_S, self._remove_later, loop, old)

    def _remove_later(self, loop: asyncio.AbstractEventLoop, old: Path) -> None:
        removal = loop.run_in_executor(None, self._remove, old)
        self.pending.add(removal)
        removal.add_done_callback(self.pending.discard)

    async def settled(self) -> None:
        """Until the removals started so far are done."""
        await asyncio.gather(*self.pending)

    def _remove(self, generation: Path) -> None:
        for sub in SUBDIRS:
            shutil.rmtree(generation / sub, ignore_errors=True)
        if generation != self.root:
            shutil.rmtree(generation, ignore_errors=True)
        if generation in self._retired:
            self._retired.remove(generation)

    def close(self) -> None:
        """Shutdown: a temporary run directory goes; in `--data-dir` the current uploads and renders
        stay for the user, older generations and half-received uploads do not."""
        if self.owned:
            shutil.rmtree(self.root, ignore_errors=True)
            return
        for generation in list(self._retired):
            self._remove(generation)
        shutil.rmtree(self.current / "incoming", ignore_errors=True)
