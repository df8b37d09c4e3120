"""A store deleted or replaced under an open `Store` takes no more writes, and says so; a store
records when it was created (DESIGN.md §7, "A store that vanishes or is replaced")."""

from __future__ import annotations

import os
import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from restday.store import CREATED_KEY, SCHEMA_VERSION, Store, StoreError
from restday.sync import STRAVA_PARSERS
from tests.factories import DAY, pain
from tests.test_store import RECEIVED, schema_2_store

CREATED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def sql(path: Path, statement: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn, conn:
        return conn.execute(statement).fetchall()


def pains(path: Path) -> int:
    with Store.open(path) as store:
        return store.counts().pains


def test_a_deleted_store_refuses_writes_and_flushes_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    with Store.open(path) as store:
        store.add_pain(pain(DAY, 3), "3", RECEIVED)
        store.check()  # still the file it opened: nothing to say
        path.unlink()
        with pytest.raises(StoreError) as caught:
            store.check()
        said = str(caught.value)
        assert said.startswith(f"the store {path} was deleted while restday was running")
        assert "nothing more is stored until it is put back, or restday is restarted" in said
        with pytest.raises(StoreError, match="was deleted"):
            store.add_pain(pain(DAY, 4), "4", RECEIVED)
        with pytest.raises(StoreError, match="was deleted"):
            store.flush()
        with pytest.raises(StoreError, match="was deleted"), store.batch():
            pytest.fail("a batch on a deleted store must not begin")
        assert store.history().pains  # reads still answer, from the file opened
    assert not path.exists()  # closing it created nothing


def test_a_store_replaced_by_another_file_is_refused_and_the_new_file_is_left_intact(
    tmp_path: Path,
) -> None:
    path, other = tmp_path / "restday.db", tmp_path / "backup.db"
    with Store.open(other) as backup:
        backup.add_pain(pain(DAY, 1), "1", RECEIVED)
        backup_created = backup.created_at()
    store = Store.open(path)
    for level in range(2, 10):  # pages in the write-ahead log, not yet in the file
        store.add_pain(pain(DAY, level), str(level), RECEIVED)
    store.flush()
    os.replace(other, path)  # a backup restored over it while restday runs
    with pytest.raises(StoreError) as caught:
        store.add_pain(pain(DAY, 10), "10", RECEIVED)
    said = str(caught.value)
    assert said.startswith(f"the store {path} was replaced by another file while restday was")
    assert "the old file is put back, or restday is restarted (on the file now there)" in said
    assert "stop restday before moving or restoring its store" in said
    store.close()
    # the log left beside the path was the old store's: it must not be read into the new one
    with Store.open(path) as restored:
        assert restored.counts().pains == 1
        assert restored.created_at() == backup_created
    assert sql(path, "PRAGMA integrity_check") == [("ok",)]


def test_a_store_put_back_where_it_was_takes_writes_again(tmp_path: Path) -> None:
    path, aside = tmp_path / "restday.db", tmp_path / "aside.db"
    with Store.open(path) as store:
        store.add_pain(pain(DAY, 3), "3", RECEIVED)
        path.rename(aside)
        with pytest.raises(StoreError, match="was deleted"):
            store.add_pain(pain(DAY, 4), "4", RECEIVED)
        aside.rename(path)  # the same file again
        store.check()
        assert store.add_pain(pain(DAY, 5), "5", RECEIVED)
        store.flush()
    assert pains(path) == 2


def test_a_store_in_memory_has_nothing_to_check() -> None:
    with Store.open_memory() as store:
        store.check()
        assert store.add_pain(pain(DAY, 3), "3", RECEIVED)
        assert CREATED.fullmatch(store.created_at() or "")


def test_a_new_store_records_its_creation_time_once(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    before = datetime.now(UTC)
    with Store.open(path) as store:
        created = store.created_at()
    assert created is not None
    assert CREATED.fullmatch(created)
    assert before <= datetime.fromisoformat(created) <= datetime.now(UTC)
    with Store.open(path) as store:
        assert store.created_at() == created  # not again on the next open
    with Store.open(path, read_only=True) as store:
        assert store.created_at() == created


def test_a_store_without_a_creation_time_gets_one_on_open_without_an_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "restday.db"
    with Store.open(path) as store:
        store.add_pain(pain(DAY, 3), "3", RECEIVED)
    sql(path, f"DELETE FROM state WHERE key = '{CREATED_KEY}'")  # as an older restday left it
    with Store.open(path, read_only=True) as store:
        assert store.created_at() is None  # reading writes nothing
    with Store.open(path) as store:
        assert CREATED.fullmatch(store.created_at() or "")
        assert store.counts().pains == 1


def test_an_upgraded_store_gets_a_creation_time(tmp_path: Path) -> None:
    path = tmp_path / "restday.db"
    schema_2_store(path, [])
    with Store.open(path, parsers=STRAVA_PARSERS) as store:
        assert CREATED.fullmatch(store.created_at() or "")
    assert sql(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
