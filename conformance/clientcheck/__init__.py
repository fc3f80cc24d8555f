"""The client-side contract suite: documented client reactions, checked against generated worlds.

A *world* (`world.py`) says how a scripted backend answers one user request: injected errors
(business codes with HTTP 200 or mapped statuses, bursts of 429), the `/run_sse` stream (heartbeat
mixes, silent edits, a drop at any event, trailing noise), when the timeline change shows, and how
renders run (shape A or B, failures, slow renders). Hypothesis draws worlds from strategies built
on the contract's schemas (`strategies.py`).

A client runs against a world in-process (`transport.py`, the reference client on a fake clock)
or over a loopback HTTP server (`server.py`, any command or Python callable). The run is recorded
as an `Interaction` (`recording.py`): the requests with the world's answers, the lines shown, how
it ended. The properties (`properties/`) are functions over a world and an interaction, stated
once with their rule ids, so they judge any implementation. `search.py` drives the runs and
shrinks each broken property to a minimal world; `cli.py` is the `client-check` command.
"""

from __future__ import annotations

from .properties import PROPERTIES, Property, Verdict, Violation, judge
from .recording import Exchange, Interaction
from .runners import CallableClient, CommandClient, ServedClient, load_callable, run_reference
from .search import Counterexample, Report, check_client
from .strategies import worlds
from .world import World

__all__ = [
    "PROPERTIES",
    "CallableClient",
    "CommandClient",
    "Counterexample",
    "Exchange",
    "Interaction",
    "Property",
    "Report",
    "ServedClient",
    "Verdict",
    "Violation",
    "World",
    "check_client",
    "judge",
    "load_callable",
    "run_reference",
    "worlds",
]
