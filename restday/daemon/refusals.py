"""Inputs refused: counted and kept aside in the store at once, told in the log on commit.

A payload a preset cannot read, for whatever reason (`read`: any exception of a parser is a
rejection), and a message restday itself fails on (a bug) are both counted as rejected in the
store (so the diagnostics survive restarts) and kept aside in its `unparsed` table with the
reason (`Refusals.refuse`). What is logged waits until the transaction around them committed
(`committed`; `undone` forgets it: a message the store could not take is held and tried again):
a rejection as a WARNING with the reason, then that topic's next ones at DEBUG for
REJECTIONS_QUIET (all are counted: a device flooding a topic with unusable messages fills no SD
card); a bug with its traceback once per cause, at DEBUG after that. The lines are inputs.py's,
under its logger name, as before its split.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import ParamSpec, TypeVar

from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.payload_json import InputRejected
from restday.store import Store

log = logging.getLogger("restday.daemon.inputs")  # where these lines have always come from

# After a rejection is logged as a warning, that topic's next ones are logged at DEBUG for this
# long (all are counted): a device flooding a topic with unusable messages fills no SD card.
REJECTIONS_QUIET = timedelta(hours=1)
MAX_REASON_CHARS = 300  # of an exception's text in a rejection's reason (a 5,000-digit number…)


class Refusals:
    """What inputs.py refused: in the store at once, in the log once committed."""

    def __init__(self, store: Store, tz: tzinfo) -> None:
        """`tz`: the zone of the times in log lines."""
        self._store = store
        self._tz = tz
        self._warned: dict[str, tuple[datetime, int]] = {}  # topic → last warning, rejected since
        self._failures_told: set[tuple[str, str, int]] = set()  # bugs logged (`_cause`)
        self._untold: list[Callable[[], None]] = []  # log lines waiting for the commit

    def refuse(self, kind: str, msg: InboundMessage, reason: str) -> None:
        """Count the message as rejected and keep its payload aside, with the reason."""
        when = msg.received_at.isoformat(timespec="seconds")
        with self._store.savepoint():
            self._store.bump(kind, "rejected")
            self._store.add_unparsed(
                kind,
                msg.payload.decode("utf-8", errors="backslashreplace"),
                f"{msg.topic} at {when}: {reason}",
            )

    def rejected(self, kind: str, msg: InboundMessage, why: object) -> None:
        """Log the rejection of a payload once the transaction commits."""
        self._untold.append(functools.partial(self._tell_rejected, kind, msg, why))

    def failed(self, kind: str, msg: InboundMessage, exc: Exception) -> None:
        """Log restday's failure on a message (a bug) once the transaction commits."""
        self._untold.append(functools.partial(self._tell_failed, kind, msg, exc))

    def committed(self) -> None:
        """The transaction around them committed: log what they were refused for."""
        untold, self._untold = self._untold, []
        for tell in untold:
            tell()

    def undone(self) -> None:
        """The transaction around them was undone: nothing of it happened, nothing to say."""
        self._untold.clear()

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


_P = ParamSpec("_P")
_R = TypeVar("_R")


def read(parse: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """A parser's result; any exception it raises is a rejection of the payload (an
    `OverflowError` from a date far in the future, a `ValueError` from a 5,000-digit number…)."""
    try:
        return parse(*args, **kwargs)
    except InputRejected:
        raise
    except Exception as exc:
        raise InputRejected(f"could not read it ({short(exc)})") from exc


def short(exc: BaseException) -> str:
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
