"""The Home Assistant add-on (addon/, restday/addon): options + the Supervisor's MQTT service →
a configuration restday loads; the TOML file merged over it; errors named by option; Strava's
code used once; no secret in the log; run.sh's logic with a stand-in bashio; and the add-on's
own files (config.yaml against its schema, every option translated, DOCS.md's examples)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from restday import __version__
from restday.addon import AddonConfigError, configure, option_error, toml_text
from restday.addon.__main__ import main
from restday.config import ScalePreset, SleepPreset, load_config
from restday.integrations.strava import TokenStore
from tests.addon.supervisor import fields, option_errors, schema_errors
from tests.strava_server import TOKEN_PATH, FakeStrava

REPO = Path(__file__).resolve().parent.parent
ADDON = REPO / "addon"
CONFIG_YAML = yaml.safe_load((ADDON / "config.yaml").read_text(encoding="utf-8"))
TRANSLATIONS = yaml.safe_load((ADDON / "translations" / "en.yaml").read_text(encoding="utf-8"))
DOCS = (ADDON / "DOCS.md").read_text(encoding="utf-8")
STUB_BASHIO = REPO / "tests" / "addon" / "bashio"
EXIT_CONFIG = 78
PASSWORD = "Mosquitto-pw-7f3a"
SHARED_SECRET = "shared-app-secret-91c2"
BEN_SECRET = "ben-own-app-secret-4d8e"
# The Supervisor's MQTT service as `bashio::services mqtt` returns it (GET /services/mqtt)
SERVICE: dict[str, Any] = {
    "app": "core_mosquitto",
    "host": "core-mosquitto",
    "port": 1883,
    "ssl": False,
    "username": "addons",
    "password": PASSWORD,
    "protocol": "3.1.1",
}


def docs_examples() -> list[dict[str, Any]]:
    """DOCS.md's option examples (its ```yaml blocks), as the Supervisor stores them."""
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", DOCS, re.DOTALL)]


ONE_RUNNER, HOUSEHOLD = docs_examples()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("RESTDAY_") or name == "STATE_DIRECTORY":
            monkeypatch.delenv(name)
    monkeypatch.setenv("TZ", "Europe/Berlin")  # the Supervisor sets Home Assistant's zone


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def user_file(tmp_path: Path) -> Path:
    """The add-on's config folder's restday.toml (none until a test writes it)."""
    (tmp_path / "config").mkdir()
    return tmp_path / "config" / "restday.toml"


def build(options: dict[str, Any], data: Path, user_file: Path | None = None, **kw: Any) -> Any:
    service = kw.pop("service", SERVICE)
    return configure(
        options, service, data_dir=data, target=data / "restday.toml", user_file=user_file
    )


def errors_of(options: dict[str, Any], data: Path, user_file: Path | None = None) -> list[str]:
    with pytest.raises(AddonConfigError) as raised:
        build(options, data, user_file)
    return raised.value.errors


def runner(**fields: Any) -> dict[str, Any]:
    options = {"athletes": [{"id": "me", **fields}], "strava": {}, "scales": [], "sleep": []}
    return {**options, "mqtt": {}}


def run_main(data: Path, options: dict[str, Any], *args: str, service: Any = None) -> int:
    """`python -m restday.addon` with the options written where the Supervisor writes them."""
    data.mkdir(parents=True, exist_ok=True)
    (data / "options.json").write_text(json.dumps(options))
    (data / "service.json").write_text(json.dumps(SERVICE if service is None else service))
    argv = [
        "--options", str(data / "options.json"), "--data", str(data),
        "--mqtt-service", str(data / "service.json"), "--no-run", *args,
    ]  # fmt: skip
    return main(argv)


# --- options + the Supervisor's service → restday's configuration ---------------------------


