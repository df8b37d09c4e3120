"""`restday init`: the packaged example, with the host's time zone, written once and privately."""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest

from restday.cli import main
from restday.cli.init import example_config, with_timezone
from restday.config import load_config

REPO = Path(__file__).resolve().parents[2]
ZONE = "Pacific/Chatham"  # not the example's, not UTC: plainly the host's
MINE = "# my own config\n"


@pytest.fixture
def platform_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The platform config dir moved into tmp_path, the working folder an empty one, the host's
    zone `ZONE`: nothing of the user's is read or written."""
    folder = tmp_path / "platform" / "restday"
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda name: str(folder))
    monkeypatch.setenv("TZ", ZONE)
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))  # for check-config's store
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    return folder


@pytest.fixture
def umask_0() -> Iterator[None]:
    """The most permissive umask: the file must still be private."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_init_writes_the_example_with_the_host_zone_and_the_config_loads(
    platform_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "restday.toml"
    assert main(["init", "--config", str(path)]) == 0
    config = load_config(path, explicit=True)
    assert config.athlete.timezone == ZONE
    example = load_config(REPO / "config.example.toml", explicit=True).model_dump()
    written = config.model_dump()
    assert example.pop("athlete").pop("timezone") == "Europe/Berlin"
    assert written.pop("athlete").pop("timezone") == ZONE
    assert written == example  # every other value as in the example
    out = capsys.readouterr().out
    assert f"Wrote {path} (mode 0600), with this host's time zone {ZONE}" in out
    assert f"restday check-config --config {path}" in out


def test_only_the_athletes_time_zone_changes_and_its_comment_stays_in_place() -> None:
    example = example_config()
    (old,) = [line for line in example.splitlines() if line.startswith("timezone = ")]
    for zone, column in (("UTC", old.index("#")), ("America/Argentina/Buenos_Aires", None)):
        written = with_timezone(example, zone)
        changed = [
            new
            for line, new in zip(example.splitlines(), written.splitlines(), strict=True)
            if line != new
        ]
        value = f'timezone = "{zone}"'
        start = value.ljust(column) if column else value + " "  # too long: one space before #
        assert changed == [start + old[old.index("#") :]]
        assert tomllib.loads(written)["athlete"]["timezone"] == zone


def test_the_packaged_example_is_the_repositorys_config_example() -> None:
    assert example_config() == (REPO / "config.example.toml").read_text(encoding="utf-8")


def test_init_refuses_to_overwrite_and_leaves_the_file_as_it_was(
    platform_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "restday.toml"
    path.write_text(MINE)
    path.chmod(0o644)
    assert main(["init", "--config", str(path)]) == 1
    assert path.read_text() == MINE
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    captured = capsys.readouterr()
    assert captured.err == f"restday init: {path} exists; not overwritten\n"
    assert captured.out == ""


def test_init_does_not_follow_a_dangling_link(platform_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "restday.toml"
    path.symlink_to(tmp_path / "elsewhere.toml")
    assert main(["init", "--config", str(path)]) == 1
    assert not (tmp_path / "elsewhere.toml").exists()


def test_init_writes_where_restday_config_points_creating_its_folder(
    platform_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask_0: None
) -> None:
    path = tmp_path / "etc" / "restday" / "restday.toml"
    monkeypatch.setenv("RESTDAY_CONFIG", str(path))
    assert main(["init"]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_config(path, explicit=True).athlete.timezone == ZONE
    assert not platform_dir.exists()


def test_config_beats_restday_config(
    platform_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESTDAY_CONFIG", str(tmp_path / "from-env.toml"))
    assert main(["init", "--config", str(tmp_path / "named.toml")]) == 0
    assert (tmp_path / "named.toml").is_file()
    assert not (tmp_path / "from-env.toml").exists()


def test_init_writes_the_platform_config_dir_by_default_privately(
    platform_dir: Path, capsys: pytest.CaptureFixture[str], umask_0: None
) -> None:
    assert main(["init"]) == 0
    path = platform_dir / "restday.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    out = capsys.readouterr().out
    assert "  2. Check it: restday check-config\n" in out  # found there without --config
    assert "read" not in out.splitlines()[-1]  # nothing shadows it
    assert main(["check-config", "--no-connect"]) == 0
    assert f"config file: {path}" in capsys.readouterr().out


def test_init_says_when_a_restday_toml_in_this_folder_would_be_read_first(
    platform_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cwd" / "restday.toml").write_text(MINE)
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    written = platform_dir / "restday.toml"
    assert f"restday check-config --config {written}" in out
    assert out.splitlines()[-1] == (
        f"Commands run in this folder read {tmp_path / 'cwd' / 'restday.toml'} first."
    )


def test_init_reads_no_config_so_a_broken_one_does_not_stop_it(
    platform_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[mqtt\n")
    (tmp_path / "cwd" / "restday.toml").write_text("[mqtt\n")
    monkeypatch.setenv("RESTDAY_MQTT__PORT", "not a port")
    assert main(["check-config", "--no-connect", "--config", str(broken)]) == 78
    assert main(["init", "--config", str(tmp_path / "new.toml")]) == 0


def test_init_says_so_when_the_folder_cannot_be_made(
    platform_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    assert main(["init", "--config", str(tmp_path / "taken" / "restday.toml")]) == 1
    assert (
        capsys.readouterr().err == f"restday init: cannot create the folder {tmp_path / 'taken'}\n"
    )


def test_init_is_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "init" in capsys.readouterr().out
    assert main(["init", "--help"]) == 0
    assert "not overwritten" in capsys.readouterr().out
