"""`restday demo`: the whole pipeline on the bundled sample athlete, with nothing set up.

A broker of its own (`demo_broker`: mosquitto if installed, else amqtt; `--broker` or
$RESTDAY_DEMO_BROKER chooses), a temporary store, a generated config (athlete `demo`,
Europe/Berlin, a generic scale and sleep tracker, no Strava account) and the real `Service` on a
`FixedClock`, fed the story of `restday.demo.data` by `demo_story.Replay`. The watcher prints
the moments that matter as they arrive (the first rest day and why, the hydration warning, the
first morning report of each status, with the inputs that led to them), then the final
recommendation with its top reasons (`restday.demo.summary`); with `--full`, every input,
notification and change of status, and the recommendation as `restday status` prints it. Then
everything stops and the temporary folder goes; with `--keep`, the broker and the service stay
up (the clock going on in real time) until Ctrl-C or SIGTERM. With `--household`, two runners
share the service and a scale (`restday.demo.household`).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import TextIO

from restday.cli.exit_codes import EXIT_FAILURE, EXIT_OK, EXIT_SIGNAL_BASE
from restday.clock import FixedClock
from restday.config import (
    AthleteConfig,
    Config,
    MqttConfig,
    ScaleInput,
    ScheduleConfig,
    SleepInput,
    StorageConfig,
    StravaConfig,
)
from restday.daemon.service import Service
from restday.demo import broker as demo_broker
from restday.demo import data as demo_data
from restday.demo import household as demo_household
from restday.demo import summary as demo_summary
from restday.demo.sample import SAMPLE_TZ, sample_activities
from restday.demo.screen import Screen
from restday.demo.story import DemoError, Replay
from restday.demo.watch import Tap, Watcher
from restday.integrations.mqtt import MqttLink
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import Topics
from restday.rules.settings import DecisionConfig, RulesConfig

ATHLETE = "demo"
ATHLETE_NAME = "Demo runner"
SCALE_TOPIC = "restday-demo/bathroom_scale"
SLEEP_TOPIC = "restday-demo/sleep_tracker"
HELLO_TOPIC = "restday-demo/hello"  # the watcher is subscribed once it receives this
MORNING_REPORT = "06:15"  # before the sample's 06:30 runs
CONNECT_TIMEOUT_S = 10.0  # for the demo's own clients to connect and subscribe
HELLO_EVERY_S = 0.05  # the hello is repeated this often until the watcher has it
KEEP_TICK_S = 1.0  # --keep: the clock moves on and signals are checked this often


def main(args: argparse.Namespace) -> int:
    """`restday demo [--full] [--keep] [--household] [--broker KIND] [-v]`, from the command
    line."""
    return run(
        keep=args.keep,
        broker=args.broker,
        verbose=args.verbose,
        household=args.household,
        full=args.full,
    )


def run(
    *,
    keep: bool = False,
    broker: str | None = None,
    verbose: bool = False,
    household: bool = False,
    full: bool = False,
    out: TextIO | None = None,
) -> int:
    """The demo; the exit code. `broker`: auto, mosquitto, amqtt (None: $RESTDAY_DEMO_BROKER);
    `household`: two runners and a shared scale instead of the one sample runner; `full`: every
    event (else the moments that matter); `verbose`: debug logs."""
    root = logging.getLogger()
    level = root.level
    if not verbose:
        root.setLevel(logging.WARNING)  # the story is the output, not the logs
    screen = Screen(out or sys.stdout)
    stop = threading.Event()
    caught: list[int] = []

    def on_signal(signum: int) -> None:
        caught.append(signum)
        stop.set()

    restore = _on_signals(on_signal)
    try:
        with tempfile.TemporaryDirectory(prefix="restday-demo-") as folder:
            try:
                chosen = demo_broker.choose(broker, Path(folder))
                chosen.start()
            except demo_broker.BrokerUnavailable as exc:
                print(f"restday demo: {exc}", file=sys.stderr)
                return EXIT_FAILURE
            try:
                finished = _play(chosen, Path(folder), screen, stop, keep, household, full)
            except DemoError as exc:
                print(f"restday demo: {exc}", file=sys.stderr)
                return EXIT_FAILURE
            finally:
                chosen.stop()
    finally:
        restore()
        root.setLevel(level)
    if screen.closed:  # `restday demo | head`: the reader had enough
        return EXIT_OK
    if not finished:
        screen.line("Stopped before the end of the story; everything is shut down.")
        return EXIT_SIGNAL_BASE + caught[0]
    screen.line("The demo is over: broker and service stopped, temporary files removed.")
    return EXIT_OK


def _play(
    broker: demo_broker.DemoBroker,
    folder: Path,
    screen: Screen,
    stop: threading.Event,
    keep: bool,
    household: bool,
    full: bool,
) -> bool:
    """Whether the story was told to its end (not cut short by a signal or a closed pipe)."""
    story = demo_data.build(sample_activities(), clock_time.fromisoformat(MORNING_REPORT))
    clock = FixedClock(story.start)
    if household:
        config = demo_household.config(broker.host, broker.port, folder, MORNING_REPORT)
        watcher: Watcher = demo_household.HouseholdWatcher(
            Topics.of(config), screen, HELLO_TOPIC, full=full
        )
    else:
        config = demo_config(broker.host, broker.port, folder)
        watcher = Watcher(Topics.of(config), screen, HELLO_TOPIC, full=full)
    topics = Topics.of(config)
    watching = _client(config, "watcher", clock, watcher.on_message, watcher.subscriptions)
    devices = _client(config, "devices", clock, lambda msg: msg.ack(), [])
    watching.start()
    devices.start()
    try:
        _greet(watcher, devices)
        _header(screen, broker, household, full)
        service = Service(config, clock=clock, ha_listening_grace_s=0.0)  # no HA here
        watched = [t for a in topics.athletes for t in (a.state, a.notification)]
        tap = Tap(service.worker.publisher.out, watched)
        service.worker.publisher.out = tap  # counts what the watcher should receive
        service.start()
        try:
            kind = demo_household.HouseholdReplay if household else Replay
            replay = kind(service, clock, devices, tap, watcher)
            replay.connected()
            for step in replay.begin(story):
                if stop.is_set() or screen.closed:
                    return False
                replay.play(step)
            if household:
                demo_household.summary(screen, service)
            else:
                rec, tz = service.worker.recommendation, service.config.athlete.timezone
                demo_summary.final(screen, rec, tz, full)
            if keep:
                _keep(screen, broker, config, clock, stop)
        finally:
            service.stop()
    finally:
        devices.stop()
        watching.stop()
    return True


def demo_config(host: str, port: int, folder: Path) -> Config:
    """The demo's configuration: every section given, so no file or environment leaks in."""
    return Config(
        athlete=AthleteConfig(id=ATHLETE, name=ATHLETE_NAME, timezone=str(SAMPLE_TZ)),
        storage=StorageConfig(path=str(folder / "restday.db")),
        mqtt=MqttConfig(host=host, port=port, client_id="restday-demo"),
        strava=StravaConfig(),
        schedule=ScheduleConfig(morning_report=MORNING_REPORT),
        scale=[ScaleInput(topic=SCALE_TOPIC)],
        sleep=[SleepInput(topic=SLEEP_TOPIC)],
        rules=RulesConfig(),
        decision=DecisionConfig(),
    )