def test_one_runners_options_and_the_supervisors_broker_make_a_config_restday_loads(
    data: Path,
) -> None:
    built = build(ONE_RUNNER, data)
    config = load_config(data / "restday.toml", explicit=True)  # as `restday run` reads it
    assert config == built.config
    assert config.athlete.id == "me"
    assert config.athlete.name == "Sam"
    assert (config.athlete.max_hr, config.athlete.resting_hr) == (190, 50)
    assert config.athlete.timezone == "Europe/Berlin"  # Home Assistant's, from TZ
    mqtt = config.mqtt
    assert (mqtt.host, mqtt.port, mqtt.username, mqtt.tls) == (
        "core-mosquitto",
        1883,
        "addons",
        False,
    )
    assert mqtt.password.get_secret_value() == PASSWORD  # nobody typed it
    assert (mqtt.base_topic, mqtt.discovery_prefix) == ("restday", "homeassistant")
    assert config.store_path() == data / "restday.db"
    assert config.token_path() == data / "strava-token.json"
    assert config.strava.client_id == "12345"
    assert [(s.topic, s.preset) for s in config.scale] == [("miscale/me/weight", "xiaomi_mi_scale")]
    assert [(s.topic, s.preset) for s in config.sleep] == [
        ("SleepAsAndroid/phone", "sleep_as_android")
    ]
    assert stat.S_IMODE((data / "restday.toml").stat().st_mode) == 0o600
    assert [p.name for p in data.iterdir()] == ["restday.toml"]  # no temp file left


def test_the_services_port_as_text_and_ssl_become_restdays_port_and_tls(data: Path) -> None:
    service = {**SERVICE, "port": "8883", "ssl": True}
    config = configure(runner(), service, data_dir=data, target=data / "restday.toml").config
    assert (config.mqtt.port, config.mqtt.tls) == (8883, True)


def test_a_broker_without_a_login_leaves_username_and_password_empty(data: Path) -> None:
    service = {"host": "172.30.32.1", "port": 1883, "ssl": False}
    config = configure(runner(), service, data_dir=data, target=data / "restday.toml").config
    assert (config.mqtt.host, config.mqtt.username) == ("172.30.32.1", "")
    assert config.mqtt.password.get_secret_value() == ""


def test_a_household_becomes_two_athletes_with_a_shared_scale_by_weight_bands(data: Path) -> None:
    config = build(HOUSEHOLD, data).config
    assert config.athlete_ids() == ("anna", "ben")
    assert config.morning_report_time("anna").isoformat() == "06:00:00"
    assert config.rules_for("anna").sleep_short.min_hours == 7.0
    assert config.rules_for("ben").sleep_short.min_hours == config.rules.sleep_short.min_hours
    assert config.strava_for("ben").client_id == "67890"
    assert config.strava_for("anna").client_id == "12345"  # the shared application
    shared, bens = config.scale
    assert {a: tuple(b) for a, b in shared.assign.bands().items()} == {
        "anna": (52.0, 64.0),
        "ben": (70.0, 88.0),
    }
    assert config.scale_athletes(bens) == ("ben",)
    assert config.sleep_athlete(config.sleep[0]) == "anna"
    assert config.token_path("ben") == data / "strava-token-ben.json"


def test_shared_rule_overrides_apply_to_every_runner_and_a_runners_own_win(data: Path) -> None:
    options = {
        **HOUSEHOLD,
        "rules": "sleep_short.min_hours=6.5; acwr.enabled=false",
    }
    config = build(options, data).config
    assert config.rules_for("ben").sleep_short.min_hours == 6.5
    assert config.rules_for("anna").sleep_short.min_hours == 7.0
    assert not config.rules_for("anna").acwr.enabled


