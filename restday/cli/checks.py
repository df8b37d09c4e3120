"""`restday check-config` beyond validation: can restday actually run with this config?

Each check gives one line: what is fine, or what to fix. The broker is really connected to
(a throw-away session); Strava is judged from the token file, without an API call. Whether a
`restday run` holds the store's lock is told, not judged: a running service is fine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from restday.config import Config
from restday.integrations.mqtt.topics import Topics
from restday.integrations.strava import TokenStore
from restday.store import holder, lock_path
from restday.store.folders import why_unwritable


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    text: str

    def line(self) -> str:
        return f"  {'ok ' if self.ok else 'FIX'}  {self.name}: {self.text}"


def run_checks(config: Config, *, connect: bool = True) -> list[Check]:
    checks = [_store(config.store_path()), _service(config.store_path())]
    if connect:
        checks.append(_broker(config))
    checks.append(_strava(config))
    checks.extend(_topics(config))
    return checks


def _store(path: Path) -> Check:
    why = why_unwritable(path)  # a read-only file system, a folder or file it may not write
    if why is not None:
        return Check("store", False, why)
    return Check("store", True, f"{path}" + ("" if path.exists() else " (created on first use)"))


def _service(path: Path) -> Check:
    """Whether a `restday run` holds the store's lock (one service per store)."""
    try:
        running = holder(path)
    except OSError as exc:
        why = exc.strerror or exc.__class__.__name__
        return Check("service", True, f"cannot tell whether it runs ({lock_path(path)}: {why})")
    if running is None:
        return Check("service", True, "not running")
    pid = "pid unknown" if running.pid is None else f"pid {running.pid}"
    return Check("service", True, f"running ({pid})")


def _broker(config: Config) -> Check:
    from restday.integrations.mqtt import check_broker  # paho only for this check

    problem = check_broker(config.mqtt)
    if problem is not None:
        return Check("mqtt", False, problem)
    who = f"as {config.mqtt.username!r}" if config.mqtt.username else "anonymously"
    return Check("mqtt", True, f"connected to {config.mqtt.host}:{config.mqtt.port} {who}")


def _strava(config: Config) -> Check:
    strava = config.strava
    if not (strava.client_id and strava.client_secret.get_secret_value()):
        return Check("strava", True, "not configured: activities come from `restday import` only")
    token = TokenStore(config.token_path()).load()
    if token is None:
        return Check("strava", False, "not authorised yet: run `restday strava auth`")
    athlete = f" for athlete {token.athlete_id}" if token.athlete_id else ""
    return Check("strava", True, f"authorised{athlete} (token in {config.token_path()})")


def _topics(config: Config) -> list[Check]:
    topics = Topics.of(config)
    own = {topics.pain_set, topics.sync_set, topics.ha_status}
    base = f"{config.mqtt.base_topic}/"
    inputs = [(f"scale[{i}].topic", s.topic) for i, s in enumerate(config.scale)]
    inputs += [(f"sleep[{i}].topic", s.topic) for i, s in enumerate(config.sleep)]
    checks: list[Check] = []
    seen: dict[str, str] = {}
    for key, topic in inputs:
        if topic in own or topic.startswith(base):
            checks.append(Check("topics", False, f"{key} {topic!r} is one of restday's own topics"))
        elif topic in seen:
            checks.append(Check("topics", False, f"{key} repeats {seen[topic]} ({topic!r})"))
        seen.setdefault(topic, key)
    if not checks:
        listened = ", ".join(t for _, t in inputs) or "none (pain and sync from Home Assistant)"
        checks.append(Check("topics", True, f"inputs: {listened}"))
    return checks
