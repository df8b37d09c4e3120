"""Inputs that arrive together are taken together (group commit, DESIGN.md §7 "The burst"):
one transaction, one evaluation, one state published, one fsync, every message acknowledged;
notifications still decided along the way; a message restday fails on kept aside, never a
jam; notifications held until Home Assistant can have subscribed.

The worker runs on the test's thread here (`handle_inputs`, `handle`), on a real store, with a
recording publisher in place of the MQTT link."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from restday.clock import FixedClock
from restday.config import Config, load_config
from restday.daemon.diagnostics import DIAGNOSTICS_MIN_INTERVAL
from restday.daemon.events import Lifecycle, Tick
from restday.daemon.worker import Worker
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import Topics
from restday.models import BodyMeasurement, Kilograms
from restday.store import Store
from restday.sync import STRAVA_PARSERS

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
NEVER_S = 3_600.0  # a grace for Home Assistant that no test waits out


class Recorder:
    """The MQTT link's `publish`, remembered."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def publish(
        self, topic: str, payload: str | bytes, *, retain: bool = False, qos: int = 0
    ) -> None:
        self.sent.append((topic, payload.decode() if isinstance(payload, bytes) else payload))

    def on(self, topic: str) -> list[str]:
        return [payload for t, payload in self.sent if t == topic]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "restday.toml"
    path.write_text(
        '[athlete]\nid = "me"\ntimezone = "Europe/Berlin"\n[storage]\npath = "restday.db"\n'
        '[[scale]]\ntopic = "home/scale"\npreset = "generic"\n'
    )
    return load_config(path, explicit=True)


@pytest.fixture
def store(config: Config) -> Iterator[Store]:
    with Store.open(config.store_path(), parsers=STRAVA_PARSERS) as opened:
        yield opened


def worker(config: Config, store: Store, out: Recorder, *, grace_s: float = 0.0) -> Worker:
    made = Worker(config, store, out, FixedClock(NOW), ha_listening_grace_s=grace_s)
    made.handle(Lifecycle.CONNECTED)  # what the link says once connected
    return made


def message(
    topic: str, payload: str, acked: list[str], *, minutes_ago: float = 0
) -> InboundMessage:
    return InboundMessage(
        topic=topic,
        payload=payload.encode(),
        retained=False,
        qos=1,
        received_at=NOW - timedelta(minutes=minutes_ago),
        ack=lambda: acked.append(payload),
    )


def weigh_in(kg: float, minutes_ago: float) -> str:
    when = NOW - timedelta(minutes=minutes_ago)
    return json.dumps({"weight": kg, "timestamp": when.isoformat()})


def types(out: Recorder, topics: Topics) -> list[str]:
    return [json.loads(p)["event_type"] for p in out.on(topics.notification)]


def test_a_batch_is_stored_whole_then_acknowledged_with_one_state_published(
    config: Config, store: Store
) -> None:
    out, acked = Recorder(), list[str]()
    w = worker(config, store, out)
    topics = Topics.of(config)
    states_before = len(out.on(topics.state))
    payloads = [weigh_in(70.0 + i / 10, minutes_ago=100 - i) for i in range(50)]
    w.handle_inputs([message("home/scale", p, acked) for p in payloads])
    assert store.counts().weigh_ins == 50
    assert acked == payloads  # every one, in arrival order, once stored and durable
    states = out.on(topics.state)[states_before:]
    assert len(states) == 1
    assert json.loads(states[0])["metrics"]["weight_kg"] == 74.9  # the batch's last


def test_a_rest_day_reached_mid_batch_is_announced(config: Config, store: Store) -> None:
    out, acked = Recorder(), list[str]()
    w = worker(config, store, out)
    topics = Topics.of(config)
    w.handle_inputs(
        [
            message(topics.pain_set, "7", acked, minutes_ago=3),  # strong pain: rest today
            message("home/scale", weigh_in(70.0, minutes_ago=2), acked),
            message(topics.pain_set, "0", acked, minutes_ago=1),  # gone again
        ]
    )
    assert "pain" in types(out, topics)
    assert out.on(topics.pain)[-1] == "0"  # what the pain slider shows: the last report
    assert len(acked) == 3


