"""Whose data a command reads and writes (DESIGN.md §7 "Household config"): `--athlete`, and
the store opened for the household.

Every command opens the store for the first configured athlete (the store's default one, who
gets the rows of a store from before athletes). A command that writes also lets the store give
that athlete the rows of one athlete the config does not have (a single runner's renamed `id`,
or a single runner's store that became a household's: `adopt_single`), as the service does; a
command that only reads shows them as the first athlete's without moving them.
"""

from __future__ import annotations

import logging

from restday.cli.exit_codes import UsageError
from restday.config import Config, UnknownAthleteError
from restday.models import History
from restday.store import Store, StoreNotWritable
from restday.sync import STRAVA_PARSERS

log = logging.getLogger("restday")


def chosen(config: Config, given: str | None) -> str:
    """The athlete a command is for: `--athlete`'s id, or the only one configured."""
    ids = config.athlete_ids()
    if given is None:
        if len(ids) == 1:
            return ids[0]
        raise UsageError(
            f"several athletes are configured ({', '.join(ids)}): choose one with --athlete"
        )
    return known(config, given)


def known(config: Config, athlete: str) -> str:
    """`athlete` if the config has it; a `UsageError` naming the ids it has otherwise."""
    try:
        return config.athlete_config(athlete).id
    except UnknownAthleteError as exc:
        raise UsageError(str(exc)) from None


def several(config: Config) -> bool:
    return len(config.athletes) > 1


def open_store(config: Config, *, writes: bool) -> Store:
    """The store for the household; `writes`: the command stores something, so the first
    athlete is given the rows of one athlete the config does not have (a renamed `id`)."""
    ids = config.athlete_ids()
    return Store.open(
        config.store_path(),
        parsers=STRAVA_PARSERS,
        athlete=ids[0],
        adopt_single=writes,
        configured=ids,
    )


def open_to_read(config: Config) -> Store | None:
    """The store to read from (read-only if it cannot be written); None when there is none."""
    path = config.store_path()
    if not path.exists():
        log.warning("no store at %s yet: import activities with `restday import FILE` first", path)
        return None
    try:
        return open_store(config, writes=False)
    except StoreNotWritable as exc:  # e.g. a file system gone read-only: still worth reading
        store = Store.open(path, read_only=True, athlete=config.athlete_ids()[0])
        log.warning("%s; reading it read-only", exc)
        return store


def read_history(config: Config, athlete: str) -> History:
    """The athlete's history as stored (empty without a store)."""
    store = open_to_read(config)
    if store is None:
        return History()
    with store:
        return store.history(athlete=rows_of(store, config, athlete))


def rows_of(store: Store, config: Config, athlete: str) -> str:
    """Whose rows are the athlete's: theirs; for the first athlete, those of the store's one
    athlete when the config does not have them (a renamed `id`, a single runner's store that
    became a household's: as a command that writes, or the service, would give them over)."""
    stored = store.athletes()
    if athlete in stored:
        return athlete
    ids = config.athlete_ids()
    if athlete == ids[0] and len(stored) == 1 and stored[0] not in ids:
        log.info(
            'the store keeps this history under the former id "%s": shown as "%s"\'s (the next '
            '`restday import`, `restday strava sync` or the service gives it to "%s")',
            stored[0],
            athlete,
            athlete,
        )
        return stored[0]
    others = [x for x in stored if x not in config.athlete_ids()]
    if others:
        log.warning(
            'athlete "%s" has nothing in the store, which holds the rows of %s, an id the config '
            "does not have: was an athlete's id changed? (the rows of one such id move to the "
            "first athlete by themselves, when the store holds no one else's)",
            athlete,
            ", ".join(f'"{x}"' for x in others),
        )
    return athlete
