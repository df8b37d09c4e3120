"""The command line of a household (DESIGN.md §7): `--athlete`, `restday assign`, and a single
runner who renamed their id; on a real store file and config."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from restday.cli import main
from restday.cli.exit_codes import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from restday.clock import FixedClock
from restday.demo.sample import SAMPLE_END, SAMPLE_TZ, sample_activities
from restday.models import History
from restday.store import Store
from restday.sync import STRAVA_PARSERS, ingest_activities
from tests.factories import at, run, weigh
from tests.strava_server import FakeStrava, summary_activity

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "strava-activities.json"
DAY = SAMPLE_END.isoformat()
EVENING = FixedClock(datetime(2026, 11, 20, 20, tzinfo=SAMPLE_TZ))
RECEIVED = datetime(2026, 11, 20, 6, 13, tzinfo=UTC)
SEVERAL = "several athletes are configured (anna, ben): choose one with --athlete"

ANNA_AND_BEN = """
[[athlete]]
id = "anna"
name = "Anna"
timezone = "Europe/Berlin"

[[athlete]]
id = "ben"
name = "Ben"
timezone = "Europe/Berlin"

[storage]
path = "restday.db"
"""


@pytest.fixture
def household(tmp_path: Path) -> Path:
    path = tmp_path / "restday.toml"
    path.write_text(ANNA_AND_BEN)
    return path


def single(tmp_path: Path, athlete_id: str) -> Path:
    path = tmp_path / "restday.toml"
    path.write_text(
        f'[athlete]\nid = "{athlete_id}"\ntimezone = "Europe/Berlin"\n'
        '[storage]\npath = "restday.db"\n'
    )
    return path


def restday(config: Path, *args: str, clock: FixedClock | None = None) -> int:
    return main([*args, "--config", str(config)], clock=clock)


def store_of(config: Path) -> Store:
    return Store.open(config.parent / "restday.db", parsers=STRAVA_PARSERS, athlete="anna")


def history_of(config: Path, athlete: str) -> History:
    with store_of(config) as store:
        return store.history(athlete=athlete)


@pytest.fixture
def anna_runs_ben_weighs(household: Path) -> Path:
    """Anna's ten weeks of the sample runner; Ben's weigh-ins and two short runs."""
    with store_of(household) as store:
        ingest_activities(store, sample_activities(), athlete="anna")
        for back in range(5):
            day = SAMPLE_END - timedelta(days=back)
            store.add_body(weigh(day, 82.0), "{}", at(day, 8), athlete="ben")
        runs = [run(SAMPLE_END - timedelta(days=d), 3.0) for d in (1, 2)]
        store.upsert_activities([(a, "{}") for a in runs], athlete="ben")
    return household


def status_json(
    config: Path, athlete: str, capsys: pytest.CaptureFixture[str]
) -> dict[str, object]:
    assert restday(config, "status", "--date", DAY, "--json", "--athlete", athlete) == EXIT_OK
    payload = json.loads(capsys.readouterr().out)
    assert isinstance(payload, dict)
    return payload


# --- which athlete ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("status", ()),
        ("history", ("--days", "3")),
        ("import", (str(SAMPLE),)),
        ("strava sync", ()),
        ("strava auth", ("--code", "a-code")),
    ],
)
def test_with_two_athletes_a_command_without_athlete_names_the_ids_and_changes_nothing(
    household: Path, name: str, args: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    assert restday(household, *name.split(), *args) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.err == f"restday {name}: error: {SEVERAL}\n"
    assert captured.out == ""
    assert not (household.parent / "restday.db").exists()


def test_an_unknown_athlete_is_a_usage_error_naming_the_configured_ids(
    household: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert restday(household, "import", str(SAMPLE), "--athlete", "carl") == EXIT_USAGE
    assert capsys.readouterr().err == (
        'restday import: error: no athlete "carl" is configured '
        '(the athlete ids are "anna" and "ben")\n'
    )
    assert not (household.parent / "restday.db").exists()


def test_import_stores_the_activities_for_the_named_athlete_only(
    household: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert restday(household, "import", str(SAMPLE), "--athlete", "ben") == EXIT_OK
    assert "61 activities: 61 new, 0 updated, 0 unchanged, 0 skipped for ben" in (
        capsys.readouterr().out
    )
    assert len(history_of(household, "ben").activities) == 61
    assert history_of(household, "anna").activities == ()


def test_importing_another_athletes_activities_fails_and_stores_nothing(
    household: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert restday(household, "import", str(SAMPLE), "--athlete", "ben") == EXIT_OK
    assert restday(household, "import", str(SAMPLE), "--athlete", "anna") == EXIT_FAILURE
    err = capsys.readouterr().err
    assert "stored for athlete ben" in err
    assert history_of(household, "anna").activities == ()


def test_status_shows_only_the_named_athletes_data(
    anna_runs_ben_weighs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    anna = status_json(anna_runs_ben_weighs, "anna", capsys)
    ben = status_json(anna_runs_ben_weighs, "ben", capsys)
    assert anna["status"] == "rest"  # the sample runner's overreach
    assert ben["status"] == "calibrating"
    anna_metrics, ben_metrics = anna["metrics"], ben["metrics"]
    assert isinstance(anna_metrics, dict)
    assert isinstance(ben_metrics, dict)
    assert anna_metrics["weight_kg"] is None
    assert ben_metrics["weight_kg"] == 82.0
    assert ben_metrics["week_km"] == 6.0
    assert anna_metrics["week_km"] > 20


def test_status_text_is_headed_with_the_athletes_name(
    anna_runs_ben_weighs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert restday(anna_runs_ben_weighs, "status", "--athlete", "ben", clock=EVENING) == EXIT_OK
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "restday — Ben — Fri 2026-11-20 20:00 (Europe/Berlin)"


def test_history_shows_only_the_named_athletes_days(
    anna_runs_ben_weighs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def week_km(athlete: str) -> list[object]:
        args = ("history", "--json", "--days", "3", "--athlete", athlete)
        assert restday(anna_runs_ben_weighs, *args, clock=EVENING) == EXIT_OK
        lines = capsys.readouterr().out.splitlines()
        return [json.loads(line)["metrics"]["week_km"] for line in lines]

    assert week_km("ben") == [3.0, 6.0, 6.0]  # his runs of the 18th and the 19th
    assert week_km("anna") != week_km("ben")
    table = ("history", "--days", "3", "--athlete", "ben")
    assert restday(anna_runs_ben_weighs, *table, clock=EVENING) == EXIT_OK
    assert "82.0" in capsys.readouterr().out


# --- a single athlete -------------------------------------------------------------------------


def test_a_single_athlete_needs_no_athlete_option_and_may_give_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = single(tmp_path, "anna")
    assert restday(config, "import", str(SAMPLE)) == EXIT_OK
    out = capsys.readouterr().out
    assert "61 new, 0 updated, 0 unchanged, 0 skipped into" in out
    assert restday(config, "status", "--date", DAY) == EXIT_OK
    plain = capsys.readouterr().out
    assert plain.startswith("restday — Fri 2026-11-20 23:59 (Europe/Berlin)")
    assert "REST — rest day recommended" in plain
    assert restday(config, "status", "--date", DAY, "--athlete", "anna") == EXIT_OK
    assert capsys.readouterr().out == plain
    assert restday(config, "status", "--athlete", "ben") == EXIT_USAGE
    assert 'no athlete "ben" is configured (the only athlete id is "anna")' in (
        capsys.readouterr().err
    )


def test_a_renamed_single_athlete_keeps_their_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = single(tmp_path, "me")
    assert restday(config, "import", str(SAMPLE)) == EXIT_OK
    capsys.readouterr()
    before = status_json(config, "me", capsys)
    config.write_text(config.read_text().replace('id = "me"', 'id = "anna"'))
    assert restday(config, "status", "--date", DAY, "--json") == EXIT_OK
    captured = capsys.readouterr()
    assert json.loads(captured.out) == before  # read only: shown, not moved
    assert 'under the former id "me"' in captured.err
    with Store.open(config.parent / "restday.db", read_only=True) as store:
        assert store.athletes() == ["me"]
    assert restday(config, "import", str(SAMPLE)) == EXIT_OK  # a write gives them over
    assert "0 new, 0 updated, 61 unchanged" in capsys.readouterr().out
    with Store.open(config.parent / "restday.db", read_only=True) as store:
        assert store.athletes() == ["anna"]
    assert status_json(config, "anna", capsys) == before


def test_a_single_runners_store_is_the_first_athletes_when_a_household_is_configured(
    tmp_path: Path, household: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store.open(tmp_path / "restday.db", parsers=STRAVA_PARSERS, athlete="me") as store:
        ingest_activities(store, sample_activities())  # the single runner "me", before
    assert status_json(household, "anna", capsys)["status"] != "calibrating"
    assert status_json(household, "ben", capsys)["status"] == "calibrating"
    assert restday(household, "status", "--athlete", "ben") == EXIT_OK
    assert 'athlete "ben" has nothing in the store, which holds the rows of "me"' in (
        capsys.readouterr().err
    )


# --- restday assign ---------------------------------------------------------------------------

AS_SENT = "2026-11-20T06:12:00.000000Z"  # 07:12 in Berlin, as the notification gives it


@pytest.fixture
def unassigned(household: Path) -> Path:
    """A shared scale's weigh-in of 61.2 kg at 07:12 that could be Anna's or Ben's."""
    with store_of(household) as store:
        m = weigh(SAMPLE_END, 61.2, hour=7.2)
        assert store.add_unassigned(m, "{}", RECEIVED, ["anna", "ben"])
    return household


