"""The installed package as an outside judge: the wheel built from this checkout, installed (not
editable) in a fresh virtualenv, run from a directory outside the checkout.

A pip or pipx user gets exactly this, so the four packages and everything the three console
scripts and the pytest plugin read at run time must ship in the wheel: the profiles (B-PROF-01),
the drafts generations start from (B-SSE-11), the failure scenarios, the OpenAPI document and
schemas. Guards B-PROF-01, B-SSE-11, B-CRED-01, B-STATE-06, B-ERR-01.

The fresh virtualenv has no packages of its own but the wheel; a `.pth` file lends it the
third-party packages of the running environment (no network, no download), while the project's
own editable install there is not processed (a `.pth` path line adds a folder, not its `.pth`
files). The test checks that the four packages really import from the new environment.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import site
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import httpx
import pytest

from checkout import PROJECT_DIR
from contracts.resources import PROFILES_DIR, SCENARIOS_DIR

pytestmark = pytest.mark.live  # the console scripts serve on loopback ports

PACKAGES = ("mockserver", "client", "contracts", "conformance")
#: What a source tree copy for the build leaves out: environments, caches, earlier builds.
NOT_SOURCE = (
    ".git",
    ".venv",
    ".ci-venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
)
START_TIMEOUT_S = 60.0
#: setuptools new enough for pyproject.toml (PEP 639 `license`): then the build needs no index.
SETUPTOOLS_FOR_BUILD = (77,)


@dataclass(frozen=True)
class Installed:
    wheel: Path
    bin: Path
    python: Path
    site_packages: Path
    env: dict[str, str]
    outside: Path  # a working directory outside the checkout

    def run(
        self, script: str, *args: str, api: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """A console script of the fresh environment, run outside the checkout (against `api`)."""
        env = self.env if api is None else {**self.env, "NEMO_API_URL": api}
        return subprocess.run(
            [str(self.bin / script), *args],
            cwd=self.outside,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _setuptools_builds_offline() -> bool:
    try:
        version = metadata.version("setuptools")
    except metadata.PackageNotFoundError:
        return False
    return tuple(int(part) for part in version.split(".")[:1] if part.isdigit()) >= SETUPTOOLS_FOR_BUILD


def _build_wheel(root: Path) -> Path:
    """`pip wheel . --no-deps` on a clean copy of the source (no stale build/ leaks into it)."""
    source = root / "source"
    shutil.copytree(PROJECT_DIR, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    out = root / "dist"
    command = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--quiet", "-w", str(out)]
    if _setuptools_builds_offline():
        command.append("--no-build-isolation")
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    (wheel,) = out.glob("nemovideo_twin-*.whl")
    return wheel


def _lent_site_dirs() -> list[str]:
    """The running environment's site-packages folders (its third-party packages)."""
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return [d for d in dirs if Path(d).is_dir()]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("installed")
    wheel = _build_wheel(root)
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=False, symlinks=os.name != "nt")
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    install = ["install", "--no-deps", "--no-index", "--quiet", str(wheel)]
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), *install],
        check=True,
        capture_output=True,
        timeout=300,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    site_packages = Path(purelib)
    (site_packages / "lent-dependencies.pth").write_text(
        "\n".join(_lent_site_dirs()) + "\n", encoding="utf-8"
    )
    outside = root / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "NEMO_", "VIRTUAL_ENV"))}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        HOME=str(outside),
        NEMO_CONFIG_DIR=str(outside / "config"),
        NEMO_TIME_SCALE="0",
    )
    return Installed(wheel, bin_dir, python, site_packages, env, outside)


@dataclass
class Served:
    url: str
    process: subprocess.Popen[str]


@pytest.fixture
def served(installed: Installed) -> Iterator[Served]:
    """`nemo-mock serve --port 0` from the fresh environment, up to its ready line."""
    process = subprocess.Popen(
        [str(installed.bin / "nemo-mock"), "serve", "--port", "0", "--time-scale", "0", "--seed", "11"],
        cwd=installed.outside,
        env=installed.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_S)
        line = process.stdout.readline() if ready else ""
        if not line.startswith("nemo-mock listening on http://127.0.0.1:"):
            process.kill()
            _, err = process.communicate(timeout=10)
            pytest.fail(f"no ready line (exit status {process.returncode}): {line!r}; stderr: {err}")
        yield Served(line.split()[-1], process)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def journal(url: str) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = httpx.get(f"{url}/_mock/journal", timeout=10).json()["entries"]
    return entries


# ---------------------------------------------------------------------------- the wheel itself


