"""Post-run advice (RULES.md, "Notifications"): which new runs are news, and whether the day's
refuel advice is still to give. Pure: `daemon/notifications.py` words it."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from restday.models import Activity, History
from restday.rules.post_run import RunNews, run_news
from restday.rules.settings import DehydrationPostRun
from tests.factories import DAY, context, run, steady_runs, weigh

BASE = steady_runs(DAY - timedelta(days=1), 8)  # up to yesterday: today starts without a run


def news(
    runs: list[Activity],
    new: Collection[Activity],
    *,
    hour: float,
    day: date = DAY,
    notified: Collection[Activity] = (),
    history: History | None = None,
) -> list[RunNews]:
    """The news among the `new` runs, `notified` having had their post-run notification."""
    history = history or History.of([*BASE, *runs])
    told = {int(a.id) for a in notified}
    ctx = context(history, day, hour=hour)
    return run_news(ctx, [a.id for a in new], told.__contains__, DehydrationPostRun())


def test_refuel_advice_is_given_once_a_day() -> None:
    morning, noon = run(DAY, 8.0, hour=7.0), run(DAY, 5.0, hour=12.0)
    first = news([morning], [morning], hour=8.0)
    second = news([morning, noon], [noon], hour=13.0, notified=[morning])
    assert [n.first_of_day for n in first] == [True]
    assert [n.first_of_day for n in second] == [False]


def test_two_runs_of_one_sync_get_the_refuel_advice_once() -> None:
    morning, noon = run(DAY, 8.0, hour=7.0), run(DAY, 5.0, hour=12.0)
    found = news([morning, noon], [morning, noon], hour=13.0)
    assert [(n.activity.id, n.first_of_day) for n in found] == [
        (morning.id, True),
        (noon.id, False),
    ]


def test_refuel_advice_is_given_again_the_next_day() -> None:
    last_night, today = run(DAY - timedelta(days=1), 8.0, hour=21.0), run(DAY, 8.0, hour=7.0)
    found = news([last_night, today], [today], hour=8.0, notified=[last_night])
    assert [n.first_of_day for n in found] == [True]


def test_a_run_that_got_no_post_run_does_not_use_up_the_refuel_advice() -> None:
    uploaded_late, noon = run(DAY, 8.0, hour=5.0), run(DAY, 5.0, hour=12.0)
    found = news([uploaded_late, noon], [noon], hour=13.0)  # none sent for 05:00
    assert [n.first_of_day for n in found] == [True]


def test_only_runs_that_ended_in_the_last_hours_are_announced() -> None:
    early, late = run(DAY, 8.0, hour=5.0), run(DAY, 5.0, hour=12.0)
    found = news([early, late], [early, late], hour=13.0)
    assert [n.activity.id for n in found] == [late.id]


def test_weigh_ins_around_a_run_say_how_much_to_drink() -> None:
    evening = run(DAY, 10.0, hour=17.0)
    history = History.of(
        [*BASE, evening], body=[weigh(DAY, 71.0, hour=16.5), weigh(DAY, 70.0, hour=18.5)]
    )
    (found,) = news([], [evening], hour=19.0, history=history)
    assert found.loss_kg == 1.0
    assert found.fluid_l == (1.25, 1.5)  # 1.25–1.5 L per kg lost (Sawka et al., ACSM 2007)


def test_without_an_after_weigh_in_there_is_no_fluid_advice() -> None:
    evening = run(DAY, 10.0, hour=17.0)
    history = History.of([*BASE, evening], body=[weigh(DAY, 71.0, hour=16.5)])
    (found,) = news([], [evening], hour=19.0, history=history)
    assert (found.pre_kg, found.post_kg, found.fluid_l) == (71.0, None, None)
