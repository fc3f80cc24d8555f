"""Ways to run a client against a world and record the interaction.

- `run_reference(world)`: the reference client (`client.flows.Skill`) in-process on a
  `WorldTransport`, waiting on a `FakeClock`: no real sleeps, every wait on the recording.
- `ServedClient`: any client against a `WorldServer` on a loopback port, reached as a
  `CommandClient` (a shell command template) or a `CallableClient` (`fn(base_url, message, env)`).

Each run gets a fresh configuration directory and working directory; a world's setup turn
(`World.setup`) is run first in the same directories, so the request continues its project. Only
the request's turn is recorded for judging. A client reads
`NEMO_API_URL`, `NEMO_CONFIG_DIR`, `NEMO_WEB_URL`, `NEMO_TIME_SCALE=0` and, for a registered
user, `NEMO_TOKEN`; nothing else of the caller's NEMO_* environment reaches it.
"""

from __future__ import annotations

import functools
import importlib
import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from client import Client, ClientConfig, FakeClock
from client.flows import Skill
from contracts.profiles import Profile, load_profile

from .backend import WorldBackend
from .recording import Interaction, lines_of
from .server import WorldServer
from .transport import WorldTransport
from .world import WEB_URL, World

IN_PROCESS_API = "https://api.clientcheck.test"
CLIENT_ID = "clientcheck-client-0001"
CLOCK_START = 1_773_187_200.0
DEFAULT_TIMEOUT_S = 60.0

#: A callable client: the base URL, the user's message and the environment; returns what it
#: showed the user, or that and an exit code (0 = success).
ClientCallable = Callable[[str, str, Mapping[str, str]], "str | tuple[str, int]"]


class ClientError(Exception):
    """A client cannot be set up as given (a bad template or `module:function`)."""


@functools.cache
def _profile() -> Profile:
    return load_profile()


def run_reference(world: World) -> Interaction:
    """The reference Skill against `world`, in-process, on a FakeClock."""
    backend = WorldBackend(world, IN_PROCESS_API)
    clock = FakeClock(start=CLOCK_START)
    config = ClientConfig(
        api_url=IN_PROCESS_API,
        web_url=WEB_URL,
        token=world.user_token,
        client_id=CLIENT_ID,
        config_dir=None,
        profile=_profile(),
    )
    attachments = (world.request.attachment,) if world.request.attachment else ()
    crash: str | None = None
    ok: bool | None = None
    texts: list[str] = []
    with tempfile.TemporaryDirectory(prefix="clientcheck-") as downloads:
        client = Client(config, transport=WorldTransport(backend, clock), clock=clock)
        try:
            skill = Skill(client, persist=False, downloads_dir=downloads)
            if world.setup is not None:
                skill.handle(world.setup)
                backend.start_request()
            skill.on_message = lambda message: texts.append(message.text)
            outcome = skill.handle(world.request.text, attachments)
            ok = outcome.ok
        except Exception as exc:  # a crash is a finding, not an error of the checker
            crash = f"{type(exc).__name__}: {exc}"
        finally:
            client.close()
    return Interaction(tuple(backend.exchanges), lines_of(texts), ok, crash)


def client_env(world: World, base_url: str, config_dir: Path) -> dict[str, str]:
    """The variables a client under check is given (see the module docstring)."""
    env = {
        "NEMO_API_URL": base_url,
        "NEMO_CONFIG_DIR": str(config_dir),
        "NEMO_WEB_URL": WEB_URL,
        "NEMO_TIME_SCALE": "0",
    }
    if world.user_token is not None:
        env["NEMO_TOKEN"] = world.user_token
    return env


@dataclass(frozen=True, slots=True)
class Invocation:
    """What a client under check showed and how it ended."""

    output: tuple[str, ...]
    ok: bool | None
    crash: str | None = None


class Invoker(Protocol):
    """Runs a client once on one message: `invoke(base_url, world, message, workdir)`."""

    def invoke(self, base_url: str, world: World, message: str, workdir: Path) -> Invocation: ...


