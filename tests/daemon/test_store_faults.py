"""The store survives crashes, and a store that cannot be written loses nothing (issue 6, 2).

The full disk is real: a file-size limit (RLIMIT_FSIZE) makes the kernel refuse every write
that would grow a file past it, as a full disk refuses them (EFBIG instead of ENOSPC; SQLite
reports "disk I/O error" instead of "database or disk is full", and restday takes both the
same way). Python ignores SIGXFSZ, so a refused write fails instead of killing the process.
For `restday run` the limit is set in the child; in-process it is set on the test process
(soft limit only, so it can be lifted again: the disk has room again).
"""

from __future__ import annotations

import json
import logging
import resource
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from restday.clock import FixedClock
from restday.config import Config
from restday.daemon.diagnostics import DIAGNOSTICS_MIN_INTERVAL
from restday.daemon.events import Tick
from restday.daemon.held import MAX_HELD
from restday.daemon.service import Service
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import Topics
from restday.store import Store
from restday.sync import SyncResult
from tests.broker import Mosquitto
from tests.conftest import Probe, wait_until
from tests.daemon.service_harness import MORNING, running, strava, write_config
from tests.daemon.test_durability import weigh_in
from tests.daemon.test_run_process import restday_run
from tests.factories import DAY, run

KILLS = 20
BURST = 40  # weigh-ins per run: KILLS × BURST stays under mosquitto's 1,000 queued per client
PACE_S = 0.005  # between two of a run's weigh-ins: the stream outlasts the kill, even under load
DRAIN_S = 30.0  # generous: a loaded CI machine
WAL_ROOM_BYTES = 64 * 1024  # `restday run`'s file-size limit: a few weigh-ins, then full
FULL_DISK_WEIGH_INS = 300  # taken in batches (group commit): enough to fill WAL_ROOM_BYTES


def stored_times(db: Path) -> list[datetime]:
    """The weigh-ins' times in the order they were stored (rowid: insertion order)."""
    if not db.exists():
        return []
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        try:
            rows = conn.execute("SELECT measured_at FROM body ORDER BY rowid").fetchall()
        except sqlite3.OperationalError:  # restday is still creating its tables
            return []
    return [datetime.fromisoformat(at) for (at,) in rows]


def integrity(db: Path) -> str:
    """`PRAGMA integrity_check`, read-only: restday's next start recovers the log itself."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def duplicates(db: Path) -> int:
    with Store.open(db) as store:
        return store.counters().get("scale", {}).get("duplicates", 0)


def publish_paced(probe: Probe, topic: str, first: int, start: datetime) -> None:
    """BURST weigh-ins, numbered from `first`, one every PACE_S (each acknowledged by the
    broker): restday stores them as they come, a few per transaction, while the test kills."""
    for number in range(first, first + BURST):
        probe.publish(topic, weigh_in(number, start))
        time.sleep(PACE_S)


def soon(condition: Callable[[], bool]) -> bool:
    """`wait_until` without its pauses: a kill must come while restday is mid-batch."""
    deadline = time.monotonic() + DRAIN_S
    while not condition():
        if time.monotonic() > deadline:
            return False
    return True


# --- crashes ----------------------------------------------------------------------------------


def test_twenty_sigkills_during_heavy_writes_leave_an_intact_store_that_loses_nothing(
    tmp_path: Path, broker: Mosquitto, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix, scale="generic")
    topics, db = Topics.of(config), config.store_path()
    start = datetime.now(UTC) - timedelta(hours=2)
    published: list[datetime] = []
    mid_stream = 0
    probe = Probe(broker.host, broker.port, client_id="producer", nodelay=True)
    probe.subscribe(topics.state)
    try:
        for kill in range(KILLS):
            with restday_run(config, tmp_path / "run.log") as process:
                probe.wait_for(topics.state)  # sent after subscribing: no input is missed
                before = len(stored_times(db))
                first = len(published)
                published += [start + timedelta(seconds=first + i) for i in range(BURST)]
                stream = threading.Thread(
                    target=publish_paced, args=(probe, f"{topic_prefix}/scale", first, start)
                )
                stream.start()  # the kill comes while it flows: what it needs to prove
                moment = before + 1 + (kill * 7) % (BURST // 2)  # a different moment each time
                try:
                    assert soon(lambda: len(stored_times(db)) >= moment)  # noqa: B023
                    process.kill()
                    process.wait()
                finally:
                    stream.join()
            assert integrity(db) == "ok", f"after kill {kill + 1}"
            kept = stored_times(db)
            assert kept == published[: len(kept)], f"a hole after kill {kill + 1}"
            mid_stream += len(kept) < len(published)
        assert mid_stream >= KILLS // 4, "the kills came too late to prove anything"
        with restday_run(config, tmp_path / "run.log"):
            assert wait_until(lambda: len(stored_times(db)) == len(published), DRAIN_S)
    finally:
        probe.close()
    assert stored_times(db) == published  # every one, exactly once, in order
    assert integrity(db) == "ok"


# --- a full disk: `restday run` ----------------------------------------------------------------


@contextmanager
def restday_run_on_a_full_disk(config: Config, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`restday run` whose files cannot grow past WAL_ROOM_BYTES."""

    def limit() -> None:  # in the child, before exec
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (WAL_ROOM_BYTES, WAL_ROOM_BYTES))

    with restday_run(config, log, preexec=limit) as process:
        yield process


