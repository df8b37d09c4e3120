"""A store deleted or replaced under a running service (DESIGN.md §7): a store problem that
holds inputs unacknowledged until the file is back or restday is restarted, and a restart that
says, at ERROR, that the store it found is not the one it used last."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from restday.clock import FixedClock
from restday.config import Config
from restday.integrations.mqtt.topics import Topics
from restday.store import Store, holder
from tests.broker import Mosquitto
from tests.conftest import Probe, wait_until
from tests.daemon.service_harness import MORNING, rows, running, write_config
from tests.daemon.test_durability import weigh_in
from tests.daemon.test_run_process import EXIT_WITHIN_S, restday_run
from tests.daemon.test_store_faults import (
    DRAIN_S,
    held,
    housekeeping,
    messages,
    store_section,
    stored_times,
)
from tests.factories import DAY, weigh

NOT_THE_ONE = "is not the one restday used last"


def error_lines(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.startswith("ERROR")]


def acknowledged(broker: Mosquitto, config: Config) -> int:
    """The messages restday acknowledged so far (its PUBACKs, in the broker's log)."""
    return broker.log_text().count(f"Received PUBACK from {config.mqtt.client_id} (")


def created_at(db: Path) -> str:
    with Store.open(db) as store:
        created = store.created_at()
    assert created is not None
    return created


def test_a_store_deleted_under_restday_run_holds_inputs_and_the_restart_says_the_store_is_new(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix, scale="generic")
    topics, db, scale = Topics.of(config), config.store_path(), f"{topic_prefix}/scale"
    start = datetime.now(UTC) - timedelta(hours=2)
    probe.subscribe(topics.diagnostics)
    with restday_run(config, tmp_path / "run.log") as process:
        probe.wait_for(topics.diagnostics)  # sent after subscribing: no input is missed
        probe.publish(scale, weigh_in(0, start))
        assert wait_until(lambda: acknowledged(broker, config) == 1, DRAIN_S)  # stored for good
        old = created_at(db)
        db.unlink()  # `rm` while restday runs
        probe.publish(scale, weigh_in(1, start))  # QoS 1: held, never acknowledged
        while (store := json.loads(probe.wait_for(topics.diagnostics).payload)["store"])["ok"]:
            pass
        assert f"the store {db} was deleted while restday was running" in store["error"]
        assert store["held"] >= 1
        process.terminate()
        assert process.wait(timeout=EXIT_WITHIN_S + 5) == 0
    assert acknowledged(broker, config) == 1  # the second weigh-in was not
    assert not db.exists()  # nothing written anywhere meanwhile, nothing made at the path
    [error] = error_lines(tmp_path / "run.log")
    assert f"the store {db} was deleted while restday was running" in error
    assert "held" in error
    with restday_run(config, tmp_path / "restart.log") as process:
        # the weigh-in that was never acknowledged comes again, into the new store
        assert wait_until(lambda: acknowledged(broker, config) == 2, DRAIN_S)
        process.terminate()
        assert process.wait(timeout=EXIT_WITHIN_S + 5) == 0
    assert stored_times(db) == [start + timedelta(seconds=1)]
    new = created_at(db)
    [error] = error_lines(tmp_path / "restart.log")
    assert f"the store {db} {NOT_THE_ONE} (created {new}; the one used last was " in error
    assert f"created {old})" in error
    assert "weigh-ins, activities and notifications sent before are not in it" in error
    with restday_run(config, tmp_path / "again.log") as process:  # said once: now it is known
        probe.publish(scale, weigh_in(2, start))
        assert wait_until(lambda: len(stored_times(db)) == 2, DRAIN_S)
        process.terminate()
        assert process.wait(timeout=EXIT_WITHIN_S + 5) == 0
    assert error_lines(tmp_path / "again.log") == []


def test_a_store_replaced_under_the_service_is_a_store_problem_until_the_restart_uses_the_new(
    tmp_path: Path,
    broker: Mosquitto,
    probe: Probe,
    topic_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="restday")
    config = write_config(tmp_path, broker, topic_prefix, scale="generic")
    topics, db, scale = Topics.of(config), config.store_path(), f"{topic_prefix}/scale"
    clock = FixedClock(MORNING)
    start = MORNING - timedelta(hours=3)
    backup = tmp_path / "backup.db"
    with Store.open(backup) as other:  # another store, e.g. last month's backup
        other.add_body(weigh(DAY - timedelta(days=30), 72.0), '{"weight": 72.0}', MORNING)
        other_created = other.created_at()
    probe.subscribe(topics.diagnostics)
    with running(config, clock) as service:
        store_section(probe, topics, ok=True)
        probe.publish(scale, weigh_in(0, start))
        assert wait_until(lambda: acknowledged(broker, config) == 1)  # stored for good
        old = created_at(db)
        os.replace(backup, db)  # restored over the running store
        probe.publish(scale, weigh_in(1, start))
        failed = store_section(probe, topics, ok=False)  # at once
        assert f"the store {db} was replaced by another file while restday" in failed["error"]
        assert wait_until(lambda: held(service) == 1), held(service)
        housekeeping(service, clock)  # still not the file it opened: held, said once
        assert held(service) == 1
        assert service.worker.diagnostics.payload()["store"]["ok"] is False  # type: ignore[index]
        assert len(messages(caplog, logging.ERROR, "was replaced by another file")) == 1
    assert acknowledged(broker, config) == 1  # the second weigh-in was not
    assert holder(db) is None  # the lock is released on stop
    assert len(messages(caplog, logging.ERROR, "")) == 1
    assert not messages(caplog, logging.ERROR, NOT_THE_ONE)
    with running(config, clock) as service:
        assert wait_until(lambda: acknowledged(broker, config) == 2)  # delivered again: stored
        assert rows(db, "body") == 2  # the backup's and the held one
        store_section(probe, topics, ok=True)
    [said] = messages(caplog, logging.ERROR, NOT_THE_ONE)
    assert f"(created {other_created}; the one used last was created {old})" in said
    with Store.open(db) as store:
        times = sorted(b.time for b in store.history().body)
        assert store.created_at() == other_created  # the backup, not mixed with the old store
    assert times == [weigh(DAY - timedelta(days=30), 72.0).time, start + timedelta(seconds=1)]


def test_a_store_moved_away_and_back_takes_the_held_inputs_without_a_restart(
    tmp_path: Path,
    broker: Mosquitto,
    probe: Probe,
    topic_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="restday")
    config = write_config(tmp_path, broker, topic_prefix, scale="generic")
    topics, db, scale = Topics.of(config), config.store_path(), f"{topic_prefix}/scale"
    clock = FixedClock(MORNING)
    start = MORNING - timedelta(hours=3)
    aside = tmp_path / "aside.db"
    probe.subscribe(topics.diagnostics)
    with running(config, clock) as service:
        store_section(probe, topics, ok=True)
        probe.publish(scale, weigh_in(0, start))
        assert wait_until(lambda: acknowledged(broker, config) == 1)  # stored for good
        db.rename(aside)  # moved away by mistake ...
        probe.publish(scale, weigh_in(1, start))
        assert "was deleted" in store_section(probe, topics, ok=False)["error"]
        aside.rename(db)  # ... and back: the same file
        housekeeping(service, clock)
        assert store_section(probe, topics, ok=True, held=0)
        assert wait_until(lambda: acknowledged(broker, config) == 2)
        assert stored_times(db) == [start, start + timedelta(seconds=1)]
    assert messages(caplog, logging.INFO, "takes writes again; handled the 1 inputs held")
    with running(config, clock):
        pass
    assert len(messages(caplog, logging.ERROR, "")) == 1  # the outage; the store is the same