def test_the_toml_file_in_the_config_folder_is_merged_over_the_options(
    data: Path, user_file: Path
) -> None:
    user_file.write_text(
        "[schedule]\nmorning_report = 07:15:00\n"  # a TOML time, as a user may write it
        '[mqtt]\nclient_id = "restday-home"\n'
        "[decision]\nmoderate_for_rest = 3\n"
        '[[athlete]]\nid = "anna"\nmax_hr = 185\n[athlete.rules.sleep_debt]\nenabled = false\n'
        '[[athlete]]\nid = "cleo"\nname = "Cleo"\n'
        '[[sleep]]\ntopic = "sleep/ben"\nathlete = "ben"\n'
    )
    built = build(HOUSEHOLD, data, user_file)
    config = built.config
    assert built.user_file == user_file
    assert config.schedule.morning_report == "07:15"
    assert config.mqtt.client_id == "restday-home"
    assert config.mqtt.host == "core-mosquitto"  # the rest of [mqtt] still the Supervisor's
    assert config.decision.moderate_for_rest == 3
    assert config.athlete_ids() == ("anna", "ben", "cleo")
    anna = config.athlete_config("anna")
    assert (anna.name, anna.max_hr, anna.morning_report) == ("Anna", 185, "06:00")  # merged
    assert config.rules_for("anna").sleep_short.min_hours == 7.0  # the option's, kept
    assert not config.rules_for("anna").sleep_debt.enabled  # and the file's
    assert [s.topic for s in config.sleep] == ["sleep/anna", "sleep/ben"]  # added after


def test_an_athlete_table_without_id_in_the_file_is_the_one_runners(
    data: Path, user_file: Path
) -> None:
    user_file.write_text('[athlete]\nsex = "female"\n')
    config = build(ONE_RUNNER, data, user_file).config
    assert config.athlete_ids() == ("me",)
    assert (config.athlete.name, config.athlete.sex) == ("Sam", "female")


def test_a_broker_in_the_file_wins_over_the_supervisors(data: Path, user_file: Path) -> None:
    user_file.write_text('[mqtt]\nhost = "broker.lan"\nport = 1884\nusername = "restday"\n')
    config = build(ONE_RUNNER, data, user_file).config
    assert (config.mqtt.host, config.mqtt.port, config.mqtt.username) == (
        "broker.lan",
        1884,
        "restday",
    )


def test_no_broker_from_the_supervisor_nor_the_file_is_a_clear_error(
    data: Path, user_file: Path
) -> None:
    with pytest.raises(AddonConfigError) as raised:
        build(ONE_RUNNER, data, user_file, service={})
    (error,) = raised.value.errors
    assert error.startswith("no MQTT broker: the Supervisor offers none (install and start")
    assert str(user_file) in error
    user_file.write_text('[mqtt]\nhost = "broker.lan"\n')
    assert build(ONE_RUNNER, data, user_file, service={}).config.mqtt.host == "broker.lan"


def test_the_store_is_the_add_ons_own_and_the_file_may_not_move_it(
    data: Path, user_file: Path
) -> None:
    user_file.write_text('[storage]\npath = "/share/restday.db"\n')
    assert errors_of(ONE_RUNNER, data, user_file) == [
        f"{user_file}: [storage] is the add-on's own (the store stays in /data): remove it"
    ]
    assert not (data / "restday.toml").exists()


# --- errors name the option ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (runner(max_hr=250), "athletes[0].max_hr: must be at most 240 (got 250)"),
        (runner(timezone="Mars/Olympus"), "athletes[0].timezone: must be an IANA time zone"),
        (runner(strava_client_id="777"), "athletes[0].strava_client_secret: is required with"),
        (
            runner(rules="sleep_short.min_hourz=7"),
            "athletes[0].rules: sleep_short.min_hourz: is not a known key",
        ),
        (runner(rules="sleep_short=7"), 'athletes[0].rules: "sleep_short=7" must be "rule.key='),
        (runner(rules="acwr.enabled=yes"), 'athletes[0].rules: "acwr.enabled=yes": the value'),
        (
            {**runner(), "scales": [{"topic": "s", "bands": "me=52"}]},
            'scales[0].bands: "me=52" must be "athlete=min-max" items in kg',
        ),
        (
            {**runner(), "scales": [{"topic": "s", "bands": "me=64-52"}]},
            "scales[0].bands: must be [min_kg, max_kg] with min_kg not above max_kg",
        ),
        ({**runner(), "sleep": [{"topic": "a/#"}]}, "sleep[0].topic: must be one plain topic"),
        ({**runner(), "mqtt": {"base_topic": "/x"}}, "mqtt.base_topic: must not start or end"),
        ({**runner(), "strava": {"poll_minutes": 1}}, "strava.poll_minutes: must be at least 5"),
        ({**runner(), "rules": "pain.nope=1"}, "rules: pain.nope: is not a known key"),
    ],
)
def test_a_bad_option_is_one_sentence_naming_it(
    data: Path, options: dict[str, Any], error: str
) -> None:
    errors = errors_of(options, data)
    assert any(e.startswith(error) for e in errors), errors
    assert not (data / "restday.toml").exists()  # nothing half-written for restday to read


