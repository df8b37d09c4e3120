"""A household's Strava syncs: one `StravaSync` per athlete whose Strava application is
configured (their own `[athlete.strava]` or the shared `[strava]`), each with its own token file
(`Config.token_path`) and time zone, each result marked with the athlete's id.

Strava counts its rate limits per application, so the clients of the athletes on one
application (the same `client_id` at the same `api_url`) share one `RateLimits`: a 429 for one
of them holds the others back without any HTTP. An athlete with an application of their own
has their own. The scheduler spreads the polls of one application's athletes over
`strava.poll_minutes` (`schedule.py`, from `strava_apps`).

A single install that became a household keeps its authorisation: the first athlete adopts the
single athlete's `strava-token.json` (`adopt_single_token`, called by `build_syncs`).

Nothing here imports requests or stravalib; the clients load them at `load()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from restday.clock import Clock
from restday.config import TOKEN_FILE_NAME, Config
from restday.daemon.events import Event

if TYPE_CHECKING:
    from restday.daemon.strava_sync import StravaSync
    from restday.integrations.strava.rate_limits import RateLimits

log = logging.getLogger(__name__)

StravaApp = tuple[str, str]  # (client_id, api_url): one Strava API application


def strava_app(config: Config, athlete_id: str) -> StravaApp | None:
    """The application the athlete's syncs use (None: none is configured for them)."""
    strava = config.strava_for(athlete_id)
    if not (strava.client_id and strava.client_secret.get_secret_value()):
        return None
    return strava.client_id, str(strava.api_url)


def strava_apps(config: Config) -> dict[StravaApp, tuple[str, ...]]:
    """The athletes of each configured application, both in the config's order."""
    apps: dict[StravaApp, tuple[str, ...]] = {}
    for athlete_id in config.athlete_ids():
        app = strava_app(config, athlete_id)
        if app is not None:
            apps[app] = (*apps.get(app, ()), athlete_id)
    return apps


def adopt_single_token(config: Config) -> Path | None:
    """With several athletes, the first one adopts the single athlete's `strava-token.json`
    when they have no token file of their own (an install that became a household: nobody
    authorises again); the file it is now, or None when nothing was moved."""
    if len(config.athletes) < 2:
        return None
    from restday.integrations.strava import TokenStore

    first = config.athlete_ids()[0]
    single = config.store_path().parent / TOKEN_FILE_NAME
    tokens = TokenStore(config.token_path(first))
    try:
        moved = tokens.adopt(single)
    except OSError as exc:
        log.warning(
            "Strava: could not rename %s to %s (%s); %s must authorise again",
            single,
            tokens.path,
            exc.strerror or exc,
            first,
        )
        return None
    if not moved:
        return None
    log.info(
        "Strava: the single athlete's token %s is now %s's, %s (several athletes are "
        "configured; the first keeps the authorisation)",
        single.name,
        first,
        tokens.path.name,
    )
    return tokens.path


def build_syncs(
    config: Config,
    clock: Clock,
    put: Callable[[Event], None],
    newest_start: Callable[[str], datetime | None],
) -> dict[str, StravaSync]:
    """A `StravaSync` per athlete with a configured application, by athlete id in the config's
    order (empty: Strava is configured for nobody). `newest_start(athlete_id)`: where that
    athlete's next sync resumes (the worker's newest stored start of theirs). Adopts the single
    athlete's token first (`adopt_single_token`). Without any application nothing of the
    Strava side is imported: a service without Strava stays as small as it was."""
    if all(strava_app(config, athlete_id) is None for athlete_id in config.athlete_ids()):
        return {}
    from restday.daemon.strava_sync import StravaSync
    from restday.integrations.strava import StravaClient
    from restday.integrations.strava.rate_limits import RateLimits

    adopt_single_token(config)
    limits: dict[StravaApp, RateLimits] = {}
    syncs: dict[str, StravaSync] = {}
    for athlete_id in config.athlete_ids():
        app = strava_app(config, athlete_id)
        if app is None:
            continue
        if app not in limits:
            limits[app] = RateLimits(clock)  # one per application, shared by its athletes
        strava = config.strava_for(athlete_id)
        client = StravaClient(
            strava, config.token_path(athlete_id), clock=clock, limits=limits[app]
        )
        syncs[athlete_id] = StravaSync(
            client,
            strava.backfill_days,
            put,
            partial(newest_start, athlete_id),
            clock,
            config.profile(athlete_id).timezone,
            athlete_id=athlete_id,
        )
    return syncs
