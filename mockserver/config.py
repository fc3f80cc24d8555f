"""Where each `nemo-mock serve` option comes from: flag > environment > config file > default.

Every `serve` flag `--some-flag` is also the environment variable `NEMO_MOCK_SOME_FLAG` and the key
`some-flag` (or `some_flag`) of a TOML file given with `--config FILE` (or `$NEMO_MOCK_CONFIG`).
Values from the environment and the file go through the flag's own parser, so a bad value fails
the same way, naming where it came from. An on/off flag takes `true`/`false` in the file and
`1`/`0`, `true`/`false`, `yes`/`no`, `on`/`off` in the environment. Unknown keys and unknown
`NEMO_MOCK_*` variables are errors: a typo must not silently fall back to a default.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_PREFIX = "NEMO_MOCK_"
#: Options about the configuration itself: never read from the configuration.
META = frozenset({"help", "config", "print_config"})
#: Printed by `--print-config` as set or unset, never as their value.
SECRETS = frozenset({"control_token"})
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class ConfigError(Exception):
    """A bad key or value in the environment or the config file; the message is one line."""


@dataclass(frozen=True, slots=True)
class Option:
    """One `serve` option as the three sources name it."""

    action: argparse.Action

    @property
    def dest(self) -> str:
        return self.action.dest

    @property
    def flag(self) -> str:
        return max(self.action.option_strings, key=len)

    @property
    def key(self) -> str:
        return self.flag.removeprefix("--")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.key.replace("-", "_").upper()

    @property
    def is_switch(self) -> bool:
        return self.action.nargs == 0

    def parse(self, raw: object, where: str) -> Any:
        """`raw` (a string from the environment, any TOML value from the file) as the flag's value."""
        if self.is_switch:
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
                return raw.strip().lower() in _TRUE
            raise ConfigError(f"{where}: {self.flag} is on or off: true or false, got {raw!r}")
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise ConfigError(f"{where}: {self.flag} takes a value like on the command line, got {raw!r}")
        text = str(raw)
        convert = self.action.type
        try:
            value = convert(text) if callable(convert) else text
        except (argparse.ArgumentTypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if self.action.choices is not None and value not in self.action.choices:
            choices = ", ".join(map(str, self.action.choices))
            raise ConfigError(f"{where}: {self.flag} is one of {choices}, got {raw!r}")
        return value


def options(parser: argparse.ArgumentParser) -> list[Option]:
    return [Option(a) for a in parser._actions if a.option_strings and a.dest not in META]


def given_dests(parser: argparse.ArgumentParser, argv: Sequence[str]) -> set[str]:
    """The options named on the command line: `argv` parsed again with every default suppressed."""
    saved = [(action, action.default) for action in parser._actions]
    try:
        for action, _ in saved:
            action.default = argparse.SUPPRESS
        return set(vars(parser.parse_args(argv)))
    finally:
        for action, default in saved:
            action.default = default


def read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


@dataclass(frozen=True, slots=True)
class Resolved:
    """The value of every option and where it came from: `flag`, `env`, `file` or `default`."""

    values: dict[str, Any]
    sources: dict[str, str]
    options: list[Option]

    def apply(self, args: argparse.Namespace) -> None:
        for dest, value in self.values.items():
            setattr(args, dest, value)

    def lines(self) -> list[str]:
        """The resolved configuration as TOML, each line with its source (`--print-config`)."""
        out = []
        for option in self.options:
            value = self.values[option.dest]
            source = self.sources[option.dest]
            if value is not None and option.dest in SECRETS:
                out.append(f'{option.key} = "(set, not shown)"  # {source}')
            elif value is None:
                out.append(f"# {option.key} unset (built-in or scenario default)  # {source}")
            else:
                out.append(f"{option.key} = {_toml(value)}  # {source}")
        return out


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def resolve(
    parser: argparse.ArgumentParser,
    argv: Sequence[str],
    args: argparse.Namespace,
    environ: Mapping[str, str],
) -> Resolved:
    """Each option's value by precedence; `args` is `argv` parsed with the flags' defaults."""
    known = options(parser)
    by_env = {o.env: o for o in known}
    by_key = {k: o for o in known for k in (o.key, o.key.replace("-", "_"))}
    unknown_env = sorted(
        name for name in environ if name.startswith(ENV_PREFIX) and name not in by_env and name != CONFIG_ENV
    )
    if unknown_env:
        raise ConfigError(f"${unknown_env[0]}: not a nemo-mock serve setting (see nemo-mock serve --help)")
    file_values: dict[str, Any] = {}
    config_path = getattr(args, "config", None) or environ.get(CONFIG_ENV)
    if config_path:
        path = Path(config_path)
        for key, raw in read_file(path).items():
            option = by_key.get(key)
            if option is None:
                raise ConfigError(f"{path}: unknown key {key!r} (keys are the serve flags without --)")
            file_values[option.dest] = option.parse(raw, f"{path}: {key}")
    flagged = given_dests(parser, argv)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for option in known:
        dest = option.dest
        if dest in flagged:
            values[dest], sources[dest] = getattr(args, dest), f"flag {option.flag}"
        elif option.env in environ:
            values[dest] = option.parse(environ[option.env], f"${option.env}")
            sources[dest] = f"env ${option.env}"
        elif dest in file_values:
            values[dest], sources[dest] = file_values[dest], f"file {config_path}"
        else:
            values[dest], sources[dest] = getattr(args, dest), "default"
    return Resolved(values, sources, known)


CONFIG_ENV = ENV_PREFIX + "CONFIG"


def write_port_file(path: Path, url: str) -> None:
    """`url` into `path` at once: a reader sees no file or the whole URL, never a part of it."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(url + "\n", encoding="utf-8")
    os.replace(temporary, path)