def test_a_full_disk_gives_one_error_a_diagnostic_and_no_acknowledgement_of_what_was_not_stored(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix, scale="generic")
    topics, db = Topics.of(config), config.store_path()
    with Store.open(db):
        pass  # a store in use for a while; then the disk fills up
    start = datetime.now(UTC) - timedelta(hours=2)
    probe.subscribe(topics.diagnostics)
    with restday_run_on_a_full_disk(config, tmp_path / "full.log") as process:
        probe.wait_for(topics.diagnostics)  # sent after subscribing: no input is missed
        for i in range(FULL_DISK_WEIGH_INS):
            probe.publish(f"{topic_prefix}/scale", weigh_in(i, start))
        while (store := json.loads(probe.wait_for(topics.diagnostics).payload)["store"])["ok"]:
            pass
        assert store["held"] >= 1
        assert f"cannot write the store {db}" in store["error"]
        process.terminate()
        assert process.wait(timeout=DRAIN_S) == 0  # a full disk does not stop a clean exit
    assert 0 < len(stored_times(db)) < FULL_DISK_WEIGH_INS, "the disk never filled up"
    log = (tmp_path / "full.log").read_text()
    errors = [line for line in log.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, log
    assert f"cannot write the store {db}" in errors[0]
    assert "held" in errors[0]
    assert "retried every minute" in errors[0]
    assert "Traceback" not in log
    with restday_run(config, tmp_path / "room.log"):  # room again: what was held comes again
        assert wait_until(lambda: len(stored_times(db)) == FULL_DISK_WEIGH_INS, DRAIN_S)
    assert stored_times(db) == [start + timedelta(seconds=i) for i in range(FULL_DISK_WEIGH_INS)]
    assert duplicates(db) == 0  # what was stored had been acknowledged: not delivered twice
    assert integrity(db) == "ok"


# --- a full disk that gets room again, in-process ---------------------------------------------


class Disk:
    """This process's files stop growing at their current size (`fill`) or not (`free`)."""

    def __init__(self) -> None:
        self._soft, self._hard = resource.getrlimit(resource.RLIMIT_FSIZE)

    def fill(self, store: Path) -> None:
        wal = store.with_name(store.name + "-wal")
        room = wal.stat().st_size  # the next commit appends to the write-ahead log: refused
        assert room > 0
        assert signal.getsignal(signal.SIGXFSZ) == signal.SIG_IGN  # EFBIG, not death
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, self._hard))

    def free(self) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (self._soft, self._hard))


@pytest.fixture
def disk() -> Iterator[Disk]:
    made = Disk()
    yield made
    made.free()


def store_section(probe: Probe, topics: Topics, **match: object) -> dict[str, Any]:
    """The `store` part of the next diagnostics message that matches."""
    while True:
        store: dict[str, Any] = json.loads(probe.wait_for(topics.diagnostics).payload)["store"]
        if all(store[k] == v for k, v in match.items()):
            return store


def housekeeping(service: Service, clock: FixedClock) -> None:
    """The minute tick, a minute later (the scheduler's job, without waiting for it)."""
    clock.advance(DIAGNOSTICS_MIN_INTERVAL)
    service.worker.put(Tick.HOUSEKEEPING)
    assert wait_until(service.worker.drained)


def held(service: Service) -> int:
    return int(service.worker.diagnostics.payload()["store"]["held"])  # type: ignore[index]


def messages(caplog: pytest.LogCaptureFixture, level: int, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level and text in r.getMessage()]


