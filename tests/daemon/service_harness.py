"""Running the real service in-process against the test's broker, with a fixed clock."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from restday.clock import FixedClock
from restday.config import Config, load_config
from restday.daemon.service import Service
from restday.integrations.mqtt.topics import Topics
from restday.models import Activity
from restday.store import Store
from restday.sync import ingest_activities
from tests.broker import Mosquitto
from tests.conftest import Probe
from tests.factories import DAY, TZ
from tests.strava_server import FakeStrava

MORNING = datetime(DAY.year, DAY.month, DAY.day, 9, 0, tzinfo=TZ)  # after the 06:30 report


def write_config(
    folder: Path,
    broker: Mosquitto,
    prefix: str,
    *,
    scale: str = "",
    sleep: str = "",
    strava: FakeStrava | None = None,
) -> Config:
    """A config for the test's broker, with the test's topics and a store in `folder`."""
    text = f"""
[athlete]
id = "me"
name = "Me"
timezone = "Europe/Berlin"
[storage]
path = "restday.db"
[mqtt]
host = "{broker.host}"
port = {broker.port}
client_id = "restday-{prefix.replace("/", "-")}"
base_topic = "{prefix}/restday"
discovery_prefix = "{prefix}/ha"
"""
    if strava is not None:
        text += (
            f'[strava]\nclient_id = "{strava.client_id}"\n'
            f'client_secret = "{strava.client_secret}"\n'
            f'api_url = "{strava.url}"\nbackfill_days = 120\n'
        )
    if scale:
        text += f'[[scale]]\ntopic = "{prefix}/scale"\npreset = "{scale}"\n'
    if sleep:
        text += f'[[sleep]]\ntopic = "{prefix}/sleep"\npreset = "{sleep}"\n'
    path = folder / "restday.toml"
    path.write_text(text)
    return load_config(path, explicit=True)


def store_activities(config: Config, items: list[dict[str, object]]) -> None:
    with Store.open(config.store_path()) as store:
        ingest_activities(store, items)


ONLINE_WAIT_S = 30.0  # for the service to connect and subscribe, on a loaded machine too


@contextmanager
def running(
    config: Config,
    clock: FixedClock | None = None,
    *,
    ha_listening_grace_s: float = 0.0,
    online: bool = True,
) -> Iterator[Service]:
    """The service started and stopped at the end; with `online`, yielded once it is connected
    and subscribed (it connects in the background: a command published before it subscribed
    would be lost, as for any MQTT client). No Home Assistant subscribes here: notifications go
    out at once unless `ha_listening_grace_s`."""
    service = Service(
        config, clock=clock or FixedClock(MORNING), ha_listening_grace_s=ha_listening_grace_s
    )
    service.start()
    try:
        if online:
            until_online(config)
        yield service
    finally:
        service.stop()


def until_online(config: Config) -> None:
    """Wait for the service's `online`: it subscribes before it publishes it, and the broker
    takes one client's packets in order, so its subscriptions are in place by then."""
    mqtt = config.mqtt
    login = (mqtt.username, mqtt.password.get_secret_value()) if mqtt.username else None
    probe = Probe(mqtt.host, mqtt.port, client_id=f"online-{mqtt.client_id}", login=login)
    try:
        probe.subscribe(Topics.of(config).status)
        probe.wait_for(Topics.of(config).status, b"online", timeout_s=ONLINE_WAIT_S)
    finally:
        probe.close()


def state_of(probe: Probe, topics: Topics, **match: object) -> dict[str, Any]:
    """The next state message whose top-level keys have the given values."""
    while True:
        state = json.loads(probe.wait_for(topics.state).payload)
        if all(state.get(k) == v for k, v in match.items()):
            return state  # type: ignore[no-any-return]


def strava(activity: Activity) -> dict[str, object]:
    """A built activity as Strava's API would send it (what the store ingests)."""
    stamp = activity.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "id": int(activity.id),
        "name": activity.name,
        "type": activity.sport_type,
        "sport_type": activity.sport_type,
        "start_date": stamp,
        "start_date_local": stamp,
        "distance": float(activity.distance_m),
        "moving_time": int(activity.moving_time_s),
        "elapsed_time": int(activity.elapsed_time_s),
    }


def rows(db: Path, table: str) -> int:
    """Rows in a table of the store of a running restday, read beside it (0 before it exists)."""
    if not db.exists():
        return 0
    try:
        with closing(sqlite3.connect(db, timeout=5)) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:  # restday is still creating its tables
        return 0