def test_a_message_restday_fails_on_is_kept_aside_and_the_rest_of_its_batch_stored(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenAt80kg(Store):  # a bug in storing one weigh-in, whatever it is
        def add_body(
            self, m: BodyMeasurement, raw: str, received_at: datetime, *, athlete: str | None = None
        ) -> bool:
            if m.weight_kg == 80.0:
                raise RuntimeError("a bug")
            return super().add_body(m, raw, received_at, athlete=athlete)

    broken = BrokenAt80kg.open(config.store_path(), parsers=STRAVA_PARSERS)
    out, acked = Recorder(), list[str]()
    w = worker(config, broken, out)
    payloads = [weigh_in(kg, minutes_ago=10 - i) for i, kg in enumerate([70, 80, 71, 80, 72])]
    with caplog.at_level(logging.DEBUG):
        w.handle_inputs([message("home/scale", p, acked) for p in payloads])
    assert sorted(b.weight_kg for b in broken.history().body) == [70.0, 71.0, 72.0]
    assert acked == payloads  # the two it failed on too: they must not block the broker
    assert broken.counters()["scale"]["rejected"] == 2
    with closing(sqlite3.connect(config.store_path())) as conn:
        kept = conn.execute("SELECT raw, reason FROM unparsed").fetchall()
    assert [raw for raw, _ in kept] == [payloads[1], payloads[3]]
    assert all("restday failed on it: RuntimeError: a bug" in why for _, why in kept)
    tracebacks = [r for r in caplog.records if r.exc_info and "failed on a scale" in r.message]
    assert len(tracebacks) == 1  # once per cause, not once per message
    broken.close()


def test_notifications_wait_until_home_assistant_can_have_subscribed(
    config: Config, store: Store
) -> None:
    out, acked = Recorder(), list[str]()
    topics = Topics.of(config)
    w = worker(config, store, out, grace_s=NEVER_S)
    w.handle_inputs([message(topics.pain_set, "7", acked)])
    assert types(out, topics) == []  # published now, it would reach no event entity
    assert len(acked) == 1  # the input itself is not held up
    w.handle(message(topics.ha_status, "online", []))  # HA's birth: it has our discovery
    assert "pain" in types(out, topics)


def test_without_a_home_assistant_birth_notifications_go_out_after_the_grace(
    config: Config, store: Store
) -> None:
    out, acked = Recorder(), list[str]()
    topics = Topics.of(config)
    w = worker(config, store, out, grace_s=0.0)
    w.handle_inputs([message(topics.pain_set, "7", acked)])
    assert "pain" in types(out, topics)


def test_a_diagnostics_change_goes_out_once_the_minute_is_over_not_a_tick_later(
    config: Config, store: Store
) -> None:
    out, acked = Recorder(), list[str]()
    topics = Topics.of(config)
    clock = FixedClock(NOW)
    w = Worker(config, store, out, clock, ha_listening_grace_s=0.0)
    w.handle(Lifecycle.CONNECTED)  # diagnostics published now
    clock.advance(timedelta(seconds=1))
    w.handle_inputs([message("home/scale", "not json", acked)])  # rejected: a change
    published = len(out.on(topics.diagnostics))
    clock.advance(DIAGNOSTICS_MIN_INTERVAL - timedelta(seconds=2))
    w.idle()  # what the idle worker does every second
    assert len(out.on(topics.diagnostics)) == published  # still within the minute
    clock.advance(timedelta(seconds=1))
    w.idle()
    latest = json.loads(out.on(topics.diagnostics)[-1])
    assert latest["inputs"]["scale"]["rejected"] == 1  # 60 s after the last, 59 s after the change


def test_what_an_import_beside_the_service_wrote_is_read_on_the_minute_tick(
    config: Config, store: Store
) -> None:
    out = Recorder()
    topics = Topics.of(config)
    w = worker(config, store, out)
    with Store.open(config.store_path()) as beside:  # `restday import`, say, in its own process
        beside.add_body(
            BodyMeasurement(
                time=NOW - timedelta(hours=1), weight_kg=Kilograms(66.6), source="generic"
            ),
            "{}",
            NOW,
        )
    w.handle(Tick.HOUSEKEEPING)
    assert json.loads(out.on(topics.state)[-1])["metrics"]["weight_kg"] == 66.6
