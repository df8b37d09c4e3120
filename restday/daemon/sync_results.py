"""Storing what a Strava sync brought and working out the post-run notifications (worker side)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from restday.config import Config
from restday.daemon import notifications
from restday.events import SyncResult
from restday.ingest import ImportReport, ingest_activities
from restday.integrations.strava_json import BadGear, parse_shoe
from restday.models import Gear, History, Recommendation
from restday.rules.body import weights_around
from restday.rules.context import Context
from restday.store import Store

log = logging.getLogger(__name__)

POST_RUN_WINDOW = timedelta(hours=6)  # a run that ended longer ago than this is not news


def store_result(store: Store, result: SyncResult) -> ImportReport | None:
    """Activities upserted (edits replace), the shoes replaced; None when nothing came."""
    report = ingest_activities(store, result.activities) if result.activities else None
    if result.athlete is not None:
        store.replace_gear(_shoes(result.athlete))
    return report


def _shoes(athlete: dict[str, object]) -> list[tuple[Gear, str]]:
    shoes = athlete.get("shoes")
    out: list[tuple[Gear, str]] = []
    for item in shoes if isinstance(shoes, list) else []:
        try:
            out.append((parse_shoe(item), json.dumps(item, sort_keys=True)))
        except (BadGear, TypeError, ValueError) as exc:
            log.warning("Strava: skipped a shoe: %s", exc)
    return out


def post_runs(
    config: Config,
    history: History,
    rec: Recommendation,
    added_ids: Sequence[int],
    now: datetime,
    sent: Callable[[str], bool],
) -> list[notifications.Notification]:
    """A post-run notification for each new run that ended in the last few hours.

    `sent(key)` says whether a notification went out (the store's `sent` table): the refuel
    advice is spelled out only for the first run of a local day to get a post-run
    notification, so an earlier run of the day that got one means a reminder this time.
    """
    new = set(added_ids)
    ctx = Context.build(history, now, config.profile())
    refuelled: set[date] = set()  # local days (of a run's end) whose refuel advice went out
    notes = []
    for activity, load in zip(ctx.activities, ctx.loads, strict=True):
        if activity.id not in new or not activity.is_run:
            continue
        if not now - POST_RUN_WINDOW <= activity.end <= now:
            continue
        day = ctx.local_date(activity.end)
        first = day not in refuelled and not any(
            sent(notifications.post_run_key(int(a.id)))
            for a in ctx.activities
            if a.is_run and a.id not in new and ctx.local_date(a.end) == day
        )
        pre, post = weights_around(ctx, activity, config.rules.dehydration_post_run)
        notes.append(
            notifications.post_run(
                activity, load, ctx.load_source.value, rec, pre, post, first_of_day=first
            )
        )
        refuelled.add(day)
    return notes
