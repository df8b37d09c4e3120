"""The SQLite store, on real files: nothing lost, nothing doubled, old stores upgraded."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restday.integrations.strava_json import parse_activity, parse_shoes
from restday.models import BodyMeasurement, Gear, Hours, Kilograms, PainReport, SleepSession
from restday.store import SCHEMA_VERSION, Store, StoreCounts, StoreError
from restday.sync import STRAVA_PARSERS
from tests.factories import DAY, TZ, at, night, pain, weigh
from tests.test_strava_json import ATHLETE, strava, strava_activities

RECEIVED = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
TEN_YEARS_DAYS = 3650


def raw(obj: object) -> str:
    return json.dumps(obj, sort_keys=True)


def run_json(n: int, day: date = DAY, km: float = 10.0, **changes: Any) -> dict[str, Any]:
    """Strava JSON of a run `n` days before `day`, 07:00 Berlin time."""
    start = at(day - timedelta(days=n), 7.0).strftime("%Y-%m-%dT%H:%M:%SZ")
    fields: dict[str, Any] = {"id": 1000 + n, "start_date": start, "distance": km * 1000}
    return strava(**(fields | changes))


def import_json(store: Store, items: list[dict[str, Any]]) -> tuple[int, int, int]:
    r = store.upsert_activities([(parse_activity(i), raw(i)) for i in items])
    return r.added, r.updated, r.unchanged


def gear_items() -> list[tuple[Gear, str]]:
    return list(zip(parse_shoes(ATHLETE), [raw(s) for s in ATHLETE["shoes"]], strict=True))


def fill(store: Store) -> None:
    import_json(store, [run_json(n) for n in range(3)])
    store.add_sleep(night(DAY, 7.5, hrv=61.0, rhr=48.0), '{"end": "x"}', RECEIVED)
    store.add_body(weigh(DAY, 70.4), '{"weight": 70.4}', RECEIVED)
    store.add_pain(pain(DAY, 3), "3", RECEIVED)
    store.replace_gear(gear_items())


# The tables of schema 2 (restday before workout_type), as that restday created them.
SCHEMA_2 = """
CREATE TABLE activity (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, sport_type TEXT NOT NULL,
    start_at TEXT NOT NULL, distance_m REAL NOT NULL, moving_time_s REAL NOT NULL,
    elapsed_time_s REAL NOT NULL, average_heartrate REAL, max_heartrate REAL,
    suffer_score REAL, cadence_spm REAL, gear_id TEXT,
    raw TEXT NOT NULL CHECK (json_valid(raw)));
CREATE INDEX activity_start ON activity (start_at);
CREATE TABLE gear (
    id TEXT PRIMARY KEY, position INTEGER NOT NULL, name TEXT NOT NULL,
    distance_m REAL NOT NULL, is_primary INTEGER NOT NULL, retired INTEGER NOT NULL,
    raw TEXT NOT NULL CHECK (json_valid(raw)));
CREATE TABLE sleep (
    end_at TEXT PRIMARY KEY, start_at TEXT, hours REAL NOT NULL, hrv_ms REAL,
    resting_hr REAL, source TEXT NOT NULL, received_at TEXT NOT NULL,
    raw TEXT NOT NULL CHECK (json_valid(raw)));
CREATE TABLE body (
    measured_at TEXT NOT NULL, weight_key INTEGER NOT NULL, weight_kg REAL NOT NULL,
    water_pct REAL, source TEXT NOT NULL, received_at TEXT NOT NULL,
    raw TEXT NOT NULL CHECK (json_valid(raw)), PRIMARY KEY (measured_at, weight_key));
CREATE TABLE pain (
    reported_at TEXT NOT NULL, level INTEGER NOT NULL, received_at TEXT NOT NULL,
    raw TEXT NOT NULL CHECK (json_valid(raw)), PRIMARY KEY (reported_at, level));
