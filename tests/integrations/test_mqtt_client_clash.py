"""A broker that keeps closing the connection right after connecting: two clients with one
client id take the session from each other. The link says the likely cause once (an ERROR
naming `mqtt.client_id`), and again only after a connection that lasted. Time is the link's
injectable clock: a fixed one in the links' test, so every close is "right after"."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from restday.clock import FixedClock
from restday.config import MqttConfig
from restday.integrations.mqtt import MqttLink, Retry
from restday.integrations.mqtt.client import (
    QUICK_CLOSE,
    QUICK_CLOSES,
    QUICK_CLOSES_WITHIN,
    STABLE_AGAIN,
    QuickCloses,
)
from tests.broker import Mosquitto
from tests.conftest import wait_until
from tests.integrations.test_mqtt import LOG_NAME, Recorder

T0 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
CLIENT_ID = "restday-twice"
CLASH_SEEN_S = 60.0  # three quick closes each, a reconnect a second: generous on a busy machine
MORE_RECONNECTS = 3  # after the ERROR the link is thrown off again, without another ERROR
CLASH = "keeps closing the connection right after connecting"


def flap(closes: QuickCloses, start: datetime, times: int, lasting: timedelta) -> list[bool]:
    """`times` connections from `start`, each closed after `lasting`: when the ERROR is due."""
    due, now = [], start
    for _ in range(times):
        closes.connected(now)
        now += lasting
        due.append(closes.closed(now))
        now += timedelta(seconds=1)  # paho's reconnect delay
    return due


def test_the_third_quick_close_is_told_once_and_again_only_after_a_stable_connection() -> None:
    closes = QuickCloses()
    assert flap(closes, T0, 6, timedelta(seconds=1)) == [False, False, True, False, False, False]
    later = T0 + timedelta(minutes=1)
    assert flap(closes, later, 3, QUICK_CLOSE) == [False, False, False]  # still the same episode
    stable = later + timedelta(minutes=1)
    assert flap(closes, stable, 1, STABLE_AGAIN) == [False]  # a connection that lasted
    again = stable + STABLE_AGAIN + timedelta(minutes=1)
    assert flap(closes, again, 3, timedelta(seconds=1)) == [False, False, True]


def test_closes_that_are_not_right_after_connecting_or_too_far_apart_are_not_a_clash() -> None:
    closes = QuickCloses()
    slow = QUICK_CLOSE + timedelta(seconds=1)
    assert flap(closes, T0, 5, slow) == [False] * 5  # a flaky network, not a stolen session
    spread = QuickCloses()
    due = []
    for i in range(QUICK_CLOSES + 2):  # each one a little more than the window apart
        at = T0 + i * (QUICK_CLOSES_WITHIN / (QUICK_CLOSES - 1) + timedelta(seconds=1))
        due += flap(spread, at, 1, timedelta(seconds=1))
    assert not any(due)


def test_a_broker_that_cannot_be_reached_in_between_starts_the_count_again() -> None:
    closes = QuickCloses()
    assert flap(closes, T0, QUICK_CLOSES - 1, timedelta(seconds=1)) == [False, False]
    closes.unreachable()  # a broker restarting: an outage, not another client
    assert flap(closes, T0 + timedelta(seconds=10), 1, timedelta(seconds=1)) == [False]
    assert closes.closed(T0 + timedelta(seconds=20)) is False  # no connection: nothing ended


@pytest.fixture
def links(broker: Mosquitto, topic_prefix: str) -> Iterator[list[MqttLink]]:
    made: list[MqttLink] = []
    yield made
    for link in made:
        link.stop(timeout_s=1.0)


def new_link(broker: Mosquitto, prefix: str, clock: FixedClock) -> tuple[MqttLink, Recorder]:
    config = MqttConfig(
        host=broker.host,
        port=broker.port,
        client_id=CLIENT_ID,
        base_topic=prefix,
        password=SecretStr(""),
    )
    recorder = Recorder()
    link = MqttLink(
        config,
        subscriptions=[],
        on_message=recorder.on_message,
        on_connected=recorder.on_connected,
        clock=clock,
        retry=Retry(min_s=1, max_s=1, login_s=1),
    )
    return link, recorder


def test_two_links_with_one_client_id_each_log_the_likely_cause_once_and_again_after_calm(
    broker: Mosquitto,
    topic_prefix: str,
    links: list[MqttLink],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOG_NAME)

    def told() -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.name == LOG_NAME and r.levelno == logging.ERROR and CLASH in r.getMessage()
        ]

    def warnings() -> int:
        return sum(r.name == LOG_NAME and r.levelno == logging.WARNING for r in caplog.records)

    clock = FixedClock(T0)  # never moves by itself: every close is right after connecting
    first, on_first = new_link(broker, topic_prefix, clock)
    second, _ = new_link(broker, topic_prefix, FixedClock(T0))
    links += [first, second]
    first.start()
    assert wait_until(lambda: first.connected)
    second.start()
    assert wait_until(lambda: len(told()) == 2, CLASH_SEEN_S), told()  # one from each
    assert all(f'is another client using mqtt.client_id "{CLIENT_ID}"?' in m for m in told())
    warned = warnings()
    seen = (first.reconnects, second.reconnects)
    assert wait_until(
        lambda: (
            first.reconnects >= seen[0] + MORE_RECONNECTS
            and second.reconnects >= seen[1] + MORE_RECONNECTS
        ),
        CLASH_SEEN_S,
    )
    assert len(told()) == 2  # not again ...
    assert warnings() == warned  # ... nor each reconnect at WARNING

    second.stop(timeout_s=1.0)  # the other one is gone: the first connects and stays
    assert wait_until(lambda: first.connected and on_first.connections == first.reconnects + 1)
    clock.advance(STABLE_AGAIN)  # ... for a while
    third, _ = new_link(broker, topic_prefix, FixedClock(T0))
    links.append(third)
    third.start()  # and the clash starts again: told again, by both
    assert wait_until(lambda: len(told()) == 4, CLASH_SEEN_S), told()
