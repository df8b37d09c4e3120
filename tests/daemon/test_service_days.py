"""Days and restarts: rollover at midnight, retained replays, and notifications sent once."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from pathlib import Path

from restday.clock import FixedClock
from restday.daemon.events import Tick
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import Topics
from restday.store import Store
from tests.broker import Mosquitto
from tests.conftest import Probe, wait_until
from tests.daemon.service_harness import MORNING, running, state_of, write_config
from tests.factories import DAY, TZ, night, weigh
from tests.test_store import sql

XIAOMI = {"weight": 160.6, "weight_unit": "lbs", "water": 55.4,
          "timestamp": "2026-11-20T07:12:03+00:00"}  # fmt: skip


def test_yesterdays_pain_steps_down_at_rollover_and_ends_after_two_days(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    """RULES.md v2: with no report today, the latest of the two days before counts one step
    lower (pain 5 yesterday: moderate, an easy day); three days on, it no longer counts."""
    config = write_config(tmp_path, broker, topic_prefix)
    topics = Topics.of(config)
    clock = FixedClock(MORNING)
    probe.subscribe(topics.state)
    with running(config, clock) as service:
        state_of(probe, topics)  # restday is connected and subscribed
        probe.publish(topics.pain_set, "5")
        assert state_of(probe, topics, status="rest")["reasons"][0]["rule"] == "pain"
        clock.set(datetime(2026, 11, 21, 0, 0, 30, tzinfo=TZ))
        service.worker.put(Tick.DAY_ROLLOVER)
        after = state_of(probe, topics, status="easy")
        assert after["evaluated_at"] == "2026-11-21T00:00:30+01:00"
        assert [(r["rule"], r["severity"]) for r in after["reasons"]] == [("pain", "moderate")]
        clock.set(datetime(2026, 11, 23, 0, 0, 30, tzinfo=TZ))
        service.worker.put(Tick.DAY_ROLLOVER)
        later = state_of(probe, topics, status="calibrating")
        assert "pain" not in {r["rule"] for r in later["reasons"]}


def test_a_retained_weigh_in_replayed_on_restart_is_stored_once(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix, scale="xiaomi_mi_scale")
    topics = Topics.of(config)
    probe.publish(f"{topic_prefix}/scale", json.dumps(XIAOMI), retain=True)
    probe.subscribe(topics.state)
    with running(config) as service:
        weight = None
        while weight is None:  # states published before the replay has no weight yet
            weight = state_of(probe, topics)["metrics"]["weight_kg"]
        assert weight == 72.8  # the replayed 160.6 lbs
        assert wait_until(lambda: service.store.counts().weigh_ins == 1)
    with running(config) as service:
        assert wait_until(
            lambda: (
                service.worker.diagnostics.payload()["inputs"]["scale"]  # type: ignore[index]
                == {"stored": 1, "duplicates": 1, "rejected": 0}
            )
        )


def test_a_rest_day_is_notified_once_even_across_a_restart(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix)
    topics = Topics.of(config)
    probe.subscribe(topics.notification)
    probe.subscribe(topics.state)
    clock = FixedClock(MORNING)
    with running(config, clock):
        state_of(probe, topics)
        probe.publish(topics.pain_set, "6")
        state_of(probe, topics, status="rest")
    clock.set(MORNING + timedelta(hours=2))
    with running(config, clock) as service:
        state_of(probe, topics)
        probe.publish(topics.pain_set, "7")  # still rest, a new reason: no new rest_day
        state_of(probe, topics, status="rest")
        assert wait_until(lambda: service.store.counts().pains == 2)
    kinds = [json.loads(m.payload)["event_type"] for m in probe.messages(topics.notification)]
    assert kinds.count("rest_day") == 1
    assert kinds.count("morning") == 1


def test_a_sleep_as_android_night_becomes_one_session_without_its_pause(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix, sleep="sleep_as_android")
    topics = Topics.of(config)
    sleep = f"{topic_prefix}/sleep"
    bedtime = datetime(2026, 11, 19, 22, 30, tzinfo=TZ)
    clock = FixedClock(bedtime)
    probe.subscribe(topics.state)
    with running(config, clock) as service:
        state_of(probe, topics)
        probe.publish(sleep, '{"event": "sleep_tracking_stopped"}')  # no night running
        key = f"sleep_as_android:{sleep}"
        steps = ((0, "started"), (2, "paused"), (2.5, "resumed"), (8, "stopped"))
        for count, (hours, event) in enumerate(steps, start=1):
            clock.set(bedtime + timedelta(hours=hours))
            probe.publish(sleep, json.dumps({"event": f"sleep_tracking_{event}"}))
            if event != "stopped":  # each event stamped before the clock moves on
                assert wait_until(lambda: tracked(service.store.get_state(key)) == count)  # noqa: B023
        probe.publish(sleep, '{"event": "deep_sleep"}')  # other events are ignored
        slept = None
        while slept is None:
            slept = state_of(probe, topics)["metrics"]["last_sleep_h"]
        assert slept == 7.5  # 8 h from start to stop, less the half-hour pause
        assert wait_until(lambda: service.worker.diagnostics.payload()["inputs"]["sleep"]  # type: ignore[index]
                          == {"stored": 1, "duplicates": 0, "rejected": 1})  # fmt: skip


def tracked(state: str | None) -> int:
    """How many events of the night in progress the Sleep as Android tracker holds."""
    return len(json.loads(state or "[]"))


def test_clock_jumps_never_give_a_burst_of_morning_reports(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix)
    topics = Topics.of(config)
    clock = FixedClock(MORNING)
    probe.subscribe(topics.notification)
    probe.subscribe(topics.state)
    with running(config, clock) as service:
        state_of(probe, topics)
        jumps = [MORNING] * 3 + [MORNING + timedelta(days=3)] * 2 + [MORNING] * 2
        for moment in jumps:  # a Pi whose clock is set late, then corrected, then wrong again
            clock.set(moment)
            service.worker.put(Tick.MORNING_REPORT)
            service.worker.put(Tick.DAY_ROLLOVER)
            assert wait_until(service.worker.drained)
    reports = [json.loads(m.payload) for m in probe.messages(topics.notification)]
    assert [r["event_type"] for r in reports] == ["morning", "morning"]  # one for each day


def test_a_clock_that_started_years_ahead_and_is_corrected_still_shows_last_night(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    """restday keeps in memory only what evaluations from now on read; a Pi that booted with a
    clock in 2030 must not lose this week's nights once the clock is set right."""
    config = write_config(tmp_path, broker, topic_prefix)
    topics = Topics.of(config)
    with Store.open(config.store_path()) as store:
        store.add_sleep(night(DAY, 7.5), "{}", MORNING)
        store.add_body(weigh(DAY, 71.3), "{}", MORNING)
    clock = FixedClock(MORNING.replace(year=2030))
    probe.subscribe(topics.state)
    with running(config, clock) as service:
        wrong = state_of(probe, topics)
        assert wrong["evaluated_at"].startswith("2030-11-20")
        assert wrong["metrics"]["last_sleep_h"] is None
        clock.set(MORNING)  # NTP answers
        service.worker.put(Tick.DAY_ROLLOVER)
        right = state_of(probe, topics, evaluated_at=MORNING.isoformat())
        assert right["metrics"]["last_sleep_h"] == 7.5
        assert right["metrics"]["weight_kg"] == 71.3


