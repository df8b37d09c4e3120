"""The store of a household (schema 5): every input belongs to one athlete, whose rows never mix
with another's; weigh-ins a shared scale could not give to anyone wait in `unassigned`."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from restday.daemon.held import STORE_CHECK_KEY
from restday.integrations.strava_json import parse_activity
from restday.models import BodyMeasurement, Kilograms, SleepSession
from restday.store import CREATED_KEY, Store, StoreCounts
from restday.store.athletes import SERVICE_KEYS
from restday.sync import STRAVA_PARSERS
from tests.factories import DAY, at, night, pain, weigh
from tests.test_store import gear_items, raw, run_json

RECEIVED = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
LATER = RECEIVED + timedelta(minutes=5)
ANNA, BEN = "anna", "ben"


def household(tmp_path: Path) -> Store:
    """A store on a real file, opened for anna (the first athlete), as the household opens it."""
    return Store.open(tmp_path / "restday.db", parsers=STRAVA_PARSERS, athlete=ANNA)


def rows(path: Path, statement: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(statement).fetchall()


def weigh_in(m: BodyMeasurement) -> str:
    return json.dumps({"weight": m.weight_kg, "time": m.time.isoformat()})


# --- one athlete's rows are theirs alone ----------------------------------------------------


def test_two_athletes_weigh_ins_never_mix(tmp_path: Path) -> None:
    with household(tmp_path) as store:
        same = weigh(DAY, 70.4)  # one scale, the same reading: one of each of theirs
        assert store.add_body(same, weigh_in(same), RECEIVED)
        assert store.add_body(same, weigh_in(same), RECEIVED, athlete=BEN)
        assert store.add_body(weigh(DAY, 81.0, hour=7.5), "{}", RECEIVED, athlete=BEN)
        assert not store.add_body(same, weigh_in(same), LATER, athlete=BEN)  # sent again
    with Store.open(tmp_path / "restday.db", athlete=BEN) as store:
        assert [m.weight_kg for m in store.history().body] == [70.4, 81.0]
        assert [m.weight_kg for m in store.history(athlete=ANNA).body] == [70.4]


def test_same_night_of_two_athletes_is_kept_for_both(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    with household(tmp_path) as store:
        assert store.add_sleep(night(DAY, 7.5, hrv=61.0), "{}", RECEIVED)
        assert store.add_sleep(night(DAY, 6.0, end_hour=6.5, hrv=48.0), "{}", LATER, athlete=BEN)
        assert store.history().sleeps == (night(DAY, 7.5, hrv=61.0),)
        assert store.history(athlete=BEN).sleeps == (night(DAY, 6.0, end_hour=6.5, hrv=48.0),)
        # the rule still holds within one athlete's nights: the one received last wins
        assert store.add_sleep(night(DAY, 7.0, end_hour=7.25), "{}", LATER, athlete=BEN)
        assert store.history(athlete=BEN).sleeps == (night(DAY, 7.0, end_hour=7.25),)
        assert store.history().sleeps == (night(DAY, 7.5, hrv=61.0),)
        # a night replaced for ben and sent again is a re-send for ben, not for anna
        replaced = night(DAY, 6.0, end_hour=6.5, hrv=48.0)
        assert not store.add_sleep(replaced, "{}", LATER, athlete=BEN)
    assert rows(path, "SELECT athlete, hours FROM sleep_replaced") == [(BEN, 6.0)]


def test_pain_and_sent_notifications_are_each_athletes_own(tmp_path: Path) -> None:
    with household(tmp_path) as store:
        assert store.add_pain(pain(DAY, 6), "6", RECEIVED)
        assert store.add_pain(pain(DAY, 6), "6", RECEIVED, athlete=BEN)
        assert not store.add_pain(pain(DAY, 6), "6", LATER, athlete=BEN)
        assert store.mark_sent("rest_day:2026-11-20", RECEIVED, athlete=BEN)
        assert not store.was_sent("rest_day:2026-11-20")  # anna's was not
        assert store.mark_sent("rest_day:2026-11-20", RECEIVED)
        assert not store.mark_sent("rest_day:2026-11-20", LATER, athlete=BEN)
        assert store.was_sent("rest_day:2026-11-20", athlete=BEN)
        assert [p.level for p in store.history(athlete=BEN).pains] == [6]


def test_each_athlete_keeps_their_own_shoes_and_activities(tmp_path: Path) -> None:
    with household(tmp_path) as store:
        shoes = gear_items()
        store.replace_gear(shoes)
        store.replace_gear(shoes[1:], athlete=BEN)
        store.replace_gear(shoes[:1])  # anna's list again: ben's shoes stay
        assert [g.id for g in store.history().gear] == [shoes[0][0].id]
        assert [g.id for g in store.history(athlete=BEN).gear] == [shoes[1][0].id]
        ben_run = run_json(1) | {"id": 2001}
        store.upsert_activities([(parse_activity(i), raw(i)) for i in [run_json(0), run_json(1)]])
        store.upsert_activities([(parse_activity(ben_run), raw(ben_run))], athlete=BEN)
        assert [a.id for a in store.history().activities] == [1001, 1000]
        assert [a.id for a in store.history(athlete=BEN).activities] == [2001]
        assert store.counts() == StoreCounts(activities=2, sleeps=0, weigh_ins=0, pains=0, gear=1)
        assert store.counts(athlete=BEN) == StoreCounts(1, 0, 0, 0, 1)


def test_an_activity_stored_for_another_athlete_is_refused_naming_both(tmp_path: Path) -> None:
    with household(tmp_path) as store:
        store.upsert_activities([(parse_activity(run_json(0)), raw(run_json(0)))])
        ben = [run_json(3) | {"id": 2003}, run_json(0, name="Anna's run on ben's account")]
        with pytest.raises(ValueError, match="activity 1000 for athlete ben: it is stored for "
                           "athlete anna") as refused:  # fmt: skip
            store.upsert_activities([(parse_activity(i), raw(i)) for i in ben], athlete=BEN)
        assert "nothing of this import was stored" in str(refused.value)
        assert store.history(athlete=BEN).activities == ()  # not moved, nothing half-stored
        assert [a.name for a in store.history().activities] == [run_json(0)["name"]]


def test_athletes_are_those_with_any_row(tmp_path: Path) -> None:
    with household(tmp_path) as store:
        assert store.athletes() == []  # the creation time is the service's
        store.set_state("tracker", "{}", athlete="carl")
        store.add_pain(pain(DAY, 2), "2", RECEIVED, athlete=BEN)
        store.add_unassigned(weigh(DAY, 66.0), "{}", RECEIVED, [ANNA])  # nobody's yet
        assert store.athletes() == [BEN, "carl"]
        store.add_body(weigh(DAY, 60.0), "{}", RECEIVED)
        assert store.athletes() == [ANNA, BEN, "carl"]


def test_an_empty_athlete_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="an athlete id cannot be empty"):
        Store.open(tmp_path / "restday.db", athlete="")
    assert not (tmp_path / "restday.db").exists()
    with Store.open_memory(athlete=ANNA) as store, pytest.raises(ValueError, match="empty"):
        store.add_body(weigh(DAY, 60.0), "{}", RECEIVED, athlete="")


# --- the service's own state ----------------------------------------------------------------


def test_service_wide_state_is_shared_whichever_athlete_opened_the_store(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    assert STORE_CHECK_KEY in SERVICE_KEYS  # the daemon's test write (held.py)
    with Store.open(path, athlete=ANNA) as store:
        created = store.created_at()
        store.set_state(STORE_CHECK_KEY, "2026-11-20T07:00:00+00:00")
        store.set_state("strava_last_sync", "anna's")
        store.set_state("strava_last_sync", "ben's", athlete=BEN)
        store.set_state("household_note", "everyone's", athlete="")
        with pytest.raises(ValueError, match="'store_checked_at' is the service's"):
            store.set_state(STORE_CHECK_KEY, "x", athlete=BEN)
    with Store.open(path, athlete=BEN) as store:
        assert store.created_at() == created
        assert store.get_state(CREATED_KEY, athlete="") == created
        assert store.get_state(STORE_CHECK_KEY) == "2026-11-20T07:00:00+00:00"
        assert store.get_state("strava_last_sync") == "ben's"
        assert store.get_state("strava_last_sync", athlete=ANNA) == "anna's"
        assert store.get_state("household_note") is None
        assert store.get_state("household_note", athlete="") == "everyone's"
    assert sorted(rows(path, "SELECT athlete, key FROM state")) == [
        ("", "household_note"),
        ("", "store_checked_at"),
        ("", "store_created_at"),
        (ANNA, "strava_last_sync"),
        (BEN, "strava_last_sync"),
    ]


# --- weigh-ins of a shared scale nobody could be given --------------------------------------


def test_an_unassigned_weigh_in_assigned_moves_to_that_athlete_once(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    m = BodyMeasurement(at(DAY, 7.2), Kilograms(66.5), 55.1, "xiaomi")
    with household(tmp_path) as store:
        assert store.add_unassigned(m, weigh_in(m), RECEIVED, [ANNA, BEN])
        assert not store.add_unassigned(m, weigh_in(m), LATER, [ANNA, BEN])  # retained replay
    with household(tmp_path) as store:  # kept across a restart
        assert store.unassigned_count() == 1
        assert store.unassigned() == [(m, (ANNA, BEN), weigh_in(m))]
        assert store.history(athlete=BEN).body == ()
        assert store.assign(m.time.isoformat(), BEN) == (m,)
        assert store.assign(m.time.isoformat(), BEN) == ()  # done: nothing left at that time
        assert store.unassigned() == []
        assert store.history(athlete=BEN).body == (m,)
        assert store.history().body == ()
        # the scale's retained message again after a restart: it is ben's, not unassigned
        assert not store.add_unassigned(m, weigh_in(m), LATER, [ANNA, BEN])
        assert store.unassigned_count() == 0
    received = rows(path, "SELECT received_at, raw FROM body WHERE athlete = 'ben'")
    assert received == [("2026-11-20T07:00:00.000000Z", weigh_in(m))]  # as it first came


def test_readings_at_one_instant_are_assigned_together(tmp_path: Path) -> None:
    first, corrected = weigh(DAY, 66.5), weigh(DAY, 66.3)  # one stepping-on, sent twice
    other = weigh(DAY, 80.2, hour=7.5)
    with household(tmp_path) as store:
        for m in (first, corrected, other):
            assert store.add_unassigned(m, weigh_in(m), RECEIVED, [])
        assert [w.measurement for w in store.unassigned()] == [corrected, first, other]
        assert store.unassigned()[0].candidates == ()
        assert store.assign(first.time, ANNA) == (corrected, first)
        assert [w.measurement for w in store.unassigned()] == [other]
        assert store.history().body == (corrected, first)


def test_assign_takes_the_time_as_sent_in_any_zone(tmp_path: Path) -> None:
    m = weigh(DAY, 66.5)  # 07:00 in Berlin
    with household(tmp_path) as store:
        store.add_unassigned(m, weigh_in(m), RECEIVED, [ANNA])
        with pytest.raises(ValueError, match="'at seven' is not a time: give the weigh-in's"):
            store.assign("at seven", ANNA)
        with pytest.raises(ValueError, match="has no zone"):
            store.assign("2026-11-20T07:00:00", ANNA)
        with pytest.raises(ValueError, match="an athlete id cannot be empty"):
            store.assign(m.time.isoformat(), "")
        assert store.assign("2026-11-20T06:00:01Z", ANNA) == ()  # a second later: not it
        assert store.unassigned_count() == 1
        assert store.assign(" 2026-11-20T06:00:00Z ", ANNA) == (m,)


def test_a_weigh_in_stored_for_an_athlete_is_not_kept_unassigned_too(tmp_path: Path) -> None:
    m = weigh(DAY, 66.5)
    with household(tmp_path) as store:
        assert store.add_body(m, weigh_in(m), RECEIVED, athlete=BEN)
        assert not store.add_unassigned(m, weigh_in(m), LATER, [ANNA, BEN])
        heavier = weigh(DAY, 66.6)  # not the same weigh-in: 0.1 kg apart
        assert store.add_unassigned(heavier, weigh_in(heavier), LATER, [ANNA, BEN])
        assert store.unassigned_count() == 1


def test_an_assigned_weigh_in_the_athlete_had_already_is_not_doubled(tmp_path: Path) -> None:
    m = weigh(DAY, 66.5)
    with household(tmp_path) as store:
        store.add_unassigned(m, weigh_in(m), RECEIVED, [ANNA, BEN])
        assert store.add_body(m, weigh_in(m), LATER)  # given to anna meanwhile (bands changed)
        assert store.assign(m.time, ANNA) == ()  # nothing new for anna
        assert store.unassigned_count() == 0
        assert store.history().body == (m,)


def test_a_store_in_memory_keeps_athletes_apart_too() -> None:
    """The demo's store, in memory, keeps two athletes' nights as a file does."""
    with Store.open_memory(athlete=ANNA) as store:
        ring = SleepSession(at(DAY, 7.0), night(DAY, 7.0).hours, at(DAY, 0.0))
        assert store.add_sleep(ring, "{}", RECEIVED)
        assert store.add_sleep(ring, "{}", RECEIVED, athlete=BEN)
        assert store.counts().sleeps == store.counts(athlete=BEN).sleeps == 1
