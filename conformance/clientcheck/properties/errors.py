"""The error table (B-ERR-05): the documented retry, or none, and the remedy named when the error stays."""

from __future__ import annotations

from ..recording import Interaction
from ..world import RATE_LIMIT_WAIT_S, World
from .core import NOT_APPLICABLE, Verdict, broken, prop
from .facts import fault_runs, index_of, no_retry, quote, retry_once
from .wording import CREDITS_BLAME, TOP_UP


@prop("rate-limit-once", "B-ERR-05", "B-AUTH-08")
def rate_limit_once(world: World, interaction: Interaction) -> Verdict:
    """429: one retry after 30 s, then the error naming the wait."""
    verdict = retry_once(interaction, 429, None, "retry")
    if verdict.broken or not verdict.applies or not interaction.timed:
        return verdict
    for route, run, nxt in fault_runs(interaction, 429):
        retry = run[1] if len(run) > 1 else nxt
        if retry is not None and retry.at is not None and run[0].at is not None:
            waited = retry.at - run[0].at
            if waited < RATE_LIMIT_WAIT_S:
                return broken(f"retried {route} {waited:g} s after a 429; the rule is to wait 30 s")
    return verdict


@prop("reauth-once", "B-ERR-05", "B-AUTH-14", "B-AUTH-07")
def reauth_once(world: World, interaction: Interaction) -> Verdict:
    """1001: a new anonymous token with the same client id, the call once more, then the error."""
    verdict = retry_once(interaction, 1001, "token", "re-authentication")
    if verdict.broken or not verdict.applies:
        return verdict
    for _route, run, _nxt in fault_runs(interaction, 1001):
        at = index_of(interaction, run[0])
        issued = [e for e in interaction.exchanges[:at] if e.route == "token" and e.succeeded]
        renewals = interaction.after(at, "token")
        if issued and renewals and renewals[0].client_id != issued[-1].client_id:
            return broken("re-authenticated with a different client id")
    return verdict


@prop("new-session-once", "B-ERR-05", "B-SESS-07")
def new_session_once(world: World, interaction: Interaction) -> Verdict:
    """1002: a new session, the call once more there, then the error."""
    return retry_once(interaction, 1002, "session", "new session")


@prop("client-id-retry", "B-ERR-05", "B-AUTH-02")
def client_id_retry(world: World, interaction: Interaction) -> Verdict:
    """400 at anonymous-token: a new client id and one retry, then the error."""
    verdict = retry_once(interaction, 400, None, "retry with a new client id")
    if verdict.broken or not verdict.applies:
        return verdict
    for _route, run, nxt in fault_runs(interaction, 400):
        retry = run[1] if len(run) > 1 else nxt
        if retry is not None and (not retry.client_id or retry.client_id == run[0].client_id):
            return broken("retried anonymous-token without a new client id")
    return verdict


@prop("out-of-credits-link", "B-ERR-05", "B-CRED-05", "B-CLI-20")
def out_of_credits_link(world: World, interaction: Interaction) -> Verdict:
    """2001: no retry; an anonymous user gets the ?bind=<user id> link, a registered one a top-up."""
    verdict = no_retry(interaction, 2001)
    if verdict.broken or not verdict.applies:
        return verdict
    if world.account == "anonymous":
        if not any(f"bind={world.user_id}" in line for line in interaction.messages):
            return broken(f"an anonymous user ran out of credits and got no ?bind={world.user_id} link")
    elif not interaction.says(TOP_UP) or any("bind=" in line for line in interaction.messages):
        return broken("a registered user ran out of credits and was not told to top up")
    return verdict


@prop("file-remedies", "B-ERR-05", "B-UPL-07")
def file_remedies(world: World, interaction: Interaction) -> Verdict:
    """4001 lists the supported formats, 4002 says compress or trim; neither is retried."""
    for code in (4001, 4002):
        verdict = no_retry(interaction, code)
        if verdict.applies:
            return verdict
    return NOT_APPLICABLE


@prop("plan-not-credits", "B-ERR-05", "B-REN-16")
def plan_not_credits(world: World, interaction: Interaction) -> Verdict:
    """402 on export: a plan limit, not credits; not retried."""
    verdict = no_retry(interaction, 402)
    if verdict.broken or not verdict.applies:
        return verdict
    for line in interaction.messages:
        if CREDITS_BLAME.search(line):
            return broken(f"blamed credits for a plan limit: {quote(line)}")
    return verdict
