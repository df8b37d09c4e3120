"""Post-run advice (RULES.md, "Notifications": `post_run`): which new runs are news, their
load, whether the day's refuel advice is still to give, and what the scale says to drink.

Pure, like every rule: `daemon/notifications.py` only words what this decides.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta

from restday.models import Activity
from restday.rules.body import fluid_litres, weights_around
from restday.rules.context import Context
from restday.rules.settings import DehydrationPostRun

POST_RUN_WINDOW = timedelta(hours=6)  # a run that ended longer ago than this is not news


@dataclass(frozen=True, slots=True)
class RunNews:
    """A new run worth a post-run notification, with what its advice rests on."""

    activity: Activity
    load: float  # in `load_source` units
    load_source: str
    pre_kg: float | None  # the weigh-in before it (`dehydration_post_run`'s windows) …
    post_kg: float | None  # … and after it
    first_of_day: bool  # the day's first post-run: the refuel advice is spelled out

    @property
    def loss_kg(self) -> float | None:
        """Body weight lost over the run (None without both weigh-ins)."""
        if self.pre_kg is None or self.post_kg is None:
            return None
        return self.pre_kg - self.post_kg

    @property
    def fluid_l(self) -> tuple[float, float] | None:
        """Litres to drink for the weight lost (Sawka et al., ACSM 2007), low and high."""
        loss = self.loss_kg
        return None if loss is None else fluid_litres(loss)


def run_news(
    ctx: Context,
    new_ids: Collection[int],
    notified: Callable[[int], bool],
    thresholds: DehydrationPostRun,
) -> list[RunNews]:
    """The runs among `new_ids` that ended in the last few hours, oldest first.

    `notified(activity_id)` says whether a run already had its post-run notification: the
    refuel advice is spelled out only for the first run of a local day to get one.
    """
    new = set(new_ids)
    refuelled: set[object] = set()  # local days (of a run's end) whose refuel advice is given
    out = []
    for activity, load in zip(ctx.activities, ctx.loads, strict=True):
        if activity.id not in new or not activity.is_run:
            continue
        if not ctx.now - POST_RUN_WINDOW <= activity.end <= ctx.now:
            continue
        day = ctx.local_date(activity.end)
        first = day not in refuelled and not any(
            notified(int(a.id))
            for a in ctx.activities
            if a.is_run and a.id not in new and ctx.local_date(a.end) == day
        )
        pre, post = weights_around(ctx, activity, thresholds)
        out.append(RunNews(activity, load, ctx.load_source.value, pre, post, first))
        refuelled.add(day)
    return out
