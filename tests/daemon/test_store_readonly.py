"""A store on a file system that turns read-only, as a Raspberry Pi's SD card does (issue 6, 2).

The read-only file system is real: an ext4 image on a loop device, mounted with
`errors=remount-ro` as Raspberry Pi OS mounts its root; `trigger_fs_error` in sysfs makes the
kernel take it for damaged and remount it read-only ("emergency_ro"), so writes through the
descriptors restday already holds fail with EROFS, and a remount read-write is refused. The
repair is what a user does to the card: unmount, `e2fsck -fy`, mount again. This needs root,
loop devices and e2fsprogs; without them these tests are skipped, saying which is missing.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest

from restday.cli import main
from restday.daemon.diagnostics import DIAGNOSTICS_MIN_INTERVAL
from restday.integrations.mqtt.topics import Topics
from restday.models import PainReport
from restday.store import SCHEMA_VERSION, Store
from tests.broker import Mosquitto
from tests.conftest import Probe, wait_until
from tests.daemon.service_harness import write_config
from tests.daemon.test_durability import weigh_in
from tests.daemon.test_run_process import EXIT_WITHIN_S, restday_run
from tests.daemon.test_store_faults import DRAIN_S, duplicates, integrity, stored_times
from tests.test_store import sql

IMAGE_BYTES = 16 * 1024 * 1024  # the "SD card": room for the store, small for the test
COMMAND_S = 60.0  # mkfs, mount, e2fsck on a loaded CI machine
START_FAILS_WITHIN_S = 30.0  # `restday run` on a read-only store gives up before connecting
STORED_BEFORE = 5  # weigh-ins stored while the card works
SENT_AFTER = 10  # weigh-ins sent once it is read-only
PAIN_TODAY = 6  # a pain level that makes today a rest day: proof the store was read
PR_CAPBSET_DROP = 24  # prctl(2)
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2  # capability(7): root's leave to ignore modes


def command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=COMMAND_S, check=False)


def must(*args: str) -> None:
    done = command(*args)
    assert done.returncode == 0, f"{' '.join(args)}: {done.stdout}{done.stderr}"


def refuses_new_files(folder: Path) -> bool:
    try:
        (folder / "probe").write_text("x")
    except OSError as exc:
        return exc.errno == errno.EROFS
    (folder / "probe").unlink()
    return False


class Medium(Protocol):
    """A folder whose file system can be made read-only, and writable again."""

    folder: Path

    def go_read_only(self) -> None: ...

    def repair(self) -> None: ...


@dataclass
class SdCard:
    """An ext4 image on a loop device, mounted at `folder` with errors=remount-ro."""

    image: Path
    device: str  # /dev/loopN
    folder: Path

    def mount(self) -> subprocess.CompletedProcess[str]:
        """Mounted as Debian mounts its root: an error makes it read-only."""
        return command(
            "mount", "-t", "ext4", "-o", "errors=remount-ro", self.device, str(self.folder)
        )

    def go_read_only(self) -> None:
        """A file system error: the kernel remounts the card read-only at once."""
        trigger = Path("/sys/fs/ext4") / Path(self.device).name / "trigger_fs_error"
        trigger.write_text("restday test: the SD card fails\n")
        assert refuses_new_files(self.folder)
        done = command("mount", "-o", "remount,rw", str(self.folder))
        assert done.returncode != 0 or refuses_new_files(self.folder), "it healed by itself"

    def repair(self) -> None:
        """What the user does: unmount, check and repair, mount again."""
        must("umount", str(self.folder))
        fsck = command("e2fsck", "-fy", self.device)
        assert fsck.returncode in (0, 1), f"e2fsck: {fsck.returncode} {fsck.stdout}{fsck.stderr}"
        assert self.mount().returncode == 0
        assert not refuses_new_files(self.folder)


@dataclass
class ReadOnlyBind:
    """`folder` is a bind mount of another folder, remounted read-only (mount --bind -o ro)."""

    folder: Path

    def go_read_only(self) -> None:
        must("mount", "-o", "remount,bind,ro", str(self.folder))
        assert refuses_new_files(self.folder)

    def repair(self) -> None:
        must("mount", "-o", "remount,bind,rw", str(self.folder))


def needs_root_and(*tools: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: mounts a file system to make it read-only")
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (util-linux, e2fsprogs)")


def mounted(folder: Path) -> bool:
    """Whether `folder` is a mount point (`os.path.ismount` misses a bind mount on one disk)."""
    points = (line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines())
    return str(folder) in points


def unmount(folder: Path) -> None:
    """Unmount, lazily if something still holds it: a test never leaves a mount behind."""
    if mounted(folder) and command("umount", str(folder)).returncode != 0:
        command("umount", "-l", str(folder))
    assert not mounted(folder)


@pytest.fixture
def sd_card(tmp_path: Path) -> Iterator[SdCard]:
    needs_root_and("mkfs.ext4", "e2fsck", "losetup", "mount", "umount")
    image, folder = tmp_path / "sdcard.img", tmp_path / "card"
    with image.open("wb") as out:
        out.truncate(IMAGE_BYTES)
    made = command("mkfs.ext4", "-q", "-F", str(image))
    if made.returncode != 0:
        pytest.skip(f"mkfs.ext4 failed: {made.stderr.strip()}")
    attached = command("losetup", "--find", "--show", str(image))
    if attached.returncode != 0:
        pytest.skip(f"no loop device (a container without /dev/loop*?): {attached.stderr.strip()}")
    card = SdCard(image, attached.stdout.strip(), folder)
    try:
        folder.mkdir()
        mount = card.mount()
        if mount.returncode != 0:
            pytest.skip(f"cannot mount ext4 on {card.device}: {mount.stderr.strip()}")
        if not (Path("/sys/fs/ext4") / Path(card.device).name / "trigger_fs_error").exists():
            pytest.skip("this kernel has no /sys/fs/ext4/<device>/trigger_fs_error")
        yield card
    finally:
        unmount(folder)
        command("losetup", "-d", card.device)


@pytest.fixture
def read_only_bind(tmp_path: Path) -> Iterator[ReadOnlyBind]:
    needs_root_and("mount", "umount")
    source, folder = tmp_path / "source", tmp_path / "view"
    source.mkdir()
    folder.mkdir()
    bound = command("mount", "--bind", str(source), str(folder))
    if bound.returncode != 0:
        pytest.skip(f"cannot bind-mount: {bound.stderr.strip()}")
    try:
        yield ReadOnlyBind(folder)
    finally:
        unmount(folder)


# --- the card fails while restday runs ---------------------------------------------------------


def outage_with_inputs_held(probe: Probe, topic: str) -> dict[str, Any]:
    """The `store` section of the first diagnostics that report the store failing with inputs
    held. The first report of the outage rightly says held 0 when a write other than an
    input's saw the failure first (the record of a notification sent, a Strava sync's result);
    the inputs held then come in a later report, which the rate limit may keep back a minute."""
    deadline = time.monotonic() + DIAGNOSTICS_MIN_INTERVAL.total_seconds() + DRAIN_S
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "no diagnostics reported the store failing with inputs held"
        store: dict[str, Any] = json.loads(probe.wait_for(topic, timeout_s=remaining).payload)[
            "store"
        ]
        if not store["ok"] and store["held"] >= 1:
            return store


def test_an_sd_card_gone_read_only_gives_one_error_and_after_fsck_every_input_is_stored_once(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str, sd_card: SdCard
) -> None:
    config = write_config(sd_card.folder, broker, topic_prefix, scale="generic")
    os.sync()  # the config was written long before the card fails, not 5 s before (ext4)
    topics, db, scale = Topics.of(config), config.store_path(), f"{topic_prefix}/scale"
    start = datetime.now(UTC) - timedelta(hours=2)
    total = STORED_BEFORE + SENT_AFTER
    probe.subscribe(topics.diagnostics)
    with restday_run(config, tmp_path / "card.log") as process:  # the log is not on the card
        probe.wait_for(topics.diagnostics)  # sent after subscribing: no input is missed
        for i in range(STORED_BEFORE):
            probe.publish(scale, weigh_in(i, start))
        assert wait_until(lambda: len(stored_times(db)) == STORED_BEFORE, DRAIN_S)
        # Acknowledged, so made durable: no fsync is under way when the card fails. (One that
        # is may be reported done by the kernel while the journal abort discards its write:
        # the input is then acknowledged, yet gone after the fsck. Not what this test is about.)
        client = config.mqtt.client_id
        assert wait_until(lambda: broker.acknowledged_by(client) == STORED_BEFORE, DRAIN_S)
        sd_card.go_read_only()
        for i in range(STORED_BEFORE, total):
            probe.publish(scale, weigh_in(i, start))
        store = outage_with_inputs_held(probe, topics.diagnostics)
        assert f"cannot write the store {db}" in store["error"]
        assert f"{sd_card.folder} is on a read-only file system" in store["error"]
        stopping = time.monotonic()
        process.terminate()
        assert process.wait(timeout=EXIT_WITHIN_S + 5) == 0
        assert time.monotonic() - stopping < EXIT_WITHIN_S
    log = (tmp_path / "card.log").read_text()
    errors = [line for line in log.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, log
    assert f"cannot write the store {db}" in errors[0]
    assert f"{sd_card.folder} is on a read-only file system" in errors[0]
    assert "fsck" in errors[0]  # what to do
    assert "held" in errors[0]
    assert "Traceback" not in log
    assert stored_times(db) == [start + timedelta(seconds=i) for i in range(STORED_BEFORE)]
    sd_card.repair()  # the card checked and repaired (or replaced), and restday started again
    with restday_run(config, tmp_path / "repaired.log"):  # what was held comes again
        assert wait_until(lambda: len(stored_times(db)) == total, DRAIN_S)
    assert stored_times(db) == [start + timedelta(seconds=i) for i in range(total)]
    assert duplicates(db) == 0  # what was acknowledged is not delivered again
    assert integrity(db) == "ok"
    assert "ERROR" not in (tmp_path / "repaired.log").read_text()


# --- restday starts on a read-only store -------------------------------------------------------


@pytest.mark.parametrize(
    ("medium_fixture", "log_left"),
    [("sd_card", True), ("read_only_bind", False)],
    ids=["sd-card-failed-while-open", "read-only-bind-mount"],
)
def test_starting_on_a_read_only_store_says_why_status_still_reads_it_and_a_restart_recovers(
    tmp_path: Path,
    broker: Mosquitto,
    probe: Probe,
    topic_prefix: str,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    medium_fixture: str,
    log_left: bool,
) -> None:
    medium: Medium = request.getfixturevalue(medium_fixture)
    config = write_config(medium.folder, broker, topic_prefix)
    os.sync()  # the config was written long before the card fails, not 5 s before (ext4)
    topics, db, now = Topics.of(config), config.store_path(), datetime.now(UTC)
    store = Store.open(db)
    store.add_pain(PainReport(now, PAIN_TODAY), str(PAIN_TODAY), now)
    store.flush()  # as restday does before it acknowledges an input: on the card for good
    if log_left:  # the card fails under a running restday: its write-ahead log stays behind
        medium.go_read_only()
        store.close()
    else:  # restday stopped cleanly, then the folder was made read-only
        store.close()
        medium.go_read_only()
    assert db.with_name("restday.db-wal").exists() == log_left
    with restday_run(config, tmp_path / "start.log") as process:
        assert process.wait(timeout=START_FAILS_WITHIN_S) == 1  # systemd tries again in 15 s
    said = (tmp_path / "start.log").read_text()
    assert f"restday: cannot use the store {db} (storage.path): {medium.folder} is on a " in said
    assert "read-only file system" in said
    assert "point storage.path at a writable folder" in said
    assert "Traceback" not in said

    capsys.readouterr()
    assert main(["status", "--json", "--config", str(config.config_path)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["status"] == "rest"  # today's pain, read from the read-only store
    assert "reading it read-only" in err
    assert main(["history", "--days", "2", "--config", str(config.config_path)]) == 0
    capsys.readouterr()
    assert main(["check-config", "--config", str(config.config_path)]) == 1
    said = capsys.readouterr().out
    assert f"FIX  store: {medium.folder} is on a read-only file system" in said

    medium.repair()
    probe.subscribe(topics.state)
    with restday_run(config, tmp_path / "repaired.log") as process:
        assert json.loads(probe.wait_for(topics.state).payload)["status"] == "rest"
        process.terminate()
        assert process.wait(timeout=EXIT_WITHIN_S + 5) == 0
    assert integrity(db) == "ok"


def test_status_refuses_an_older_store_on_a_read_only_file_system_instead_of_misreading_it(
    broker: Mosquitto,
    topic_prefix: str,
    read_only_bind: ReadOnlyBind,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(read_only_bind.folder, broker, topic_prefix)
    db = config.store_path()
    with Store.open(db):
        pass
    sql(db, f"PRAGMA user_version = {SCHEMA_VERSION - 1}")  # its tables need re-deriving
    read_only_bind.go_read_only()
    capsys.readouterr()
    assert main(["status", "--config", str(config.config_path)]) == 1
    said = capsys.readouterr().err
    assert f"cannot read the store {db} here: it was written by an older restday" in said
    assert "Traceback" not in said


# --- restday may not write in the store's folder -----------------------------------------------


_prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: after fork, only called


def without_root_privileges() -> None:
    """In the child, before exec: as root, drop the leave to ignore file modes, so that root
    too cannot write where the modes forbid it (nothing to drop for another user)."""
    if os.geteuid() == 0:
        for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
            _prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)  # checked by the test, not here


def may_create_files_in(folder: Path) -> bool:
    """Whether a process started as `restday run` can still create a file in `folder`."""
    code = "import sys, tempfile; tempfile.TemporaryFile(dir=sys.argv[1])"
    probe = subprocess.run(
        [sys.executable, "-c", code, str(folder)],
        preexec_fn=without_root_privileges,
        capture_output=True,
        timeout=COMMAND_S,
        check=False,
    )
    return probe.returncode == 0


def test_starting_in_a_folder_restday_may_not_write_in_says_so(
    tmp_path: Path, broker: Mosquitto, topic_prefix: str
) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    config = write_config(folder, broker, topic_prefix)
    db = config.store_path()
    with Store.open(db):
        pass
    folder.chmod(0o555)
    try:
        if may_create_files_in(folder):
            pytest.skip("cannot take root's leave to ignore file modes here (no CAP_SETPCAP?)")
        with restday_run(config, tmp_path / "start.log", preexec=without_root_privileges) as run:
            assert run.wait(timeout=START_FAILS_WITHIN_S) == 1
    finally:
        folder.chmod(0o755)
    said = (tmp_path / "start.log").read_text()
    assert f"restday: cannot use the store {db} (storage.path): restday (user " in said
    assert f"may not write in {folder}, where it keeps the store and its write-ahead log" in said
    assert "Traceback" not in said
