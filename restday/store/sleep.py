"""Sleep in the store: sessions of one athlete that overlap in time are one, the one received
last (DESIGN.md §7 "Overlapping nights"); two athletes' nights never replace each other.

A new session takes the place of every stored one of its athlete it overlaps; those move to
`sleep_replaced`, raw JSON and all, and are never read back into `sleep`. Sessions under
`MIN_SLEEP_SESSION_MIN` are refused (`add`) or, in a store written before the rule, moved to
`unparsed` (`settle`). A migration that re-derives `sleep` from its raw JSON must apply the
same rule, in the same arrival order (`received_at`, then the order stored).
"""

from __future__ import annotations

import bisect
import logging
import sqlite3
from datetime import datetime, timedelta

from restday.models import MIN_SLEEP_SESSION_MIN, Hours, SleepSession
from restday.store.rows import ts, write

log = logging.getLogger("restday.store")  # the package's one logger, as before its split

Span = tuple[datetime, datetime]  # [start, end)

_PUT_SLEEP = """INSERT INTO sleep (athlete, end_at, start_at, hours, hrv_ms, resting_hr, source,
    received_at, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""
# The same session of the athlete (?1) received before, stored or replaced: a re-send or a
# retained replay
_SLEEP_SEEN = """SELECT 1 FROM sleep WHERE athlete = ?1 AND end_at = ?2 AND start_at IS ?3
        AND hours = ?4 AND hrv_ms IS ?5 AND resting_hr IS ?6 AND source = ?7
    UNION ALL SELECT 1 FROM sleep_replaced WHERE athlete = ?1 AND end_at = ?2
        AND start_at IS ?3 AND hours = ?4 AND hrv_ms IS ?5 AND resting_hr IS ?6 AND source = ?7
    LIMIT 1"""
# The athlete's (?1) stored sessions that may overlap [?2, ?3): those without a start are
# checked in Python
_SLEEP_NEAR = """SELECT rowid, end_at, start_at, hours FROM sleep
    WHERE athlete = ?1 AND end_at > ?2 AND (start_at IS NULL OR start_at < ?3)"""
_REPLACE_SLEEP = """INSERT INTO sleep_replaced (athlete, end_at, start_at, hours, hrv_ms,
    resting_hr, source, received_at, raw) SELECT athlete, end_at, start_at, hours, hrv_ms,
    resting_hr, source, received_at, raw FROM sleep WHERE rowid = ?"""


def sleep_span(session: SleepSession) -> Span:
    """The time a session covers, [start, end): without a start, `hours` before its end."""
    start = session.start
    return (session.end - timedelta(hours=session.hours) if start is None else start), session.end


def sleeps_overlap(a: SleepSession, b: SleepSession) -> bool:
    """Whether two sessions share any time (touching ends do not): then they are one session,
    and the store keeps the one received last (DESIGN.md §7 "Overlapping nights")."""
    (a_start, a_end), (b_start, b_end) = sleep_span(a), sleep_span(b)
    return a_start < b_end and b_start < a_end


def row(session: SleepSession, raw: str, received_at: datetime, athlete: str) -> tuple[object, ...]:
    """The session's row in `sleep`; a `ValueError` if it is under `MIN_SLEEP_SESSION_MIN`."""
    values = (
        athlete,
        ts(session.end),
        None if session.start is None else ts(session.start),
        session.hours,
        session.hrv_ms,
        session.resting_hr,
        session.source,
        ts(received_at),
        raw,
    )
    if not session.hours * 60 >= MIN_SLEEP_SESSION_MIN:  # NaN too
        raise ValueError(
            f"cannot store sleep of {session.hours} h: under {MIN_SLEEP_SESSION_MIN} min"
        )
    return values


def add(conn: sqlite3.Connection, values: tuple[object, ...], span: Span) -> list[Span] | None:
    """Store a session's row (`row`) covering `span` in place of the stored ones of its
    athlete it overlaps; the spans of those it replaced, or None (nothing changed) if it was
    received before. Call inside a transaction."""
    q = conn.execute
    if q(_SLEEP_SEEN, values[:7]).fetchone() is not None:
        return None
    if not q("SELECT json_valid(?)", (values[8],)).fetchone()[0]:  # raw, before replacing any
        raise ValueError("cannot store sleep: its raw text is not JSON")
    start, end = span
    near = q(_SLEEP_NEAR, (values[0], ts(start), ts(end))).fetchall()
    spans = [(rowid, _stored_span(end_at, st, h)) for rowid, end_at, st, h in near]
    replaced = [(rowid, stored) for rowid, stored in spans if stored[0] < end]
    for rowid, _ in replaced:
        q(_REPLACE_SLEEP, (rowid,))
        q("DELETE FROM sleep WHERE rowid = ?", (rowid,))
    write(conn, _PUT_SLEEP, values, "sleep")
    return [stored for _, stored in replaced]


def settle(conn: sqlite3.Connection) -> None:
    """Apply DESIGN.md §7 "Overlapping nights" to the stored sessions, each athlete's apart, in
    arrival order: the sessions of a store written before the rule overlap as they came.
    Idempotent."""
    rows = conn.execute(
        "SELECT athlete, rowid, end_at, start_at, hours FROM sleep "
        "ORDER BY athlete, received_at, rowid"
    ).fetchall()
    kept: list[tuple[datetime, datetime, int]] = []  # start, end, rowid: disjoint, in order
    replaced: list[int] = []
    short = 0
    athlete = None
    for who, rowid, end_at, start_at, hours in rows:
        if who != athlete:  # the next athlete's nights
            athlete, kept = who, []
        if not hours * 60 >= MIN_SLEEP_SESSION_MIN:
            minutes = round(hours * 60, 1)
            reason = f"sleep of {minutes:g} min is under the {MIN_SLEEP_SESSION_MIN} min minimum"
            conn.execute(
                "INSERT INTO unparsed SELECT 'sleep', raw, ? FROM sleep WHERE rowid = ?",
                (reason, rowid),
            )
            conn.execute("DELETE FROM sleep WHERE rowid = ?", (rowid,))
            short += 1
            continue
        start, end = _stored_span(end_at, start_at, hours)
        first = bisect.bisect_right(kept, start, key=lambda k: k[1])  # the first ending after
        last = first
        while last < len(kept) and kept[last][0] < end:
            last += 1
        replaced += [r for _, _, r in kept[first:last]]
        kept[first:last] = [(start, end, rowid)]
    for rowid in replaced:
        conn.execute(_REPLACE_SLEEP, (rowid,))
        conn.execute("DELETE FROM sleep WHERE rowid = ?", (rowid,))
    if replaced or short:
        log.info(
            "upgrade: %d overlapping sleep sessions replaced by the one received last (kept "
            "in `sleep_replaced`), %d under %d min kept aside in `unparsed`",
            len(replaced),
            short,
            MIN_SLEEP_SESSION_MIN,
        )


def _stored_span(end_at: str, start_at: str | None, hours: float) -> Span:
    start = None if start_at is None else datetime.fromisoformat(start_at)
    return sleep_span(SleepSession(datetime.fromisoformat(end_at), Hours(hours), start))
