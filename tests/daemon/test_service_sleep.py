"""Sleep through the real service on a real mosquitto: overlapping sessions are one, the one
received last (DESIGN.md §7 "Overlapping nights"); a session under 15 min is rejected."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from restday.integrations.mqtt.topics import Topics
from restday.store import Store
from tests.broker import Mosquitto
from tests.conftest import Probe, wait_until
from tests.daemon.service_harness import running, write_config

WATCH = json.dumps({"start": "2026-11-19T23:30:00", "end": "2026-11-20T05:00:00", "hrv_ms": 45})
RING = json.dumps({"start": "2026-11-19T23:15:00", "end": "2026-11-20T06:45:00", "hrv_ms": 62,
                   "resting_hr": 47})  # fmt: skip
BLIP = json.dumps({"start": "2026-11-20T07:00:00", "end": "2026-11-20T07:10:00"})


def test_a_second_devices_night_replaces_the_first_and_a_ten_minute_one_is_rejected(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.INFO, logger="restday")
    config = write_config(tmp_path, broker, topic_prefix, sleep="generic")
    topics, sleep = Topics.of(config), f"{topic_prefix}/sleep"
    probe.subscribe(topics.state)
    with running(config) as service:

        def sleep_reaches(hours: float, *before: float | None) -> None:
            """States arrive, each with an hours value from `before`, until one has `hours`."""
            while (shown := state()["metrics"]["last_sleep_h"]) != hours:
                assert shown in before

        def state() -> Any:
            return json.loads(probe.wait_for(topics.state).payload)

        state()  # connected and subscribed
        probe.publish(sleep, WATCH)
        sleep_reaches(5.5, None)
        for payload in (RING, RING, BLIP):  # the ring's night, sent twice; a 10-minute one
            probe.publish(sleep, payload)
        sleep_reaches(7.5, 5.5)  # the ring's 7.5 h, not 13 h
        assert wait_until(
            lambda: (
                service.worker.diagnostics.payload()["inputs"]["sleep"]  # type: ignore[index]
                == {"stored": 1, "duplicates": 1, "rejected": 1}
            )
        )
    with Store.open(config.store_path()) as store:
        history = store.history()
    assert [(s.hours, s.hrv_ms, s.resting_hr) for s in history.sleeps] == [(7.5, 62.0, 47.0)]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"rejected a sleep message on {sleep}: sleep of 10 min is under the 15 min minimum" in (
        warnings
    )
