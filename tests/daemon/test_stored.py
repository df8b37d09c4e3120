"""A batch of stored inputs added to the worker's history: in time order, as the store has them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from restday.daemon.stored import Stored, with_all
from restday.models import BodyMeasurement, History, Kilograms, PainReport

START = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)


def weigh_in(hours: float, kg: float) -> BodyMeasurement:
    return BodyMeasurement(START + timedelta(hours=hours), Kilograms(kg))


def test_a_batch_newer_than_the_history_follows_it_in_time_order() -> None:
    history = History(body=(weigh_in(0, 70.0), weigh_in(24, 70.2)))
    batch = [
        Stored(weigh_in(49, 70.5), "anna"),
        Stored(weigh_in(48, 70.4), "anna"),
    ]  # sent out of order

    body = with_all(history, batch).body

    assert [m.weight_kg for m in body] == [70.0, 70.2, 70.4, 70.5]


def test_a_late_weigh_in_takes_its_place_among_the_older_ones() -> None:
    history = History(body=(weigh_in(0, 70.0), weigh_in(24, 70.2), weigh_in(48, 70.4)))
    batch = [
        Stored(weigh_in(60, 70.6), "anna"),
        Stored(weigh_in(12, 69.9), "anna"),
    ]  # a scale's backlog

    body = with_all(history, batch).body

    assert [m.weight_kg for m in body] == [70.0, 69.9, 70.2, 70.4, 70.6]


def test_weigh_ins_at_one_time_keep_the_order_they_came_in() -> None:
    history = History(body=(weigh_in(0, 70.0), weigh_in(24, 70.2)))
    batch = [
        Stored(weigh_in(0, 71.0), "anna"),
        Stored(weigh_in(24, 71.2), "anna"),
        Stored(weigh_in(0, 72.0), "anna"),
    ]

    body = with_all(history, batch).body

    assert [m.weight_kg for m in body] == [70.0, 71.0, 72.0, 70.2, 71.2]


def test_pain_reports_of_a_batch_join_the_pain_history_in_time_order() -> None:
    history = History(pains=(PainReport(START, 2), PainReport(START + timedelta(hours=5), 3)))
    batch = [
        Stored(PainReport(START + timedelta(hours=2), 6), "anna"),
        Stored(weigh_in(1, 70.0), "anna"),
    ]

    updated = with_all(history, batch)

    assert [p.level for p in updated.pains] == [2, 6, 3]
    assert [m.weight_kg for m in updated.body] == [70.0]