def test_a_household_scale_for_nobody_says_to_set_its_runner_or_bands(data: Path) -> None:
    options = {**HOUSEHOLD, "scales": [{"topic": "home/scale"}]}
    (error,) = errors_of(options, data)
    assert error.startswith("scales[0]: names no athlete: with several athletes, set its athlete")
    assert "or give a bands of weight bands" in error


def test_a_bad_service_port_names_the_supervisors_service(data: Path) -> None:
    with pytest.raises(AddonConfigError) as raised:
        build(runner(), data, service={**SERVICE, "port": 0})
    assert raised.value.errors == [
        "the Supervisor's MQTT service (port): must be at least 1 (got 0)"
    ]


def test_an_error_the_toml_file_brings_names_the_file_and_its_key(
    data: Path, user_file: Path
) -> None:
    user_file.write_text('[[sleep]]\npreset = "generic"\n[[athlete]]\nid = "anna"\nmax_hr = 999\n')
    errors = errors_of(HOUSEHOLD, data, user_file)
    where = f"{user_file} (merged over the options)"
    assert f'{where}: athlete[0].max_hr (athlete "anna"): must be at most 240 (got 999)' in errors
    assert f"{where}: sleep[0].topic: is required" in errors  # the file's first [[sleep]]


def test_an_option_the_file_no_longer_fits_is_named_with_the_file(
    data: Path, user_file: Path
) -> None:
    user_file.write_text('[[athlete]]\nid = "ben"\n')  # a second runner: whose is the scale?
    options = {**ONE_RUNNER, "sleep": []}
    (error,) = errors_of(options, data, user_file)
    assert error.startswith("scales[0]: names no athlete")
    assert error.endswith(f"(with {user_file} merged over the options)")


def test_a_toml_file_that_is_not_toml_is_named(data: Path, user_file: Path) -> None:
    user_file.write_text("[schedule\n")
    (error,) = errors_of(ONE_RUNNER, data, user_file)
    assert error.startswith(f"{user_file}: not valid TOML")


def test_bad_options_exit_78_with_one_line_each(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = runner(max_hr=250, resting_hr=10)
    assert run_main(data, options) == EXIT_CONFIG
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "restday add-on: configuration error: athletes[0].max_hr: must be at most 240 (got 250)",
        "restday add-on: configuration error: athletes[0].resting_hr: must be at least 25 (got 10)",
    ]


def test_option_errors_keep_restdays_sentence_for_keys_no_option_sets() -> None:
    assert option_error("decision.moderate_for_rest: must be at least 1 (got 0)") == (
        "decision.moderate_for_rest: must be at least 1 (got 0)"
    )
    assert option_error("athlete: must have at least one athlete") == (
        "athletes: must have at least one athlete"
    )


# --- python -m restday.addon: the command, Strava's code, the log ---------------------------


