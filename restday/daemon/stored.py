"""A new input in the store for one athlete, and what it adds to their history in memory.

inputs.py returns a `Stored` for each input it stored; the worker adds it to the history it
evaluates exactly as the store added it (a night in place of those it overlaps), so no
evaluation has to read the store again. `with_all` adds a batch's inputs at once: a burst of
3,000 weigh-ins is one sort of the weigh-ins, not 3,000 copies of them.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from operator import attrgetter
from typing import TypeVar

from restday.models import BodyMeasurement, History, PainReport, SleepSession
from restday.store import sleeps_overlap

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Stored:
    """A new input in the store; `history_with` adds it to the worker's in-memory history."""

    item: BodyMeasurement | SleepSession | PainReport
    athlete: str  # whose it is (the athlete's id)

    @property
    def pain_level(self) -> int | None:
        return self.item.level if isinstance(self.item, PainReport) else None

    def history_with(self, history: History) -> History:
        item = self.item
        if isinstance(item, BodyMeasurement):
            return replace(history, body=_insert(history.body, item, item.time, _body_time))
        if isinstance(item, SleepSession):  # in place of those it overlaps, as in the store
            sleeps = tuple([s for s in history.sleeps if not sleeps_overlap(s, item)])
            return replace(history, sleeps=_insert(sleeps, item, item.end, _sleep_end))
        return replace(history, pains=_insert(history.pains, item, item.time, _pain_time))


def with_all(history: History, stored: Sequence[Stored]) -> History:
    """`history` with every input of `stored` added, in order (as `history_with` one by one)."""
    body = [s.item for s in stored if isinstance(s.item, BodyMeasurement)]
    pains = [s.item for s in stored if isinstance(s.item, PainReport)]
    if body:
        history = replace(history, body=_merged(history.body, body, _body_time))
    if pains:
        history = replace(history, pains=_merged(history.pains, pains, _pain_time))
    for each in stored:
        if isinstance(each.item, SleepSession):
            history = each.history_with(history)
    return history


_body_time = attrgetter("time")
_sleep_end = attrgetter("end")
_pain_time = attrgetter("time")


def _merged(items: tuple[T, ...], new: list[T], key: Callable[[T], datetime]) -> tuple[T, ...]:
    """`items` (sorted by `key`) with `new` added in their places, each after those at its
    time (a stable merge). Newer than every item, as a stream's inputs are, they are appended
    without touching the others, so a batch costs its own size, not the history's."""
    new = sorted(new, key=key)
    if not items or key(new[0]) >= key(items[-1]):
        return (*items, *new)
    merged = list(items)
    for item in new:
        bisect.insort_right(merged, item, key=key)
    return tuple(merged)


def _insert(
    items: tuple[T, ...], item: T, at: datetime, key: Callable[[T], datetime]
) -> tuple[T, ...]:
    """`items` (sorted by `key`) with `item` inserted in its place."""
    index = bisect.bisect_right(items, at, key=key)
    return (*items[:index], item, *items[index:])
