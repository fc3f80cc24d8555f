"""`python -m contracts.clientcheck`: see `contracts.clientcheck.cli`."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
