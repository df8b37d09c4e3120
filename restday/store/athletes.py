"""Whose rows: the `athlete` column of the per-athlete tables (schema 5, DESIGN.md §7
"Household config").

Every per-athlete table (`PER_ATHLETE`) has an `athlete` column, part of its natural key. A
`Store` is opened for one athlete (`DEFAULT_ATHLETE` unless told), whose rows its methods read
and write when not given another (`owner`). `state` holds both: the rows of athlete `''`
(`SERVICE`) are the service's own; `SERVICE_KEYS` always live there, whichever athlete the
caller names or not (`state_owner`), so that a single-athlete caller that knows nothing of
athletes still reads and writes the service's row. `counter`, `unparsed` and `unassigned`
belong to no athlete.

No SQL is run here (the text of a few statements is): the store's other modules run it.
"""

from __future__ import annotations

DEFAULT_ATHLETE = "me"  # the config's id of an athlete that names none (`[athlete] id`)
SERVICE = ""  # `state.athlete` of the service's own rows; no athlete may have this id
CREATED_KEY = "store_created_at"  # state: when the store was created (`ts`, UTC)
STORE_CHECK_KEY = "store_checked_at"  # state: the daemon's test write after a store outage
SERVICE_KEYS = frozenset({CREATED_KEY, STORE_CHECK_KEY})  # state keys of the service, not one
# athlete's: always under `SERVICE`

# The tables with an `athlete` column, each with an index that starts with it
PER_ATHLETE = ("activity", "gear", "sleep", "sleep_replaced", "body", "pain", "sent", "state")


def distinct(table: str) -> str:
    """A SELECT of the athlete ids (never `SERVICE`) in `table`, one index probe per athlete
    rather than a scan of every row (a skip-scan by hand: each next id is the least one
    greater than the last)."""
    return f"""SELECT x FROM (WITH RECURSIVE ids(x) AS (
        SELECT min(athlete) FROM {table} WHERE athlete > ''
        UNION ALL SELECT (SELECT min(athlete) FROM {table} WHERE athlete > ids.x) FROM ids
            WHERE ids.x IS NOT NULL)
    SELECT x FROM ids WHERE x IS NOT NULL)"""  # noqa: S608 -- `table`: one of PER_ATHLETE


ATHLETES = " UNION ".join(distinct(table) for table in PER_ATHLETE) + " ORDER BY 1"
RENAME = tuple(
    f"UPDATE {table} SET athlete = ?2 WHERE athlete = ?1"  # noqa: S608 -- our table names
    for table in PER_ATHLETE
)
# The ids of the athletes a weigh-in could be given to follow a rename too
RENAME_CANDIDATES = """UPDATE unassigned SET candidates = (
    SELECT json_group_array(CASE WHEN value = ?1 THEN ?2 ELSE value END)
    FROM json_each(unassigned.candidates)) WHERE ?1 IN (SELECT value FROM json_each(candidates))"""


def checked(athlete: str) -> str:
    """`athlete` as an id of the store's rows; a `ValueError` if it is empty."""
    if not athlete:
        raise ValueError(
            "an athlete id cannot be empty: the store keeps the service's own records under "
            "the empty id (give the athlete's `id` from the config)"
        )
    return athlete


def state_owner(key: str, athlete: str | None, default: str) -> str:
    """Whose row of `state` holds `key`: `SERVICE` for `SERVICE_KEYS` (an athlete named for one
    is a `ValueError`, a bug of the caller), else `athlete` (`SERVICE` allowed: another
    service-wide key), or `default` (the store's athlete) when None."""
    if key in SERVICE_KEYS:
        if athlete not in (None, SERVICE):
            raise ValueError(f"the state {key!r} is the service's, not athlete {athlete!r}'s")
        return SERVICE
    return default if athlete is None else athlete
