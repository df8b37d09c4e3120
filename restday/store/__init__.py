"""The SQLite store: restday's only SQL.

Every input is kept twice: its raw JSON (the truth, exactly as received) and the columns the
rules read (derived from it). The schema version lives in `PRAGMA user_version`.

One store holds a household (schema 5, DESIGN.md §7 "Household config"): every per-athlete
table (activity, gear, sleep, sleep_replaced, body, pain, sent, state) has an `athlete`
column, part of its natural key, so two athletes' rows never mix: the same weigh-in, pain
report or night may be stored for each; sleep sessions replace only their own athlete's
("Overlapping nights"); an activity (Strava's id is global) belongs to one athlete, and one
stored for another is refused. A `Store` is opened for one athlete (`Store.open(path,
athlete=ID)`, default `DEFAULT_ATHLETE`), whose rows its methods read and write unless given
`athlete=`. The service's own records belong to no athlete: `counter`, `unparsed`, and the
`state` rows of athlete `''`, where `SERVICE_KEYS` (the creation time, the daemon's store
check) always live (`athletes.py`). `unassigned` keeps weigh-ins a shared scale could give to
nobody until `Store.assign` gives them to one (`unassigned.py`).

Opening a store written by an older restday re-derives the derived tables from the raw JSON,
without any API call (`schema.py`):
- activities and gear are dropped, recreated and parsed again with the `Parsers` that the
  caller gives `Store.open` (restday's: `restday.sync.STRAVA_PARSERS`); without them, such
  a store is refused and left unchanged: the store knows only SQL, not Strava's JSON;
- sleep, weigh-ins and pain keep their columns as stored: their raw payload and `source`
  (the preset name) are kept so that a later, preset-aware migration can re-derive them;
- sleep sessions follow DESIGN.md §7 "Overlapping nights" whatever restday stored them: those
  of one athlete that overlap in time are one, the one received last (`received_at`, then
  the order stored) replaces the others, which move to `sleep_replaced` (never read back into
  `sleep`); those under `MIN_SLEEP_SESSION_MIN` move to `unparsed`. A migration that
  re-derives `sleep` from its raw JSON must apply the same rule, in the same arrival order
  (`sleep.py`);
- raw JSON that the current parsers refuse moves to the `unparsed` table with the reason,
  so nothing is lost;
- a store of schema 4 or older (one runner's) gives every row to the athlete it is opened for
  (the first configured one), logged at INFO; read-only, it is refused as any older store.
A store whose rows all belong to one athlete, opened for writing for another id with
`adopt_single=True` (a single runner's service or command, never a household's), gives them
to that id, logged at WARNING: a runner who renames their `id` keeps their history.

Times are stored as fixed-format UTC text, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, which sorts as it
reads (`rows.py`). The store runs in WAL mode with `foreign_keys` on; each write call is one
transaction, and `Store.batch()` groups several calls into one (`durable.py`, `store.py`).
One owner uses a store at a time (the daemon's worker thread); it is not meant for concurrent
use from several threads. `errors.py` says what a failure means, `folders.py` why a folder
will not take the store. `lock.py` is the lock beside the store that keeps one service per
store (and remembers the store the service used last); `identity.py` tells when the path no
longer names the file opened (the store deleted or replaced under a running service:
`Store.check`). The package imports only the standard library and `restday.models`.
"""

from restday.store.athletes import (
    CREATED_KEY,
    DEFAULT_ATHLETE,
    SERVICE_KEYS,
    STORE_CHECK_KEY,
)
from restday.store.durable import BUSY_TIMEOUT_MS
from restday.store.errors import StoreError, StoreNotWritable
from restday.store.identity import FileIdentity
from restday.store.lock import LockFile, StoreInUse, StoreLock, holder, lock_path
from restday.store.rows import WEIGHT_KEY_PER_KG, StoreCounts, UpsertResult
from restday.store.schema import SCHEMA_VERSION, SYNCHRONOUS, Parsers
from restday.store.sleep import sleep_span, sleeps_overlap
from restday.store.store import Store
from restday.store.unassigned import UnassignedWeighIn

__all__ = [
    "BUSY_TIMEOUT_MS",
    "CREATED_KEY",
    "DEFAULT_ATHLETE",
    "SCHEMA_VERSION",
    "SERVICE_KEYS",
    "STORE_CHECK_KEY",
    "SYNCHRONOUS",
    "WEIGHT_KEY_PER_KG",
    "FileIdentity",
    "LockFile",
    "Parsers",
    "Store",
    "StoreCounts",
    "StoreError",
    "StoreInUse",
    "StoreLock",
    "StoreNotWritable",
    "UnassignedWeighIn",
    "UpsertResult",
    "holder",
    "lock_path",
    "sleep_span",
    "sleeps_overlap",
]
