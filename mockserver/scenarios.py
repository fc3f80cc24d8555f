"""Named failure scenarios (`contracts/data/scenarios/*.yaml`), armed by `nemo-mock serve --scenario NAME`.

A scenario is one common failure made reproducible: the mock's settings (seed, profile, time
scale, other options), the fault rules armed at start, steps that act after a given request (move
the clock, arm another rule), anonymous accounts prepared for a client id, the reference client's
commands that run into the failure, and the reaction the skill documents for it.

    name: silent-edit
    description: An edit changes the draft but its stream carries no text.
    rules: [B-SSE-09, B-CLI-10]
    settings: {seed: 7, profile: nemo-video, time_scale: 0, options: {}}
    faults: []                                   # rules as for POST /_mock/faults
    steps:
      - after: POST /run_sse                     # once the first turn has ended ...
        arm: {method: POST, path: /run_sse, sse: silent}   # ... the next one is silent
    accounts: []                                 # [{client_id: ..., credits: N}]
    client: {env: {}, files: {}, commands: ['chat "make a video"', 'chat "add a title"']}
    reaction: The client queries the state, diffs it and reports the change (B-CLI-10).

`options` takes any other field of `Settings` (`token_ttl_s`, `dialect` ...) and `upload_cap_mb`,
which lowers the profile's upload cap so that the over-the-cap case needs no huge file.

A `POST /_mock/reset` starts the scenario over: its faults, steps and accounts are armed again.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from starlette.types import ASGIApp, Receive, Scope, Send

from contracts.profiles import BYTES_PER_MB, Profile, load_profile
from contracts.resources import SCENARIOS_DIR
from mockserver.backend import Backend
from mockserver.faults import FaultError, parse_rule
from mockserver.settings import Settings
from mockserver.state.accounts import Account
from mockserver.state.ledger import Ledger

SUFFIX = ".yaml"
CONTROL_PREFIX = "/_mock"
RESET_PATH = "/_mock/reset"
#: Settings a scenario cannot set: they belong to the machine it runs on.
LOCAL_SETTINGS = frozenset({"profile", "data_dir", "journal_limit", "access_log", "control"})
SCENARIO_KEYS = frozenset(
    {"name", "description", "rules", "settings", "faults", "steps", "accounts", "client", "reaction"}
)


class ScenarioError(ValueError):
    """A scenario that cannot be found or read; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class Step:
    """After the `count`-th completed request matching `method` and `path` (a glob): act once."""

    method: str | None
    path: str
    count: int = 1
    advance_s: float | None = None  # move the virtual clock forward
    arm: dict[str, Any] | None = None  # arm one more fault rule

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and fnmatch.fnmatchcase(path, self.path)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"after": f"{self.method} {self.path}" if self.method else self.path}
        if self.count != 1:
            out["count"] = self.count
        if self.advance_s is not None:
            out["advance_s"] = self.advance_s
        if self.arm is not None:
            out["arm"] = dict(self.arm)
        return out


@dataclass(frozen=True, slots=True)
class PreparedAccount:
    """An anonymous account that already exists for `client_id`, holding `credits` (B-CRED-03)."""

    client_id: str
    credits: int


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    rules: tuple[str, ...]
    reaction: str
    seed: int = 0
    profile: str = "nemo-video"
    time_scale: float = 0.0
    options: dict[str, Any] = field(default_factory=dict)
    faults: tuple[dict[str, Any], ...] = ()
    steps: tuple[Step, ...] = ()
    accounts: tuple[PreparedAccount, ...] = ()
    client: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """The description's first sentence, for `nemo-mock scenarios`."""
        first = " ".join(self.description.split())
        head, dot, _ = first.partition(". ")
        return head + ("." if dot else "")

    @property
    def commands(self) -> list[str]:
        """The reference client's commands (`nemo-client ...` without the program name)."""
        return [str(c) for c in self.client.get("commands", [])]

    def mock_settings(self, **overrides: Any) -> Settings:
        """The mock's `Settings` for this scenario; keyword arguments win over the scenario's."""
        values: dict[str, Any] = {"seed": self.seed, "time_scale": self.time_scale}
        options = dict(self.options)
        cap_mb = options.pop("upload_cap_mb", None)
        values.update(options)
        values.update({key: value for key, value in overrides.items() if value is not None})
        profile = values.pop("profile", None) or self.profile
        if not isinstance(profile, Profile):
            profile = load_profile(profile)
        if cap_mb is not None:
            profile = dataclasses.replace(profile, upload_cap_bytes=int(float(cap_mb) * BYTES_PER_MB))
        return Settings(profile=profile, **values)

    def to_dict(self) -> dict[str, Any]:
        """The scenario as data (written into recordings, so a repro needs no scenario file)."""
        return {
            "name": self.name,
            "description": self.description,
            "rules": list(self.rules),
            "settings": {
                "seed": self.seed,
                "profile": self.profile,
                "time_scale": self.time_scale,
                "options": dict(self.options),
            },
            "faults": [dict(rule) for rule in self.faults],
            "steps": [step.to_dict() for step in self.steps],
            "accounts": [{"client_id": a.client_id, "credits": a.credits} for a in self.accounts],
            "client": dict(self.client),
            "reaction": self.reaction,
        }


