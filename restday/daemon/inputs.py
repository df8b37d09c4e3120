"""Scale, sleep, pain and sync messages: parsed by their preset, stored and counted.

Every message ends acknowledged, whatever it carries. Bad input never stops the service: a
payload the preset cannot read, for whatever reason (any exception of the parsers is a
rejection), is logged once at WARNING with the reason, counted in the store (so the
diagnostics survive restarts), and kept aside in the store's `unparsed` table with its reason;
nothing else is stored. A message restday itself fails on (a bug) is logged with its
traceback once per cause, counted as rejected and kept aside in `unparsed` too, so it cannot
block the inputs behind it: its batch is undone and taken again message by message, each in a
`Store.savepoint`, so that only its own writes are undone (held.py). Only a store that cannot
be written holds messages: held.py holds them, and acknowledges what the store took once
durable.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Literal, ParamSpec, TypeVar

from restday.config import Config
from restday.daemon.stored import Stored
from restday.integrations import devices
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import Topics
from restday.integrations.sleep_as_android import SleepAsAndroid
from restday.models import SleepSession
from restday.store import Store, StoreError

log = logging.getLogger(__name__)

Outcome = Literal["sync", "ignored", "duplicate", "rejected"]
TRACKER_STATE_KEY = "sleep_as_android:{topic}"
# After a rejection is logged as a warning, that topic's next ones are logged at DEBUG for this
# long (all are counted): a device flooding a topic with unusable messages fills no SD card.
REJECTIONS_QUIET = timedelta(hours=1)
MAX_REASON_CHARS = 300  # of an exception's text in a rejection's reason (a 5,000-digit number…)


def _input_kind(topics: Topics, topic: str) -> str | None:
    """Which input a topic carries: "pain", "scale", "sleep", or None (not one restday reads)."""
    if topic == topics.pain_set:
        return "pain"
    if topic in topics.scale:
        return "scale"
    if topic in topics.sleep:
        return "sleep"
    return None


class InputFailed(Exception):
    """restday failed on a message of a batch (a bug, `InputHandler.handle`)."""


class InputHandler:
    """Turns one inbound message into a stored input, or says why not."""

    def __init__(self, config: Config, store: Store, topics: Topics) -> None:
        self._store = store
        self._topics = topics
        self._tz = config.profile().timezone
        self._warned: dict[str, tuple[datetime, int]] = {}  # topic → last warning, rejected since
        self._failures_told: set[tuple[str, str, int]] = set()  # bugs logged (`_cause`)
        self._untold: list[Callable[[], None]] = []  # log lines waiting for the commit

    def handle(self, msg: InboundMessage, *, alone: bool = True) -> Stored | Outcome:
        """One message: stored, a duplicate, refused (counted and kept aside), or not an
        input. Raises `StoreError` (then nothing of it is stored, nothing counted); and, when
        not `alone`, `InputFailed` when restday fails on it (a bug): the caller then undoes
        the batch and takes its messages again, each `alone` (its writes undone by itself,
        the message kept aside). The fast way for a batch, the careful one for a bug."""
        topics = self._topics
        if msg.topic == topics.sync_set:
            return self._sync(msg)
        kind = _input_kind(topics, msg.topic)
        if kind is None:
            log.debug("ignored a message on %s: not a topic restday reads", msg.topic)
            return "ignored"
        rejected: devices.InputRejected | None = None
        try:
            with self._store.savepoint() if alone else nullcontext():
                try:
                    outcome = self._parse_and_store(kind, msg)
                except devices.InputRejected as exc:  # what was written before it stands
                    rejected, outcome = exc, "rejected"  # (a sleep tracker's state, say)
                    self._refuse(kind, msg, str(exc))
                if outcome == "duplicate":
                    self._store.bump(kind, "duplicates")
        except StoreError:
            raise
        except Exception as exc:  # a bug of restday's: told once per cause, never a jam
            if not alone:
                raise InputFailed(msg.topic) from exc
            self._refuse(kind, msg, f"restday failed on it: {_short(exc)}")
            self._untold.append(functools.partial(self._tell_failed, kind, msg, exc))
            return "rejected"
        if rejected is not None:
            self._untold.append(functools.partial(self._tell_rejected, kind, msg, rejected))
        return outcome

    def committed(self) -> None:
        """The transaction around the messages handled so far committed: log what they were
        refused for (not before: a message the store could not take is held and tried again)."""
        untold, self._untold = self._untold, []
        for tell in untold:
            tell()

    def undone(self) -> None:
        """The transaction around them was undone: nothing of it happened, nothing to say."""
        self._untold.clear()

    def _refuse(self, kind: str, msg: InboundMessage, reason: str) -> None:
        """Count the message as rejected and keep its payload aside, with the reason."""
        when = msg.received_at.isoformat(timespec="seconds")
        with self._store.savepoint():
            self._store.bump(kind, "rejected")
            self._store.add_unparsed(
                kind,
                msg.payload.decode("utf-8", errors="backslashreplace"),
                f"{msg.topic} at {when}: {reason}",
            )

    def _tell_failed(self, kind: str, msg: InboundMessage, exc: Exception) -> None:
        """The traceback once per cause (the exception's type and where it was raised)."""
        cause = _cause(exc)
        if cause in self._failures_told:
            log.debug("restday failed on a %s message on %s again: %s", kind, msg.topic, exc)
            return
        self._failures_told.add(cause)
        log.error(
            "restday failed on a %s message on %s (a bug; kept aside in the store's `unparsed` "
            "table and counted as rejected; the same failure is logged at DEBUG from now on)",
            kind,
            msg.topic,
            exc_info=exc,
        )

    def _tell_rejected(self, kind: str, msg: InboundMessage, why: object) -> None:
        """A warning per topic at most every REJECTIONS_QUIET; DEBUG in between."""
        at, last = msg.received_at, self._warned.get(msg.topic)
        if last is not None and timedelta() <= at - last[0] < REJECTIONS_QUIET:
            self._warned[msg.topic] = (last[0], last[1] + 1)
            log.debug("rejected a %s message on %s: %s", kind, msg.topic, why)
            return
        more = ""
        if last is not None and last[1]:
            since = last[0].astimezone(self._tz).strftime("%H:%M")
            more = f" ({last[1]} more rejected on this topic since {since}, logged at DEBUG)"
        self._warned[msg.topic] = (at, 0)
        log.warning("rejected a %s message on %s: %s%s", kind, msg.topic, why, more)

    def _sync(self, msg: InboundMessage) -> Outcome:
        if msg.retained:
            log.info("ignored a retained sync command (no replays of old commands)")
            return "ignored"
        if not devices.is_press(msg.payload):
            log.warning("ignored a sync command that is not PRESS on %s", msg.topic)
            return "ignored"
        return "sync"

    def _parse_and_store(self, kind: str, msg: InboundMessage) -> Stored | Outcome:
        at = msg.received_at
        if kind == "pain":
            if msg.retained:
                log.info("ignored a retained pain command (no replays of old commands)")
                return "ignored"
            report, raw = _read(devices.parse_pain, msg.payload, received_at=at)
            return Stored(report) if self._store.add_pain(report, raw, at) else "duplicate"
        if kind == "scale":
            preset = self._topics.scale[msg.topic]
            parsed = _read(
                devices.parse_scale,
                preset,
                msg.payload,
                received_at=at,
                retained=msg.retained,
                tz=self._tz,
            )
            if parsed is None:
                log.info("ignored a retained weigh-in without a timestamp on %s", msg.topic)
                return "ignored"
            weigh_in, raw = parsed
            return Stored(weigh_in) if self._store.add_body(weigh_in, raw, at) else "duplicate"
        night = self._sleep(msg)
        if night is None:
            return "ignored"
        session, raw = night
        return Stored(session) if self._store.add_sleep(session, raw, at) else "duplicate"

    def _sleep(self, msg: InboundMessage) -> tuple[SleepSession, str] | None:
        if self._topics.sleep[msg.topic] != "sleep_as_android":
            return _read(devices.parse_sleep, msg.payload, received_at=msg.received_at, tz=self._tz)
        key = TRACKER_STATE_KEY.format(topic=msg.topic)
        tracker = SleepAsAndroid.from_json(self._store.get_state(key) or "")
        try:
            night = _read(tracker.feed, msg.payload, msg.received_at)
        finally:
            self._store.set_state(key, tracker.to_json())
        if tracker.orphan_stop:
            raise devices.InputRejected("sleep tracking stopped without having started")
        return night


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _read(parse: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """A parser's result; any exception it raises is a rejection of the payload (an
    `OverflowError` from a date far in the future, a `ValueError` from a 5,000-digit number…)."""
    try:
        return parse(*args, **kwargs)
    except devices.InputRejected:
        raise
    except Exception as exc:
        raise devices.InputRejected(f"could not read it ({_short(exc)})") from exc


def _short(exc: BaseException) -> str:
    """An exception as a reason: its type and the start of its text."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= MAX_REASON_CHARS else f"{text[:MAX_REASON_CHARS]}…"


def _cause(exc: BaseException) -> tuple[str, str, int]:
    """What makes two failures the same bug: the exception's type and its innermost frame."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return type(exc).__name__, "", 0
    return type(exc).__name__, tb.tb_frame.f_code.co_filename, tb.tb_lineno
