"""`python -m conformance.clientcheck`: see `conformance.clientcheck.cli`."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