# ---------------------------------------------------------------------------- reading


def scenario_from_dict(raw: object, where: str = "scenario") -> Scenario:
    """Validate a scenario's data; `ScenarioError` says what is wrong."""
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{where}: a scenario is a mapping")
    unknown = set(raw) - SCENARIO_KEYS
    if unknown:
        raise ScenarioError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("name", "description", "reaction"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ScenarioError(f"{where}: `{key}` is required text")
    rules = raw.get("rules")
    if not isinstance(rules, list) or not rules or not all(isinstance(r, str) for r in rules):
        raise ScenarioError(f"{where}: `rules` lists the rule ids the scenario is about")
    settings = raw.get("settings") or {}
    if not isinstance(settings, Mapping):
        raise ScenarioError(f"{where}: `settings` is a mapping")
    options = dict(settings.get("options") or {})
    allowed = {f.name for f in dataclasses.fields(Settings)} - LOCAL_SETTINGS - {"seed", "time_scale"}
    bad = set(options) - allowed - {"upload_cap_mb"}
    if bad:
        raise ScenarioError(f"{where}: unknown options {sorted(bad)} (settings fields or upload_cap_mb)")
    faults = tuple(_rule(rule, f"{where}: faults[{i}]") for i, rule in enumerate(raw.get("faults") or []))
    steps = tuple(_step(step, f"{where}: steps[{i}]") for i, step in enumerate(raw.get("steps") or []))
    accounts = tuple(_account(a, f"{where}: accounts[{i}]") for i, a in enumerate(raw.get("accounts") or []))
    client = raw.get("client") or {}
    if not isinstance(client, Mapping):
        raise ScenarioError(f"{where}: `client` is a mapping of env, files and commands")
    scenario = Scenario(
        name=raw["name"].strip(),
        description=" ".join(raw["description"].split()),
        rules=tuple(rules),
        reaction=" ".join(raw["reaction"].split()),
        seed=int(settings.get("seed", 0)),
        profile=str(settings.get("profile", "nemo-video")),
        time_scale=float(settings.get("time_scale", 0)),
        options=options,
        faults=faults,
        steps=steps,
        accounts=accounts,
        client=dict(client),
    )
    try:
        scenario.mock_settings()
    except (ValueError, TypeError) as exc:
        raise ScenarioError(f"{where}: settings: {exc}") from None
    return scenario


def _rule(raw: object, where: str) -> dict[str, Any]:
    try:
        parse_rule(raw, "check")
    except FaultError as exc:
        raise ScenarioError(f"{where}: {exc}") from None
    assert isinstance(raw, dict)
    return dict(raw)


def _step(raw: object, where: str) -> Step:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("after"), str):
        raise ScenarioError(f"{where}: a step is {{after: 'METHOD /path', advance_s: N | arm: rule}}")
    method, _, path = raw["after"].strip().rpartition(" ")
    if not path.startswith("/"):
        raise ScenarioError(f"{where}: `after` names a path starting with '/'")
    count = raw.get("count", 1)
    if not isinstance(count, int) or count < 1:
        raise ScenarioError(f"{where}: `count` is a positive integer")
    advance = raw.get("advance_s")
    if advance is not None and (not isinstance(advance, int | float) or advance < 0):
        raise ScenarioError(f"{where}: `advance_s` is a non-negative number of virtual seconds")
    arm = raw.get("arm")
    if arm is not None:
        arm = _rule(arm, f"{where}: arm")
    if advance is None and arm is None:
        raise ScenarioError(f"{where}: a step does something: `advance_s` or `arm`")
    return Step(method.upper() or None, path, count, None if advance is None else float(advance), arm)


def _account(raw: object, where: str) -> PreparedAccount:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("client_id"), str):
        raise ScenarioError(f"{where}: an account is {{client_id: ..., credits: N}}")
    credits = raw.get("credits", 100)
    if not isinstance(credits, int) or credits < 0:
        raise ScenarioError(f"{where}: `credits` is a non-negative integer")
    return PreparedAccount(raw["client_id"], credits)


