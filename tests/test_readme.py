"""The README's commands are run here, so the docs cannot drift from the code."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from restday.cli import main

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
SH_BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)


def sh_commands() -> list[str]:
    """Every command of every ```sh block, `&&` chains split into their parts."""
    lines = [line for block in SH_BLOCK.findall(README) for line in block.splitlines()]
    return [part.strip() for line in lines for part in line.split("&&") if part.strip()]


def test_readme_try_it_commands_run_and_recommend_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The example config keeps its store beside itself; run it from a copy of examples/.
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    (tmp_path / "examples" / "restday.db").unlink(missing_ok=True)
    monkeypatch.chdir(tmp_path)
    restday_commands = [c for c in sh_commands() if c.startswith(".venv/bin/restday ")]
    assert [shlex.split(c)[1] for c in restday_commands] == ["import", "status"]
    for command in restday_commands:
        assert main(shlex.split(command)[1:]) == 0, command
    out = capsys.readouterr().out
    assert "Imported 61 activities" in out
    assert "REST — rest day recommended" in out
    assert "STRONG · run_spike" in out


def test_readme_sets_up_with_one_command_from_a_fresh_python() -> None:
    setup = [c for c in sh_commands() if c.startswith("python3 -m venv")]
    assert setup == ["python3 -m venv .venv"]
    assert ".venv/bin/pip install -q -e ." in sh_commands()


def test_readme_test_command_is_what_ci_runs() -> None:
    assert "./scripts/test" in sh_commands()
    ci = (REPO / ".ci" / "run").read_text()
    assert "exec ./scripts/test" in ci
    assert (REPO / "scripts" / "test").stat().st_mode & 0o111


def test_readme_benchmark_command_names_a_real_script() -> None:
    bench = [c for c in sh_commands() if c.startswith(".venv/bin/python bench/")]
    assert bench
    for command in bench:
        assert (REPO / shlex.split(command)[1]).is_file()
