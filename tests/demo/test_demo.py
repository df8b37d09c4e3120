"""`restday demo` as a newcomer runs it: one command, a short story worth reading (every event
with `--full`), nothing left behind.

The demo runs as a subprocess (`python -m restday demo`), on each broker it can bring: the
system's mosquitto and the pure-Python amqtt ($RESTDAY_DEMO_BROKER chooses); `--full` and
`--verbose` once, on amqtt. Its temporary folder is put under the test's own (TMPDIR), so a
leftover folder or a broker still running from it can be found.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from restday.demo import broker as demo_broker
from restday.demo import run as demo
from tests.conftest import Probe, wait_until

DEMO_TIMEOUT_S = 60.0  # the promise: the demo ends by itself well within a minute
KEEP_READY_S = 30.0  # --keep: for the "still running" lines to appear
STOP_WITHIN_S = 10.0  # --keep: from SIGTERM to exit
STAMPED = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d [A-Z][a-z]{2} (\d\d:\d\d  [→←]|──) ")
PORT = re.compile(r"MQTT broker: (\w+) on 127\.0\.0\.1:(\d+)")
MAX_LINE = 100
SHORT_LINES = 60  # the whole default output, header to goodbye
EVENT = re.compile(r"^(\w{3} \d\d \w{3}) (\d\d:\d\d)  ([→←]) (\w+) +(.*)$")


@dataclass(frozen=True)
class DemoRun:
    code: int
    out: str
    err: str
    folder: Path  # the demo's TMPDIR

    @property
    def broker(self) -> tuple[str, int]:
        found = PORT.search(self.out)
        assert found, self.out[:500]
        return found.group(1), int(found.group(2))

    @property
    def story(self) -> str:
        """The replay: between the header and the final recommendation."""
        return self.out.split("\n\n", 1)[1].split("=" * MAX_LINE, 1)[0]

    @property
    def final(self) -> str:
        return self.out.split("=" * MAX_LINE)[1]

    def events(self) -> list[tuple[str, str, str, str, str]]:
        """Each stamped line of the story: (day, time, arrow, kind, text)."""
        found = (EVENT.match(line) for line in self.story.splitlines())
        return [(m[1], m[2], m[3], m[4], m[5]) for m in found if m]

    def told(self, kind: str) -> list[tuple[str, str, str]]:
        """(day, time, title) of each notification of one kind (`rest_day`, `morning` …)."""
        return [(d, t, text) for d, t, arrow, k, text in self.events() if (arrow, k) == ("←", kind)]

    def entry(self, day: str, clock: str, kind: str) -> str:
        """A notification's lines (its title and the message wrapped under it), joined."""
        lines = self.story.splitlines()
        head = next(
            i for i, line in enumerate(lines) if re.match(rf"{day} {clock}  ← {kind} ", line)
        )
        more = itertools.takewhile(lambda line: line.startswith(" "), lines[head + 1 :])
        return " ".join(line.strip() for line in [lines[head], *more])


def demo_env(folder: Path, broker: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTDAY_")}
    return env | {"RESTDAY_DEMO_BROKER": broker, "TMPDIR": str(folder)}


def run_demo(folder: Path, broker: str, *flags: str) -> DemoRun:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "restday", "demo", *flags],
        capture_output=True,
        text=True,
        env=demo_env(folder, broker),
        cwd=folder,  # no restday.toml of the developer's is found
        timeout=DEMO_TIMEOUT_S,
        check=False,
    )
    return DemoRun(done.returncode, done.stdout, done.stderr, folder)


def processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that contain `text`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended meanwhile
            continue
        if text in args:
            found.append(args)
    return found


@pytest.fixture(scope="module")
def on_mosquitto(tmp_path_factory: pytest.TempPathFactory, mosquitto_binary: str) -> DemoRun:
    return run_demo(tmp_path_factory.mktemp("demo-mosquitto"), "mosquitto")


