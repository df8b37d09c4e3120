"""The `Store`: an open restday store's reads and writes (`durable.py`: opening it, its
transactions and durability).

Each write call is one transaction, and `Store.batch()` groups several calls into one. A
store is opened for one athlete, whose rows every per-athlete method reads and writes unless
given another (`athlete=`; `athletes.py` says whose rows are whose). The household's own
methods follow: `athletes`, and the weigh-ins nobody was given (`unassigned.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from restday.models import Activity, BodyMeasurement, Gear, History, PainReport, SleepSession
from restday.store import athletes, sleep, unassigned
from restday.store.athletes import CREATED_KEY
from restday.store.durable import DurableStore
from restday.store.rows import (
    COUNTS,
    PUT_ACTIVITY,
    PUT_BODY,
    PUT_GEAR,
    PUT_PAIN,
    StoreCounts,
    UpsertResult,
    activity_row,
    gear_row,
    read_history,
    ts,
    weight_key,
    write,
)
from restday.store.unassigned import UnassignedWeighIn

MAX_UNPARSED_KEPT = 1_000  # refused inputs kept aside per kind (the newest)
MAX_UNPARSED_CHARS = 65_536  # of each one's payload (and reason)

log = logging.getLogger("restday.store")  # the package's one logger, as before its split


class Store(DurableStore):
    """An open restday store; use `Store.open(path)` as a context manager."""

    def created_at(self) -> str | None:
        """When the store was created (UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ`); None for a store
        from an older restday opened read-only (an open for writing records it)."""
        return self.get_state(CREATED_KEY)

    # --- one athlete's inputs (`athlete`: None for the store's own) ------------------------

    def upsert_activities(
        self, items: Iterable[tuple[Activity, str]], *, athlete: str | None = None
    ) -> UpsertResult:
        """Store activities with their raw JSON, in one transaction, counting what changed. An
        activity stored for another athlete is a `ValueError` naming both (nothing stored)."""
        who = self._who(athlete)
        added = updated = unchanged = 0
        new: list[int] = []
        with self.batch():
            for activity, raw in items:
                row = self._conn.execute(
                    "SELECT raw, athlete FROM activity WHERE id = ?", (activity.id,)
                ).fetchone()
                if row is not None and row[1] != who:
                    raise ValueError(
                        f"cannot store activity {activity.id} for athlete {who}: it is stored "
                        f"for athlete {row[1]} (check whose Strava account gave it); nothing "
                        "of this import was stored"
                    )
                if row is not None and row[0] == raw:
                    unchanged += 1
                    continue
                values = activity_row(activity, raw, who)
                write(self._conn, PUT_ACTIVITY, values, f"activity {activity.id}")
                added, updated = (added + 1, updated) if row is None else (added, updated + 1)
                if row is None:
                    new.append(activity.id)
        return UpsertResult(added=added, updated=updated, unchanged=unchanged, added_ids=tuple(new))

    def add_sleep(
        self, session: SleepSession, raw: str, received_at: datetime, *, athlete: str | None = None
    ) -> bool:
        """Store a session of sleep in place of every stored one of the athlete that overlaps
        it in time (`sleeps_overlap`: the one received last wins, HRV and resting HR
        included); those it replaces move to `sleep_replaced`, raw JSON and all. False, and
        nothing changed, if the same session (end, start, hours, HRV, resting HR, source) was
        received before, stored or since replaced: a re-send or a retained replay. A session
        under `MIN_SLEEP_SESSION_MIN` is a `ValueError` (the parsers reject it first).
        """
        values = sleep.row(session, raw, received_at, self._who(athlete))
        start, end = sleep.sleep_span(session)
        with self.batch():
            replaced = sleep.add(self._conn, values, (start, end))
        if replaced:
            log.info(
                "sleep %s–%s (%.2f h, %s) of %s replaced the overlapping %s",
                ts(start),
                ts(end),
                session.hours,
                session.source,
                values[0],
                ", ".join(f"{ts(a)}–{ts(b)}" for a, b in replaced),
            )
        return replaced is not None

    def add_body(
        self, m: BodyMeasurement, raw: str, received_at: datetime, *, athlete: str | None = None
    ) -> bool:
        """Store a weigh-in; False if one at the same time with the same weight (0.01 kg)."""
        row = (self._who(athlete), ts(m.time), weight_key(m.weight_kg), m.weight_kg)
        return self._add(PUT_BODY, (*row, m.water_pct, m.source, ts(received_at), raw), "weigh-in")

    def add_pain(
        self, p: PainReport, raw: str, received_at: datetime, *, athlete: str | None = None
    ) -> bool:
        """Store a pain report; False if the same level at the same time is stored."""
        row = (self._who(athlete), ts(p.time), p.level, ts(received_at), raw)
        return self._add(PUT_PAIN, row, "pain report")

    def replace_gear(
        self, items: Sequence[tuple[Gear, str]], *, athlete: str | None = None
    ) -> None:
        """Replace the athlete's shoes as a whole (Strava's list is the truth)."""
        who = self._who(athlete)
        with self.batch():
            self._conn.execute("DELETE FROM gear WHERE athlete = ?", (who,))
            for position, (gear, raw) in enumerate(items):
                write(self._conn, PUT_GEAR, gear_row(gear, position, raw, who), f"shoe {gear.id}")

    def mark_sent(self, key: str, at: datetime, *, athlete: str | None = None) -> bool:
        """Record that the athlete's notification `key` went out; False if it had already."""
        row = (self._who(athlete), key, ts(at))
        return self._add(
            "INSERT INTO sent VALUES (?, ?, ?) ON CONFLICT DO NOTHING", row, "notification"
        )

    def was_sent(self, key: str, *, athlete: str | None = None) -> bool:
        with self._failing("read"):
            row = self._conn.execute(
                "SELECT 1 FROM sent WHERE athlete = ? AND key = ?", (self._who(athlete), key)
            ).fetchone()
        return row is not None

    def history(self, since: datetime | None = None, *, athlete: str | None = None) -> History:
        """The athlete's inputs, time-sorted; `since` keeps those at/after it (gear: all)."""
        with self._failing("read"):
            return read_history(self._conn, self._who(athlete), "" if since is None else ts(since))

    def counts(self, *, athlete: str | None = None) -> StoreCounts:
        """How many of each input of the athlete are stored (`unassigned_count`: the others)."""
        with self._failing("read"):
            row = self._conn.execute(COUNTS, (self._who(athlete),)).fetchone()
        return StoreCounts(*row)

    def _who(self, athlete: str | None) -> str:
        return self.athlete if athlete is None else athletes.checked(athlete)

    def _add(self, sql: str, row: tuple[object, ...], what: str) -> bool:
        with self.batch():
            return write(self._conn, sql, row, what) == 1

    # --- the household's ------------------------------------------------------------------

    def athletes(self) -> list[str]:
        """The ids of the athletes with any row in the store, sorted."""
        with self._failing("read"):
            return [str(x) for (x,) in self._conn.execute(athletes.ATHLETES)]

    def add_unassigned(
        self, m: BodyMeasurement, raw: str, received_at: datetime, candidates: Sequence[str]
    ) -> bool:
        """Keep a weigh-in no athlete could be given (`candidates`: those it might be, possibly
        none) until `assign`; False if it is kept already, or stored for an athlete."""
        row = unassigned.row(m, raw, received_at, tuple(candidates))
        return self._add(unassigned.PUT, row, "unassigned weigh-in")

    def unassigned(self) -> list[UnassignedWeighIn]:
        """The weigh-ins kept unassigned, oldest first (then the lightest)."""
        with self._failing("read"):
            return unassigned.pending(self._conn.execute(unassigned.GET).fetchall())

    def unassigned_count(self) -> int:
        with self._failing("read"):
            return int(self._conn.execute(unassigned.COUNT).fetchone()[0])

    def assign(self, time: str | datetime, athlete: str) -> tuple[BodyMeasurement, ...]:
        """Give the unassigned weigh-ins measured at `time` (ISO 8601 with a zone, as the
        notification sent it, or a datetime: the same instant) to `athlete`, in one transaction:
        every one at that instant (one person's readings: `unassigned.py`). What the athlete
        gained, oldest first then lightest; empty when no unassigned weigh-in has that time (or
        the athlete had them already). A time that is not one is a `ValueError` saying so."""
        at, who = unassigned.time_of(time), athletes.checked(athlete)
        with self.batch():
            moved = self._conn.execute(unassigned.MOVE, (who, at)).fetchall()
            self._conn.execute(unassigned.DROP, (at,))
        return unassigned.weigh_ins(moved)

    # --- the service's own records ----------------------------------------------------------

    def add_unparsed(self, kind: str, raw: str, reason: str) -> None:
        """Keep an input restday refused (or failed on) aside, with the reason. Only the newest
        are kept (at most `MAX_UNPARSED_KEPT` of a kind, each cut to `MAX_UNPARSED_CHARS`):
        a device flooding a topic with unusable payloads fills no SD card."""
        if len(raw) > MAX_UNPARSED_CHARS:
            raw = f"{raw[:MAX_UNPARSED_CHARS]}… ({len(raw)} characters, cut)"
        with self.batch():
            cursor = self._conn.execute(
                "INSERT INTO unparsed VALUES (?, ?, ?)", (kind, raw, reason[:MAX_UNPARSED_CHARS])
            )
            newest = cursor.lastrowid or 0
            self._conn.execute(
                "DELETE FROM unparsed WHERE kind = ? AND rowid <= ?",
                (kind, newest - MAX_UNPARSED_KEPT),
            )

    def bump(self, kind: str, name: str, by: int = 1) -> None:
        """Add to a counter (e.g. kind "scale", name "rejected"); counters survive restarts."""
        with self.batch():
            self._conn.execute(
                "INSERT INTO counter VALUES (?, ?, ?) "
                "ON CONFLICT (kind, name) DO UPDATE SET n = n + excluded.n",
                (kind, name, by),
            )

    def counters(self) -> dict[str, dict[str, int]]:
        """Every counter, by kind then name."""
        out: dict[str, dict[str, int]] = {}
        with self._failing("read"):
            for kind, name, n in self._conn.execute("SELECT kind, name, n FROM counter"):
                out.setdefault(kind, {})[name] = n
        return out

    def get_state(self, key: str, *, athlete: str | None = None) -> str | None:
        """A small piece of state (a tracker's night in progress, …): the athlete's, or the
        service's for `SERVICE_KEYS` and `athlete=""` (`athletes.state_owner`)."""
        owner = athletes.state_owner(key, athlete, self.athlete)
        with self._failing("read"):
            row = self._conn.execute(
                "SELECT value FROM state WHERE athlete = ? AND key = ?", (owner, key)
            ).fetchone()
        return None if row is None else str(row[0])

    def set_state(self, key: str, value: str, *, athlete: str | None = None) -> None:
        owner = athletes.state_owner(key, athlete, self.athlete)
        with self.batch():
            self._conn.execute(
                "INSERT INTO state VALUES (?, ?, ?) "
                "ON CONFLICT (athlete, key) DO UPDATE SET value = excluded.value",
                (owner, key, value),
            )
