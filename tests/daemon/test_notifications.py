"""Which notifications an evaluation calls for, and that each cause has one key."""

from __future__ import annotations

import json
from datetime import timedelta

from restday.daemon import notifications
from restday.daemon.notifications import REFUEL, REFUEL_AGAIN
from restday.integrations.homeassistant import NOTIFICATION_TYPES
from restday.models import History, Status
from restday.rules.post_run import RunNews
from tests.factories import DAY, evaluate_on, night, pain, run, shoe, steady_runs, weigh

EVENING = 18.0  # after the evening run of `ran_tonight`


def types(history: History) -> list[str]:
    return [n.event_type for n in notifications.due(evaluate_on(history), DAY)]


def test_a_rest_day_notifies_once_per_day_with_its_reasons() -> None:
    rec = evaluate_on(History.of(steady_runs(DAY, 8), [night(DAY, 4.5)]))
    assert rec.rest_day_recommended
    notes = [n for n in notifications.due(rec, DAY) if n.event_type == "rest_day"]
    assert len(notes) == 1
    assert notes[0].key == f"rest_day:{DAY.isoformat()}"
    assert "Slept 4.5 h" in notes[0].message
    assert notes[0].data["reasons"] == ["sleep_short"]


def test_a_train_day_needs_no_notification() -> None:
    assert types(History.of(steady_runs(DAY, 8), [night(DAY, 8.0)])) == []


def test_strong_pain_notifies_and_mild_pain_does_not() -> None:
    assert "pain" in types(History.of(steady_runs(DAY, 8), pains=[pain(DAY, 5)]))
    assert "pain" not in types(History.of(steady_runs(DAY, 8), pains=[pain(DAY, 2)]))


def test_pain_that_gets_worse_is_a_new_cause() -> None:
    strong = notifications.due(evaluate_on(History.of(pains=[pain(DAY, 5)])), DAY)
    doctor = notifications.due(evaluate_on(History.of(pains=[pain(DAY, 9)])), DAY)
    keys = {n.key for n in strong if n.event_type == "pain"}
    assert keys.isdisjoint({n.key for n in doctor if n.event_type == "pain"})


def test_each_shoe_over_a_threshold_is_its_own_cause() -> None:
    history = History.of(
        steady_runs(DAY, 8),
        gear=[shoe("Pegasus", 812, id="g1"), shoe("Clifton", 500, id="g2")],
    )
    notes = [n for n in notifications.due(evaluate_on(history), DAY) if n.event_type == "shoe"]
    assert sorted(n.key for n in notes) == ["shoe:g1:800.0", "shoe:g2:480.0"]
    assert {n.data["gear_id"] for n in notes} == {"g1", "g2"}


def test_a_dehydrating_run_notifies_with_the_fluid_to_drink() -> None:
    history = History.of(
        [*steady_runs(DAY, 8), run(DAY, 12.0, hour=7.0)],
        body=[weigh(DAY, 70.0, hour=6.9), weigh(DAY, 68.4, hour=8.5)],
    )
    notes = [n for n in notifications.due(evaluate_on(history), DAY) if n.event_type == "hydration"]
    assert len(notes) == 1
    assert " L" in notes[0].message


def test_morning_report_names_status_readiness_and_reasons() -> None:
    rec = evaluate_on(History.of(steady_runs(DAY, 8), [night(DAY, 5.5)]))
    note = notifications.morning(rec, DAY)
    assert note.key == f"morning:{DAY.isoformat()}"
    assert "Readiness 75/100" in note.message
    assert "Slept 5.5 h" in note.message
    assert note.data["status"] == "easy"


def test_notification_payload_is_the_mqtt_contract() -> None:
    rec = evaluate_on(History.of(steady_runs(DAY, 8), [night(DAY, 4.5)]))
    for note in [notifications.morning(rec, DAY), *notifications.due(rec, DAY)]:
        payload = json.loads(note.to_json())
        assert set(payload) == {"event_type", "title", "message", "data"}
        assert payload["event_type"] in NOTIFICATION_TYPES


def test_a_dehydrating_run_is_announced_once_even_after_midnight() -> None:
    history = History.of(
        [*steady_runs(DAY, 8), run(DAY, 12.0, hour=19.0)],
        body=[weigh(DAY, 70.0, hour=18.9), weigh(DAY, 68.4, hour=20.5)],
    )
    evening = evaluate_on(history, DAY, hour=21)
    after_midnight = evaluate_on(history, DAY + timedelta(days=1), hour=0.01)
    keys = [
        {
            n.key
            for n in notifications.due(rec, rec.evaluated_at.date())
            if n.event_type == "hydration"
        }
        for rec in (evening, after_midnight)
    ]
    assert len(keys[0]) == 1
    assert keys[0] == keys[1]  # the same run: the same cause, not a new notification


def ran_tonight(hours_slept: float) -> tuple[History, notifications.Notification]:
    """An 8 km run at 17:00 after a steady base and a night of `hours_slept`: its post_run."""
    evening_run = run(DAY, 8.0, hour=17.0)
    history = History.of(
        [*steady_runs(DAY - timedelta(days=1), 8), evening_run], [night(DAY, hours_slept)]
    )
    rec = evaluate_on(history, DAY, hour=EVENING)
    note = notifications.post_run(RunNews(evening_run, 50.0, "trimp", None, None, True), rec)
    return history, note


def test_post_run_on_a_rest_day_does_not_congratulate() -> None:
    _, note = ran_tonight(4.5)
    assert note.data["status"] == Status.REST.value
    assert not note.title.startswith("Nice")
    assert note.title == "Run 8.0 km: rest day recommended"
    assert note.message.startswith("8.0 km logged. Rest day recommended: Slept 4.5 h")
    assert "Nice" not in note.message


def test_post_run_on_an_easy_day_opens_with_the_advice() -> None:
    _, note = ran_tonight(5.5)
    assert note.data["status"] == Status.EASY.value
    assert note.title == "Run 8.0 km: keep it easy today"
    assert note.message.startswith("8.0 km logged. Keep it easy today: Slept 5.5 h")


def test_post_run_on_a_train_day_says_well_done_and_how_long_it_took() -> None:
    _, note = ran_tonight(8.0)
    assert note.data["status"] == Status.TRAIN.value
    assert note.title == "Nice Run 8.0 km"
    assert note.message.startswith("8.0 km in 44 min, load 50 (trimp). Today: TRAIN")


def test_the_first_post_run_of_a_day_spells_out_the_refuel_advice_a_later_one_reminds() -> None:
    evening_run = run(DAY, 8.0, hour=17.0)
    rec = evaluate_on(History.of([evening_run]), DAY, hour=EVENING)
    first, later = (
        notifications.post_run(RunNews(evening_run, 50.0, "trimp", None, None, f), rec)
        for f in (True, False)
    )
    assert REFUEL in first.message
    assert REFUEL not in later.message
    assert REFUEL_AGAIN in later.message
    assert "30–60 min" not in later.message
