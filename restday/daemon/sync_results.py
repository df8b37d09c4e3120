"""The post-run notifications for what a Strava sync added (worker side).

`restday.sync` says which stored activities are new, `rules/post_run.py` which of them are
news and what their advice rests on; `notifications` words it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from restday.daemon import notifications
from restday.models import Recommendation
from restday.rules.context import Context
from restday.rules.post_run import run_news
from restday.rules.settings import RulesConfig


def post_runs(
    rules: RulesConfig,
    ctx: Context,
    rec: Recommendation,
    added_ids: Sequence[int],
    sent: Callable[[str], bool],
) -> list[notifications.Notification]:
    """A post-run notification for each new run that ended in the last few hours, from the
    evaluation `ctx` that gave `rec`, under the athlete's `rules`. `sent(key)` says whether a
    notification went out (the store's `sent` table)."""
    news = run_news(
        ctx,
        added_ids,
        lambda activity_id: sent(notifications.post_run_key(activity_id)),
        rules.dehydration_post_run,
    )
    return [notifications.post_run(item, rec) for item in news]