THOUSAND_DAYS = 1000
SETTLE_POLL_S = 0.001  # the worker takes about a millisecond an event: 3,000 waits stay short


def test_a_thousand_days_bring_exactly_one_morning_report_each(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    """Day after day for almost three years — a weigh-in, the morning report, the midnight
    re-evaluation — no report is missed or sent twice, also across the DST changes, and the
    last state shows the last weigh-in.

    The clock moves only once the worker has handled what it was given (`settle`): the worker
    reads the clock when it gets to an event, not when the event was put, so a worker running
    behind would otherwise give day N's report at day N+1's midnight, under day N+1's date."""
    config = write_config(tmp_path, broker, topic_prefix, scale="generic")
    topics = Topics.of(config)
    first = datetime(2026, 1, 1, 6, 30, tzinfo=TZ)
    clock = FixedClock(first - timedelta(hours=2))  # started before the report: no catch-up
    probe.subscribe(topics.notification)
    probe.subscribe(topics.state)

    def mornings() -> int:
        return sum(b'"event_type": "morning"' in m.payload
                   for m in probe.messages(topics.notification))  # fmt: skip

    with running(config, clock) as service:
        state_of(probe, topics)  # connected and subscribed

        def settle(day: int) -> None:
            assert wait_until(service.worker.drained, poll_s=SETTLE_POLL_S), f"day {day}"

        for day in range(THOUSAND_DAYS):
            wake = first + timedelta(days=day)  # 06:30 local, whatever the offset
            clock.set(wake)
            body = {"weight": 70.0 + day % 20 / 10, "timestamp": wake.isoformat()}
            message = json.dumps(body).encode()
            service.worker.put(InboundMessage(f"{topic_prefix}/scale", message, False, 1, wake))
            settle(day)
            clock.set(wake + timedelta(minutes=5))
            service.worker.put(Tick.MORNING_REPORT)
            service.worker.put(Tick.MORNING_REPORT)  # a second tick (a clock jump, a restart)
            settle(day)
            assert wait_until(lambda: mornings() == day + 1), f"day {day}"  # noqa: B023
            clock.set(datetime.combine(wake.date() + timedelta(days=1), time(0, 0, 30), TZ))
            service.worker.put(Tick.DAY_ROLLOVER)
            settle(day)
    assert mornings() == THOUSAND_DAYS
    with Store.open(config.store_path()) as store:  # restday stopped: its queue was handled
        assert store.counts().weigh_ins == THOUSAND_DAYS
    sent = sql(config.store_path(), "SELECT key, sent_at FROM sent WHERE key LIKE 'morning:%'")
    days = [(first + timedelta(days=day)).date() for day in range(THOUSAND_DAYS)]
    assert sorted(key for key, _ in sent) == [f"morning:{day.isoformat()}" for day in days]
    assert {datetime.fromisoformat(at).astimezone(TZ).time() for _, at in sent} == {time(6, 35)}
    assert json.loads(probe.messages(topics.state)[-1].payload)["metrics"]["weight_kg"] == 71.9
