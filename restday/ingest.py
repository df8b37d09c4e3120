"""Bringing Strava activity JSON into the store: the path `restday import` and the sync share.

Bad items are skipped, each with a reason a person can act on; good ones go into the store in
one transaction, raw JSON and all.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from restday.integrations.strava_json import parse_activity
from restday.models import Activity
from restday.store import Store

log = logging.getLogger(__name__)


class ImportFileError(Exception):
    """The import file as a whole is unusable (missing, unreadable, not a JSON array)."""


@dataclass(frozen=True, slots=True)
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: tuple[str, ...] = field(default_factory=tuple)  # one reason per skipped item
    added_ids: tuple[int, ...] = ()

    def summary(self) -> str:
        total = self.added + self.updated + self.unchanged
        return (
            f"{total} activities: {self.added} new, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped"
        )


def ingest_activities(store: Store, items: Iterable[object]) -> ImportReport:
    """Parse and store Strava activity objects; skip (and say why) the ones that don't parse."""
    good: list[tuple[Activity, str]] = []
    skipped: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            skipped.append(f"item {index}: not a JSON object")
            continue
        try:
            activity = parse_activity(item)
        except ValueError as exc:
            skipped.append(f"item {index}: {exc}")
            continue
        good.append((activity, json.dumps(item, sort_keys=True, separators=(",", ":"))))
    for reason in skipped:
        log.warning("skipped %s", reason)
    result = store.upsert_activities(good)
    return ImportReport(
        added=result.added,
        updated=result.updated,
        unchanged=result.unchanged,
        skipped=tuple(skipped),
        added_ids=result.added_ids,
    )


def read_activity_file(path: Path) -> list[object]:
    """The JSON array of a Strava export or API dump; one clear error if it isn't one."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"{path}: cannot read it ({exc.__class__.__name__})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, list):
        raise ImportFileError(
            f"{path}: expected a JSON array of Strava activities, as GET /athlete/activities "
            f"returns, but found {_json_kind(data)}"
        )
    return data


def _json_kind(value: object) -> str:
    kinds = {dict: "an object", str: "a string", bool: "a boolean", int: "a number"}
    return kinds.get(type(value), "a number" if isinstance(value, float) else "null")
