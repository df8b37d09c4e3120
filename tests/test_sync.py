"""restday/sync.py: where a sync resumes, what it asks for, and which of what it stored is news.

Syncing against a local Strava is tested through its users: the service's jobs
(`tests/daemon/test_strava_*.py`) and `restday strava sync` (`tests/cli/test_strava.py`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from restday.store import Store
from restday.sync import (
    LOOKBACK,
    ImportReport,
    SyncResult,
    ingest_activities,
    newest_start,
    post_run_candidates,
    window,
)
from tests.factories import DAY, at
from tests.test_strava_json import strava

NOW = at(DAY, 9.0)


def run_json(n: int) -> dict[str, Any]:
    """Strava JSON of a run `n` days before DAY, 07:00 Berlin time."""
    start = at(DAY - timedelta(days=n), 7.0).strftime("%Y-%m-%dT%H:%M:%SZ")
    return strava(id=1000 + n, start_date=start, distance=10_000.0)


def test_the_newest_stored_start_is_where_a_sync_resumes() -> None:
    with Store.open_memory() as store:
        assert newest_start(store.history()) is None
        ingest_activities(store, [run_json(2), run_json(0), run_json(5)])
        assert newest_start(store.history()) == at(DAY, 7.0)


def test_the_first_sync_backfills_and_later_ones_look_back_from_the_newest_start() -> None:
    newest = at(DAY, 7.0)
    assert window(None, NOW, 30, None) == (NOW - timedelta(days=30), True)
    assert window(newest, NOW, 30, None) == (newest - LOOKBACK, False)
    assert window(newest, NOW, 30, 7) == (NOW - timedelta(days=7), True)  # --days 7


def test_only_a_sync_that_is_no_backfill_brings_post_run_news() -> None:
    report = ImportReport(added=2, added_ids=(1001, 1002))
    assert post_run_candidates(SyncResult(NOW, "ok"), report) == (1001, 1002)
    assert post_run_candidates(SyncResult(NOW, "ok", backfill=True), report) == ()
    assert post_run_candidates(SyncResult(NOW, "ok"), None) == ()
