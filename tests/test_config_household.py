"""A household in the config (DESIGN.md §7, issue 13): `[[athlete]]` tables, each athlete's own
rules, report time and Strava app, scales and sleep inputs naming their athlete."""

from __future__ import annotations

import json
import os
import re
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import platformdirs
import pytest

from restday.cli import main
from restday.config import (
    MASK,
    AthleteConfig,
    Config,
    ConfigError,
    UnknownAthleteError,
    WeightBand,
    load_config,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"
SECRET = "anna-Zq9xV4"  # distinctive, so finding it anywhere is a leak
OTHER_SECRET = "ben-Kp4wT7"
NUMERIC_SECRET = 918273645546372819

ANNA_AND_BEN = """
[[athlete]]
id = "anna"
name = "Anna"
timezone = "Europe/Berlin"

[[athlete]]
id = "ben"
name = "Ben"
timezone = "America/New_York"
"""


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No RESTDAY_* or systemd variables from the host; platform dirs and cwd inside tmp."""
    for name in list(os.environ):
        if name.upper().startswith("RESTDAY_") or name == "STATE_DIRECTORY":
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.chdir(tmp_path)


def write(folder: Path, text: str) -> Path:
    path = folder / "restday.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(folder: Path, text: str) -> Config:
    return load_config(write(folder, text), explicit=True)


def errors_of(folder: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(folder, text)
    return caught.value.errors


# --- one athlete, as before -------------------------------------------------------------------


def test_without_an_athlete_table_there_is_one_athlete_called_me() -> None:
    config = Config()
    assert config.athletes == (config.athlete,)
    assert config.athlete_ids() == ("me",)
    assert config.athlete.name == "Me"
    assert config.athlete_config() is config.athlete


def test_a_single_athlete_table_is_the_only_athlete(tmp_path: Path) -> None:
    config = load(tmp_path, '[athlete]\nid = "anna"\nname = "Anna"\n')
    assert config.athlete_ids() == ("anna",)
    assert config.athlete_config("anna") is config.athlete
    assert config.masked()["athlete"]["id"] == "anna"  # a table, as before


def test_the_single_athlete_keeps_todays_token_file(tmp_path: Path) -> None:
    config = load(tmp_path, '[athlete]\nid = "anna"\n')
    expected = Path(platformdirs.user_data_dir("restday")) / "strava-token.json"
    assert config.token_path() == expected
    assert config.token_path("anna") == expected


def test_zero_argument_accessors_mean_the_first_athlete(tmp_path: Path) -> None:
    config = load(tmp_path, ANNA_AND_BEN + '[[scale]]\ntopic = "s/anna"\nathlete = "anna"\n')
    assert config.profile() == config.profile("anna")
    assert config.morning_report_time() == config.morning_report_time("anna")
    assert config.token_path() == config.token_path("anna")
    assert config.rules_for() == config.rules
    assert config.strava_for() == config.strava


# --- the environment --------------------------------------------------------------------------


def test_environment_overrides_the_single_athlete_key_by_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, '[athlete]\nid = "anna"\ntimezone = "Europe/Berlin"\n')
    monkeypatch.setenv("RESTDAY_ATHLETE__TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("RESTDAY_ATHLETE__MORNING_REPORT", "07:45")
    monkeypatch.setenv("RESTDAY_ATHLETE__RULES__SLEEP_SHORT__MIN_HOURS", "7")
    config = load_config(path, explicit=True)
    assert (config.athlete.id, config.athlete.timezone) == ("anna", "Europe/Paris")
    assert config.morning_report_time() == time(7, 45)
    assert config.rules_for().sleep_short.min_hours == 7.0


def test_environment_can_give_the_single_athlete_their_strava_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "[athlete]\nstrava = { client_id = 4242 }\n")
    monkeypatch.setenv("RESTDAY_ATHLETE__STRAVA__CLIENT_SECRET", SECRET)
    strava = load_config(path, explicit=True).strava_for()
    assert (strava.client_id, strava.client_secret.get_secret_value()) == ("4242", SECRET)


def test_environment_over_several_athletes_is_an_error_naming_the_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, ANNA_AND_BEN)
    monkeypatch.setenv("RESTDAY_ATHLETE__TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("RESTDAY_ATHLETE__STRAVA__CLIENT_SECRET", SECRET)
    with pytest.raises(ConfigError) as caught:
        load_config(path, explicit=True)
    (error,) = caught.value.errors
    assert error.startswith("athlete: environment variables override a single [athlete] table")
    assert "RESTDAY_ATHLETE__TIMEZONE" in error
    assert "RESTDAY_ATHLETE__STRAVA__CLIENT_SECRET" in error
    assert SECRET not in error


def test_environment_for_other_sections_still_works_with_several_athletes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, ANNA_AND_BEN)
    monkeypatch.setenv("RESTDAY_MQTT__PORT", "1884")
    config = load_config(path, explicit=True)
    assert config.mqtt.port == 1884
    assert config.athlete_ids() == ("anna", "ben")


# --- several athletes -------------------------------------------------------------------------


def test_two_athletes_load_in_order_and_the_first_is_config_athlete(tmp_path: Path) -> None:
    config = load(tmp_path, ANNA_AND_BEN)
    assert config.athlete_ids() == ("anna", "ben")
    assert config.athlete.id == "anna"
    assert config.athlete_config("ben").timezone == "America/New_York"
    assert config.profile("ben").timezone == ZoneInfo("America/New_York")


def test_athletes_without_a_name_are_called_by_their_id(tmp_path: Path) -> None:
    config = load(tmp_path, '[[athlete]]\nid = "anna"\n[[athlete]]\nid = "ben"\n')
    assert [athlete.name for athlete in config.athletes] == ["anna", "ben"]


def test_two_athletes_with_the_same_id_name_the_second(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path, '[[athlete]]\nid = "anna"\n[[athlete]]\nid = "anna"\n')
    assert error.startswith('athlete[1].id: athlete id "anna" is used twice (athlete[0] has')


def test_a_mistake_in_the_second_athlete_names_its_place(tmp_path: Path) -> None:
    text = ANNA_AND_BEN.replace("America/New_York", "Mars/Olympus") + "[mqtt]\nport = 0\n"
    errors = errors_of(tmp_path, text)
    assert [error.split(":")[0] for error in errors] == ["athlete[1].timezone", "mqtt.port"]


def test_an_empty_list_of_athletes_is_an_error(tmp_path: Path) -> None:
    assert errors_of(tmp_path, "athlete = []\n") == ["athlete: must have at least one athlete"]


def test_an_unknown_athlete_id_lists_the_configured_ones(tmp_path: Path) -> None:
    config = load(tmp_path, ANNA_AND_BEN)
    with pytest.raises(UnknownAthleteError) as caught:
        config.profile("bob")
    assert (
        str(caught.value) == 'no athlete "bob" is configured (the athlete ids are "anna" and "ben")'
    )
    assert isinstance(caught.value, LookupError)
    assert not isinstance(caught.value, KeyError)


def test_athletes_can_be_given_as_models_too() -> None:
    config = Config(athlete=[AthleteConfig(id="anna"), AthleteConfig(id="ben")])
    assert config.athlete_ids() == ("anna", "ben")


def test_each_athlete_has_their_own_morning_report_or_the_shared_one(tmp_path: Path) -> None:
    text = ANNA_AND_BEN.replace('name = "Anna"', 'name = "Anna"\nmorning_report = 05:15:00')
    config = load(tmp_path, text + '[schedule]\nmorning_report = "07:00"\n')
    assert config.morning_report_time("anna") == time(5, 15)
    assert config.morning_report_time("ben") == time(7, 0)


def test_an_athletes_morning_report_must_be_hh_mm(tmp_path: Path) -> None:
    text = ANNA_AND_BEN.replace('name = "Ben"', 'name = "Ben"\nmorning_report = "7:00"')
    (error,) = errors_of(tmp_path, text)
    assert error.startswith("athlete[1].morning_report: must be a 24-hour time")


# --- each athlete's rules ---------------------------------------------------------------------

SHARED_SLEEP_SHORT = "[rules.sleep_short]\nmin_hours = 6.5\nrest_hours = 5.5\n"


def test_a_rule_override_changes_one_key_and_keeps_the_shared_others(tmp_path: Path) -> None:
    override = "[athlete.rules.sleep_short]\nmin_hours = 7.5\n"
    config = load(tmp_path, SHARED_SLEEP_SHORT + ANNA_AND_BEN + override)
    ben = config.rules_for("ben").sleep_short
    assert (ben.min_hours, ben.rest_hours) == (7.5, 5.5)
    assert config.rules_for("anna") == config.rules
    assert config.rules_for("ben").acwr == config.rules.acwr


def test_an_override_can_switch_a_rule_off_for_one_athlete(tmp_path: Path) -> None:
    text = ANNA_AND_BEN.replace(
        'name = "Ben"', 'name = "Ben"\nrules = { cadence = { enabled = false } }'
    )
    config = load(tmp_path, text)
    assert not config.rules_for("ben").cadence.enabled
    assert config.rules_for("anna").cadence.enabled


def test_a_misspelled_override_key_names_athlete_rule_and_key(tmp_path: Path) -> None:
    text = ANNA_AND_BEN + "[athlete.rules.sleep_short]\nmin_hourz = 7.0\n"
    (error,) = errors_of(tmp_path, text)
    assert error.startswith("athlete[1].rules.sleep_short.min_hourz: is not a known key")


def test_an_unknown_rule_id_in_an_override_is_named(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path, "[athlete.rules.sleep_shortt]\nmin_hours = 7.0\n")
    assert error.startswith("athlete.rules.sleep_shortt: is not a rule id")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("rest_hours = 30", "athlete.rules.sleep_short.rest_hours: must be at most 24"),
        ('min_hours = "six"', 'athlete.rules.sleep_short.min_hours: must be a number (got "six")'),
    ],
)
def test_an_override_value_is_checked_like_the_shared_one(
    tmp_path: Path, line: str, expected: str
) -> None:
    (error,) = errors_of(tmp_path, f"[athlete.rules.sleep_short]\n{line}\n")
    assert error.startswith(expected)


def test_the_merged_thresholds_must_still_be_in_order(tmp_path: Path) -> None:
    override = "[athlete.rules.sleep_short]\nrest_hours = 7.0\n"
    (error,) = errors_of(tmp_path, override)  # over the default min_hours, 6.0
    assert error == "athlete.rules.sleep_short: rest_hours must not be above min_hours"
    shared = "[rules.sleep_short]\nmin_hours = 8.0\n"
    assert load(tmp_path, shared + override).rules_for().sleep_short.rest_hours == 7.0


def test_an_override_fits_unset_levels_as_the_shared_table_would(tmp_path: Path) -> None:
    acwr = load(tmp_path, "[athlete.rules.acwr]\ncaution = 1.2\n").rules_for().acwr
    assert (acwr.info, acwr.caution, acwr.high) == (1.2, 1.2, 2.0)


# --- each athlete's Strava app ----------------------------------------------------------------

OWN_APP = f'strava = {{ client_id = 777, client_secret = "{SECRET}" }}'
SHARED_APP = f'[strava]\nclient_id = "100"\nclient_secret = "{OTHER_SECRET}"\npoll_minutes = 20\n'


def test_an_athlete_with_their_own_strava_app_keeps_the_shared_polling(tmp_path: Path) -> None:
    text = ANNA_AND_BEN.replace('name = "Anna"', f'name = "Anna"\n{OWN_APP}')
    config = load(tmp_path, SHARED_APP + text)
    anna = config.strava_for("anna")
    assert (anna.client_id, anna.client_secret.get_secret_value()) == ("777", SECRET)
    assert (anna.poll_minutes, anna.backfill_days, anna.api_url) == (
        20,
        config.strava.backfill_days,
        config.strava.api_url,
    )
    assert config.strava_for("ben") == config.strava


def test_an_own_strava_app_needs_both_keys(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path, "[athlete]\nstrava = { client_id = 777 }\n")
    assert error.startswith("athlete.strava.client_secret: is required with client_id")
    text = ANNA_AND_BEN.replace(
        'name = "Ben"', f'name = "Ben"\nstrava = {{ client_secret = "{SECRET}" }}'
    )
    (error,) = errors_of(tmp_path, text)
    assert error.startswith("athlete[1].strava.client_id: is required with client_secret")
    assert SECRET not in error


def test_an_own_strava_secret_never_appears_in_errors(tmp_path: Path) -> None:
    text = ANNA_AND_BEN.replace(
        'name = "Ben"',
        f'name = "Ben"\nstrava = {{ client_id = 1, client_secret = {NUMERIC_SECRET} }}',
    )
    assert errors_of(tmp_path, text) == ["athlete[1].strava.client_secret: must be text"]


def test_several_athletes_have_a_token_file_each(tmp_path: Path) -> None:
    config = load(tmp_path, ANNA_AND_BEN + '[storage]\npath = "data/restday.db"\n')
    assert config.token_path("anna") == tmp_path / "data" / "strava-token-anna.json"
    assert config.token_path("ben") == tmp_path / "data" / "strava-token-ben.json"


# --- scales -----------------------------------------------------------------------------------


def test_with_one_athlete_a_scale_needs_no_athlete(tmp_path: Path) -> None:
    config = load(tmp_path, '[athlete]\nid = "anna"\n[[scale]]\ntopic = "scale/me"\n')
    assert config.scale_athletes(config.scale[0]) == ("anna",)
    assert config.profile().has_scale


def test_with_several_athletes_a_scale_must_name_one_or_assign_bands(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path, ANNA_AND_BEN + '[[scale]]\ntopic = "scale/shared"\n')
    assert error.startswith("scale[0]: names no athlete: with several athletes")
    assert '"anna" and "ben"' in error


def test_a_scale_cannot_both_name_an_athlete_and_assign_bands(tmp_path: Path) -> None:
    text = '[[scale]]\ntopic = "s"\nathlete = "me"\n[scale.assign]\nme = [50, 90]\n'
    (error,) = errors_of(tmp_path, text)
    assert error.startswith("scale[0]: sets both athlete and [scale.assign]")


def test_a_scale_naming_an_unknown_athlete_lists_the_ids(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path, ANNA_AND_BEN + '[[scale]]\ntopic = "s"\nathlete = "bob"\n')
    assert error == (
        'scale[0].athlete: is not a configured athlete (the athlete ids are "anna" and "ben") '
        '(got "bob")'
    )


def test_a_band_for_an_unknown_athlete_is_named(tmp_path: Path) -> None:
    text = (
        ANNA_AND_BEN + '[[scale]]\ntopic = "s"\n[scale.assign]\nanna = [52, 64]\nbob = [70, 88]\n'
    )
    (error,) = errors_of(tmp_path, text)
    assert error.startswith("scale[0].assign.bob: is not a configured athlete")


@pytest.mark.parametrize(
    ("band", "expected"),
    [
        ("[64, 52]", "scale[0].assign.me: must be [min_kg, max_kg] with min_kg not above max_kg"),
        ("[10, 60]", "scale[0].assign.me[0]: must be at least 20"),
        ("[60, 350]", "scale[0].assign.me[1]: must be at most 300"),
        ('[60, "x"]', "scale[0].assign.me[1]: must be a number"),
        ("[60]", "scale[0].assign.me: must be two numbers [min_kg, max_kg]"),
        ("60", "scale[0].assign.me: must be two numbers [min_kg, max_kg]"),
    ],
)
def test_a_band_is_two_weights_in_order_within_what_a_scale_accepts(
    tmp_path: Path, band: str, expected: str
) -> None:
    (error,) = errors_of(tmp_path, f'[[scale]]\ntopic = "s"\n[scale.assign]\nme = {band}\n')
    assert error.startswith(expected)


def test_an_empty_assign_table_assigns_nothing(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path, ANNA_AND_BEN + '[[scale]]\ntopic = "s"\n[scale.assign]\n')
    assert error.startswith("scale[0]: names no athlete")
    config = load(tmp_path, '[[scale]]\ntopic = "s"\n[scale.assign]\n')  # one athlete: theirs
    assert config.scale_athletes(config.scale[0]) == ("me",)


def test_a_band_holds_both_its_ends(tmp_path: Path) -> None:
    text = ANNA_AND_BEN + '[[scale]]\ntopic = "s"\n[scale.assign]\nanna = [52, 64.5]\n'
    (band,) = load(tmp_path, text).scale[0].assign.bands().values()
    assert band == WeightBand(52.0, 64.5)
    assert band.holds(52.0)
    assert band.holds(64.5)
    assert not band.holds(64.51)
    assert not band.holds(51.99)


def test_only_athletes_a_scale_can_reach_have_a_scale(tmp_path: Path) -> None:
    household = ANNA_AND_BEN + '[[athlete]]\nid = "cleo"\n'
    scales = (
        '[[scale]]\ntopic = "scale/anna"\nathlete = "anna"\n'
        '[[scale]]\ntopic = "scale/shared"\n[scale.assign]\nanna = [52, 64]\nben = [70, 88]\n'
    )
    config = load(tmp_path, household + scales)
    assert [config.profile(a).has_scale for a in config.athlete_ids()] == [True, True, False]
    assert config.scale_athletes(config.scale[0]) == ("anna",)
    assert config.scale_athletes(config.scale[1]) == ("anna", "ben")


# --- sleep inputs -----------------------------------------------------------------------------


def test_with_several_athletes_a_sleep_input_must_name_its_athlete(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path, ANNA_AND_BEN + '[[sleep]]\ntopic = "sleep/ben"\n')
    assert error.startswith("sleep[0].athlete: is required with several athletes")


def test_a_sleep_input_naming_an_unknown_athlete_is_refused(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path, '[[sleep]]\ntopic = "sleep/x"\nathlete = "bob"\n')
    assert error == (
        'sleep[0].athlete: is not a configured athlete (the only athlete id is "me") (got "bob")'
    )


def test_only_the_athlete_a_sleep_input_names_has_sleep(tmp_path: Path) -> None:
    config = load(tmp_path, ANNA_AND_BEN + '[[sleep]]\ntopic = "sleep/ben"\nathlete = "ben"\n')
    assert not config.profile("anna").has_sleep
    assert config.profile("ben").has_sleep
    assert config.sleep_athlete(config.sleep[0]) == "ben"


def test_with_one_athlete_a_sleep_input_is_theirs(tmp_path: Path) -> None:
    config = load(tmp_path, '[[sleep]]\ntopic = "sleep/me"\n')
    assert config.sleep_athlete(config.sleep[0]) == "me"
    assert config.profile().has_sleep


# --- what check-config shows ------------------------------------------------------------------


def test_several_athletes_are_listed_in_the_masked_config_with_secrets_masked(
    tmp_path: Path,
) -> None:
    text = ANNA_AND_BEN.replace('name = "Anna"', f'name = "Anna"\n{OWN_APP}')
    config = load(tmp_path, text + "[athlete.rules.sleep_short]\nmin_hours = 7.0\n")
    masked = config.masked()
    assert [athlete["id"] for athlete in masked["athlete"]] == ["anna", "ben"]
    assert masked["athlete"][0]["strava"] == {"client_id": "777", "client_secret": MASK}
    assert masked["athlete"][1]["rules"] == {"sleep_short": {"min_hours": 7.0}}
    shown = json.dumps(masked) + repr(config) + str(config)
    assert SECRET not in shown


def test_a_dumped_household_loads_back_the_same() -> None:
    config = Config(
        athlete=[{"id": "anna", "rules": {"pain": {"rest_min": 3}}}, {"id": "ben"}],
        scale=[
            {"topic": "s", "assign": {"anna": [52, 64], "ben": [70, 88]}},
            {"topic": "t", "athlete": "ben"},
        ],
        sleep=[{"topic": "z", "athlete": "ben"}],
    )
    again = Config.model_validate(config.model_dump())
    assert again.athletes == config.athletes
    assert again.scale == config.scale
    assert again.rules_for("anna").pain.rest_min == 3
    assert Config.model_validate(Config().model_dump()).athletes == Config().athletes


def test_check_config_prints_each_athletes_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = ANNA_AND_BEN.replace('name = "Anna"', f'name = "Anna"\n{OWN_APP}')
    path = write(tmp_path, text + '[storage]\npath = "restday.db"\n')
    assert main(["check-config", "--no-connect", "--config", str(path)]) == 1  # no token yet
    out = capsys.readouterr().out
    assert "FIX  strava (anna): not authorised yet: run `restday strava auth --athlete anna`" in out
    assert 'athlete[1].id = "ben"' in out
    assert f'athlete[0].strava.client_secret = "{MASK}"' in out
    assert SECRET not in out


# --- the example file -------------------------------------------------------------------------


def test_the_household_example_loads(tmp_path: Path) -> None:
    """The commented household at the end of config.example.toml, in place of its [athlete]."""
    text = EXAMPLE.read_text(encoding="utf-8")
    head, marker, household = text.partition("# A household")
    assert marker
    head = re.sub(r"(?ms)^\[athlete\]\n.*?\n\n", "", head)
    tables = "\n".join(line[4:] for line in household.splitlines() if line.startswith("#   "))
    config = load(tmp_path, head + tables)
    assert config.athlete_ids() == ("anna", "ben")
    assert config.rules_for("anna").sleep_short.min_hours == 7.0
    assert config.strava_for("anna").client_id == "12345"
    assert config.morning_report_time("ben") == time(6, 30)
    assert [config.scale_athletes(scale) for scale in config.scale] == [("anna",), ("anna", "ben")]
    assert config.sleep_athlete(config.sleep[0]) == "ben"