def scenario_names() -> list[str]:
    """The shipped scenarios, sorted."""
    return sorted(path.stem for path in SCENARIOS_DIR.glob(f"*{SUFFIX}"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name, or a scenario file by path."""
    path = Path(name_or_path)
    if not path.is_file():
        path = SCENARIOS_DIR / f"{name_or_path}{SUFFIX}"
    if not path.is_file():
        raise ScenarioError(
            f"unknown scenario {str(name_or_path)!r} (shipped: {', '.join(scenario_names())})"
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path.name}: cannot read ({exc})") from None
    return scenario_from_dict(raw, path.name)


def all_scenarios() -> list[Scenario]:
    return [load_scenario(name) for name in scenario_names()]


# ---------------------------------------------------------------------------- arming


def arm(backend: Backend, scenario: Scenario) -> None:
    """Arm the scenario's fault rules and prepare its accounts on `backend`."""
    for rule in scenario.faults:
        backend.faults.arm(rule)
    for prepared in scenario.accounts:
        prepare_account(backend, prepared)


def prepare_account(backend: Backend, prepared: PreparedAccount) -> Account:
    """An anonymous account bound to a client id: its anonymous-token call finds it (U-08).

    The user id comes from its own seeded stream, so every other id of the run stays the same.
    """
    rng = random.Random(f"{backend.settings.seed}:scenario-account:{prepared.client_id}")
    ledger = Ledger()
    ledger.grant(prepared.credits, backend.clock.now())
    account = Account(f"anon_{rng.getrandbits(48):012x}", "anonymous", ledger, prepared.client_id)
    backend.accounts.accounts[account.user_id] = account
    backend.accounts.by_client[prepared.client_id] = account.user_id
    return account


class StepCounter:
    """A scenario's steps: counts the requests each waits for and acts when its count is reached."""

    def __init__(self, backend: Backend, scenario: Scenario) -> None:
        self.backend = backend
        self.scenario = scenario
        self.pending: list[int] = list(range(len(scenario.steps)))  # indices of steps not yet done
        self.seen: dict[int, int] = {}

    def finished(self, method: str, path: str) -> None:
        """A request (not a control call) has been answered."""
        for index in list(self.pending):
            step = self.scenario.steps[index]
            if step.matches(method, path):
                self.seen[index] = self.seen.get(index, 0) + 1
                if self.seen[index] >= step.count:
                    self.pending.remove(index)
                    self.act(step)

    def act(self, step: Step) -> None:
        if step.advance_s:
            self.backend.clock.advance(step.advance_s)
        if step.arm is not None:
            self.backend.faults.arm(step.arm)

    def restart(self) -> None:
        self.pending = list(range(len(self.scenario.steps)))
        self.seen.clear()


class ScenarioSteps:
    """ASGI middleware acting out a scenario's steps; installed only when a scenario is armed at start."""

    def __init__(self, app: ASGIApp, backend: Backend, scenario: Scenario) -> None:
        self.app = app
        self.steps = StepCounter(backend, scenario)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] != "http":
            return
        method: str = scope["method"]
        path: str = scope["path"]
        if path.startswith(CONTROL_PREFIX):
            if method == "POST" and path == RESET_PATH:
                self.restart()
            return
        self.steps.finished(method, path)

    def restart(self) -> None:
        """After a reset the scenario starts over."""
        self.steps.restart()
        arm(self.steps.backend, self.steps.scenario)


class RuntimeSteps:
    """A scenario's steps armed at run time (`POST /_mock/scenarios/{name}`): they follow the
    requests through the journal, which tells its listeners of each request as it ends, so the
    request path is the same whether or not a scenario was armed. A reset ends them."""

    def __init__(self, backend: Backend, scenario: Scenario) -> None:
        self.steps = StepCounter(backend, scenario)
        self.stop = backend.journal.subscribe(self.heard)

    def heard(self, entry: Any) -> None:
        if entry.stream and entry.ended is None:
            return  # a stream counts when it ends, as any request does
        if not entry.path.startswith(CONTROL_PREFIX):
            self.steps.finished(entry.method, entry.path)


def install(app: Any, backend: Backend, scenario: Scenario) -> None:
    """Arm `scenario` on `backend` and add its steps to `app` (a Starlette app not yet started)."""
    arm(backend, scenario)
    if scenario.steps or scenario.faults or scenario.accounts:
        app.add_middleware(ScenarioSteps, backend=backend, scenario=scenario)
