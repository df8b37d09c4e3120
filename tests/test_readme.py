"""Every command in the README is exercised here, so the docs cannot drift from the code.

Each command of each ```sh block is run (restday's own commands, in a sandbox copy of the
repository's examples), or, where it cannot run in a test (installing, sudo), checked for
what it relies on. A command this file does not know fails the test: new docs need a check.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from restday.cli import main

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
SH_BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)
EXTRAS = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]


def sh_commands() -> list[str]:
    """Every command of every ```sh block, `&&` chains split into their parts."""
    lines = [line for block in SH_BLOCK.findall(README) for line in block.splitlines()]
    parts = [part.strip() for line in lines for part in line.split("&&")]
    return [part.split("  #")[0].strip() for part in parts if part.strip()]


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with the repository's example and config files, as a user has."""
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    (tmp_path / "examples" / "restday.db").unlink(missing_ok=True)
    shutil.copy(REPO / "config.example.toml", tmp_path)
    for name in ("RESTDAY_CONFIG", "STATE_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_restday(command: str) -> int:
    argv = shlex.split(command)
    assert argv[0] == ".venv/bin/restday"
    return main(argv[1:])


def test_every_readme_command_runs_or_is_checked(
    sandbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: set[str] = set()
    for command in sh_commands():
        argv = shlex.split(command)
        if argv[0] == ".venv/bin/restday":
            assert run_restday(command) == 0, (command, capsys.readouterr())
            seen.add(argv[1])
        elif argv[:3] == ["python3", "-m", "venv"] or argv[:3] == ["sudo", "python3", "-m"]:
            assert argv[-1].endswith("venv")
        elif argv[0].endswith("/pip") or argv[1:2] == ["/opt/restday/venv/bin/pip"]:
            extras = re.findall(r"\.\[(\w+)\]", command)
            assert all(extra in EXTRAS for extra in extras), command
        elif argv[0] == "./scripts/test":
            assert "exec ./scripts/test" in (REPO / ".ci" / "run").read_text()
        elif argv[0] == "cp":
            subprocess.run(argv, check=True)
        elif argv[0] == ".venv/bin/python":
            assert (REPO / argv[1]).is_file(), command
        elif argv[0] in ("sudo", "journalctl"):
            repo_files = r"(?<![\w/])(?:systemd|config)[\w./-]*\.(?:service|toml)"
            for path in re.findall(repo_files, command):
                assert (REPO / path).is_file(), path
        else:
            pytest.fail(f"the README command {command!r} is not exercised by this test")
    out = capsys.readouterr().out
    assert {"demo", "check-config", "import", "status"} <= seen
    assert "REST — rest day recommended" in out  # the sample runner's overreach
    assert "configuration OK" in out


def test_the_readme_has_one_command_to_try_it_and_one_to_test_it() -> None:
    blocks = [block.strip() for block in SH_BLOCK.findall(README)]
    try_it = (
        "python3 -m venv .venv && .venv/bin/pip install -q -e '.[demo]' && .venv/bin/restday demo"
    )
    assert blocks[0] == try_it
    assert blocks[1] == "./scripts/test"
    assert (REPO / "scripts" / "test").stat().st_mode & 0o111


def test_the_readme_pictures_exist() -> None:
    for picture in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README):
        assert (REPO / picture).is_file(), picture
