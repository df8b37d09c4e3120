"""Sleep in the store: sessions that overlap in time are one, the one received last
(DESIGN.md §7 "Overlapping nights", RULES.md `sleep_short` v2)."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restday.daemon.stored import Stored
from restday.models import History, Hours, SleepSession
from restday.store import Store, sleeps_overlap
from restday.sync import STRAVA_PARSERS
from tests.factories import DAY, at, night
from tests.test_store import sql

RECEIVED = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
LATER = RECEIVED + timedelta(minutes=5)


def session(
    start_hour: float, end_hour: float, *, hours: float | None = None, source: str = "generic",
    hrv: float | None = None, rhr: float | None = None, with_start: bool = True,
) -> SleepSession:  # fmt: skip
    """A session from `start_hour` to `end_hour` of DAY, local (negative: the evening before,
    -1.0 is 23:00); `hours` asleep (default: all of it)."""
    midnight = at(DAY, 0.0)
    start, end = midnight + timedelta(hours=start_hour), midnight + timedelta(hours=end_hour)
    asleep = (end - start) / timedelta(hours=1) if hours is None else hours
    return SleepSession(end=end, hours=Hours(asleep), start=start if with_start else None,
                        hrv_ms=hrv, resting_hr=rhr, source=source)  # fmt: skip


def raw(s: SleepSession) -> str:
    return json.dumps({"end": s.end.isoformat(), "duration_hours": s.hours, "hrv_ms": s.hrv_ms})


def add(store: Store, s: SleepSession, received_at: datetime = RECEIVED) -> bool:
    return store.add_sleep(s, raw(s), received_at)


def test_a_second_devices_overlapping_night_replaces_the_first(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    watch = session(-1.0, 6.5, hours=7.0, hrv=48.0, rhr=52.0, source="generic")
    ring = session(-0.75, 6.75, hours=6.8, hrv=61.0, rhr=47.0, source="sleep_as_android")
    with Store.open(path) as store:
        assert add(store, watch) is True
        assert add(store, ring, LATER) is True
        assert store.history().sleeps == (ring,)  # 6.8 h, not 13.8; the ring's HRV and HR
        assert store.counts().sleeps == 1
    assert sql(path, "SELECT hours, hrv_ms, resting_hr, source, raw FROM sleep_replaced") == [
        (7.0, 48.0, 52.0, "generic", raw(watch))
    ]  # nothing lost: the replaced night is kept aside, raw JSON and all


def test_the_last_received_wins_even_when_it_is_the_shorter_or_lacks_hrv(tmp_path: Path) -> None:
    with Store.open(tmp_path / "restday.db") as store:
        add(store, session(-1.0, 6.5, hrv=60.0, rhr=50.0))
        corrected = session(0.0, 6.0)
        add(store, corrected, LATER)
        assert store.history().sleeps == (corrected,)


def test_a_corrected_resend_of_the_same_night_replaces_it(tmp_path: Path) -> None:
    with Store.open(tmp_path / "restday.db") as store:
        add(store, session(-1.0, 6.5, hours=7.5, hrv=55.0))
        fixed = session(-1.0, 6.5, hours=6.9, hrv=58.0)  # the same end, another duration
        assert add(store, fixed, LATER) is True
        assert store.history().sleeps == (fixed,)


def test_an_identical_resend_is_a_duplicate_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    night_ = session(-1.0, 6.5, hrv=55.0, rhr=49.0)
    with Store.open(path) as store:
        assert add(store, night_) is True
        assert add(store, night_, LATER) is False
        assert store.history().sleeps == (night_,)
    assert sql(path, "SELECT received_at FROM sleep") == [("2026-11-20T07:00:00.000000Z",)]
    assert sql(path, "SELECT count(*) FROM sleep_replaced") == [(0,)]


def test_a_replay_of_a_replaced_night_is_a_duplicate_not_a_newer_night(tmp_path: Path) -> None:
    """Retained messages come again on every reconnect, in subscription order: the first
    device's night must not come back over the second's."""
    first, second = session(-1.0, 6.5, hrv=48.0), session(-0.5, 6.75, hrv=61.0)
    with Store.open(tmp_path / "restday.db") as store:
        add(store, first)
        add(store, second, LATER)
        assert add(store, first, LATER + timedelta(hours=2)) is False
        assert add(store, second, LATER + timedelta(hours=2)) is False
        assert store.history().sleeps == (second,)


def test_two_sessions_of_a_split_night_both_count(tmp_path: Path) -> None:
    before, after = session(-1.0, 3.0), session(3.5, 6.5)  # awake 03:00–03:30
    touching = session(6.5, 7.0)  # starts as `after` ends: no shared time
    with Store.open(tmp_path / "restday.db") as store:
        assert [add(store, s) for s in (after, before, touching)] == [True, True, True]
        assert store.history().sleeps == (before, after, touching)
        assert sum(s.hours for s in store.history().sleeps) == 4.0 + 3.0 + 0.5


def test_a_nap_that_does_not_overlap_the_night_is_kept(tmp_path: Path) -> None:
    nap = SleepSession(end=at(DAY, 14.5), hours=Hours(0.5), start=at(DAY, 14.0))
    with Store.open(tmp_path / "restday.db") as store:
        add(store, session(-1.0, 6.5))
        add(store, nap, LATER)
        assert [s.hours for s in store.history().sleeps] == [7.5, 0.5]


def test_a_session_without_a_start_covers_its_hours_before_its_end(tmp_path: Path) -> None:
    no_start = session(-1.0, 6.5, with_start=False)  # 23:00–06:30 by end − 7.5 h
    with Store.open(tmp_path / "restday.db") as store:
        add(store, no_start)
        nap = SleepSession(end=at(DAY, 14.5), hours=Hours(0.5))  # 14:00–14:30: kept
        add(store, nap)
        early = session(-3.0, -1.0)  # 21:00–23:00: ends as `no_start` begins, kept
        add(store, early)
        assert store.history().sleeps == (early, no_start, nap)
        late = session(6.0, 8.0)  # 06:00–08:00 overlaps 23:00–06:30 at its end
        add(store, late, LATER)
        assert store.history().sleeps == (early, late, nap)


def test_one_session_over_two_stored_ones_replaces_both(tmp_path: Path) -> None:
    whole = session(-1.0, 6.5, hours=7.0)
    with Store.open(tmp_path / "restday.db") as store:
        add(store, session(-1.0, 3.0))
        add(store, session(3.5, 6.5))
        add(store, whole, LATER)
        assert store.history().sleeps == (whole,)


def test_a_session_under_fifteen_minutes_is_never_stored(tmp_path: Path) -> None:
    with Store.open(tmp_path / "restday.db") as store:
        add(store, session(-1.0, 6.5))
        for hours in (0.2, float("nan")):
            with pytest.raises(ValueError, match="under 15 min"):
                add(store, session(6.0, 6.2, hours=hours))
        assert [s.hours for s in store.history().sleeps] == [7.5]


def test_a_session_whose_raw_text_is_not_json_replaces_nothing(tmp_path: Path) -> None:
    with Store.open(tmp_path / "restday.db") as store:
        add(store, session(-1.0, 6.5))
        with pytest.raises(ValueError, match="not JSON"):
            store.add_sleep(session(0.0, 6.0), "not json", LATER)
        assert [s.hours for s in store.history().sleeps] == [7.5]


def test_overlap_is_shared_time_not_touching_ends() -> None:
    assert sleeps_overlap(session(-1.0, 3.0), session(2.9, 6.0))
    assert not sleeps_overlap(session(-1.0, 3.0), session(3.0, 6.0))
    assert sleeps_overlap(session(-1.0, 6.0), session(1.0, 2.0))  # one inside the other


# --- stores written before the rule ---------------------------------------------------------


SLEEP_3 = """CREATE TABLE sleep (
    end_at TEXT PRIMARY KEY, start_at TEXT, hours REAL NOT NULL, hrv_ms REAL,
    resting_hr REAL, source TEXT NOT NULL, received_at TEXT NOT NULL,
    raw TEXT NOT NULL CHECK (json_valid(raw)))"""  # schema 3's sleep, as restday created it


def schema_3_store(path: Path, rows: list[tuple[SleepSession, datetime]]) -> None:
    """A store as restday with schema 3 left it: sleep sessions stored as they came (overlaps
    and 5-minute ones included), no `sleep_replaced` table."""
    Store.open(path).close()
    conn = sqlite3.connect(path)
    try:
        conn.execute("DROP TABLE sleep_replaced")
        conn.execute("DROP TABLE sleep")
        conn.execute(SLEEP_3)
        for s, received_at in rows:
            conn.execute(
                "INSERT INTO sleep VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (ts(s.end), None if s.start is None else ts(s.start), s.hours, s.hrv_ms,
                 s.resting_hr, s.source, ts(received_at), raw(s)),
            )  # fmt: skip
        conn.execute("PRAGMA user_version = 3")
        conn.commit()
    finally:
        conn.close()


def ts(when: datetime) -> str:
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def test_upgrading_a_store_applies_the_rule_in_arrival_order(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    watch = session(-1.0, 6.5, hrv=48.0)  # received first
    ring = session(-0.5, 6.75, hrv=61.0)  # received second: wins
    resend = session(-1.0, 3.0, hours=3.9)  # received third, the same second as `ring`
    blip = session(8.0, 8.08)  # 5 minutes, as an older restday took it
    yesterday = night(DAY - timedelta(days=1), 7.0)
    schema_3_store(path, [(watch, RECEIVED), (blip, LATER), (ring, LATER), (resend, LATER),
                          (yesterday, RECEIVED - timedelta(days=1))])  # fmt: skip
    with Store.open(path, parsers=STRAVA_PARSERS) as store:
        sleeps = store.history().sleeps
    assert sleeps == (yesterday, resend)  # `resend` replaced `ring`, which replaced `watch`
    assert sorted(sql(path, "SELECT hours FROM sleep_replaced")) == [(ring.hours,), (7.5,)]
    [(kind, kept, reason)] = sql(path, "SELECT kind, raw, reason FROM unparsed")
    assert (kind, kept) == ("sleep", raw(blip))
    assert reason == "sleep of 4.8 min is under the 15 min minimum"
    with Store.open(path) as store:  # opened again: nothing comes back
        assert store.history().sleeps == sleeps
    assert sql(path, "SELECT count(*) FROM sleep_replaced") == [(2,)]


def test_upgrading_a_store_without_overlaps_keeps_every_night(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    nights = [night(DAY - timedelta(days=n), 7.0) for n in range(30)]
    schema_3_store(path, [(n, n.end + timedelta(hours=1)) for n in nights])
    with Store.open(path, parsers=STRAVA_PARSERS) as store:
        assert store.history().sleeps == tuple(sorted(nights, key=lambda n: n.end))
    assert sql(path, "SELECT count(*) FROM sleep_replaced") == [(0,)]


# --- properties: the store, the service's history and a plain model agree ------------------

QUARTER = timedelta(minutes=15)


@st.composite
def sessions(draw: st.DrawFn) -> SleepSession:
    """Sessions on a quarter-hour grid around DAY's midnight, some without a start."""
    start = at(DAY, 0.0) + draw(st.integers(-24, 72)) * QUARTER
    quarters = draw(st.integers(1, 40))
    end = start + quarters * QUARTER
    asleep = quarters / 4 - draw(st.sampled_from([0.0, 0.0, 0.25])) * (quarters > 1)
    return SleepSession(end=end, hours=Hours(asleep),
                        start=draw(st.sampled_from([start, start, None])),
                        hrv_ms=draw(st.sampled_from([None, 50.0, 60.0])))  # fmt: skip


