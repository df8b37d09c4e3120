"""Sleep as Android's tracking events folded into nights (PAYLOADS.md "Sleep trackers").

The app sends events only, no summary; a night is started → stopped minus paused time, each
event stamped with its receipt time. The tracker's state survives restarts (`to_json`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from restday.integrations.devices import HOUR, check_night
from restday.integrations.payload_json import (
    InputRejected,
    decode_json,
    excerpt,
    json_object,
    kind_of,
)
from restday.models import Hours, SleepSession

MAX_NIGHT_EVENTS = 1000  # events recorded in one night's raw JSON

SAA_STARTED = "sleep_tracking_started"
SAA_PAUSED = "sleep_tracking_paused"
SAA_RESUMED = "sleep_tracking_resumed"
SAA_STOPPED = "sleep_tracking_stopped"
SAA_SOURCE = "sleep_as_android"
_SAA_IN_NIGHT = frozenset({SAA_PAUSED, SAA_RESUMED})


class SleepAsAndroid:
    """Sleep as Android's tracking events folded into nights (PAYLOADS.md "Sleep trackers").

    The state is the current night's events with their receipt times, from `_started` on. A
    `_stopped` ends the night: asleep = stop − start − paused time (a pause still open at the
    stop counts up to the stop). A second `_started` restarts the night; pause, resume and stop
    outside a night do nothing (`orphan_stop` says the last event was a stop without a start,
    for the caller to count). Other events (alarms, sleep phases) are ignored.
    """

    def __init__(self, night: list[tuple[str, datetime]] | None = None) -> None:
        self.night: list[tuple[str, datetime]] = night or []
        self.orphan_stop = False

    @property
    def tracking(self) -> bool:
        return bool(self.night)

    def feed(self, payload: bytes, received_at: datetime) -> tuple[SleepSession, str] | None:
        """The finished night and its raw JSON on a stop; None for every other event."""
        obj = json_object(decode_json(payload))
        event = obj.get("event")
        if not isinstance(event, str):
            raise InputRejected(f"event must be text, got {kind_of(event)} {excerpt(event)}")
        self.orphan_stop = event == SAA_STOPPED and not self.night
        if event == SAA_STARTED:
            self.night = [(event, received_at)]  # replaces a night that never stopped
        elif event in _SAA_IN_NIGHT and self.night and len(self.night) < MAX_NIGHT_EVENTS:
            self.night.append((event, received_at))
        elif event == SAA_STOPPED and self.night:
            night, self.night = [*self.night, (event, received_at)], []
            return _finished_night(night)
        return None

    def to_json(self) -> str:
        """The tracker's state, to survive a restart."""
        return json.dumps([[event, when.isoformat()] for event, when in self.night])

    @classmethod
    def from_json(cls, text: str) -> SleepAsAndroid:
        """A tracker from `to_json`'s text; a fresh one if the text is not such a state (the
        store's copy may be damaged: a time with no UTC equivalent overflows, a long number
        or deep nesting is a ValueError or RecursionError of the JSON reader)."""
        try:
            night = [(_event(event), _aware(when)) for event, when in json.loads(text)]
        except (ValueError, TypeError, RecursionError, OverflowError):
            return cls()
        names = [event for event, _ in night]
        if names and (names[0] != SAA_STARTED or not _SAA_IN_NIGHT.issuperset(names[1:])):
            return cls()
        return cls(night)


def _event(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError("an event name must be text")
    return name


def _aware(text: object) -> datetime:
    when = datetime.fromisoformat(_event(text))
    if when.tzinfo is None:
        raise ValueError("a time needs its zone")
    return when.astimezone(UTC)


def _finished_night(night: list[tuple[str, datetime]]) -> tuple[SleepSession, str]:
    """A night from its events, started … stopped; refused if it cannot be real (`check_night`:
    under devices.MIN_SLEEP_SESSION_MIN it is tracking started and stopped by accident)."""
    start, end = night[0][1], night[-1][1]
    # Summed in hours, not as a timedelta: a damaged saved state pausing from year 1 to 9999
    # a few hundred times would overflow a timedelta (at most 999,999,999 days).
    paused_hours, paused_at = 0.0, None
    for event, when in night[1:]:
        if event == SAA_PAUSED and paused_at is None:
            paused_at = when
        elif event != SAA_PAUSED and paused_at is not None:  # resumed or stopped
            paused_hours += max((when - paused_at) / HOUR, 0.0)
            paused_at = None
    hours = (end - start) / HOUR - paused_hours
    check_night(start, end, hours, end, UTC)
    raw = {"events": [{"event": e, "received_at": w.isoformat()} for e, w in night]}
    session = SleepSession(end=end, hours=Hours(hours), start=start, source=SAA_SOURCE)
    return session, json.dumps(raw, separators=(",", ":"))