class CommandClient:
    """A client run as a command: a template with `{base_url}`, `{config_dir}` and `{message}`.

    The template is split like a shell line first and the placeholders are filled in each
    argument, so the message stays one argument whatever it holds. Output is stdout and stderr
    together, in order; exit code 0 is success.
    """

    def __init__(self, template: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        try:
            self.argv = shlex.split(template)
        except ValueError as exc:
            raise ClientError(f"cannot split the command template: {exc}") from None
        if not self.argv:
            raise ClientError("the command template is empty")
        if not any("{message}" in arg for arg in self.argv):
            raise ClientError("the command template needs a {message} placeholder")
        self.template = template
        self.timeout_s = timeout_s

    def invoke(self, base_url: str, world: World, message: str, workdir: Path) -> Invocation:
        config_dir = workdir / "config"
        values = {
            "{base_url}": base_url,
            "{config_dir}": str(config_dir),
            "{message}": message,
        }
        argv = [_fill(arg, values) for arg in self.argv]
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_") and k != "SKILL_SOURCE"}
        env.update(client_env(world, base_url, config_dir))
        try:
            done = subprocess.run(
                argv,
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=self.timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            output = lines_of([_decode(exc.output)]) if exc.output else ()
            return Invocation(output, None, f"no answer within {self.timeout_s:g} s")
        except OSError as exc:
            raise ClientError(f"cannot run {argv[0]!r}: {exc.strerror or exc}") from None
        output = lines_of([_decode(done.stdout)])
        crash = None
        if done.returncode < 0:
            crash = f"killed by signal {-done.returncode}"
        elif any(line.startswith("Traceback (most recent call last)") for line in output):
            crash = f"traceback: {output[-1]}"
        return Invocation(output, done.returncode == 0, crash)


class CallableClient:
    """A client run as a Python callable `fn(base_url, message, env) -> str | (str, exit code)`."""

    def __init__(self, fn: ClientCallable, name: str | None = None) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__qualname__", repr(fn))

    def invoke(self, base_url: str, world: World, message: str, workdir: Path) -> Invocation:
        env = client_env(world, base_url, workdir / "config")
        try:
            result: Any = self.fn(base_url, message, env)
        except Exception as exc:  # a crash is a finding
            return Invocation((), None, f"{type(exc).__name__}: {exc}")
        if isinstance(result, tuple) and len(result) == 2:
            text, code = result
            return Invocation(lines_of([str(text)]), int(code) == 0)
        return Invocation(lines_of([str(result)]), None)


def load_callable(spec: str) -> CallableClient:
    """`package.module:function` as a CallableClient."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ClientError(f"expected module:function, got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ClientError(f"cannot import {module_name}: {exc}") from None
    target: Any = module
    for part in attr.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise ClientError(f"{module_name} has no {attr}")
    if not callable(target):
        raise ClientError(f"{spec} is not callable")
    return CallableClient(target, spec)


class ServedClient:
    """Runs an `Invoker` against each world, served by one `WorldServer`; use as a context manager."""

    def __init__(self, invoker: Invoker) -> None:
        self.invoker = invoker
        self.server = WorldServer()

    def __enter__(self) -> ServedClient:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def __call__(self, world: World) -> Interaction:
        backend = self.server.serve(world)
        with tempfile.TemporaryDirectory(prefix="clientcheck-") as tmp:
            workdir = Path(tmp)
            if world.setup is not None:
                setup = self.invoker.invoke(self.server.url, world, world.setup, workdir)
                backend.start_request()
                if setup.crash is not None:
                    return Interaction((), setup.output, setup.ok, f"setup turn: {setup.crash}")
            done = self.invoker.invoke(self.server.url, world, world.request.text, workdir)
        return Interaction(tuple(backend.exchanges), done.output, done.ok, done.crash)


def _fill(arg: str, values: Mapping[str, str]) -> str:
    for placeholder, value in values.items():
        arg = arg.replace(placeholder, value)
    return arg


def _decode(data: bytes | str) -> str:
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")
