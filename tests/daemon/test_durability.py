"""An input acknowledged is an input kept: killing restday mid-stream loses nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from restday.integrations.mqtt.topics import Topics
from restday.store import Store
from tests.broker import Mosquitto
from tests.conftest import Probe, wait_until
from tests.daemon.service_harness import rows, write_config
from tests.daemon.test_run_process import restday_run

WEIGH_INS = 500
ALL_IN_S = 60.0  # generous: a loaded CI machine


def weigh_in(i: int, start: datetime) -> str:
    when = start + timedelta(seconds=i)
    return json.dumps({"weight": 70.0 + (i % 50) / 10, "timestamp": when.isoformat()})


def test_sigkill_while_500_weigh_ins_stream_in_keeps_every_one_exactly_once(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix, scale="generic")
    topics = Topics.of(config)
    db = config.store_path()
    start = datetime.now(UTC) - timedelta(hours=2)
    probe.subscribe(topics.status)
    with restday_run(config, tmp_path / "run1.log") as first:
        probe.wait_for(topics.status, b"online")
        for i in range(WEIGH_INS):
            probe.publish(f"{topic_prefix}/scale", weigh_in(i, start), qos=1)
            if i == WEIGH_INS // 3:
                assert wait_until(lambda: rows(db, "body") > 0, ALL_IN_S)
        first.kill()  # mid-stream: some stored, some received but not yet acknowledged
        first.wait()
    assert rows(db, "body") < WEIGH_INS, "the kill came too late to prove anything"
    with restday_run(config, tmp_path / "run2.log"):
        assert wait_until(lambda: rows(db, "body") == WEIGH_INS, ALL_IN_S), rows(db, "body")
    with Store.open(db) as store:
        kept = store.history().body
        assert store.counts().weigh_ins == WEIGH_INS
        assert sorted(b.time for b in kept) == [
            start + timedelta(seconds=i) for i in range(WEIGH_INS)
        ]