@pytest.fixture(scope="module")
def on_amqtt(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    if not demo_broker.amqtt_installed():
        pytest.fail("amqtt is not installed: `pip install -e '.[dev]'` installs it")
    return run_demo(tmp_path_factory.mktemp("demo-amqtt"), "amqtt")


@pytest.fixture(params=["mosquitto", "amqtt"])
def finished(request: pytest.FixtureRequest) -> DemoRun:
    """The demo's run on each broker (each runs once for the whole module)."""
    run: DemoRun = request.getfixturevalue(f"on_{request.param}")
    return run


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """`restday demo --full`: every event."""
    if not demo_broker.amqtt_installed():
        pytest.fail("amqtt is not installed: `pip install -e '.[dev]'` installs it")
    return run_demo(tmp_path_factory.mktemp("demo-full"), "amqtt", "--full")


def test_demo_ends_by_itself_with_exit_0_and_no_traceback(finished: DemoRun) -> None:
    assert finished.code == 0, finished.err
    assert "Traceback" not in finished.out + finished.err
    assert finished.err == ""  # no warnings either: the story is the whole output
    assert finished.out.rstrip().endswith("temporary files removed.")


def test_demo_runs_on_the_broker_asked_for(
    finished: DemoRun, request: pytest.FixtureRequest
) -> None:
    name, _ = finished.broker
    assert name == request.node.callspec.params["finished"]


def test_demo_tells_its_story_in_at_most_60_lines(finished: DemoRun) -> None:
    lines = finished.out.splitlines()
    assert len(lines) <= SHORT_LINES, finished.out
    assert all(len(line) <= MAX_LINE for line in lines)
    heads = [line for line in finished.story.splitlines() if line and not line.startswith(" ")]
    assert all(STAMPED.match(line) for line in heads), [h for h in heads if not STAMPED.match(h)]


def test_demo_header_says_what_runs_and_how_to_see_every_event(finished: DemoRun) -> None:
    header = finished.out.split("\n\n", 1)[0]
    assert "ten weeks of a sample runner, replayed through the real service" in header
    assert PORT.search(header)
    assert "8 weeks come in one Strava sync; the last 14 days one by one" in header
    assert "--full: every event" in header


def test_demo_shows_the_first_rest_day_and_why_after_the_night_that_tipped_it(
    finished: DemoRun,
) -> None:
    assert finished.told("rest_day") == [("Fri 20 Nov", "05:40", "Rest day recommended")]
    events = finished.events()
    rest = events.index(("Fri 20 Nov", "05:40", "←", "rest_day", "Rest day recommended"))
    assert events[rest - 1] == ("Fri 20 Nov", "05:40", "→", "sleep", "5.4 h asleep, 00:01–05:40")
    why = finished.entry("Fri 20 Nov", "05:40", "rest_day")
    for reason in (
        "Slept 5.4 h last night (under 6 h).",
        "75.1 km in the last 7 days, 99 % more than your biggest week",
        "(Nielsen 2014; not significant)",  # its source, as the notification names it
        "You are 5.1 h short of sleep over the last 7 nights",
    ):
        assert reason in why
    before = [text for day, _, text in finished.told("morning") if day != "Fri 20 Nov"]
    assert "restday: rest day recommended" not in before  # the first rest day


def test_demo_shows_the_hydration_warning_after_the_weigh_in(finished: DemoRun) -> None:
    events = finished.events()
    warned = events.index(("Fri 20 Nov", "11:27", "←", "hydration", "You ran yourself dry"))
    assert events[warned - 1] == ("Fri 20 Nov", "11:27", "→", "scale", "69.7 kg")
    assert "Drink 2.1–2.6 L" in finished.entry("Fri 20 Nov", "11:27", "hydration")


def test_demo_shows_the_morning_report_when_it_changes(finished: DemoRun) -> None:
    assert finished.told("morning") == [
        ("Sat 07 Nov", "06:15", "restday: good to train"),
        ("Tue 17 Nov", "06:15", "restday: keep it easy today"),
        ("Fri 20 Nov", "06:15", "restday: rest day recommended"),
    ]
    easy = finished.entry("Tue 17 Nov", "06:15", "morning")
    assert "Readiness 75/100. Slept 5.6 h last night (under 6 h)." in easy
    rest = finished.entry("Fri 20 Nov", "06:15", "morning")
    assert "REST — rest day recommended. Readiness 50/100." in rest
    assert "as the rest day notice above says" in rest  # its reasons are not printed twice


def test_demo_ends_with_the_final_recommendation_and_its_top_reasons(finished: DemoRun) -> None:
    final = finished.final
    assert "Status:    REST — rest day recommended" in final
    assert "Readiness: 0/100" in final
    tops = re.findall(r"^  (\w+ · \w+): ", final, re.M)
    assert tops == ["STRONG · pain", "STRONG · run_spike", "MODERATE · sleep_short"]
    assert "Pain 5/10 today (4 or more): take a rest day" in final
    assert "and 8 more: `restday demo --full` prints them all" in final


def test_demo_leaves_the_routine_to_full(finished: DemoRun) -> None:
    """No status line, post-run note or first sync; an input only with what restday said."""
    events = finished.events()
    kinds = {kind for _, _, arrow, kind, _ in events if arrow == "←"}
    assert kinds == {"morning", "rest_day", "hydration", "pain"}
    for before, after in itertools.pairwise(events):
        if before[2] == "→":
            assert after[2] == "←", (before, after)
            assert after[:2] == before[:2], (before, after)
    assert "first sync" not in finished.out


def test_full_prints_every_kind_of_event_as_it_happens(full: DemoRun) -> None:
    assert full.code == 0, full.err
    assert full.err == ""
    kinds = {(arrow, kind) for _, _, arrow, kind, _ in full.events()}
    told = {"morning", "post_run", "rest_day", "hydration", "pain", "shoe", "status"}
    sent = {"sleep", "scale", "strava", "pain"}
    assert kinds == {("←", kind) for kind in told} | {("→", kind) for kind in sent}
    assert len(full.told("morning")) == 14  # one each replayed day
    assert len(full.out.splitlines()) > 5 * SHORT_LINES


def test_full_prints_each_change_of_status_with_its_rules(full: DemoRun) -> None:
    statuses = [(day, text) for day, _, text in full.told("status")]
    assert statuses[0] == ("Sat 07 Nov", "CALIBRATING · readiness 100")  # an empty store
    assert statuses[1] == ("Sat 07 Nov", "TRAIN · readiness 100")  # after the first sync
    assert any(text.startswith("EASY · readiness") for _, text in statuses)
    last = statuses[-1]
    assert last[0] == "Fri 20 Nov"
    assert last[1].startswith("REST · readiness 0 · pain, run_spike, sleep_short")


def test_full_ends_with_every_finding_and_its_numbers(full: DemoRun) -> None:
    final = full.final
    assert "Status:    REST — rest day recommended" in final
    for reason in ("STRONG · run_spike", "STRONG · pain", "MODERATE · sleep_short",
                   "MODERATE · dehydration_post_run", "MODERATE · no_rest_day"):  # fmt: skip
        assert reason in final
    assert "Findings (11), most important first:" in final
    assert "value 5 /10 · threshold 4 /10" in final  # each reason with its numbers


def test_full_lines_are_short_and_start_with_the_date(full: DemoRun) -> None:
    lines = full.story.splitlines()
    assert all(len(line) <= MAX_LINE for line in lines)
    heads = [line for line in lines if line and not line.startswith(" ")]
    assert len(heads) > 50
    assert all(STAMPED.match(line) for line in heads), [h for h in heads if not STAMPED.match(h)]


def test_verbose_adds_debug_logs_to_the_short_story(tmp_path: Path) -> None:
    run = run_demo(tmp_path, "amqtt", "--verbose")
    assert run.code == 0, run.err
    assert "DEBUG restday" in run.err
    assert len(run.out.splitlines()) <= SHORT_LINES


def test_demo_leaves_nothing_running_and_removes_its_files(finished: DemoRun) -> None:
    _, port = finished.broker
    assert not demo_broker.port_open(port)
    assert processes_mentioning(str(finished.folder)) == []  # no broker of it lives on
    assert not list(finished.folder.glob("restday-demo-*"))


def test_demo_joins_every_thread_it_started() -> None:
    before = set(threading.enumerate())
    out = io.StringIO()
    assert demo.run(broker="amqtt", out=out) == 0  # in this process, the broker in a thread
    assert "Status:    REST — rest day recommended" in out.getvalue()
    assert set(threading.enumerate()) - before == set()


def test_without_mosquitto_the_demo_runs_on_amqtt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_broker, "find_mosquitto", lambda: None)
    monkeypatch.delenv(demo_broker.BROKER_ENV, raising=False)
    assert isinstance(demo_broker.choose(None, tmp_path), demo_broker.Amqtt)


