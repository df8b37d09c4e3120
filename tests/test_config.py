"""The config contract (DESIGN.md §4): example file, environment overrides, error paths, paths."""

from __future__ import annotations

import json
import logging
import os
import re
import tomllib
from collections.abc import Iterator
from datetime import time
from pathlib import Path
from typing import get_args, get_origin
from zoneinfo import ZoneInfo

import platformdirs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from restday.cli import main
from restday.config import (
    MASK,
    Config,
    ConfigError,
    host_timezone,
    load_config,
    resolve_config_path,
)
from restday.config import timezones as config_module
from restday.config.errors import key_path
from restday.rules.settings import RulesConfig, Sex

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"
COMMENTED_SETTING = re.compile(r"(?m)^# (?=\[\[|[a-z_]+ += )")  # "# key = 1", "# [[scale]]"
SECRET = "hunter2-Zq9xV"  # distinctive, so finding it anywhere is a leak
OTHER_SECRET = "strava-Kp4wT7"
NUMERIC_SECRET = 918273645546372819  # a secret typed without quotes: wrong type, still secret
RULE_COUNT = 18


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No RESTDAY_* or systemd variables from the host; platform dirs and cwd inside tmp."""
    for name in list(os.environ):
        if name.upper().startswith("RESTDAY_") or name == "STATE_DIRECTORY":
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.chdir(tmp_path)


def write(folder: Path, text: str, name: str = "restday.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(folder: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(folder, text), explicit=True)
    return caught.value.errors


def flatten(data: object, prefix: str = "") -> dict[str, object]:
    """{"a": {"b": [{"c": 1}]}} → {"a.b[0].c": 1}."""
    if isinstance(data, dict):
        out: dict[str, object] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(data, list) and data:
        out = {}
        for index, item in enumerate(data):
            out.update(flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix: data}


def model_keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if get_origin(annotation) is list:
            (item,) = get_args(annotation)
            yield from model_keys(item, f"{prefix}{name}[0].")
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from model_keys(annotation, f"{prefix}{name}.")
        else:
            yield prefix + name


# --- the example file -------------------------------------------------------------------------


def test_example_config_holds_exactly_the_defaults() -> None:
    loaded = flatten(load_config(EXAMPLE, explicit=True).model_dump())
    defaults = flatten(Config().model_dump())
    for flat in (loaded, defaults):
        del flat["athlete.timezone"]  # the example names a zone; the default is the host's
    assert loaded == defaults
    list_keys = {key for key in model_keys(Config) if "[" in key}
    expected_keys = set(model_keys(Config)) - list_keys - {"athlete.timezone"}
    assert set(loaded) == expected_keys | {"scale", "sleep"}  # no inputs configured


def test_example_timezone_is_a_real_zone() -> None:
    assert load_config(EXAMPLE).athlete.timezone == "Europe/Berlin"


def test_every_config_key_is_documented_in_the_example(tmp_path: Path) -> None:
    """With its commented-out settings switched on, the example names every key and loads."""
    enabled = COMMENTED_SETTING.sub("", EXAMPLE.read_text(encoding="utf-8"))
    documented = set(flatten(tomllib.loads(enabled)))
    assert documented == set(model_keys(Config))
    config = load_config(write(tmp_path, enabled), explicit=True)
    assert config.athlete.max_hr is not None
    assert config.scale
    assert config.sleep


def test_example_has_a_table_for_every_rule() -> None:
    rules = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["rules"]
    assert list(rules) == list(RulesConfig.model_fields)
    assert len(rules) == RULE_COUNT
    assert all(table["enabled"] is True for table in rules.values())


# --- environment ------------------------------------------------------------------------------


def test_environment_beats_the_file_key_by_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path,
        '[mqtt]\nhost = "broker.lan"\nport = 1883\n[strava]\nclient_secret = "from-file"\n',
    )
    monkeypatch.setenv("RESTDAY_MQTT__PORT", "1884")
    monkeypatch.setenv("RESTDAY_STRAVA__CLIENT_SECRET", OTHER_SECRET)
    monkeypatch.setenv("RESTDAY_RULES__SLEEP_SHORT__MIN_HOURS", "7")
    config = load_config(path, explicit=True)
    assert config.mqtt.port == 1884
    assert config.mqtt.host == "broker.lan"  # the file's other keys in the section stay
    assert config.strava.client_secret.get_secret_value() == OTHER_SECRET
    assert config.rules.sleep_short.min_hours == 7.0


def test_environment_alone_configures_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTDAY_MQTT__PASSWORD", SECRET)
    config = load_config(None)
    assert config.mqtt.password.get_secret_value() == SECRET
    assert config.config_path is None


def test_bad_environment_value_names_the_key_and_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RESTDAY_MQTT__PORT", "0")
    with pytest.raises(ConfigError) as caught:
        load_config(None)
    assert caught.value.errors == [
        'mqtt.port: must be at least 1 (got "0") (set by RESTDAY_MQTT__PORT)'
    ]


def test_environment_table_that_is_not_json_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RESTDAY_SCALE", "miscale/me/weight")
    with pytest.raises(ConfigError) as caught:
        load_config(None)
    (error,) = caught.value.errors
    assert '"scale"' in error
    assert "JSON" in error


def test_environment_can_list_inputs_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTDAY_SLEEP", '[{"topic": "sleep/me", "preset": "sleep_as_android"}]')
    (sleep,) = load_config(None).sleep
    assert (sleep.topic, sleep.preset) == ("sleep/me", "sleep_as_android")


# --- errors name their key --------------------------------------------------------------------


def test_misspelled_key_is_an_error_naming_it(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, "[mqtt]\nprot = 1884\n")
    assert len(errors) == 1
    assert errors[0].startswith("mqtt.prot: is not a known key")


def test_unknown_section_is_an_error(tmp_path: Path) -> None:
    assert errors_of(tmp_path, "[mqqt]\nport = 1884\n")[0].startswith("mqqt: is not a known key")


def test_port_out_of_range_says_the_limit_and_the_value(tmp_path: Path) -> None:
    assert errors_of(tmp_path, "[mqtt]\nport = 70000\n") == [
        "mqtt.port: must be at most 65535 (got 70000)"
    ]


def test_unknown_scale_preset_names_the_list_entry(tmp_path: Path) -> None:
    text = '[[scale]]\ntopic = "a/b"\n[[scale]]\ntopic = "c/d"\npreset = "xiaomi"\n'
    (error,) = errors_of(tmp_path, text)
    assert error.startswith("scale[1].preset: must be one of ")
    assert "xiaomi_mi_scale" in error
    assert '(got "xiaomi")' in error


def test_rule_threshold_of_the_wrong_type_names_rule_and_key(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, '[rules.sleep_short]\nmin_hours = "six"\n')
    assert errors == ['rules.sleep_short.min_hours: must be a number (got "six")']


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = '[mqtt]\nport = 0\n[strava]\npoll_minutes = 1\n[athlete]\nid = "Me Too"\n'
    errors = errors_of(tmp_path, text)
    assert [error.split(":")[0] for error in errors] == [
        "athlete.id",
        "mqtt.port",
        "strava.poll_minutes",
    ]
    assert str(ConfigError(errors)) == "\n".join(errors)


def test_bad_timezone_is_named(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path, '[athlete]\ntimezone = "Mars/Olympus"\n')
    assert error.startswith("athlete.timezone: must be an IANA time zone name")


def test_resting_heart_rate_must_be_below_max(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path, "[athlete]\nmax_hr = 110\nresting_hr = 110\n")
    assert error.startswith("athlete.resting_hr: must be below athlete.max_hr (110) (got 110)")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[mqtt]\nbase_topic = "restday/#"\n', "mqtt.base_topic"),
        ('[mqtt]\ndiscovery_prefix = "home+assistant"\n', "mqtt.discovery_prefix"),
        ('[[scale]]\ntopic = "miscale/+/weight"\n', "scale[0].topic"),
        ('[[sleep]]\ntopic = "sleep/#"\n', "sleep[0].topic"),
        ('[[sleep]]\ntopic = "/sleep/me"\n', "sleep[0].topic"),
        ('[[sleep]]\ntopic = "sleep/me/"\n', "sleep[0].topic"),
        ('[mqtt]\nbase_topic = ""\n', "mqtt.base_topic"),
        ('[mqtt]\nbase_topic = "a\\u0000b"\n', "mqtt.base_topic"),
        ('[mqtt]\nbase_topic = "rest\\nday"\n', "mqtt.base_topic"),
        ('[[scale]]\ntopic = "miscale//weight"\n', "scale[0].topic"),
        ('[[scale]]\ntopic = " miscale/weight"\n', "scale[0].topic"),
        ('[[sleep]]\ntopic = "$SYS/broker"\n', "sleep[0].topic"),
    ],
)
def test_wildcard_or_malformed_topics_are_refused(tmp_path: Path, text: str, key: str) -> None:
    (error,) = errors_of(tmp_path, text)
    assert error.startswith(f"{key}: must ")


def test_scale_without_topic_is_refused(tmp_path: Path) -> None:
    assert errors_of(tmp_path, '[[scale]]\npreset = "openscale"\n') == [
        "scale[0].topic: is required"
    ]


@pytest.mark.parametrize("value", ['"6:30"', '"24:00"', '"06:60"', '"morning"'])
def test_morning_report_must_be_hh_mm(tmp_path: Path, value: str) -> None:
    (error,) = errors_of(tmp_path, f"[schedule]\nmorning_report = {value}\n")
    assert error.startswith("schedule.morning_report: must be a 24-hour time")


@pytest.mark.parametrize("url", ['"ftp://strava.com"', '"www.strava.com"', '"https://x?y=1"'])
def test_strava_api_url_must_be_http(tmp_path: Path, url: str) -> None:
    (error,) = errors_of(tmp_path, f"[strava]\napi_url = {url}\n")
    assert error.startswith("strava.api_url: must ")


def test_malformed_toml_names_the_file_and_line(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path, '[mqtt]\nhost = "x"\nport = \n')
    assert str(tmp_path / "restday.toml") in error
    assert "line 3" in error


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "restday.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(missing, explicit=True)
    assert caught.value.errors == [f"config file {missing} not found"]


def test_missing_file_found_by_search_falls_back_to_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "gone.toml", explicit=False)
    assert config.config_path is None
    assert config.mqtt.port == 1883


def test_a_directory_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path, explicit=True)


# --- secrets ----------------------------------------------------------------------------------


def test_secrets_never_appear_in_errors(tmp_path: Path) -> None:
    text = (
        f'[mqtt]\npassword = "{SECRET}"\npasword = "{SECRET}"\nport = "many"\n'
        f"[strava]\nclient_secret = {NUMERIC_SECRET}\n"
    )
    errors = errors_of(tmp_path, text)
    assert [error.split(":")[0] for error in errors] == [
        "mqtt.port",
        "mqtt.pasword",
        "strava.client_secret",
    ]
    assert errors[2] == "strava.client_secret: must be text"
    assert SECRET not in "\n".join(errors)
    assert str(NUMERIC_SECRET) not in "\n".join(errors)


def test_secrets_are_masked_and_empty_ones_shown_empty(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, f'[mqtt]\npassword = "{SECRET}"\n'), explicit=True)
    masked = config.masked()
    assert masked["mqtt"]["password"] == MASK
    assert masked["strava"]["client_secret"] == ""
    assert SECRET not in json.dumps(masked)
    assert SECRET not in repr(config)
    assert config.mqtt.password.get_secret_value() == SECRET


@given(password=st.text(min_size=1), client_secret=st.text(min_size=1))
def test_masked_config_never_contains_a_secret(password: str, client_secret: str) -> None:
    password, client_secret = SECRET + password, OTHER_SECRET + client_secret
    config = Config(mqtt={"password": password}, strava={"client_secret": client_secret})
    shown = json.dumps(config.masked(), ensure_ascii=False) + repr(config) + str(config)
    assert password not in shown
    assert client_secret not in shown
    assert config.masked()["mqtt"]["password"] == MASK


# --- values and coercions ---------------------------------------------------------------------


def test_strava_client_id_given_as_a_number_becomes_text(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[strava]\nclient_id = 12345\n"), explicit=True)
    assert config.strava.client_id == "12345"


def test_strava_api_url_loses_its_trailing_slash(tmp_path: Path) -> None:
    text = '[strava]\napi_url = "http://127.0.0.1:8080/"\n'
    assert load_config(write(tmp_path, text)).strava.api_url == "http://127.0.0.1:8080"


def test_morning_report_accepts_a_toml_time_and_gives_a_clock_time(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[schedule]\nmorning_report = 05:45:00\n"))
    assert config.schedule.morning_report == "05:45"
    assert config.morning_report_time() == time(5, 45)
    assert Config().morning_report_time() == time(6, 30)


@given(port=st.integers(min_value=-(2**20), max_value=2**20))
def test_only_ports_from_1_to_65535_are_accepted(port: int) -> None:
    if 1 <= port <= 65535:
        assert Config(mqtt={"port": port}).mqtt.port == port
        return
    with pytest.raises(ValidationError) as caught:
        Config(mqtt={"port": port})
    assert [key_path(error["loc"]) for error in caught.value.errors()] == ["mqtt.port"]


@given(topic=st.text(), wildcard=st.sampled_from(["+", "#"]), at=st.integers(0, 50))
def test_topics_with_wildcards_are_always_refused(topic: str, wildcard: str, at: int) -> None:
    spliced = topic[:at] + wildcard + topic[at:]
    with pytest.raises(ValidationError) as caught:
        Config(sleep=[{"topic": spliced}])
    assert [key_path(error["loc"]) for error in caught.value.errors()] == ["sleep[0].topic"]


def test_profile_carries_the_athlete_and_which_inputs_exist(tmp_path: Path) -> None:
    text = (
        '[athlete]\ntimezone = "Europe/Berlin"\nmax_hr = 188\nresting_hr = 48\nsex = "female"\n'
        '[[scale]]\ntopic = "scale/me"\n'
    )
    profile = load_config(write(tmp_path, text)).profile()
    assert profile.timezone == ZoneInfo("Europe/Berlin")
    assert (profile.max_hr, profile.resting_hr, profile.sex) == (188, 48, Sex.FEMALE)
    assert profile.has_scale
    assert not profile.has_sleep


def test_config_is_frozen() -> None:
    config = Config()
    with pytest.raises(ValidationError):
        config.mqtt.port = 1  # type: ignore[misc]  # the point: assignment is refused
    with pytest.raises(ValidationError):
        config.scale = []  # type: ignore[misc]


def test_config_remembers_its_file(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    assert load_config(path).config_path == path


# --- host timezone ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        ("America/New_York", "America/New_York"),
        (":Asia/Tokyo", "Asia/Tokyo"),
        (":/usr/share/zoneinfo/Europe/Paris", "Europe/Paris"),
    ],
)
def test_default_timezone_follows_tz(
    monkeypatch: pytest.MonkeyPatch, tz: str, expected: str
) -> None:
    monkeypatch.setenv("TZ", tz)
    assert host_timezone() == expected
    assert Config().athlete.timezone == expected


def test_default_timezone_reads_the_localtime_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    zone_file = tmp_path / "usr" / "share" / "zoneinfo" / "Australia" / "Perth"
    zone_file.parent.mkdir(parents=True)
    zone_file.write_bytes(b"")
    link = tmp_path / "localtime"
    link.symlink_to(zone_file)
    monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")  # a POSIX rule, not a zone name
    monkeypatch.setattr(config_module, "LOCALTIME_PATH", link)
    assert host_timezone() == "Australia/Perth"


def test_default_timezone_falls_back_to_utc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TZ", raising=False)
    monkeypatch.setattr(config_module, "LOCALTIME_PATH", tmp_path / "no-localtime")
    assert host_timezone() == "UTC"


# --- where files are --------------------------------------------------------------------------


def test_empty_storage_path_uses_the_platform_data_dir() -> None:
    expected = Path(platformdirs.user_data_dir("restday")) / "restday.db"
    assert Config().store_path() == expected
    assert Config().token_path() == expected.parent / "strava-token.json"


def test_empty_storage_path_uses_systemd_state_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/restday")
    config = load_config(write(tmp_path, ""))
    assert config.store_path() == Path("/var/lib/restday/restday.db")
    assert config.token_path() == Path("/var/lib/restday/strava-token.json")


def test_relative_storage_path_is_taken_from_the_config_files_folder(tmp_path: Path) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    config = load_config(write(folder, '[storage]\npath = "data/run.db"\n'), explicit=True)
    assert config.store_path() == folder / "data" / "run.db"
    assert config.token_path() == folder / "data" / "strava-token.json"


def test_relative_storage_path_prefers_state_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/restday")
    config = load_config(write(tmp_path, '[storage]\npath = "run.db"\n'))
    assert config.store_path() == Path("/var/lib/restday/run.db")


def test_relative_storage_path_without_a_file_is_taken_from_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESTDAY_STORAGE__PATH", "run.db")
    assert load_config(None).store_path() == tmp_path / "run.db"


def test_storage_path_expands_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/restday")
    config = load_config(write(tmp_path, '[storage]\npath = "~/restday/run.db"\n'))
    assert config.store_path() == tmp_path / "home" / "restday" / "run.db"


def test_config_path_order_is_flag_then_env_then_cwd_then_platform_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform_file = Path(platformdirs.user_config_dir("restday")) / "restday.toml"
    assert resolve_config_path(None) == (None, False)
    platform_file.parent.mkdir(parents=True)
    platform_file.write_text("")
    assert resolve_config_path(None) == (platform_file, False)
    local = write(tmp_path, "")
    assert resolve_config_path(None) == (local, False)
    monkeypatch.setenv("RESTDAY_CONFIG", "/etc/restday/restday.toml")
    assert resolve_config_path(None) == (Path("/etc/restday/restday.toml"), True)
    assert resolve_config_path("mine.toml") == (Path("mine.toml"), True)


# --- a v1 configuration under the v2 rules ----------------------------------------------------

V1_RULES = """
[rules.sleep_debt]
need_hours = 8.0
max_debt_hours = 5.0
[rules.weekly_increase]
caution_pct = 10.0
high_pct = 30.0
[rules.acwr]
caution = 1.2
high = 1.5
[rules.tsb]
min_tsb_pct = -50.0
[decision]
moderate_for_rest = 2
"""


def test_a_v1_config_still_loads_after_the_upgrade(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An existing config never stops the service: a removed key loads with one warning that
    names its replacement, and the values a user set keep their names with v2's meaning."""
    with caplog.at_level(logging.WARNING):
        config = load_config(write(tmp_path, V1_RULES), explicit=True)
    warnings = [r.getMessage() for r in caplog.records if "max_debt_hours" in r.getMessage()]
    assert len(warnings) == 1
    assert "caution_hours" in warnings[0]
    assert "moderate_hours" in warnings[0]
    rules = config.rules
    assert rules.sleep_debt.need_hours == 8.0  # a fixed need, as set
    assert (rules.acwr.info, rules.acwr.caution, rules.acwr.high) == (1.2, 1.2, 1.5)
    assert (rules.weekly_increase.caution_pct, rules.weekly_increase.high_pct) == (10.0, 30.0)
    assert rules.weekly_increase.info_pct == 10.0  # the unset level fits below the set ones


def test_check_config_hints_that_a_fixed_sleep_need_can_go(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "[rules.sleep_debt]\nneed_hours = 8.0\n")
    assert main(["check-config", "--no-connect", "--config", str(path)]) == 0
    assert "remove it to count sleep debt against your own usual night" in capsys.readouterr().out
