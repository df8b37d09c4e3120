"""The wheel and sdist as a user gets them: the example config and LICENSE inside, and
`restday init` working from an empty folder after installing the wheel in a fresh venv.

Built offline from a copy of the source tree (the build writes `build/` and `*.egg-info` into
the tree it builds): the build backend is the project venv's own setuptools (`dev` extra), so
`--no-build-isolation`. The fresh venv gets the wheel alone (`--no-deps --no-index`); its
dependencies come from the project venv's site-packages through a `.pth` line, as nothing can
be downloaded here. A `.pth` path line adds that folder to `sys.path` after the venv's own
site-packages without running its `.pth` files, so the project's editable install stays out:
`restday` is imported from the wheel, as the test checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis",
    "*.db", "*.db-*", "*.whl", "addon",
)  # fmt: skip
EXAMPLE = (REPO / "config.example.toml").read_text(encoding="utf-8")
LICENSE = (REPO / "LICENSE").read_text(encoding="utf-8")
ZONE = "Asia/Kathmandu"
STEP_TIMEOUT_S = 120


def run(
    argv: list[str | Path], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a step; it must succeed."""
    result = subprocess.run(
        [str(arg) for arg in argv],
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_S,
        check=False,
        cwd=cwd,
        env=env,
    )
    assert result.returncode == 0, (argv, result.stdout, result.stderr)
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel and the sdist, built from a copy of the source tree."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=NOT_SOURCE)
    out = root / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", out, source])
    build_sdist = f"from setuptools import build_meta; build_meta.build_sdist({str(out)!r})"
    run([sys.executable, "-c", build_sdist], cwd=source)
    return out


def only(folder: Path, pattern: str) -> Path:
    (found,) = folder.glob(pattern)
    return found


def test_the_wheel_holds_the_example_config_and_the_license(dist: Path) -> None:
    with zipfile.ZipFile(only(dist, "restday-*.whl")) as wheel:
        names = wheel.namelist()
        assert wheel.read("restday/config/example.toml").decode() == EXAMPLE
        (license_name,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert wheel.read(license_name).decode() == LICENSE
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        headers = wheel.read(metadata).decode().split("\n\n")[0].splitlines()
    assert "License-Expression: MIT" in headers
    assert "License-File: LICENSE" in headers
    assert "restday/py.typed" in names


def test_the_sdist_holds_the_license_and_the_example_config(dist: Path) -> None:
    with tarfile.open(only(dist, "restday-*.tar.gz")) as sdist:
        (top,) = {name.split("/")[0] for name in sdist.getnames()}

        def text(path: str) -> str:
            member = sdist.getmember(f"{top}/{path}")
            assert member.isfile(), path  # not the repository's link: its target is not there
            content = sdist.extractfile(member)
            assert content is not None
            return content.read().decode()

        assert text("LICENSE") == LICENSE
        assert text("restday/config/example.toml") == EXAMPLE


def test_restday_init_works_from_an_empty_folder_after_installing_the_wheel(
    dist: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv])
    python = venv / "bin" / "python"
    pip: list[str | Path] = [python, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    run([*pip, "install", "--no-deps", "--no-index", only(dist, "restday-*.whl")])
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(run([python, "-c", purelib]).stdout.strip())
    (site / "project-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RESTDAY_", "PYTHON"))}
    env |= {"TZ": ZONE, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    where = run([python, "-c", "import restday; print(restday.__file__)"], cwd=empty, env=env)
    assert Path(where.stdout.strip()).is_relative_to(site)

    target = tmp_path / "config" / "restday.toml"
    done = run([venv / "bin" / "restday", "init", "--config", target], cwd=empty, env=env)
    assert f"Wrote {target}" in done.stdout
    assert list(empty.iterdir()) == []
    written = target.read_text(encoding="utf-8").splitlines()
    changed = [new for old, new in zip(EXAMPLE.splitlines(), written, strict=True) if old != new]
    assert len(changed) == 1
    assert changed[0].startswith(f'timezone = "{ZONE}" ')
    check: list[str | Path] = [
        venv / "bin" / "restday",
        "check-config",
        "--no-connect",
        "--config",
        target,
    ]
    checked = run(check, cwd=empty, env={**env, "STATE_DIRECTORY": str(tmp_path / "state")})
    assert "configuration OK" in checked.stdout