def _client(
    config: Config,
    role: str,
    clock: FixedClock,
    on_message: Callable[[InboundMessage], None],
    subscriptions: list[str],
) -> MqttLink:
    """One of the demo's own MQTT clients: the devices (publishing) or the watcher."""
    mqtt = MqttConfig(
        host=config.mqtt.host,
        port=config.mqtt.port,
        client_id=f"restday-demo-{role}",
        base_topic=f"restday-demo/{role}",  # its online/offline, apart from the service's
    )
    return MqttLink(
        mqtt, subscriptions=subscriptions, on_message=on_message, on_connected=_nothing, clock=clock
    )


def _nothing() -> None:
    """Nothing to do (on connecting; or no signal handlers to restore)."""


def _greet(watcher: Watcher, devices: MqttLink) -> None:
    """Wait until the watcher is subscribed: it receives the devices' hello."""
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while not watcher.hello.wait(HELLO_EVERY_S):
        if time.monotonic() > deadline:
            raise DemoError("the demo's MQTT clients could not connect to its broker")
        if devices.connected:
            devices.publish(HELLO_TOPIC, b"hello")


def _header(screen: Screen, broker: demo_broker.DemoBroker, household: bool, full: bool) -> None:
    where = f"MQTT broker: {broker.name} on {broker.host}:{broker.port}, for this demo only."
    (demo_household.header if household else demo_summary.header)(screen, where, full)


def _keep(
    screen: Screen,
    broker: demo_broker.DemoBroker,
    config: Config,
    clock: FixedClock,
    stop: threading.Event,
) -> None:
    """Serve until a signal; the story's clock goes on in real time meanwhile."""
    where = f"-h {broker.host} -p {broker.port}"
    topics = Topics.of(config)
    devices = " and ".join(f"'restday ({a.name})'" for a in config.athletes)
    plural = "s" if len(config.athletes) > 1 else ""
    for text in (
        "",
        f"Still running (--keep): restday and its MQTT broker on {broker.host}:{broker.port}.",
        f"  Watch every topic:  mosquitto_sub {where} -t 'restday/#' -v",
        f"  Report pain 0–10:   mosquitto_pub {where} -t {topics.pain_set} -m 3",
        "  Home Assistant on this machine (the broker listens on 127.0.0.1 only): Settings →",
        "  Devices & services → Add integration → MQTT; broker 127.0.0.1, port "
        f"{broker.port}, no user name.",
        f"  restday appears as the device{plural} {devices} by MQTT discovery.",
        "Press Ctrl-C (or send SIGTERM) to stop.",
    ):
        screen.line(text)
    last = time.monotonic()
    while not stop.wait(KEEP_TICK_S):
        now = time.monotonic()
        clock.advance(timedelta(seconds=now - last))
        last = now
    screen.line("Stopping restday and the broker.")


def _on_signals(handler: Callable[[int], None]) -> Callable[[], None]:
    """SIGINT and SIGTERM call `handler` (main thread only); returns what undoes that."""
    if threading.current_thread() is not threading.main_thread():
        return _nothing

    def on_signal(signum: int, frame: FrameType | None) -> None:
        handler(signum)

    before = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in before.items():
            signal.signal(sig, old)

    return restore
