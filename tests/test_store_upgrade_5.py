"""A store of one athlete (schema 4) becomes the household's (schema 5): its rows go to the first
configured athlete; a single runner who renames their `id` keeps their history."""

from __future__ import annotations

import json
import logging
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from restday.integrations.strava_json import parse_activity
from restday.models import BodyMeasurement, Kilograms
from restday.store import SCHEMA_VERSION, Store, StoreError
from restday.sync import STRAVA_PARSERS
from tests.factories import DAY, at, night, pain, weigh
from tests.test_store import run_json
from tests.test_strava_json import ATHLETE

RECEIVED = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 20, 7, 5, tzinfo=UTC)
CREATED = "2026-01-02T03:04:05.000000Z"
ANNA, BEN = "anna", "ben"

# Schema 4 as shipped (restday/store/schema.py `_SCHEMA` before the household, issue 13).
SCHEMA_4 = """
CREATE TABLE IF NOT EXISTS activity (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, sport_type TEXT NOT NULL,
    start_at TEXT NOT NULL, distance_m REAL NOT NULL, moving_time_s REAL NOT NULL,
    elapsed_time_s REAL NOT NULL, average_heartrate REAL, max_heartrate REAL,
    suffer_score REAL, cadence_spm REAL, gear_id TEXT, workout_type INTEGER,
    raw TEXT NOT NULL CHECK (json_valid(raw)));
CREATE INDEX IF NOT EXISTS activity_start ON activity (start_at);
CREATE TABLE IF NOT EXISTS gear (
    id TEXT PRIMARY KEY, position INTEGER NOT NULL, name TEXT NOT NULL,
    distance_m REAL NOT NULL, is_primary INTEGER NOT NULL, retired INTEGER NOT NULL,
    raw TEXT NOT NULL CHECK (json_valid(raw)));
CREATE TABLE IF NOT EXISTS sleep (
    end_at TEXT PRIMARY KEY, start_at TEXT, hours REAL NOT NULL, hrv_ms REAL,
    resting_hr REAL, source TEXT NOT NULL, received_at TEXT NOT NULL,
    raw TEXT NOT NULL CHECK (json_valid(raw)));
CREATE TABLE IF NOT EXISTS sleep_replaced (
    end_at TEXT NOT NULL, start_at TEXT, hours REAL NOT NULL, hrv_ms REAL,
    resting_hr REAL, source TEXT NOT NULL, received_at TEXT NOT NULL,
    raw TEXT NOT NULL CHECK (json_valid(raw)));
CREATE INDEX IF NOT EXISTS sleep_replaced_end ON sleep_replaced (end_at);
CREATE TABLE IF NOT EXISTS body (
    measured_at TEXT NOT NULL, weight_key INTEGER NOT NULL, weight_kg REAL NOT NULL,
    water_pct REAL, source TEXT NOT NULL, received_at TEXT NOT NULL,
    raw TEXT NOT NULL CHECK (json_valid(raw)), PRIMARY KEY (measured_at, weight_key));
CREATE TABLE IF NOT EXISTS pain (
    reported_at TEXT NOT NULL, level INTEGER NOT NULL, received_at TEXT NOT NULL,
    raw TEXT NOT NULL CHECK (json_valid(raw)), PRIMARY KEY (reported_at, level));
CREATE TABLE IF NOT EXISTS unparsed (
    kind TEXT NOT NULL, raw TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counter (
    kind TEXT NOT NULL, name TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (kind, name));
CREATE TABLE IF NOT EXISTS sent (key TEXT PRIMARY KEY, sent_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
PRAGMA user_version = 4;
"""


def ts(when: datetime) -> str:
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def schema_4_store(path: Path) -> None:
    """One runner's store as restday with schema 4 wrote it: a run, two shoes, a night and the
    one it replaced, a weigh-in, a pain report, a notification sent, the service's state."""
    item = run_json(0)
    a = parse_activity(item)
    last, replaced = night(DAY, 7.5, hrv=61.0), night(DAY, 6.0, end_hour=6.5)
    m, p = weigh(DAY, 70.4), pain(DAY, 3)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.executescript(SCHEMA_4)
        conn.execute(
            "INSERT INTO activity VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (a.id, a.name, a.sport_type, ts(a.start), a.distance_m, a.moving_time_s,
             a.elapsed_time_s, a.average_heartrate, a.max_heartrate, a.suffer_score,
             a.cadence_spm, a.gear_id, a.workout_type, json.dumps(item)),
        )  # fmt: skip
        for position, shoe in enumerate(ATHLETE["shoes"]):
            conn.execute(
                "INSERT INTO gear VALUES (?, ?, ?, ?, ?, ?, ?)",
                (shoe["id"], position, shoe["name"], shoe["distance"], shoe.get("primary", False),
                 shoe["retired"], json.dumps(shoe)),
            )  # fmt: skip
        for table, s in (("sleep", last), ("sleep_replaced", replaced)):
            assert s.start is not None
            conn.execute(
                f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (ts(s.end), ts(s.start), s.hours, s.hrv_ms, s.resting_hr, s.source,
                 ts(RECEIVED), "{}"),
            )  # fmt: skip
        conn.execute(
            "INSERT INTO body VALUES (?, 7040, 70.4, NULL, 'xiaomi', ?, '{\"w\": 70.4}')",
            (ts(m.time), ts(RECEIVED)),
        )
        conn.execute("INSERT INTO pain VALUES (?, 3, ?, '3')", (ts(p.time), ts(RECEIVED)))
        conn.execute("INSERT INTO sent VALUES ('morning:2026-11-20', ?)", (ts(RECEIVED),))
        conn.executemany(
            "INSERT INTO state VALUES (?, ?)",
            [("store_created_at", CREATED), ("store_checked_at", "2026-11-19T08:00:00+00:00"),
             ("strava_last_sync", "2026-11-20T06:30:00+00:00")],
        )  # fmt: skip
        conn.execute("INSERT INTO counter VALUES ('scale', 'rejected', 2)")
        conn.execute("INSERT INTO unparsed VALUES ('scale', 'not json', 'not JSON')")


