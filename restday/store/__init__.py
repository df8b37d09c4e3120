"""The SQLite store: restday's only SQL.

Every input is kept twice: its raw JSON (the truth, exactly as received) and the columns the
rules read (derived from it). The schema version lives in `PRAGMA user_version`. Opening a
store written by an older restday re-derives the derived tables from the raw JSON, without
any API call (`schema.py`):
- activities and gear are dropped, recreated and parsed again with the `Parsers` that the
  caller gives `Store.open` (restday's: `restday.sync.STRAVA_PARSERS`); without them, such
  a store is refused and left unchanged: the store knows only SQL, not Strava's JSON;
- sleep, weigh-ins and pain keep their columns as stored: their raw payload and `source`
  (the preset name) are kept so that a later, preset-aware migration can re-derive them;
- sleep sessions follow DESIGN.md §7 "Overlapping nights" whatever restday stored them: those
  that overlap in time are one, the one received last (`received_at`, then the order stored)
  replaces the others, which move to `sleep_replaced` (never read back into `sleep`); those
  under `MIN_SLEEP_SESSION_MIN` move to `unparsed`. A migration that re-derives `sleep` from
  its raw JSON must apply the same rule, in the same arrival order (`sleep.py`);
- raw JSON that the current parsers refuse moves to the `unparsed` table with the reason,
  so nothing is lost.

Times are stored as fixed-format UTC text, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, which sorts as it
reads (`rows.py`). The store runs in WAL mode with `foreign_keys` on; each write call is one
transaction, and `Store.batch()` groups several calls into one (`store.py`). One owner uses a
store at a time (the daemon's worker thread); it is not meant for concurrent use from
several threads. `errors.py` says what a failure means, `folders.py` why a folder will not
take the store. `lock.py` is the lock beside the store that keeps one service per store (and
remembers the store the service used last); `identity.py` tells when the path no longer names
the file opened (the store deleted or replaced under a running service: `Store.check`). The
package imports only the standard library and `restday.models`.
"""

from restday.store.errors import StoreError, StoreNotWritable
from restday.store.identity import FileIdentity
from restday.store.lock import LockFile, StoreInUse, StoreLock, holder, lock_path
from restday.store.rows import WEIGHT_KEY_PER_KG, StoreCounts, UpsertResult
from restday.store.schema import CREATED_KEY, SCHEMA_VERSION, SYNCHRONOUS, Parsers
from restday.store.sleep import sleep_span, sleeps_overlap
from restday.store.store import BUSY_TIMEOUT_MS, Store

__all__ = [
    "BUSY_TIMEOUT_MS",
    "CREATED_KEY",
    "SCHEMA_VERSION",
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
    "UpsertResult",
    "holder",
    "lock_path",
    "sleep_span",
    "sleeps_overlap",
]
