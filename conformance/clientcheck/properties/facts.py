"""Facts read off a recorded interaction, shared by the properties: fault runs, recoveries, remedies."""

from __future__ import annotations

from ..recording import Exchange, Interaction
from .core import HOLDS, NOT_APPLICABLE, Verdict, broken
from .wording import REMEDIES


def quote(text: str, limit: int = 90) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def fault_runs(interaction: Interaction, code: int) -> list[tuple[str, list[Exchange], Exchange | None]]:
    """Per route, each run of consecutive `code` faults and the route's next request after it."""
    found: list[tuple[str, list[Exchange], Exchange | None]] = []
    by_route: dict[str, list[Exchange]] = {}
    for exchange in interaction.exchanges:
        by_route.setdefault(exchange.route, []).append(exchange)
    for route, exchanges in by_route.items():
        k = 0
        while k < len(exchanges):
            if exchanges[k].fault and exchanges[k].code == code:
                start = k
                while k < len(exchanges) and exchanges[k].fault and exchanges[k].code == code:
                    k += 1
                nxt = exchanges[k] if k < len(exchanges) else None
                found.append((route, exchanges[start:k], nxt))
            else:
                k += 1
    return found


def index_of(interaction: Interaction, exchange: Exchange) -> int:
    return next(i for i, e in enumerate(interaction.exchanges) if e is exchange)


def came_between(interaction: Interaction, first: Exchange, second: Exchange | None, route: str) -> bool:
    """A request to `route` came after `first` and before `second` (or the end)."""
    start = index_of(interaction, first)
    end = index_of(interaction, second) if second is not None else len(interaction.exchanges)
    return any(e.route == route for e in interaction.exchanges[start + 1 : end])


def unrecovered_faults(interaction: Interaction) -> list[Exchange]:
    """Injected errors after which the same endpoint never answered a success."""
    result: list[Exchange] = []
    for i, exchange in enumerate(interaction.exchanges):
        if exchange.fault and not any(e.succeeded for e in interaction.after(i, exchange.route)):
            result.append(exchange)
    return result


def remedy_shown(interaction: Interaction, code: int) -> str | None:
    """None when a line names the remedy for `code`; else what is missing."""
    pattern, what = REMEDIES[code]
    if interaction.says(pattern):
        return None
    return f"no line names the remedy for {code} ({what})"


def ended_as_failure(interaction: Interaction, code: int, route: str) -> str | None:
    if interaction.ok is True:
        return f"reported success although {route} kept answering {code}"
    return remedy_shown(interaction, code)


def retry_once(interaction: Interaction, code: int, between: str | None, what: str) -> Verdict:
    """The shared shape of B-ERR-05's retried errors: one retry (after `between`), then the remedy."""
    runs = fault_runs(interaction, code)
    if not runs:
        return NOT_APPLICABLE
    for route, run, nxt in runs:
        retries = len(run) - 1 + (1 if nxt is not None else 0)
        if retries == 0:
            if between is not None and came_between(interaction, run[0], None, between):
                continue  # the remedy itself was refused; that refusal is judged on its own route
            return broken(f"{route} answered {code} and the client gave up without the one {what}")
        if retries > 1:
            return broken(f"{route} answered {code} and the client retried {retries} times; once is the rule")
        if between is not None and not came_between(
            interaction, run[0], run[1] if len(run) > 1 else nxt, between
        ):
            return broken(f"after {code} on {route} the client repeated the call without {what} first")
        if len(run) == 2:
            problem = ended_as_failure(interaction, code, route)
            if problem:
                return broken(problem)
    return HOLDS


def no_retry(interaction: Interaction, code: int) -> Verdict:
    """Errors a retry cannot cure: never repeated, and the remedy shown (B-ERR-05)."""
    runs = fault_runs(interaction, code)
    if not runs:
        return NOT_APPLICABLE
    for route, _run, nxt in runs:
        if nxt is not None:
            return broken(f"{route} answered {code} and the client sent it again")
        problem = ended_as_failure(interaction, code, route)
        if problem:
            return broken(problem)
    return HOLDS
