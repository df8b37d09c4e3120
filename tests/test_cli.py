"""The command line end to end, on a temporary store and config file."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from restday.cli import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, main
from restday.clock import FixedClock
from restday.sample import SAMPLE_END, SAMPLE_TZ, sample_activities

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "strava-activities.json"
SECRET = "s3cr3t-mqtt-password-value"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RESTDAY_CONFIG", "STATE_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "restday.toml"
    path.write_text('[athlete]\ntimezone = "Europe/Berlin"\n[storage]\npath = "restday.db"\n')
    return path


def run(*args: str, clock: FixedClock | None = None) -> int:
    return main(list(args), clock=clock)


def evening_after_sample() -> FixedClock:
    return FixedClock(
        datetime(SAMPLE_END.year, SAMPLE_END.month, SAMPLE_END.day, 20, tzinfo=SAMPLE_TZ)
    )


def test_example_file_is_the_bundled_sample_athlete() -> None:
    assert json.loads(EXAMPLE.read_text()) == json.loads(json.dumps(sample_activities()))


def test_import_stores_every_activity_and_says_so(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("import", str(EXAMPLE), "--config", str(config)) == EXIT_OK
    out = capsys.readouterr().out
    assert "61 activities: 61 new, 0 updated, 0 unchanged, 0 skipped" in out
    assert (config.parent / "restday.db").exists()


def test_importing_the_same_file_twice_changes_nothing(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = ("status", "--json", "--date", SAMPLE_END.isoformat(), "--config", str(config))
    run("import", str(EXAMPLE), "--config", str(config))
    run(*status)
    before = capsys.readouterr().out.splitlines()[-1]
    assert run("import", str(EXAMPLE), "--config", str(config)) == EXIT_OK
    assert "0 new, 0 updated, 61 unchanged" in capsys.readouterr().out
    run(*status)
    assert capsys.readouterr().out.strip() == before


def test_overreaching_sample_week_recommends_rest_with_reasons(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run("import", str(EXAMPLE), "--config", str(config))
    capsys.readouterr()
    code = run("status", "--json", "--date", SAMPLE_END.isoformat(), "--config", str(config))
    assert code == EXIT_OK
    state = json.loads(capsys.readouterr().out)
    assert state["status"] == "rest"
    assert state["rest_day_recommended"] is True
    fired = {r["rule"] for r in state["reasons"]}
    assert {"run_spike", "no_rest_day", "weekly_increase"} <= fired
    assert state["metrics"]["days_since_rest"] == 7
    assert state["evaluated_at"].startswith(f"{SAMPLE_END.isoformat()}T23:59:59+01:00")


def test_status_text_shows_status_findings_and_sources(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run("import", str(EXAMPLE), "--config", str(config))
    capsys.readouterr()
    assert run("status", "--config", str(config), clock=evening_after_sample()) == EXIT_OK
    out = capsys.readouterr().out
    assert "REST — rest day recommended" in out
    assert "run_spike" in out
    assert "threshold 100 %" in out
    assert "Frandsen" in out


def test_status_without_a_store_says_how_to_start(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("status", "--json", "--config", str(config), clock=evening_after_sample()) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == "calibrating"
    assert "restday import" in captured.err
    assert not (config.parent / "restday.db").exists()


def test_history_prints_one_row_a_day(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run("import", str(EXAMPLE), "--config", str(config))
    capsys.readouterr()
    code = run("history", "--days", "10", "--config", str(config), clock=evening_after_sample())
    assert code == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 11
    assert lines[-1].startswith("Fri 2026-11-20")
    assert "rest" in lines[-1]
    assert "train" in lines[1] or "easy" in lines[1]


def test_bad_config_exits_78_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[mqtt]\nport = 70000\n")
    assert run("status", "--config", str(bad)) == EXIT_CONFIG
    assert "mqtt.port" in capsys.readouterr().err


def test_unknown_key_exits_78_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[rules.sleep_short]\nmin_hour = 6\n")
    assert run("check-config", "--config", str(bad)) == EXIT_CONFIG
    assert "rules.sleep_short.min_hour" in capsys.readouterr().err


def test_missing_config_file_named_on_the_command_line_exits_78(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("status", "--config", str(tmp_path / "nope.toml")) == EXIT_CONFIG
    assert "nope.toml" in capsys.readouterr().err


def test_import_of_a_missing_file_fails_with_exit_1(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("import", str(config.parent / "none.json"), "--config", str(config)) == 1
    assert "none.json: no such file" in capsys.readouterr().err


def test_import_of_non_json_fails_and_stores_nothing(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = config.parent / "broken.json"
    broken.write_text("[{")
    assert run("import", str(broken), "--config", str(config)) == EXIT_FAILURE
    assert "not valid JSON" in capsys.readouterr().err
    assert not (config.parent / "restday.db").exists()


def test_bad_items_are_skipped_and_counted_and_the_rest_imported(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items: list[object] = [*sample_activities()[:3]]
    items.append(
        {
            "id": 1,
            "sport_type": "Run",
            "start_date": "2026-11-20T06:00:00Z",
            "distance": "far",
            "moving_time": 60,
            "elapsed_time": 60,
        }
    )
    items.append("not an object")
    mixed = config.parent / "mixed.json"
    mixed.write_text(json.dumps(items))
    assert run("import", str(mixed), "--config", str(config)) == EXIT_OK
    captured = capsys.readouterr()
    assert "3 new, 0 updated, 0 unchanged, 2 skipped" in captured.out
    assert "distance" in captured.err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("status", "--date", "20-11-2026") == EXIT_USAGE
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert run("history", "--days", "0") == EXIT_USAGE
    assert run("frobnicate") == EXIT_USAGE


def test_check_config_masks_secrets_from_file_and_environment(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESTDAY_MQTT__PASSWORD", SECRET)
    config.write_text(config.read_text() + f'[strava]\nclient_secret = "{SECRET}x"\n')
    assert run("check-config", "--no-connect", "--config", str(config)) == EXIT_OK
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err
    assert "mqtt.password" in captured.out
    assert "configuration OK" in captured.out


def test_python_dash_m_runs_the_cli(config: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "restday", "check-config", "--no-connect", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "athlete.timezone" in done.stdout
