"""Storing what a Strava sync brought and working out the post-run notifications (worker side)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

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
) -> list[notifications.Notification]:
    """A post-run notification for each new run that ended in the last few hours."""
    new = set(added_ids)
    ctx = Context.build(history, now, config.profile())
    notes = []
    for activity, load in zip(ctx.activities, ctx.loads, strict=True):
        if activity.id not in new or not activity.is_run:
            continue
        if not now - POST_RUN_WINDOW <= activity.end <= now:
            continue
        pre, post = weights_around(ctx, activity, config.rules.dehydration_post_run)
        notes.append(notifications.post_run(activity, load, ctx.load_source.value, rec, pre, post))
    return notes
