"""The command line end to end, on a temporary store and config file."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from restday.cli import main
from restday.cli.exit_codes import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from restday.cli.report import status_text
from restday.clock import FixedClock
from restday.demo.sample import SAMPLE_END, SAMPLE_TZ, sample_activities
from restday.models import Finding, Metrics, Recommendation, Severity, Status
from restday.rules.decision import deciding
from restday.rules.settings import DecisionConfig
from restday.store import Store
from tests.factories import at, night, pain, weigh

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "strava-activities.json"
SECRET = "s3cr3t-mqtt-password-value"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "restday.toml"
    path.write_text('[athlete]\ntimezone = "Europe/Berlin"\n[storage]\npath = "restday.db"\n')
    return path


def run(*args: str, clock: FixedClock | None = None) -> int:
    return main(list(args), clock=clock)


def evening_after_sample() -> FixedClock:
    return on_sample_end(20)


def on_sample_end(hour: int) -> FixedClock:
    return FixedClock(
        datetime(SAMPLE_END.year, SAMPLE_END.month, SAMPLE_END.day, hour, tzinfo=SAMPLE_TZ)
    )


YEAR_BLOCKS = 6  # ten-week blocks of the sample athlete, one after the other: 420 days
YEAR_SEED = 7
SLEEP_AND_SCALE = '[[sleep]]\ntopic = "sleep/me"\n[[scale]]\ntopic = "scale/me"\n'


@pytest.fixture
def year(config: Path) -> Path:
    """The config of a store holding more than a year of the sample athlete (its ten weeks
    repeated), with nights, weigh-ins and pain reports: every part of the payload has data."""
    config.write_text(config.read_text() + SLEEP_AND_SCALE)
    items: list[dict[str, object]] = []
    for block in range(YEAR_BLOCKS):
        for item in sample_activities(SAMPLE_END - timedelta(weeks=10 * block)):
            items.append(item | {"id": len(items) + 1})
    activities = config.parent / "year.json"
    activities.write_text(json.dumps(items))
    assert run("import", str(activities), "--config", str(config)) == EXIT_OK
    rng = random.Random(YEAR_SEED)
    with Store.open(config.parent / "restday.db") as store:
        for back in range(YEAR_BLOCKS * 70):
            d = SAMPLE_END - timedelta(days=back)
            if rng.random() < 0.9:
                hours = rng.uniform(4.5, 8.5)
                sleep = night(d, hours, hrv=rng.uniform(40, 80), rhr=rng.uniform(45, 55))
                store.add_sleep(sleep, "{}", at(d, 8))
            if rng.random() < 0.7:
                store.add_body(weigh(d, rng.uniform(69.0, 71.5)), "{}", at(d, 8))
        for back, level in ((60, 3), (45, 5), (44, 6), (43, 5), (42, 5), (41, 9), (1, 2)):
            d = SAMPLE_END - timedelta(days=back)
            store.add_pain(pain(d, level), "{}", at(d, 9))
    return config


def history_lines(
    *args: str, capsys: pytest.CaptureFixture[str], clock: FixedClock | None = None
) -> list[str]:
    assert run("history", *args, clock=clock or evening_after_sample()) == EXIT_OK
    return capsys.readouterr().out.splitlines()


def day_of(line: str) -> str:
    day = json.loads(line)["day"]
    assert isinstance(day, str)
    return day


def without_day(line: str) -> str:
    """A `history --json` line as `status --json` prints it: the added `day` taken out."""
    prefix = f'{{"day": "{day_of(line)}", '
    assert line.startswith(prefix)
    return "{" + line.removeprefix(prefix)


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


# --- history --json, --summary, --until ----------------------------------------------------


def test_history_json_is_status_json_for_every_day_of_a_year(
    year: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    noon = on_sample_end(12)  # today is evaluated now, not at its end
    args = ("--json", "--days", "365", "--config", str(year))
    lines = history_lines(*args, capsys=capsys, clock=noon)
    assert [day_of(line) for line in lines] == [
        (SAMPLE_END - timedelta(days=back)).isoformat() for back in range(364, -1, -1)
    ]
    for line in lines[:-1]:
        assert run("status", "--date", day_of(line), "--json", "--config", str(year)) == EXIT_OK
        assert without_day(line) == capsys.readouterr().out.rstrip("\n"), day_of(line)
    today = without_day(lines[-1])
    assert run("status", "--json", "--config", str(year), clock=noon) == EXIT_OK
    assert today == capsys.readouterr().out.rstrip("\n")
    assert json.loads(today)["evaluated_at"] == f"{SAMPLE_END}T12:00:00+01:00"
    # the year exercises the whole payload: sleep, weight, findings, more than one status
    states = [json.loads(line) for line in lines]
    assert sum(1 for s in states if s["metrics"]["last_sleep_h"] is not None) > 200
    assert sum(1 for s in states if s["metrics"]["weight_kg"] is not None) > 200
    assert sum(1 for s in states if s["reasons"]) > 200
    assert len({s["status"] for s in states}) >= 2
    assert all(s["silent"] == [] for s in states)


def test_history_json_evaluates_today_now(year: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = history_lines("--json", "--days", "2", "--config", str(year), capsys=capsys)
    assert [json.loads(line)["evaluated_at"] for line in lines] == [
        f"{SAMPLE_END - timedelta(days=1)}T23:59:59+01:00",
        f"{SAMPLE_END}T20:00:00+01:00",
    ]


def test_history_until_ends_the_rows_on_that_day(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run("import", str(EXAMPLE), "--config", str(config))
    capsys.readouterr()
    until = SAMPLE_END - timedelta(days=3)
    args = ("--until", until.isoformat(), "--config", str(config))
    lines = history_lines("--json", "--days", "3", *args, capsys=capsys)
    assert [day_of(line) for line in lines] == [
        (until - timedelta(days=back)).isoformat() for back in (2, 1, 0)
    ]
    for line in lines:
        assert run("status", "--date", day_of(line), "--json", "--config", str(config)) == 0
        assert without_day(line) == capsys.readouterr().out.rstrip("\n")
    table = history_lines("--days", "5", *args, capsys=capsys)
    assert len(table) == 6
    assert table[-1].startswith(f"{until:%a %Y-%m-%d}")


def test_history_until_today_is_today_and_after_today_a_usage_error(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run("import", str(EXAMPLE), "--config", str(config))
    capsys.readouterr()
    today = ("--until", SAMPLE_END.isoformat(), "--json", "--config", str(config))
    assert run("history", *today, clock=evening_after_sample()) == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert json.loads(out[-1])["evaluated_at"] == f"{SAMPLE_END}T20:00:00+01:00"
    tomorrow = (SAMPLE_END + timedelta(days=1)).isoformat()
    code = run(
        "history", "--until", tomorrow, "--config", str(config), clock=evening_after_sample()
    )
    assert code == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"--until {tomorrow} is after today ({SAMPLE_END} in Europe/Berlin)" in captured.err


@pytest.mark.parametrize("other", ["--json", "--summary"])
def test_history_plot_combines_with_neither_json_nor_summary(
    other: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = tmp_path / "history.png"
    missing = str(tmp_path / "none.toml")  # a usage error is found before the config is read
    assert run("history", "--plot", str(chart), other, "--config", missing) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"--plot cannot be combined with {other}" in err
    assert not chart.exists()


def test_history_summary_json_counts_what_history_json_shows(
    year: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    window = ("--days", "200", "--until", "2026-10-31", "--config", str(year))
    lines = history_lines("--json", *window, capsys=capsys)
    (line,) = history_lines("--summary", "--json", *window, capsys=capsys)
    summary = json.loads(line)
    states = [json.loads(line) for line in lines]
    assert summary["days"] == len(states) == 200
    assert summary["by_status"] == {
        status.value: sum(1 for s in states if s["status"] == status) for status in Status
    }
    fired: dict[str, Counter[str]] = {}
    decided: Counter[str] = Counter()
    for state in states:
        findings = [finding_of(reason) for reason in state["reasons"]]
        top: dict[str, Severity] = {}
        for f in findings:
            top[f.rule] = max(top.get(f.rule, f.severity), f.severity, key=lambda s: s.rank)
        for rule, severity in top.items():
            fired.setdefault(rule, Counter())[severity.value] += 1
        status = Status(state["status"])
        decided.update({f.rule for f in deciding(findings, status, DecisionConfig())})
    assert set(summary["rules"]) == set(fired)
    for rule, counts in summary["rules"].items():
        assert counts["fired"] == {s.value: fired[rule][s.value] for s in Severity}, rule
        assert counts["decided"] == decided[rule], rule
    not_train = sum(summary["by_status"][s] for s in ("easy", "rest", "see_doctor"))
    assert sum(decided.values()) >= not_train > 0  # every such day was decided by something


def finding_of(reason: dict[str, object]) -> Finding:
    """A finding back from its payload (what `deciding` needs: rule, family, severity)."""
    return Finding(
        rule=str(reason["rule"]),
        severity=Severity(str(reason["severity"])),
        message=str(reason["message"]),
        value=None,
        threshold=None,
        unit=str(reason["unit"]),
        citation=str(reason["citation"]),
        family=str(reason["family"]),
    )


def test_history_summary_table_shows_the_same_counts(
    year: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    window = ("--days", "90", "--until", "2026-11-19", "--config", str(year))
    (line,) = history_lines("--summary", "--json", *window, capsys=capsys)
    summary = json.loads(line)
    table = history_lines("--summary", *window, capsys=capsys)
    assert table[0] == "90 days · 2026-08-22 to 2026-11-19"
    rows = {cells[0]: cells[1:] for cells in (row.split() for row in table) if cells}
    for status, count in summary["by_status"].items():
        assert rows[status] == [str(count), f"{100 * count / 90:.1f}"]
    assert rows["rule"] == [*(s.value for s in Severity), "decided"]
    for rule, counts in summary["rules"].items():
        expected = [*(str(counts["fired"][s.value]) for s in Severity), str(counts["decided"])]
        assert rows[rule] == expected
    assert not any(row.startswith("Not tracked") for row in table)  # sleep and scale are set


# --- status text: families, carried findings, what was not tracked --------------------------


def test_status_text_names_each_findings_family_and_the_sleep_debt_window(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run("import", str(EXAMPLE), "--config", str(config))
    capsys.readouterr()
    run("status", "--json", "--config", str(config), clock=evening_after_sample())
    reasons = json.loads(capsys.readouterr().out)["reasons"]
    assert run("status", "--config", str(config), clock=evening_after_sample()) == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert reasons
    for reason in reasons:
        assert f"  {reason['severity'].upper()} · {reason['rule']} ({reason['family']})" in out
    assert any("debt over 7 nights" in line for line in out)


@pytest.mark.parametrize(
    ("inputs", "line"),
    [
        ("", "Not tracked: sleep, weight (no source configured, so restday did not look at them)"),
        ('[[scale]]\ntopic = "scale/me"\n', "Not tracked: sleep (no source configured, so "
         "restday did not look at it)"),
        (SLEEP_AND_SCALE, None),
    ],
)  # fmt: skip
def test_status_text_says_which_inputs_were_not_tracked(
    inputs: str, line: str | None, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config.write_text(config.read_text() + inputs)
    run("import", str(EXAMPLE), "--config", str(config))
    capsys.readouterr()
    assert run("status", "--config", str(config), clock=evening_after_sample()) == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    not_tracked = [text for text in out if text.startswith("Not tracked")]
    assert not_tracked == ([] if line is None else [line])


def test_status_text_says_which_days_run_a_carried_finding_comes_from() -> None:
    yesterday = date(2026, 11, 19)
    carried = Finding(
        rule="run_spike",
        severity=Severity.MODERATE,
        message="Yesterday's 33.5 km was 2.2× your longest in 30 days.",
        value=123.0,
        threshold=30.0,
        unit="%",
        citation="Frandsen et al., BJSM 2025",
        family="session",
        run_day=yesterday,
    )
    at_noon = datetime(2026, 11, 20, 12, tzinfo=SAMPLE_TZ)
    rec = Recommendation(Status.EASY, 75, (carried,), Metrics(), (), (), at_noon)
    lines = status_text(rec, "Europe/Berlin").splitlines()
    assert "  MODERATE · run_spike (session) · from the run of Thu 2026-11-19" in lines