def test_assign_gives_the_weigh_in_to_the_athlete_once(
    unassigned: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert restday(unassigned, "assign", AS_SENT, "anna") == EXIT_OK
    assert capsys.readouterr().out == (
        "assigned 61.2 kg at 2026-11-20 07:12 (Europe/Berlin) to anna\n"
    )
    assert [m.weight_kg for m in history_of(unassigned, "anna").body] == [61.2]
    assert history_of(unassigned, "ben").body == ()
    assert restday(unassigned, "assign", AS_SENT, "ben") == EXIT_FAILURE
    captured = capsys.readouterr()
    assert captured.err == (
        "restday assign: no unassigned weigh-in at 2026-11-20 07:12 (Europe/Berlin); "
        "unassigned now: none\n"
    )
    assert history_of(unassigned, "ben").body == ()


def test_assign_with_a_time_that_matches_none_names_those_waiting(
    unassigned: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert restday(unassigned, "assign", "2026-11-20T07:13:00+01:00", "anna") == EXIT_FAILURE
    assert capsys.readouterr().err == (
        "restday assign: no unassigned weigh-in at 2026-11-20 07:13 (Europe/Berlin); "
        "unassigned now: 61.2 kg at 2026-11-20T07:12:00+01:00\n"
    )
    assert history_of(unassigned, "anna").body == ()


def test_assign_list_shows_each_time_as_assign_takes_it(
    unassigned: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert restday(unassigned, "assign", "--list") == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("1 unassigned; give one to its athlete with `restday assign")
    assert lines[2].split() == ["2026-11-20T07:12:00+01:00", "61.2", "kg", "anna,", "ben"]
    assert restday(unassigned, "assign", lines[2].split()[0], "ben") == EXIT_OK
    capsys.readouterr()
    assert restday(unassigned, "assign", "--list") == EXIT_OK
    assert capsys.readouterr().out == "No unassigned weigh-ins.\n"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ((AS_SENT, "carl"), 'no athlete "carl" is configured (the athlete ids are "anna" and'),
        (("2026-11-20T07:12:00", "anna"), "has no zone: give the time as the notification"),
        (("at seven", "anna"), "not an ISO 8601 time: 'at seven'"),
        ((AS_SENT,), "give the weigh-in's TIME and the ATHLETE it belongs to"),
        ((), "`restday assign --list` shows the unassigned weigh-ins"),
        (("--list", AS_SENT), "--list takes no TIME or ATHLETE"),
    ],
)
def test_assign_refuses_what_it_cannot_use_and_moves_nothing(
    unassigned: Path, args: tuple[str, ...], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert restday(unassigned, "assign", *args) == EXIT_USAGE
    assert said in capsys.readouterr().err
    with store_of(unassigned) as store:
        assert len(store.unassigned()) == 1


# --- Strava and check-config ------------------------------------------------------------------


@pytest.fixture
def strava() -> Iterator[FakeStrava]:
    with FakeStrava() as fake:
        yield fake


def with_strava(config: Path, strava: FakeStrava) -> Path:
    config.write_text(
        config.read_text()
        + f'[strava]\nclient_id = "{strava.client_id}"\nclient_secret = "{strava.client_secret}"\n'
        f'api_url = "{strava.url}"\nbackfill_days = 30\n'
    )
    return config


def test_strava_auth_and_sync_use_the_named_athletes_token_and_rows(
    household: Path, strava: FakeStrava, capsys: pytest.CaptureFixture[str]
) -> None:
    config = with_strava(household, strava)
    strava.add(summary_activity(7_001, datetime.now(UTC) - timedelta(days=1), 8.0))
    assert restday(config, "strava", "auth", "--code", strava.code, "--athlete", "ben") == 0
    out = capsys.readouterr().out
    assert "This token is for Ben (ben): log in to Strava as Ben." in out
    assert (config.parent / "strava-token-ben.json").exists()
    assert not (config.parent / "strava-token-anna.json").exists()
    assert restday(config, "strava", "sync", "--athlete", "ben") == EXIT_OK
    assert "1 activities: 1 new, 0 updated, 0 unchanged, 0 skipped for ben." in (
        capsys.readouterr().out
    )
    assert [a.id for a in history_of(config, "ben").activities] == [7_001]
    assert restday(config, "strava", "sync", "--athlete", "anna") == EXIT_FAILURE  # no token
    assert history_of(config, "anna").activities == ()


def test_check_config_describes_each_athletes_inputs_and_strava(
    household: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    household.write_text(
        household.read_text().replace(
            'name = "Anna"',
            'name = "Anna"\nstrava = { client_id = "777", client_secret = "anna-own-secret" }',
        )
        + '[[scale]]\ntopic = "home/scale"\n[scale.assign]\nanna = [52, 64]\nben = [70, 88]\n'
        + '[[sleep]]\ntopic = "sleep/ben"\nathlete = "ben"\n'
    )
    assert restday(household, "check-config", "--no-connect") == EXIT_FAILURE
    out = capsys.readouterr().out
    athletes = out[out.index("athletes:\n") : out.index("checks:\n")].splitlines()
    token = household.parent / "strava-token-anna.json"
    assert athletes == [
        "athletes:",
        "  anna (Anna), time zone Europe/Berlin",
        "    scales: scale[0] 'home/scale' (52–64 kg of a shared scale)",
        "    sleep: none",
        f"    strava: own application (client_id 777); no token file yet: {token}",
        "  ben (Ben), time zone Europe/Berlin",
        "    scales: scale[0] 'home/scale' (70–88 kg of a shared scale)",
        "    sleep: sleep[0] 'sleep/ben'",
        "    strava: not configured",
    ]
    assert "FIX  strava (anna): not authorised yet: run `restday strava auth --athlete anna`" in out
    assert "ok   strava (ben): not configured" in out
    assert "anna-own-secret" not in out