def test_auto_prefers_the_system_mosquitto(tmp_path: Path, mosquitto_binary: str) -> None:
    assert isinstance(demo_broker.choose("auto", tmp_path), demo_broker.Mosquitto)


def test_without_any_broker_one_sentence_says_how_to_install_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo_broker, "find_mosquitto", lambda: None)
    monkeypatch.setattr(demo_broker, "amqtt_installed", lambda: False)
    monkeypatch.delenv(demo_broker.BROKER_ENV, raising=False)
    assert demo.run() == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "pip install 'restday[demo]'" in err
    assert "apt install mosquitto" in err


def test_an_unknown_broker_choice_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(demo_broker.BROKER_ENV, "rabbitmq")
    assert demo.run() == 1
    assert "RESTDAY_DEMO_BROKER='rabbitmq' is not one of auto, mosquitto, amqtt" in (
        capsys.readouterr().err
    )


# --- --keep ---------------------------------------------------------------------------------


class Lines:
    """A process's stdout, read line by line in a thread, waited on with timeouts."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert process.stdout is not None
        stream = process.stdout
        self._thread = threading.Thread(target=self._read, args=(stream,))
        self._thread.start()

    def _read(self, stream: Iterable[str]) -> None:
        for line in stream:
            self._queue.put(line)

    def wait_for(self, pattern: str, timeout_s: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout_s
        while True:
            for line in self.seen:
                found = re.search(pattern, line)
                if found:
                    return found
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {pattern!r} in: {''.join(self.seen)[-2000:]}"
            try:
                self.seen.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                continue

    def close(self) -> None:
        self._thread.join(STOP_WITHIN_S)


@pytest.fixture(params=["mosquitto", "amqtt"])
def kept(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], Lines]]:
    if request.param == "mosquitto":
        request.getfixturevalue("mosquitto_binary")
    process = subprocess.Popen(
        [sys.executable, "-m", "restday", "demo", "--keep"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=demo_env(tmp_path, request.param),
        cwd=tmp_path,
    )
    lines = Lines(process)
    try:
        yield process, lines
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        lines.close()


def test_keep_serves_the_state_until_sigterm_then_exits_0(
    kept: tuple[subprocess.Popen[str], Lines], tmp_path: Path
) -> None:
    process, lines = kept
    port = int(lines.wait_for(r"MQTT broker on 127\.0\.0\.1:(\d+)", KEEP_READY_S).group(1))
    lines.wait_for(rf"mosquitto_sub -h 127\.0\.0\.1 -p {port} -t 'restday/#' -v", KEEP_READY_S)
    lines.wait_for("Press Ctrl-C", KEEP_READY_S)
    probe = Probe("127.0.0.1", port, client_id="test-demo-probe")
    try:
        probe.subscribe("restday/demo/state")
        state = json.loads(probe.wait_for("restday/demo/state").payload)
        assert state["status"] == "rest"
        assert state["rest_day_recommended"] is True
        probe.publish("restday/demo/pain/set", "8")  # as Home Assistant's number entity would
        lines.wait_for(r"← pain\s+See a doctor", KEEP_READY_S)
    finally:
        probe.close()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=STOP_WITHIN_S) == 0
    assert wait_until(lambda: not demo_broker.port_open(port))
    assert processes_mentioning(str(tmp_path)) == []
    assert not list(tmp_path.glob("restday-demo-*"))