CREATE TABLE unparsed (kind TEXT NOT NULL, raw TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE counter (
    kind TEXT NOT NULL, name TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (kind, name));
CREATE TABLE sent (key TEXT PRIMARY KEY, sent_at TEXT NOT NULL);
CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
PRAGMA user_version = 2;
"""


def schema_2_store(path: Path, items: list[dict[str, Any]]) -> None:
    """A store as restday with schema 2 wrote it: activities without a workout_type column."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(SCHEMA_2)
        for item in items:
            a = parse_activity(item)
            conn.execute(
                "INSERT INTO activity VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (a.id, a.name, a.sport_type, item["start_date"], a.distance_m, a.moving_time_s,
                 a.elapsed_time_s, a.average_heartrate, a.max_heartrate, a.suffer_score,
                 a.cadence_spm, a.gear_id, raw(item)),
            )  # fmt: skip
        conn.execute(
            "INSERT INTO sleep VALUES ('2026-11-20T06:00:00.000000Z', NULL, 7.5, 61.0, 48.0, "
            "'generic', '2026-11-20T07:00:00.000000Z', '{}')"
        )
        conn.commit()
    finally:
        conn.close()


def sql(path: Path, statement: str) -> list[tuple[Any, ...]]:
    """Plain sqlite3, as a person with the sqlite3 shell would do it."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(statement).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


# --- files and schema -----------------------------------------------------------------------


def test_reopening_after_close_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    with Store.open(path) as store:
        fill(store)
        before = store.history()
    with Store.open(path) as store:
        assert store.history() == before
        assert store.counts() == StoreCounts(activities=3, sleeps=1, weigh_ins=1, pains=1, gear=2)
    assert before.sleeps[0].hrv_ms == 61.0
    assert [g.name for g in before.gear] == ["Pegasus 40", "Old trail shoes"]


def test_open_creates_missing_folders_and_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "restday" / "restday.db"
    with Store.open(path) as store:
        assert store.counts() == StoreCounts(0, 0, 0, 0, 0)
    assert path.is_file()
    assert sql(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_store_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    Store.open(path).close()
    assert sql(path, "PRAGMA journal_mode") == [("wal",)]


def test_workout_type_is_stored_and_comes_back_in_the_history(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    items = [run_json(2, workout_type=1), run_json(1, workout_type=2), run_json(0)]
    with Store.open(path) as store:
        import_json(store, items)
    with Store.open(path) as store:
        assert [a.workout_type for a in store.history().activities] == [1, 2, None]
    assert sql(path, "SELECT workout_type FROM activity ORDER BY id") == [(None,), (2,), (1,)]


def test_raw_json_is_kept_beside_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    item = run_json(0)
    with Store.open(path) as store:
        import_json(store, [item])
        store.add_body(weigh(DAY, 70.4), '{"weight": 70.4, "unit": "kg"}', RECEIVED)
    [(stored,)] = sql(path, "SELECT raw FROM activity")
    assert json.loads(stored) == item
    assert sql(path, "SELECT raw, source FROM body") == [
        ('{"weight": 70.4, "unit": "kg"}', "generic")
    ]


def test_older_schema_is_upgraded_by_rederiving_activities_from_raw_json(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    with Store.open(path) as store:
        fill(store)
        before = store.history()
    sql(path, "UPDATE activity SET distance_m = 0, cadence_spm = NULL")
    sql(path, "UPDATE gear SET distance_m = 0")
    sql(path, "PRAGMA user_version = 0")
    with Store.open(path, parsers=STRAVA_PARSERS) as store:
        after = store.history()
    assert [a.distance_km for a in after.activities] == [10.0, 10.0, 10.0]
    assert after == before  # cadence, shoes, nights, weigh-ins and pain all back or kept
    assert sql(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_upgrade_keeps_raw_that_no_longer_parses_aside(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    with Store.open(path) as store:
        import_json(store, [run_json(0), run_json(1)])
    bad = raw(run_json(1, distance=-1.0))
    sql(path, f"UPDATE activity SET raw = '{bad}' WHERE id = 1001")
    sql(path, "PRAGMA user_version = 0")
    with Store.open(path, parsers=STRAVA_PARSERS) as store:
        assert [a.id for a in store.history().activities] == [1000]
    [(kind, kept, reason)] = sql(path, "SELECT kind, raw, reason FROM unparsed")
    assert (kind, kept) == ("activity", bad)
    assert reason == "activity 1001: distance is negative (-1.0)"


def test_a_schema_2_store_upgrades_and_gets_workout_type_from_its_raw_json(
    tmp_path: Path,
) -> None:
    path = tmp_path / "restday.db"
    race, plain, untagged = (
        run_json(2, km=21.1, workout_type=1),
        run_json(1, workout_type=0),
        run_json(0, workout_type=...),
    )
    odd = run_json(3, workout_type="race")  # read as no tag: the run is not set aside
    schema_2_store(path, [race, plain, untagged, odd])
    with Store.open(path, parsers=STRAVA_PARSERS) as store:
        history = store.history()
    assert [(a.id, a.workout_type) for a in history.activities] == [
        (1003, None), (1002, 1), (1001, 0), (1000, None)
    ]  # fmt: skip
    assert [a.distance_km for a in history.activities] == [10.0, 21.1, 10.0, 10.0]
    assert [s.hours for s in history.sleeps] == [7.5]  # the other tables are kept as stored
    assert sql(path, "SELECT count(*) FROM unparsed") == [(0,)]
    assert sql(path, "SELECT id, workout_type FROM activity WHERE id = 1002") == [(1002, 1)]
    assert sql(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_an_upgrade_without_parsers_is_refused_and_leaves_the_store_unchanged(
    tmp_path: Path,
) -> None:
    path = tmp_path / "restday.db"
    schema_2_store(path, [run_json(0)])
    content = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        Store.open(path)  # the store knows only SQL: Strava's JSON is parsed by the caller's
    assert str(caught.value) == (
        f"cannot upgrade the store {path} from schema 2 to {SCHEMA_VERSION}: the upgrade "
        "parses activities and gear again from their raw JSON and was given no parsers "
        "(Store.open(..., parsers=...)); the store is unchanged"
    )
    assert path.read_bytes() == content
    assert sql(path, "PRAGMA user_version") == [(2,)]


def test_store_from_a_newer_restday_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    newer = SCHEMA_VERSION + 1
    with Store.open(path) as store:
        fill(store)
    sql(path, f"PRAGMA user_version = {newer}")
    sql(path, "PRAGMA wal_checkpoint(TRUNCATE)")
    content = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        Store.open(path)
    assert str(caught.value) == (
        f"{path} was written by a newer restday (schema {newer} > {SCHEMA_VERSION}); "
        "upgrade restday"
    )
    assert path.read_bytes() == content
    assert sql(path, "PRAGMA user_version") == [(newer,)]


def test_file_that_is_not_a_database_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    path.write_text("[athlete]\ntimezone = 'Europe/Berlin'\n" * 40)
    content = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        Store.open(path)
    assert str(caught.value) == f"{path} is not a restday store (not an SQLite database)"
    assert caught.value.__cause__ is None
    assert path.read_bytes() == content


def test_a_folder_in_place_of_the_store_is_refused_naming_it(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(StoreError, match="taken"):
        Store.open(tmp_path / "taken")


# --- activities -----------------------------------------------------------------------------


def test_importing_the_same_activities_twice_changes_nothing(tmp_path: Path) -> None:
    items = [run_json(n) for n in range(5)]
    with Store.open(tmp_path / "restday.db") as store:
        assert import_json(store, items) == (5, 0, 0)
        before = store.history()
        assert import_json(store, items) == (0, 0, 5)
        assert store.history() == before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(strava_activities(ids=st.integers(1, 8)), max_size=12))
def test_upserting_any_batch_twice_leaves_counts_and_history_equal(
    items: list[dict[str, Any]],
) -> None:
    with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "r.db") as store:
        first = import_json(store, items)
        counts, history = store.counts(), store.history()
        assert import_json(store, items)[0] == 0  # nothing new the second time
        assert (store.counts(), store.history()) == (counts, history)
    latest = {i["id"]: parse_activity(i) for i in items}  # the last of an id wins
    assert sorted(history.activities, key=lambda a: a.id) == sorted(
        latest.values(), key=lambda a: a.id
    )
    assert first[0] == len(latest)


def test_an_activity_edited_on_strava_replaces_the_old_one(tmp_path: Path) -> None:
    with Store.open(tmp_path / "restday.db") as store:
        import_json(store, [run_json(0, km=10.0), run_json(1)])
        edited = run_json(0, km=12.5, name="Long run, GPS fixed")
        assert import_json(store, [edited]) == (0, 1, 0)
        activities = store.history().activities
    assert len(activities) == 2
    assert (activities[-1].name, activities[-1].distance_km) == ("Long run, GPS fixed", 12.5)


def test_a_batch_with_one_unstorable_item_stores_none_of_it(tmp_path: Path) -> None:
    good = run_json(0)
    with Store.open(tmp_path / "restday.db") as store:
        with pytest.raises(ValueError, match="activity 1001"):
            store.upsert_activities(
                [(parse_activity(good), raw(good)), (parse_activity(run_json(1)), "not json")]
            )
        assert store.counts().activities == 0


# --- sleep, weigh-ins, pain, gear -----------------------------------------------------------


def test_a_night_sent_twice_is_stored_once(tmp_path: Path) -> None:
    with Store.open(tmp_path / "restday.db") as store:
        assert store.add_sleep(night(DAY, 7.0), "{}", RECEIVED) is True
        assert store.add_sleep(night(DAY, 7.0), "{}", RECEIVED) is False  # the same again
        assert store.add_sleep(night(DAY, 6.0), "{}", RECEIVED) is True  # same end: replaces
        assert [s.hours for s in store.history().sleeps] == [6.0]
        assert store.counts().sleeps == 1


def test_a_weigh_in_sent_twice_is_stored_once(tmp_path: Path) -> None:
    with Store.open(tmp_path / "restday.db") as store:
        assert store.add_body(weigh(DAY, 70.40), "{}", RECEIVED) is True
        assert store.add_body(weigh(DAY, 70.401), "{}", RECEIVED) is False  # same to 10 g
        assert store.add_body(weigh(DAY, 70.45), "{}", RECEIVED) is True  # another user
        assert store.add_body(weigh(DAY, 70.40, hour=8.0), "{}", RECEIVED) is True
        assert store.counts().weigh_ins == 3


def test_a_pain_report_sent_twice_is_stored_once(tmp_path: Path) -> None:
    with Store.open(tmp_path / "restday.db") as store:
        assert store.add_pain(pain(DAY, 5), "5", RECEIVED) is True
        assert store.add_pain(pain(DAY, 5), "5", RECEIVED) is False
        assert store.add_pain(pain(DAY, 6), "6", RECEIVED) is True
        assert [p.level for p in store.history().pains] == [5, 6]


def test_source_and_receipt_time_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    session = SleepSession(end=at(DAY, 6.0), hours=Hours(6.5), source="sleep_as_android")
    with Store.open(path) as store:
        store.add_sleep(session, "{}", RECEIVED)
        store.add_body(BodyMeasurement(at(DAY), Kilograms(70.0), 55.2, "xiaomi_mi_scale"), "{}",
                       RECEIVED)  # fmt: skip
        assert store.history().sleeps == (session,)
        assert store.history().body[0].water_pct == 55.2
    assert sql(path, "SELECT source, received_at FROM sleep") == [
        ("sleep_as_android", "2026-11-20T07:00:00.000000Z")
    ]
    assert sql(path, "SELECT source FROM body") == [("xiaomi_mi_scale",)]


def test_shoes_are_replaced_as_a_whole(tmp_path: Path) -> None:
    with Store.open(tmp_path / "restday.db") as store:
        store.replace_gear(gear_items())
        store.replace_gear(gear_items()[1:])
        assert [g.id for g in store.history().gear] == ["g777"]


def test_naive_times_are_refused_rather_than_guessed(tmp_path: Path) -> None:
    naive = datetime(2026, 11, 20, 7, 0)  # noqa: DTZ001 (the point of the test)
    with Store.open(tmp_path / "restday.db") as store:
        with pytest.raises(ValueError, match="without a zone"):
            store.add_pain(PainReport(naive, 4), "4", RECEIVED)
        assert store.counts().pains == 0


# --- history --------------------------------------------------------------------------------


def test_history_is_time_sorted_whatever_the_order_stored(tmp_path: Path) -> None:
    with Store.open(tmp_path / "restday.db") as store:
        import_json(store, [run_json(n) for n in (3, 0, 7, 1)])
        for n in (2, 0, 5):
            store.add_sleep(night(DAY - timedelta(days=n), 7.0), "{}", RECEIVED)
            store.add_body(weigh(DAY - timedelta(days=n), 70.0), "{}", RECEIVED)
            store.add_pain(pain(DAY - timedelta(days=n), 2), "2", RECEIVED)
        h = store.history()
    for times in ([a.start for a in h.activities], [s.end for s in h.sleeps],
                  [b.time for b in h.body], [p.time for p in h.pains]):  # fmt: skip
        assert times == sorted(times)
        assert len(times) >= 3


def test_times_come_back_as_the_same_utc_instant(tmp_path: Path) -> None:
    exact = datetime(2026, 11, 20, 5, 59, 58, 123456, tzinfo=UTC)
    with Store.open(tmp_path / "restday.db") as store:
        store.add_pain(PainReport(exact.astimezone(TZ), 1), "1", RECEIVED)
        [back] = store.history().pains
    assert back.time == exact
    assert back.time.utcoffset() == timedelta(0)


def test_history_since_keeps_later_inputs_and_every_shoe(tmp_path: Path) -> None:
    since = at(DAY - timedelta(days=1), 7.0)
    with Store.open(tmp_path / "restday.db") as store:
        fill(store)  # runs on DAY, DAY-1, DAY-2 at 07:00; the rest on DAY
        earlier = DAY - timedelta(days=3)
        store.add_sleep(night(earlier, 8.0), "{}", RECEIVED)
        store.add_body(weigh(earlier, 71.0), "{}", RECEIVED)
        store.add_pain(pain(earlier, 6), "6", RECEIVED)
        store.add_pain(pain(DAY - timedelta(days=1), 6, hour=6.99), "6", RECEIVED)  # just before
        h = store.history(since=since)
    assert [a.start for a in h.activities] == [since, at(DAY, 7.0)]  # at `since` included
    assert (len(h.sleeps), len(h.body), len(h.pains), len(h.gear)) == (1, 1, 1, 2)
    assert h.body[0].weight_kg == 70.4
    assert h.pains[0].level == 3


def test_ten_years_of_history_load_whole_and_in_order(tmp_path: Path) -> None:
    """(How fast: bench/bench_evaluate.py, 25 ms on the development machine.)"""
    path = tmp_path / "restday.db"
    with Store.open(path) as store, store.batch():
        import_json(store, [run_json(n) for n in range(TEN_YEARS_DAYS)])
        for n in range(TEN_YEARS_DAYS):
            day = DAY - timedelta(days=n)
            store.add_sleep(night(day, 7.0, hrv=60.0, rhr=50.0), "{}", RECEIVED)
            store.add_body(weigh(day, 70.0 + n % 10 / 10), "{}", RECEIVED)
    with Store.open(path) as store:
        history = store.history()
    assert (len(history.activities), len(history.sleeps), len(history.body)) == (
        TEN_YEARS_DAYS, TEN_YEARS_DAYS, TEN_YEARS_DAYS
    )  # fmt: skip
    for items, key in (
        (history.activities, "start"),
        (history.sleeps, "end"),
        (history.body, "time"),
    ):
        times = [getattr(item, key) for item in items]
        assert times == sorted(times)


def test_a_store_locked_by_another_writer_gives_a_clear_error_then_recovers(
    tmp_path: Path,
) -> None:
    path = tmp_path / "restday.db"
    other = sqlite3.connect(path, isolation_level=None)
    with Store.open(path, busy_timeout_ms=50) as store:  # restday waits 5 s
        other.execute("BEGIN IMMEDIATE")  # e.g. `restday import` running beside the service
        with pytest.raises(StoreError, match=f"cannot write the store {path}: database is locked"):
            store.add_pain(pain(DAY, 4), "4", RECEIVED)
        other.execute("ROLLBACK")
        assert store.add_pain(pain(DAY, 4), "4", RECEIVED) is True
    other.close()


def test_another_programs_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "home-assistant_v2.db"
    sql(path, "CREATE TABLE states (state_id INTEGER PRIMARY KEY, state TEXT)")
    content = path.read_bytes()
    with pytest.raises(StoreError, match=r"is not a restday store \(it has tables \['states'\]\)"):
        Store.open(path)
    assert path.read_bytes() == content
    assert sql(path, "SELECT name FROM sqlite_master") == [("states",)]