@pytest.mark.parametrize("room_returns_on", ["housekeeping", "next_input"])
def test_held_weigh_ins_are_stored_once_in_order_when_the_disk_has_room_again(
    tmp_path: Path,
    broker: Mosquitto,
    probe: Probe,
    topic_prefix: str,
    disk: Disk,
    caplog: pytest.LogCaptureFixture,
    room_returns_on: str,
) -> None:
    caplog.set_level(logging.INFO, logger="restday")
    config = write_config(tmp_path, broker, topic_prefix, scale="generic")
    topics, db, scale = Topics.of(config), config.store_path(), f"{topic_prefix}/scale"
    clock = FixedClock(MORNING)
    start = MORNING - timedelta(hours=3)
    order = [0, 1, 4, 2, 3]  # arrival order, not time order: stored in arrival order
    probe.subscribe(topics.diagnostics)
    with running(config, clock) as service:
        store_section(probe, topics, ok=True)
        for i in order[:2]:
            probe.publish(scale, weigh_in(i, start))
        assert wait_until(lambda: len(stored_times(db)) == 2)
        disk.fill(db)
        for i in order[2:]:
            probe.publish(scale, weigh_in(i, start))
        probe.publish(scale, b'{"weight": "heavy"}')  # refused, but counted: a write too
        failed = store_section(probe, topics, ok=False)  # at once, not after a minute
        assert f"cannot write the store {db}" in failed["error"]
        assert wait_until(lambda: held(service) == 4)
        housekeeping(service, clock)  # the retry fails again: held, and said once only
        assert held(service) == 4  # (the diagnostics said so already: unchanged, not re-sent)
        assert len(stored_times(db)) == 2
        assert len(messages(caplog, logging.ERROR, "cannot write the store")) == 1
        assert not messages(caplog, logging.WARNING, "rejected")  # not before it is counted
        disk.free()
        if room_returns_on == "housekeeping":
            housekeeping(service, clock)
        else:
            order.append(5)
            probe.publish(scale, weigh_in(5, start))
        assert store_section(probe, topics, ok=True, error=None, held=0)  # at once again
        assert stored_times(db) == [start + timedelta(seconds=i) for i in order]
        assert service.worker.diagnostics.payload()["inputs"]["scale"]["rejected"] == 1  # type: ignore[index]
        assert len(messages(caplog, logging.WARNING, "rejected")) == 1
        assert messages(caplog, logging.INFO, "handled the 4 inputs held meanwhile")
    with running(config, clock):  # anything not acknowledged would be delivered again now
        probe.publish(scale, weigh_in(9, start))
        assert wait_until(lambda: len(stored_times(db)) == len(order) + 1)
    assert duplicates(db) == 0
    assert len(messages(caplog, logging.ERROR, "")) == 1
    assert integrity(db) == "ok"


def test_beyond_the_held_limit_inputs_stay_unacknowledged_and_it_is_said_once(
    tmp_path: Path,
    broker: Mosquitto,
    topic_prefix: str,
    disk: Disk,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Fed to the worker directly: mosquitto sends no more than 20 unacknowledged at a time."""
    config = write_config(tmp_path, broker, topic_prefix, scale="generic")
    db = config.store_path()
    clock = FixedClock(MORNING)
    start = MORNING - timedelta(hours=3)
    acked: list[int] = []
    beyond = 5
    with running(config, clock) as service:
        service.worker.put(message(config, 0, start, acked))
        assert wait_until(lambda: acked == [0])
        disk.fill(db)
        for i in range(1, MAX_HELD + beyond + 1):
            service.worker.put(message(config, i, start, acked))
        assert wait_until(service.worker.drained)
        assert held(service) == MAX_HELD
        assert acked == [0]
        assert len(messages(caplog, logging.WARNING, f"{MAX_HELD} inputs are held")) == 1
        disk.free()
        housekeeping(service, clock)
        assert acked == list(range(MAX_HELD + 1))  # each once, in order; the rest wait
        assert held(service) == 0
    assert stored_times(db) == [start + timedelta(seconds=i) for i in range(MAX_HELD + 1)]


def test_a_strava_sync_while_the_disk_is_full_loses_no_run_and_no_traceback(
    tmp_path: Path,
    broker: Mosquitto,
    topic_prefix: str,
    disk: Disk,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = write_config(tmp_path, broker, topic_prefix, scale="generic")
    db = config.store_path()
    clock = FixedClock(MORNING)
    synced = SyncResult(
        finished_at=MORNING,
        auth="ok",
        activities=(strava(run(DAY, 10.0, hour=7.0)),),
        athlete={"shoes": []},
    )
    with running(config, clock) as service:
        service.worker.put(message(config, 0, MORNING - timedelta(hours=3), []))
        assert wait_until(lambda: len(stored_times(db)) == 1)
        disk.fill(db)
        service.worker.put(synced)
        assert wait_until(service.worker.drained)
        assert service.worker.newest_start is None  # the next sync asks Strava again
        assert service.worker.diagnostics.payload()["store"]["ok"] is False  # type: ignore[index]
        disk.free()
        service.worker.put(synced)  # the next sync brings the same run
        assert wait_until(service.worker.drained)
        assert service.worker.newest_start == run(DAY, 10.0, hour=7.0).start
        assert service.worker.diagnostics.payload()["store"]["ok"] is True  # type: ignore[index]
    assert len(messages(caplog, logging.ERROR, "")) == 1  # the outage; no traceback


def message(config: Config, i: int, start: datetime, acked: list[int]) -> InboundMessage:
    """A QoS 1 weigh-in as paho hands it over, whose acknowledgement is recorded."""
    return InboundMessage(
        topic=config.scale[0].topic,
        payload=weigh_in(i, start).encode(),
        retained=False,
        qos=1,
        received_at=MORNING,
        ack=lambda: acked.append(i),
    )
