"""The time-scale handshake: the client's waits run at the pace of the server they wait on.

The mock runs its documented durations on a virtual clock (`nemo-mock serve --time-scale X`) and
says its scale in `GET /_mock/health`. A client whose waits run at another pace gives up too early
(a render polled ten times in a second at scale 0 against a server at scale 1) or waits for
nothing. So, before its first wait, a client configured from the environment asks the server:

- `NEMO_TIME_SCALE` unset: the client follows the server's scale;
- `NEMO_TIME_SCALE` set and different from the server's: one line on stderr names both values and
  the remedy, and the client keeps the scale it was given;
- a server that does not answer with a time scale (a real backend: 404, or anything else) leaves
  the client as it was.

The question is asked once per process and server URL, and only by a client with a clock of its
own (`ScaledClock`): a test's FakeClock decides time itself.
"""

from __future__ import annotations

import json
import math
import sys
import threading
from typing import Literal

#: Where the mock says its time scale (the control API; a real backend has no such path).
HEALTH_PATH = "/_mock/health"

#: What a client does with the server's time scale: nothing, follow it, or warn when it differs.
ScaleMode = Literal["ignore", "follow", "check"]

_lock = threading.Lock()
_known: dict[str, float | None] = {}  # api_url -> the server's scale (None: it does not say)
_warned: set[str] = set()


def parse_health(status: int, content: bytes) -> float | None:
    """The time scale a `/_mock/health` answer states, or None for any other answer."""
    if status != 200:
        return None
    try:
        body = json.loads(content)
    except ValueError:
        return None
    value = body.get("time_scale") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    scale = float(value)
    return scale if math.isfinite(scale) and scale >= 0 else None


def known_scale(api_url: str) -> tuple[bool, float | None]:
    """(asked already, the scale) for a server URL in this process."""
    with _lock:
        return api_url in _known, _known.get(api_url)


def remember_scale(api_url: str, scale: float | None) -> float | None:
    """Keep the first answer for `api_url` in this process; returns the kept one."""
    with _lock:
        return _known.setdefault(api_url, scale)


def mismatch_line(api_url: str, mine: float, theirs: float) -> str:
    """The one-line warning for NEMO_TIME_SCALE set to something other than the server's scale."""
    remedy = (
        f"unset NEMO_TIME_SCALE to follow the server, or start it with --time-scale {mine:g} "
        "(otherwise renders and retries give up too early or wait for nothing)"
    )
    return (
        f"nemo-client: warning: NEMO_TIME_SCALE={mine:g} but the server at {api_url} runs at time "
        f"scale {theirs:g}; {remedy}"
    )


def warn_once(api_url: str, line: str) -> None:
    """Write `line` to stderr, once per server URL in this process."""
    with _lock:
        if api_url in _warned:
            return
        _warned.add(api_url)
    print(line, file=sys.stderr, flush=True)


def forget() -> None:
    """Forget what servers said and which warnings were given (tests start each case afresh)."""
    with _lock:
        _known.clear()
        _warned.clear()