def test_wheel_ships_every_file_of_the_packages_and_no_test_material(installed: Installed) -> None:
    """Every file under mockserver/, client/, contracts/ and conformance/ of the checkout (code and
    run-time data: contracts/data, the OpenAPI document, schemas) is in the wheel; fixtures/ and
    tests/ are not."""
    with zipfile.ZipFile(installed.wheel) as archive:
        names = set(archive.namelist())
    expected = {
        path.relative_to(PROJECT_DIR).as_posix()
        for package in PACKAGES
        for path in (PROJECT_DIR / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert expected - names == set()
    assert any(name.startswith("contracts/data/profiles/") for name in names)
    assert "conformance/cli.py" in names and "conformance/plugin.py" in names
    assert not [name for name in names if name.startswith(("fixtures/", "tests/"))]


def test_fresh_environment_imports_the_installed_wheel_not_the_checkout(installed: Installed) -> None:
    probe = (
        "import json, importlib.metadata as m, client, contracts, mockserver, conformance,"
        " contracts.resources as r;"
        "plugin = [e for e in m.entry_points(group='pytest11') if e.name == 'nemo'][0].load();"
        "files = [client.__file__, contracts.__file__, mockserver.__file__, conformance.__file__,"
        " str(r.DATA_DIR), plugin.__file__];"
        "url = json.loads(m.distribution('nemovideo-twin').read_text('direct_url.json') or '{}');"
        "print(json.dumps({'files': files, 'direct_url': url}))"
    )
    done = subprocess.run(
        [str(installed.python), "-c", probe],
        cwd=installed.outside,
        env=installed.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = json.loads(done.stdout)
    for file in found["files"]:
        assert Path(file).resolve().is_relative_to(installed.site_packages.resolve()), file
        assert not Path(file).resolve().is_relative_to(PROJECT_DIR)
    assert found["direct_url"].get("dir_info", {}).get("editable") is not True
    assert found["direct_url"]["url"].endswith(installed.wheel.name)


# ---------------------------------------------------------------------------- the console scripts


def test_installed_mock_lists_the_shipped_profiles_and_scenarios(installed: Installed) -> None:
    """The defect this guards: the installed mock knew no profile ("shipped profiles: ")."""
    profiles = sorted(p.name for p in PROFILES_DIR.iterdir() if p.is_dir())
    unknown = installed.run("nemo-mock", "serve", "--profile", "no-such-skill")
    assert unknown.returncode == 2
    assert f"shipped profiles: {', '.join(profiles)}" in unknown.stderr
    listed = installed.run("nemo-mock", "scenarios")
    assert listed.returncode == 0, listed.stderr
    names = sorted(line.split()[0] for line in listed.stdout.splitlines() if line.strip())
    assert names == sorted(p.stem for p in SCENARIOS_DIR.glob("*.yaml"))


def test_installed_scripts_work_against_the_installed_mock(installed: Installed, served: Served) -> None:
    """nemo-mock serves, nemo-client spends and reads, nemo-contract checks, each with real requests."""
    health = httpx.get(f"{served.url}/_mock/health", timeout=10).json()
    assert health["status"] == "ok" and health["profile"] == "nemo-video"
    credits = installed.run("nemo-client", "credits", api=served.url)
    assert credits.returncode == 0, credits.stderr
    assert "100" in credits.stdout
    assert any(e["path"] == "/api/credits/balance/simple" and e["status"] == 200 for e in journal(served.url))

    chat = installed.run(
        "nemo-client", "chat", "make a city timelapse video", api=served.url
    )  # a fixture draft (B-SSE-11)
    assert chat.returncode == 0, chat.stderr
    status = installed.run("nemo-client", "status", api=served.url)
    assert status.returncode == 0, status.stderr
    assert "1. Video: city timelapse (0-10s)" in status.stdout  # B-STATE-06, from the shipped draft

    seen = len(journal(served.url))
    check = installed.run(
        "nemo-contract", "check", "--base-url", served.url, "--max-examples", "2", "--seed", "1", timeout=300
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert len(journal(served.url)) > seen


def test_installed_mock_serves_its_web_pages_from_the_wheel(served: Served) -> None:
    """The templates and assets of mockserver/web ship as package data: the installed mock serves them."""
    console = httpx.get(f"{served.url}/_mock/ui", timeout=10)
    assert console.status_code == 200 and "<h1>nemo-mock console</h1>" in console.text
    script = httpx.get(f"{served.url}/_mock/ui/console.js", timeout=10)
    assert script.status_code == 200 and "EventSource" in script.text
    style = httpx.get(f"{served.url}/workspace/assets/web.css", timeout=10)
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    refused = httpx.get(f"{served.url}/workspace/claim?ct=clm_unknown0000", timeout=10)
    assert refused.status_code == 404 and "Unknown project link" in refused.text
