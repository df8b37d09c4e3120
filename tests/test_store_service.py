"""The service's own records in the store: counters, sent notifications, small state."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from restday.demo.sample import sample_activities
from restday.store import SCHEMA_VERSION, Store
from restday.sync import STRAVA_PARSERS, ingest_activities
from tests.factories import DAY, run

NOW = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)


def test_counters_add_up_and_survive_a_restart(tmp_path: Path) -> None:
    with Store.open(tmp_path / "r.db") as store:
        store.bump("scale", "rejected")
        store.bump("scale", "rejected")
        store.bump("sleep", "duplicates", 3)
    with Store.open(tmp_path / "r.db") as store:
        assert store.counters() == {"scale": {"rejected": 2}, "sleep": {"duplicates": 3}}


def test_a_notification_is_marked_sent_once_even_across_restarts(tmp_path: Path) -> None:
    with Store.open(tmp_path / "r.db") as store:
        assert store.mark_sent("rest_day:2026-11-20", NOW)
        assert not store.mark_sent("rest_day:2026-11-20", NOW)
    with Store.open(tmp_path / "r.db") as store:
        assert store.was_sent("rest_day:2026-11-20")
        assert not store.was_sent("rest_day:2026-11-21")
        assert not store.mark_sent("rest_day:2026-11-20", NOW)


def test_service_state_is_kept_and_replaced(tmp_path: Path) -> None:
    with Store.open(tmp_path / "r.db") as store:
        assert store.get_state("tracker") is None
        store.set_state("tracker", '{"a": 1}')
        store.set_state("tracker", '{"a": 2}')
    with Store.open(tmp_path / "r.db") as store:
        assert store.get_state("tracker") == '{"a": 2}'


def test_a_schema_1_store_is_upgraded_keeping_its_activities(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    with Store.open(path) as store:
        ingest_activities(store, sample_activities()[:5])
    with sqlite3.connect(path) as conn:
        for table in ("counter", "sent", "state"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("PRAGMA user_version = 1")
    with Store.open(path, parsers=STRAVA_PARSERS) as store:
        assert store.counts().activities == 5
        assert store.mark_sent("morning:2026-11-20", NOW)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert run(DAY, 5.0).is_run  # the factories still build what the store holds