def test_the_add_on_runs_restday_with_the_config_it_wrote(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (data).mkdir()
    (data / "options.json").write_text(json.dumps({**ONE_RUNNER, "log_level": "debug"}))
    monkeypatch.setattr(sys, "stdin", _stdin(json.dumps(SERVICE)))
    ran: list[list[str]] = []
    code = main(["--options", str(data / "options.json"), "--data", str(data)],
                run=lambda path, argv: ran.append(argv))  # fmt: skip
    assert code == 0
    config = str(data / "restday.toml")
    assert ran == [[sys.executable, "-m", "restday", "run", "--config", config, "--verbose"]]


@pytest.fixture
def strava() -> Iterator[FakeStrava]:
    with FakeStrava() as fake:
        yield fake


def strava_options(strava: FakeStrava, code: str | None) -> dict[str, Any]:
    athlete = {"id": "me", **({"strava_code": code} if code else {})}
    app = {"client_id": strava.client_id, "client_secret": strava.client_secret}
    return {"athletes": [athlete], "strava": app, "scales": [], "sleep": [], "mqtt": {}}


def with_fake_strava(tmp_path: Path, strava: FakeStrava) -> str:
    """The TOML file pointing restday at the local Strava (api_url is no option)."""
    (tmp_path / "config").mkdir(exist_ok=True)
    path = tmp_path / "config" / "restday.toml"
    path.write_text(f'[strava]\napi_url = "{strava.url}"\n')
    return str(path)


def test_the_strava_code_is_exchanged_once_and_ignored_while_a_token_is_stored(
    tmp_path: Path, data: Path, strava: FakeStrava, capsys: pytest.CaptureFixture[str]
) -> None:
    user = with_fake_strava(tmp_path, strava)
    options = strava_options(strava, strava.code)
    assert run_main(data, options, "--user-config", user) == 0
    err = capsys.readouterr().err
    assert "Strava: me is authorised (Strava athlete 4242)" in err
    token = TokenStore(data / "strava-token.json").load()
    assert token is not None
    assert token.refresh_token == strava.refresh_token
    assert strava.count(TOKEN_PATH) == 1
    assert run_main(data, options, "--user-config", user) == 0  # the next start
    err = capsys.readouterr().err
    assert "Strava: me is already authorised" in err
    assert "so the strava_code option is ignored; you may clear it" in err
    assert strava.count(TOKEN_PATH) == 1  # not sent again


def test_the_whole_address_the_browser_ended_on_may_be_pasted(
    tmp_path: Path, data: Path, strava: FakeStrava, capsys: pytest.CaptureFixture[str]
) -> None:
    pasted = (
        "http://127.0.0.1/authorized?state=x1&code="
        f"{strava.code}&scope=read,activity:read_all,profile:read_all"
    )
    user = with_fake_strava(tmp_path, strava)
    assert run_main(data, strava_options(strava, pasted), "--user-config", user) == 0
    assert "Strava: me is authorised" in capsys.readouterr().err
    token = TokenStore(data / "strava-token.json").load()
    assert token is not None
    assert "activity:read_all" in token.scope


def test_a_refused_code_is_not_sent_again_and_the_log_shows_where_to_get_one(
    tmp_path: Path, data: Path, strava: FakeStrava, capsys: pytest.CaptureFixture[str]
) -> None:
    user = with_fake_strava(tmp_path, strava)
    options = strava_options(strava, "expired-code-0000")
    assert run_main(data, options, "--user-config", user) == 0  # restday runs without Strava
    err = capsys.readouterr().err
    assert "the code in the strava_code option was refused: Strava refused the authorization" in err
    url = re.search(r"restart the add-on: (\S+)", err)
    assert url is not None
    assert url[1].startswith(f"{strava.url}/oauth/authorize?client_id={strava.client_id}&")
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%2Fauthorized" in url[1]
    assert run_main(data, options, "--user-config", user) == 0
    assert "the code in the strava_code option was used already" in capsys.readouterr().err
    assert strava.count(TOKEN_PATH) == 1
    assert not (data / "strava-token.json").exists()


def test_a_household_runner_is_asked_to_log_in_as_themselves(
    tmp_path: Path, data: Path, strava: FakeStrava, capsys: pytest.CaptureFixture[str]
) -> None:
    user = with_fake_strava(tmp_path, strava)
    options = {**HOUSEHOLD, "strava": strava_options(strava, None)["strava"]}
    options["athletes"] = [{**a, "strava_code": strava.code} if a["id"] == "anna" else a
                           for a in options["athletes"]]  # fmt: skip
    assert run_main(data, options, "--user-config", user) == 0
    err = capsys.readouterr().err
    assert "Strava: anna is authorised" in err
    assert (data / "strava-token-anna.json").exists()
    assert "on any device logged in to Strava as Ben" in err
    assert "paste it into ben's strava_code option and restart" in err


def test_secrets_never_reach_the_log(
    tmp_path: Path,
    data: Path,
    strava: FakeStrava,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = with_fake_strava(tmp_path, strava)
    options = {**HOUSEHOLD, "strava": strava_options(strava, None)["strava"]}
    options["athletes"] = [
        {**options["athletes"][0], "strava_code": strava.code},
        {**options["athletes"][1], "strava_client_secret": BEN_SECRET},
    ]
    assert run_main(data, options, "--user-config", user) == 0
    options["athletes"][0]["max_hr"] = 999  # and when the options are wrong
    assert run_main(data, options, "--user-config", user) == EXIT_CONFIG
    captured = capsys.readouterr()
    shown = captured.out + captured.err + caplog.text
    for secret in (PASSWORD, strava.client_secret, BEN_SECRET, strava.code, *strava.issued):
        assert secret not in shown
    assert "broker core-mosquitto:1883 as addons" in shown


def test_options_that_are_not_json_fail_without_writing(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data.mkdir()
    (data / "options.json").write_text("{")
    assert main(["--options", str(data / "options.json"), "--data", str(data), "--no-run"]) == 1
    assert "the options" in capsys.readouterr().err
    assert not (data / "restday.toml").exists()


def _stdin(text: str) -> Any:
    import io

    return io.StringIO(text)


# --- run.sh, with a stand-in for bashio -------------------------------------------------------


def run_sh(tmp_path: Path, data: Path, service: str, options: dict[str, Any]) -> Any:
    """addon/run.sh as the image runs it (`bashio /run.sh`), `python3` being this venv's."""
    data.mkdir(exist_ok=True)
    (data / "options.json").write_text(json.dumps(options))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    python = bin_dir / "python3"  # not a symlink: the venv is found beside the executable
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env["STUB_MQTT_SERVICE"] = service
    argv = ["bash", str(STUB_BASHIO), str(ADDON / "run.sh"), "--no-run",
            "--options", str(data / "options.json"), "--data", str(data),
            "--user-config", str(tmp_path / "none.toml")]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)


def test_run_sh_passes_the_supervisors_broker_to_restday(tmp_path: Path, data: Path) -> None:
    done = run_sh(tmp_path, data, json.dumps(SERVICE), ONE_RUNNER)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        sys.executable, "-m", "restday", "run", "--config", str(data / "restday.toml")
    ]  # fmt: skip
    config = load_config(data / "restday.toml", explicit=True)
    assert (config.mqtt.host, config.mqtt.username) == ("core-mosquitto", "addons")
    assert config.mqtt.password.get_secret_value() == PASSWORD
    assert PASSWORD not in done.stdout + done.stderr


def test_run_sh_without_a_broker_warns_and_restday_stops_with_78(
    tmp_path: Path, data: Path
) -> None:
    done = run_sh(tmp_path, data, "", ONE_RUNNER)
    assert done.returncode == EXIT_CONFIG
    assert "[WARNING] Home Assistant offers no MQTT broker: install and start the" in done.stderr
    assert "configuration error: no MQTT broker" in done.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_the_shell_scripts_pass_shellcheck() -> None:
    scripts = [ADDON / "run.sh", STUB_BASHIO, REPO / "scripts" / "build-addon"]
    done = subprocess.run(["shellcheck", "-s", "bash", *map(str, scripts)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout


# --- the add-on's own files ---------------------------------------------------------------------


def test_config_yaml_is_restdays_version_and_presets() -> None:
    assert CONFIG_YAML["version"] == __version__
    schema = CONFIG_YAML["schema"]
    scale_presets = schema["scales"][0]["preset"].removeprefix("list(").removesuffix(")?")
    sleep_presets = schema["sleep"][0]["preset"].removeprefix("list(").removesuffix(")?")
    assert scale_presets.split("|") == [p.value for p in ScalePreset]
    assert sleep_presets.split("|") == [p.value for p in SleepPreset]
    assert CONFIG_YAML["services"] == ["mqtt:need"]
    assert CONFIG_YAML["map"] == ["addon_config:rw"]
    assert set(CONFIG_YAML["arch"]) == {"aarch64", "amd64"}


def test_config_yaml_defaults_and_the_docs_examples_pass_its_own_schema(data: Path) -> None:
    schema = CONFIG_YAML["schema"]
    assert schema_errors(schema) == []
    for options in (CONFIG_YAML["options"], ONE_RUNNER, HOUSEHOLD):
        assert option_errors(schema, options) == []
        build(options, data)  # and restday loads what they become
    assert option_errors(schema, runner(max_hr=250)) == [
        "athletes[0].max_hr: 250 outside int(100,240)?"
    ]


def test_every_option_has_a_translation_and_every_translation_an_option() -> None:
    translated: set[str] = set()
    for key, entry in TRANSLATIONS["configuration"].items():
        assert entry.get("name"), key
        assert entry.get("description"), key
        translated.add(key)
        for field, text in entry.get("fields", {}).items():
            assert text.get("name"), f"{key}.{field}"
            assert text.get("description"), f"{key}.{field}"
            translated.add(f"{key}.{field}")
    assert translated == fields(CONFIG_YAML["schema"])


def test_the_repository_and_the_image_hold_together() -> None:
    assert yaml.safe_load((REPO / "repository.yaml").read_text())["name"] == "restday"
    dockerfile = (ADDON / "Dockerfile").read_text()
    assert "COPY restday-*.whl /tmp/" in dockerfile
    assert 'CMD ["/run.sh"]' in dockerfile
    assert os.access(ADDON / "run.sh", os.X_OK)
    assert "addon/*.whl" in (REPO / ".gitignore").read_text().splitlines()
    assert "--wheel-dir addon/" in (REPO / "scripts" / "build-addon").read_text()


# --- the TOML writer ---------------------------------------------------------------------------


def test_the_written_toml_reads_back_as_the_same_data() -> None:
    data = {
        "athlete": [
            {"id": "a", "name": 'Zoë "Z" \\ \x7f\n', "rules": {"acwr": {"enabled": False}}},
            {"id": "b", "strava": {}},
        ],
        "mqtt": {"port": 1883, "password": "p#ss = [x]"},
        "scale": [{"topic": "t", "assign": {"a": [52.5, 64.0]}}],
        "sleep": [],
        "key with space": {"x": None, "y": 1e-3},
    }
    import tomllib

    text = toml_text(data)
    assert tomllib.loads(text) == {
        **data,
        "key with space": {"y": 1e-3},  # None: TOML has no null, the key is left out
    }


def test_a_home_assistant_entitys_statestream_topics_reach_restday(data: Path) -> None:
    sleep = {
        "topic": "statestream/sensor/sleep_duration",
        "preset": "ha_statestream",
        "hrv_topic": "statestream/sensor/hrv",
        "resting_hr_topic": "statestream/sensor/resting_hr",
    }
    scale = {"topic": "statestream/sensor/withings_weight", "preset": "ha_statestream"}
    options = {**runner(), "scales": [scale], "sleep": [sleep]}
    assert option_errors(CONFIG_YAML["schema"], options) == []
    config = build(options, data).config
    (night,) = config.sleep
    assert (night.preset, night.hrv_topic, night.resting_hr_topic) == (
        "ha_statestream",
        "statestream/sensor/hrv",
        "statestream/sensor/resting_hr",
    )
    assert config.scale[0].preset == "ha_statestream"