def sql(path: Path, statement: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(statement).fetchall()


def everything(store: Store, athlete: str) -> tuple[object, ...]:
    """What a runner has in the store, as the service reads it."""
    h = store.history(athlete=athlete)
    return (
        [a.id for a in h.activities],
        [g.id for g in h.gear],
        [(s.end, s.hours) for s in h.sleeps],
        h.body,
        [p.level for p in h.pains],
        store.was_sent("morning:2026-11-20", athlete=athlete),
        store.get_state("strava_last_sync", athlete=athlete),
    )


HER_ROWS = (
    [1000],
    ["g12345", "g777"],
    [(night(DAY, 7.5).end, 7.5)],
    (BodyMeasurement(weigh(DAY, 70.4).time, Kilograms(70.4), None, "xiaomi"),),
    [3],
    True,
    "2026-11-20T06:30:00+00:00",
)
NOTHING: tuple[object, ...] = ([], [], [], (), [], False, None)


def test_a_schema_4_store_gives_every_row_to_the_first_athlete(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "restday.db"
    schema_4_store(path)
    with caplog.at_level(logging.INFO, "restday.store"), Store.open(
        path, parsers=STRAVA_PARSERS, athlete=ANNA
    ) as store:  # fmt: skip
        assert everything(store, ANNA) == HER_ROWS
        assert everything(store, BEN) == NOTHING
        assert store.athletes() == [ANNA]
        assert store.created_at() == CREATED  # the service's, kept
        assert store.get_state("store_checked_at") == "2026-11-19T08:00:00+00:00"
        assert store.counters() == {"scale": {"rejected": 2}}
        assert store.unassigned() == []
    assert "upgraded the store from schema 4 to 5: its rows belong to athlete anna" in [
        r.getMessage() for r in caplog.records if r.levelno == logging.INFO
    ]
    assert sql(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert sql(path, "SELECT athlete, hours FROM sleep_replaced") == [(ANNA, 6.0)]
    assert sql(path, "SELECT athlete, key FROM state ORDER BY key") == [
        ("", "store_checked_at"),
        ("", "store_created_at"),
        (ANNA, "strava_last_sync"),
    ]
    assert sql(path, "SELECT kind, raw FROM unparsed") == [("scale", "not json")]


def test_after_the_upgrade_a_second_athlete_starts_with_nothing_of_the_first(
    tmp_path: Path,
) -> None:
    path = tmp_path / "restday.db"
    schema_4_store(path)
    Store.open(path, parsers=STRAVA_PARSERS, athlete=ANNA).close()
    with Store.open(path, athlete=BEN) as store:
        assert everything(store, BEN) == NOTHING
        assert store.add_body(weigh(DAY, 70.4), "{}", RECEIVED)  # the same reading, his own
        assert store.athletes() == [ANNA, BEN]
        assert everything(store, ANNA) == HER_ROWS


def test_a_schema_4_store_is_refused_unchanged_when_opened_read_only(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    schema_4_store(path)
    with pytest.raises(StoreError, match="written by an older restday and needs an upgrade"):
        Store.open(path, read_only=True, athlete=ANNA)
    assert sql(path, "PRAGMA user_version") == [(4,)]
    assert sql(path, "SELECT key FROM sent") == [("morning:2026-11-20",)]


def test_a_failed_upgrade_leaves_the_schema_4_store_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    schema_4_store(path)
    before = sql(path, "SELECT * FROM body")
    bad = run_json(5) | {"start_date": "not a date"}  # parsed again, it goes to `unparsed`...
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "INSERT INTO activity SELECT 1005, name, sport_type, start_at, distance_m, "
            "moving_time_s, elapsed_time_s, average_heartrate, max_heartrate, suffer_score, "
            "cadence_spm, gear_id, workout_type, ? FROM activity",
            (json.dumps(bad),),
        )
        conn.execute(  # ...which fails, late in the upgrade, as a full disk would
            "CREATE TRIGGER refuse_unparsed BEFORE INSERT ON unparsed BEGIN "
            "SELECT RAISE(ABORT, 'the disk said no'); END"
        )
    with pytest.raises(StoreError, match="the disk said no"):
        Store.open(path, parsers=STRAVA_PARSERS, athlete=ANNA)
    assert sql(path, "PRAGMA user_version") == [(4,)]
    assert sql(path, "SELECT * FROM body") == before
    assert [c[1] for c in sql(path, "PRAGMA table_info(sent)")] == ["key", "sent_at"]


# --- a single runner who changes their id ---------------------------------------------------


def test_a_renamed_single_athlete_keeps_the_history(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "restday.db"
    schema_4_store(path)
    Store.open(path, parsers=STRAVA_PARSERS).close()  # upgraded for "me", the default id
    with Store.open(path, athlete=ANNA) as store:  # a household's open: nothing moves
        assert everything(store, ANNA) == NOTHING
    with caplog.at_level(logging.WARNING, "restday.store"), Store.open(
        path, athlete=ANNA, adopt_single=True
    ) as store:  # fmt: skip
        assert everything(store, ANNA) == HER_ROWS
        assert everything(store, "me") == NOTHING
        assert store.athletes() == [ANNA]
        assert store.created_at() == CREATED
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert said == [
        "the athlete id changed from me to anna: the store's rows of me, who is not "
        "configured, now belong to anna (the store held no other athlete's)"
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, "restday.store"):
        Store.open(path, athlete=ANNA, adopt_single=True).close()  # nothing more to do
    assert caplog.records == []


def test_a_household_store_is_never_given_to_a_new_id(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    with Store.open(path, athlete=ANNA) as store:
        store.add_body(weigh(DAY, 60.0), "{}", RECEIVED)
        store.add_pain(pain(DAY, 2), "2", RECEIVED, athlete=BEN)
    with Store.open(path, athlete="carl", adopt_single=True) as store:
        assert store.athletes() == [ANNA, BEN]
        assert store.history().body == ()
    with Store.open(path, read_only=True, athlete="carl", adopt_single=True) as store:
        assert store.athletes() == [ANNA, BEN]


def test_a_single_runners_store_becomes_the_first_athletes_of_a_new_household(
    tmp_path: Path,
) -> None:
    path = tmp_path / "restday.db"
    with Store.open(path) as store:  # a single runner, id "me"
        store.add_body(weigh(DAY, 60.0), "{}", RECEIVED)
    with Store.open(path, athlete=ANNA, adopt_single=True, configured=(ANNA, BEN)) as store:
        assert [m.weight_kg for m in store.history().body] == [60.0]
        assert store.athletes() == [ANNA]


def test_a_configured_athletes_rows_are_never_given_to_another(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    with Store.open(path, athlete=BEN) as store:  # ben ran restday alone; anna joins
        store.add_body(weigh(DAY, 80.0), "{}", RECEIVED)
    with Store.open(path, athlete=ANNA, adopt_single=True, configured=(ANNA, BEN)) as store:
        assert store.history().body == ()
        assert [m.weight_kg for m in store.history(athlete=BEN).body] == [80.0]


def test_a_rename_follows_into_the_candidates_of_unassigned_weigh_ins(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    m = weigh(DAY, 66.0, hour=7.5)
    with Store.open(path) as store:
        store.add_body(weigh(DAY, 60.0), "{}", RECEIVED)
        store.add_unassigned(m, "{}", RECEIVED, ["me", "guest"])
    with Store.open(path, athlete=ANNA, adopt_single=True) as store:
        assert [w.candidates for w in store.unassigned()] == [(ANNA, "guest")]
        assert store.assign(at(DAY, 7.5), ANNA) == (m,)


def test_an_upgrade_settles_each_athletes_nights_apart(tmp_path: Path) -> None:
    """Re-deriving `sleep` (any later upgrade) applies "Overlapping nights" within one athlete's
    sessions only: anna's and ben's overlapping nights both stay."""
    path = tmp_path / "restday.db"
    Store.open(path).close()
    with closing(sqlite3.connect(path)) as conn, conn:  # stored as they came, as before the rule
        came = [(ANNA, night(DAY, 7.5), RECEIVED), (BEN, night(DAY, 6.0), RECEIVED),
                (ANNA, night(DAY, 7.0, end_hour=7.25), LATER)]  # fmt: skip
        for who, s, received in came:
            assert s.start is not None
            conn.execute(
                "INSERT INTO sleep VALUES (?, ?, ?, ?, NULL, NULL, 'generic', ?, '{}')",
                (who, ts(s.end), ts(s.start), s.hours, ts(received)),
            )
        conn.execute("PRAGMA user_version = 4")
    with Store.open(path, parsers=STRAVA_PARSERS, athlete=ANNA) as store:
        assert [s.hours for s in store.history().sleeps] == [7.0]  # received last
        assert [s.hours for s in store.history(athlete=BEN).sleeps] == [6.0]
    assert sql(path, "SELECT athlete, hours FROM sleep_replaced") == [(ANNA, 7.5)]
