"""Giving freed memory back to the system after a render.

A render allocates tens of megabytes of frames and encoder buffers on a worker thread. Freed,
they stay in that thread's malloc arena, so the process keeps its peak size for good: four
renders in a row left 1.6 GB resident. glibc's `malloc_trim` returns the free pages; elsewhere
(musl, macOS) it is absent and this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Callable

_lock = threading.Lock()


def _find_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_trim = _find_trim()


def release_freed_memory() -> None:
    """Hand free heap pages back to the system (where the C library can)."""
    if _trim is not None:
        with _lock:  # one trim at a time: each walks every arena
            _trim(0)
