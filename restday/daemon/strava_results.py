"""A Strava sync's result, taken by the worker for its athlete (strava_sync.py runs the sync).

What came is stored in one transaction with the sync's time and the authorisation's state
(`restday.sync.store_result`), and the athlete's history read again if it changed; their state
is then evaluated and published, each new run that is news gets its post-run notification
(sync_results.py), and a refused authorisation is announced once per refusal (`auth_required`).
A store that fails loses nothing: the next sync resumes from the history.
"""

from __future__ import annotations

from dataclasses import replace

from restday import sync
from restday.daemon import notifications, sync_results
from restday.daemon.athlete import AthleteState
from restday.daemon.held import HeldInputs
from restday.store import Store, StoreError
from restday.sync import SyncResult

LAST_SYNC_KEY = "strava_last_sync"  # store state: survives restarts for the diagnostics
AUTH_STATE_KEY = "strava_auth"  # store state: auth_required is sent once per refusal


def take(result: SyncResult, athlete: AthleteState, store: Store, held: HeldInputs) -> None:
    """`result` stored for `athlete` (its `athlete_id` is theirs from now on), told about."""
    a = athlete.id
    before = athlete.diagnostics.strava["auth"]
    last_sync = athlete.diagnostics.sync_finished(result)
    try:  # a store that fails loses nothing: the next sync resumes from the history
        was = store.get_state(AUTH_STATE_KEY, athlete=a)
        with store.batch():
            if last_sync is not None:
                store.set_state(LAST_SYNC_KEY, last_sync, athlete=a)
            report = sync.store_result(store, replace(result, athlete_id=a))
            store.set_state(AUTH_STATE_KEY, result.auth, athlete=a)
        held.another_write_committed()
        if report is not None or result.athlete is not None:
            athlete.read_again()
    except StoreError as exc:
        held.health.failed(exc)
        was, report = str(before), None
    rec = athlete.evaluate_and_publish()
    new_ids = sync.post_run_candidates(result, report)
    if new_ids:
        for note in sync_results.post_runs(
            athlete.rules, athlete.context, rec, new_ids, athlete.was_sent
        ):
            athlete.notify(note)
    if result.auth == "required" and was != "required":
        since = result.finished_at.isoformat(timespec="seconds")
        athlete.notify(notifications.auth_required(since, result.error or ""))
