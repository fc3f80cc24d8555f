"""`python -m client`: the same as the `nemo-client` console script."""

from __future__ import annotations

from client.cli import main

raise SystemExit(main())
