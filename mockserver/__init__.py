"""Offline twin of the NemoVideo backend."""

from __future__ import annotations

__version__ = "0.1.0"
