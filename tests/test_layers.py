"""The layers hold: no package imports one above it, and the checkers use only public names below.

Bottom up (docs/design.md, "Layers"): `contracts`, the spec, imports none of the others; `mockserver`
and `client` import `contracts` only, never each other; `conformance` imports all three, but of
the mock and the client only the modules listed in `PUBLIC` and never a `_private` name. Every
import counts wherever it stands: at module level, inside a function, under `TYPE_CHECKING`, or as
`importlib.import_module("...")` with a literal name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from checkout import PROJECT_DIR

#: Each package and the packages it may import.
LAYERS: dict[str, frozenset[str]] = {
    "contracts": frozenset(),
    "mockserver": frozenset({"contracts"}),
    "client": frozenset({"contracts"}),
    "conformance": frozenset({"contracts", "mockserver", "client"}),
}
#: Modules of the lower layers that the layer above may import, by the package they belong to.
PUBLIC: dict[str, frozenset[str]] = {
    "mockserver": frozenset(
        {
            "mockserver.testing",  # LiveServer, ThreadedServer, Wrapper: serving the mock or a world
            "mockserver.app",  # create_app
            "mockserver.settings",  # Settings
            "mockserver.backend",  # Backend and its extension points (planted bugs)
            "mockserver.agent",  # Plan, what `Backend.turn_planned` is handed
            "mockserver.operations",  # Operation, what `Backend.settle_turn` is handed
            "mockserver.events",  # the stream events, which client-check's worlds send
            "mockserver.wire",  # their bytes, per dialect
            "mockserver.errors",  # ApiError and its constructors
            "mockserver.state.accounts",  # Account, Session, Sessions, Ledger: the state hooks see
            "mockserver.state.sessions",
            "mockserver.state.ledger",
            "mockserver.state.renders",  # RenderJob, what `Backend.submit_render` returns
            "mockserver.api.requests",  # RenderRequest, what `Backend.submit_render` is handed
            "mockserver.scenarios",  # load_scenario, install, arm: the plugin's scenarios
        }
    ),
    "client": frozenset(
        {
            "client",  # what its __init__ exports
            "client.flows",  # Skill
            "client.clock",  # Clock
            "client.gui",  # contains_gui_instruction: what counts as a GUI instruction
            "client.cli",  # exit codes and the anonymous-token cache of `nemo-client`
        }
    ),
}
#: Old addresses kept working: a module of a lower layer that only re-exports one of a higher.
ALIASES: dict[str, str] = {"contracts.schemathesis_files": "conformance.schemathesis_files"}


@dataclass(frozen=True, slots=True)
class Import:
    """One import: the module importing, the line, the module imported and the names taken."""

    importer: str
    line: int
    module: str
    names: tuple[str, ...] = ()


def modules(root: Path, package: str) -> Iterator[tuple[str, Path]]:
    """(dotted name, file) of every module of a package under root."""
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imports(name: str, path: Path) -> Iterator[Import]:
    """Every import a module makes, at any depth of its tree."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".")
                package = package if is_package else package[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            yield Import(name, node.lineno, base, tuple(alias.name for alias in node.names))
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield Import(name, node.lineno, first.value)


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _reached(imp: Import) -> set[str]:
    """The modules an import may reach: the one named, and for `from pkg import x` also `pkg.x`."""
    return {imp.module} | {f"{imp.module}.{name}" for name in imp.names}


def violations(
    root: Path,
    layers: Mapping[str, frozenset[str]] = LAYERS,
    public: Mapping[str, frozenset[str]] = PUBLIC,
    aliases: Mapping[str, str] = ALIASES,
) -> list[str]:
    """What breaks the layers in the packages under root, one line each (an empty list: nothing)."""
    found: list[str] = []
    for package, allowed in layers.items():
        for name, path in modules(root, package):
            if name in aliases:
                found += _alias_violations(name, path, aliases[name])
                continue
            for imp in imports(name, path):
                top = imp.module.split(".")[0]
                where = f"{path.relative_to(root)}:{imp.line}: {name}"
                if top == package and _reached(imp) & set(aliases):
                    found.append(f"{where} imports {imp.module}, an old address kept for outside users")
                if top not in layers or top == package:
                    continue
                if top not in allowed:
                    found.append(f"{where} imports {imp.module}, a layer it may not import")
                elif top in public:
                    found += _private_violations(where, imp, public[top])
    return found


def _private_violations(where: str, imp: Import, public: frozenset[str]) -> list[str]:
    if any(_private(part) for part in imp.module.split(".")):
        return [f"{where} imports {imp.module}, a private module"]
    taken = [name for name in imp.names if _private(name)]
    if taken:
        return [f"{where} imports {', '.join(taken)} from {imp.module}, a private name"]
    if imp.module in public:
        return []
    outside = [f"{imp.module}.{name}" for name in imp.names if f"{imp.module}.{name}" not in public]
    if outside or not imp.names:
        return [f"{where} imports {', '.join(outside or [imp.module])}, no public module of its package"]
    return []


def _alias_violations(name: str, path: Path, target: str) -> list[str]:
    """An alias holds a docstring, imports from its target (and `__future__`) and `__all__`; nothing else."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.ImportFrom) and node.module in (target, "__future__") and not node.level:
            continue
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]:
            continue
        found.append(f"{path.name}:{node.lineno}: {name} is an alias of {target} and may hold nothing else")
    return found


# ---------------------------------------------------------------------------- the project


def test_the_project_keeps_its_layers() -> None:
    """No package imports a layer above its own, mock and client never import each other, and the
    checkers use the public modules of the mock and the client only."""
    assert violations(PROJECT_DIR) == []


def test_every_package_and_module_is_seen() -> None:
    """The walk reaches each package's modules and imports (a walk that found nothing would pass)."""
    seen = {package: dict(modules(PROJECT_DIR, package)) for package in LAYERS}
    assert "contracts.wording" in seen["contracts"] and "mockserver.agent.planner" in seen["mockserver"]
    assert "client.flows.skill" in seen["client"] and "conformance.check.walker" in seen["conformance"]
    below = {
        imp.module.split(".")[0] for name, path in seen["conformance"].items() for imp in imports(name, path)
    }
    assert {"contracts", "mockserver", "client"} <= below


def test_the_public_modules_exist() -> None:
    """A module listed as public that no longer exists is a stale promise."""
    for package, names in PUBLIC.items():
        known = dict(modules(PROJECT_DIR, package))
        assert names <= set(known), names - set(known)


# ---------------------------------------------------------------------------- the check itself


def write(root: Path, files: Mapping[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for package in LAYERS:
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").touch()
    return root


CLEAN = {
    "contracts/spec.py": "import yaml\n",
    "mockserver/backend.py": "from contracts import spec\nfrom . import events\n",
    "mockserver/events.py": "from __future__ import annotations\n",
    "mockserver/testing.py": "from mockserver.backend import events\n",
    "client/core.py": "from contracts.spec import yaml\n",
    "client/__init__.py": "from .core import yaml\n",
    "conformance/check.py": (
        "from client import Client\nfrom mockserver.testing import LiveServer\n"
        "from mockserver import testing\nimport mockserver.backend\n"
    ),
    "contracts/hook.py": '"""Old address."""\nfrom __future__ import annotations\n'
    "from conformance.check import Check\n__all__ = ['Check']\n",
}
FAKE_PUBLIC = {
    "mockserver": frozenset({"mockserver.testing", "mockserver.backend"}),
    "client": frozenset({"client"}),
}
FAKE_ALIASES = {"contracts.hook": "conformance.check"}


def fake_violations(tmp_path: Path, **files: str) -> list[str]:
    tree = {**CLEAN, **{name.replace("__", "/") + ".py": text for name, text in files.items()}}
    return violations(write(tmp_path, tree), LAYERS, FAKE_PUBLIC, FAKE_ALIASES)


def test_a_clean_fake_tree_passes(tmp_path: Path) -> None:
    """The fake tree below breaks nothing, so each case that follows fails for its one change."""
    assert fake_violations(tmp_path) == []


UPWARD = {
    "spec imports the mock at module level": ("contracts__spec", "import mockserver.backend\n"),
    "spec imports the checker in a function": (
        "contracts__spec",
        "def load():\n    from conformance import check\n    return check\n",
    ),
    "spec imports the client when type checking": (
        "contracts__spec",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from client.core import yaml\n",
    ),
    "mock imports the client": ("mockserver__events", "from client import Client\n"),
    "client imports the mock in a try": (
        "client__core",
        "try:\n    import mockserver\nexcept ImportError:\n    pass\n",
    ),
    "mock imports the checker by name": (
        "mockserver__events",
        "import importlib\nplugin = importlib.import_module('conformance.check')\n",
    ),
    "client imports the checker with __import__": ("client__core", "__import__('conformance')\n"),
}


@pytest.mark.parametrize("case", UPWARD.values(), ids=list(UPWARD))
def test_an_import_of_a_higher_layer_is_found(tmp_path: Path, case: tuple[str, str]) -> None:
    """Each import of a layer above (or beside) is reported, wherever in the module it stands."""
    module, text = case
    (found,) = fake_violations(tmp_path, **{module: text})
    assert "a layer it may not import" in found and module.replace("__", "/") in found


PRIVATE = {
    "a private module": ("from mockserver.backend._secret import hook\n", "a private module"),
    "a private module by import": ("import client._core\n", "a private module"),
    "a private module from its package": ("from client import _core\n", "a private name"),
    "a private name": ("from mockserver.backend import _init_state\n", "a private name"),
    "a module not listed as public": ("from mockserver.events import Apply\n", "no public module"),
    "a module not listed, from its package": ("from mockserver import events\n", "no public module"),
    "a module not listed, by import": ("import mockserver.events\n", "no public module"),
}


@pytest.mark.parametrize("case", PRIVATE.values(), ids=list(PRIVATE))
def test_a_private_name_in_the_checker_is_found(tmp_path: Path, case: tuple[str, str]) -> None:
    """The checkers reach the mock and the client through public modules and names only."""
    text, reason = case
    (found,) = fake_violations(tmp_path, conformance__check=text)
    assert reason in found and "conformance/check.py:1" in found


def test_an_alias_holds_nothing_but_its_reexport(tmp_path: Path) -> None:
    """The one sanctioned upward import is an old address: it may re-export its target, nothing more,
    and nothing in its own package may use it."""
    grown = '"""Old address."""\nfrom conformance.check import Check\nfrom mockserver import testing\n'
    (found,) = fake_violations(tmp_path, contracts__hook=grown)
    assert "may hold nothing else" in found
    used = fake_violations(tmp_path, contracts__spec="from contracts.hook import Check\n")
    assert len(used) == 1 and "an old address" in used[0]
