"""`restday strava auth` and `restday strava sync` against a local Strava."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from restday.cli import main
from restday.store import Store
from tests.strava_server import ACTIVITIES_PATH, FakeStrava, summary_activity, summary_gear

AUTH_WAIT_S = 20.0


@pytest.fixture
def strava() -> Iterator[FakeStrava]:
    with FakeStrava() as fake:
        yield fake


@pytest.fixture
def config(tmp_path: Path, strava: FakeStrava, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("RESTDAY_CONFIG", "STATE_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "restday.toml"
    path.write_text(
        f'[athlete]\ntimezone = "Europe/Berlin"\n[storage]\npath = "restday.db"\n'
        f'[strava]\nclient_id = "{strava.client_id}"\nclient_secret = "{strava.client_secret}"\n'
        f'api_url = "{strava.url}"\nbackfill_days = 30\n'
    )
    return path


def test_auth_catches_the_browser_redirect_and_stores_the_token_privately(
    config: Path, strava: FakeStrava
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTDAY_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "restday", "strava", "auth", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = ""
        while not url:
            line = process.stdout.readline()
            assert line, "restday exited before printing the authorize URL"
            url = line.strip() if "/oauth/authorize?" in line else ""
        query = parse_qs(urlsplit(url).query)
        assert query["scope"] == ["activity:read_all,profile:read_all"]
        redirect = query["redirect_uri"][0]
        assert redirect.startswith("http://127.0.0.1:")
        scope = "read,activity:read_all,profile:read_all"
        back = f"{redirect}?state={query['state'][0]}&code={strava.code}&scope={scope}"
        with urllib.request.urlopen(back, timeout=AUTH_WAIT_S) as answer:  # the browser
            assert answer.status == 200
        out, _ = process.communicate(timeout=AUTH_WAIT_S)
    finally:
        process.kill()
    assert process.returncode == 0, out
    assert "Authorised for athlete 4242" in out
    token = config.parent / "strava-token.json"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert json.loads(token.read_text())["refresh_token"] == strava.refresh_token
    assert strava.client_secret not in out
    assert strava.code not in out


def test_auth_without_credentials_is_a_config_error_naming_the_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    assert main(["strava", "auth", "--code", "x", "--config", str(empty)]) == 78
    assert "strava.client_id and strava.client_secret" in capsys.readouterr().err


def test_a_refused_code_fails_with_strava_s_reason_and_no_secret(
    config: Path, strava: FakeStrava, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["strava", "auth", "--code", "not-a-code", "--config", str(config)]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("restday: ")
    assert strava.client_secret not in captured.out + captured.err
    assert not (config.parent / "strava-token.json").exists()


def test_sync_backfills_then_an_idle_sync_costs_one_call(
    config: Path, strava: FakeStrava, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    for day in range(1, 25):
        strava.add(summary_activity(5_000 + day, now - timedelta(days=day), 7.0))
    strava.add(summary_activity(4_000, now - timedelta(days=90), 7.0))  # before the backfill
    strava.set_shoes([summary_gear("g9", "Clifton", 300.0)])
    assert main(["strava", "auth", "--code", strava.code, "--config", str(config)]) == 0
    assert main(["strava", "sync", "--config", str(config)]) == 0
    assert "24 activities: 24 new" in capsys.readouterr().out
    before = strava.count(ACTIVITIES_PATH)
    calls = strava.count()
    assert main(["strava", "sync", "--config", str(config)]) == 0
    assert "0 new, 0 updated, " in capsys.readouterr().out
    assert strava.count(ACTIVITIES_PATH) == before + 1
    assert strava.count() - calls <= 2  # one for the activities, at most one for the shoes
    assert main(["strava", "sync", "--days", "120", "--config", str(config)]) == 0
    assert "1 new" in capsys.readouterr().out  # the old run, with a longer backfill
    with Store.open(config.parent / "restday.db") as store:
        assert store.counts().activities == 25
        assert [g.name for g in store.history().gear] == ["Clifton"]


def test_sync_replaces_an_edited_activity_and_finds_a_late_upload(
    config: Path, strava: FakeStrava, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    strava.add(summary_activity(6_001, now - timedelta(days=1), 7.0))
    assert main(["strava", "auth", "--code", strava.code, "--config", str(config)]) == 0
    assert main(["strava", "sync", "--config", str(config)]) == 0
    strava.edit(6_001, distance=12_000.0, sport_type="TrailRun")
    strava.add(summary_activity(6_002, now - timedelta(days=2), 5.0))  # uploaded late
    assert main(["strava", "sync", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"1 new, 1 updated", out), out
    with Store.open(config.parent / "restday.db") as store:
        runs = {a.id: a for a in store.history().activities}
    assert runs[6_001].distance_km == 12.0  # type: ignore[index]
    assert runs[6_001].sport_type == "TrailRun"  # type: ignore[index]
    assert 6_002 in runs


def test_sync_when_strava_is_down_says_so_and_exits_1(
    config: Path, strava: FakeStrava, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["strava", "auth", "--code", strava.code, "--config", str(config)]) == 0
    strava.fail_next(5, 503)
    assert main(["strava", "sync", "--config", str(config)]) == 1
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("restday: Strava"), last
    assert "503" in last