def received_last_wins(arrivals: list[SleepSession]) -> tuple[SleepSession, ...]:
    """DESIGN.md §7 as plainly as it reads: an arrival seen before changes nothing; any other
    takes the place of every kept session that shares time with it."""

    def span(s: SleepSession) -> tuple[datetime, datetime]:
        return (s.start or s.end - timedelta(hours=s.hours)), s.end

    seen: list[SleepSession] = []
    kept: list[SleepSession] = []
    for s in arrivals:
        if s in seen:
            continue
        seen.append(s)
        (a, b) = span(s)
        kept = [k for k in kept if not (span(k)[0] < b and a < span(k)[1])] + [s]
    return tuple(sorted(kept, key=lambda k: k.end))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sessions(), min_size=1, max_size=6).flatmap(
    lambda pool: st.lists(st.sampled_from(pool), max_size=12)))  # fmt: skip
def test_store_and_service_history_keep_the_last_received_of_overlapping_sessions(
    arrivals: list[SleepSession],
) -> None:
    expected = received_last_wins(arrivals)
    history = History((), (), (), (), ())
    with Store.open_memory() as store:
        for n, s in enumerate(arrivals):
            if add(store, s, RECEIVED + n * timedelta(seconds=1)):
                history = Stored(s, "me").history_with(history)
        assert store.history().sleeps == expected
        assert store.counts().sleeps == len(expected)
    assert history.sleeps == expected  # the worker's copy, updated without reading the store


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sessions(), max_size=10))
def test_upgrading_an_older_store_gives_what_the_rule_would_have_stored(
    arrivals: list[SleepSession],
) -> None:
    first_of_each_end = list({s.end: s for s in reversed(arrivals)}.values())[::-1]
    as_stored = sorted(first_of_each_end, key=arrivals.index)  # schema 3: one per end
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "restday.db"
        schema_3_store(path, [(s, RECEIVED + n * timedelta(seconds=1))
                              for n, s in enumerate(as_stored)])  # fmt: skip
        with Store.open(path, parsers=STRAVA_PARSERS) as store:
            assert store.history().sleeps == received_last_wins(as_stored)
