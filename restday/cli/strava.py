"""`restday strava auth` and `restday strava sync`: the command-line side of Strava.

Both go through the same client and sync code as the service; stravalib is imported only
here and in the service's Strava part, never by the other commands.
"""

from __future__ import annotations

import dataclasses
import secrets
import sys

from restday.cli.athletes import open_store, several
from restday.cli.exit_codes import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK
from restday.clock import Clock
from restday.config import STRAVA_NOT_CONFIGURED, Config
from restday.daemon.strava_syncs import adopt_single_token
from restday.integrations.strava import RedirectListener, StravaClient, StravaError
from restday.sync import Fetcher, newest_start, store_result

AUTH_TIMEOUT_S = 300.0  # how long `restday strava auth` waits for the browser's redirect


def _client(config: Config, clock: Clock, athlete: str) -> StravaClient | None:
    """The athlete's Strava: their own application or the shared one, and their token file
    (the first athlete of a household adopts a single runner's token first, as the service
    does)."""
    adopt_single_token(config)
    client = StravaClient(config.strava_for(athlete), config.token_path(athlete), clock=clock)
    if not client.configured:
        own = f"; or give {athlete} their own in their [[athlete]] table ([athlete.strava])"
        hint = own if several(config) else ""
        print(f"restday: configuration error: {STRAVA_NOT_CONFIGURED}{hint}", file=sys.stderr)
        return None
    return client


def authorize(config: Config, clock: Clock, *, athlete: str, code: str | None, port: int) -> int:
    """Exchange a pasted code, or catch the browser's redirect once on 127.0.0.1; the token is
    the athlete's (`config.token_path(athlete)`)."""
    client = _client(config, clock, athlete)
    if client is None:
        return EXIT_CONFIG
    if several(config):  # whoever is logged in to Strava in that browser gets the token
        name = config.athlete_config(athlete).name
        print(f"This token is for {name} ({athlete}): log in to Strava as {name}.")
    try:
        if code is None:
            with RedirectListener(port) as listener:
                state = secrets.token_urlsafe(16)
                print("Open this address in a browser and allow restday to read your activities:")
                print(f"\n  {client.authorize_url(listener.redirect_uri, state)}\n")
                print(f"Waiting for Strava's redirect to {listener.redirect_uri} …")
                print("(Without a browser here: open it elsewhere, copy the `code` from the")
                print(" address it ends on, and run `restday strava auth --code CODE`.)")
                code = listener.wait_for_code(state, AUTH_TIMEOUT_S)
                token = client.exchange_code(code, scope=listener.scope)
        else:
            token = client.exchange_code(code)
    except StravaError as exc:
        print(f"restday: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    who = f"athlete {token.athlete_id}" if token.athlete_id else "your athlete"
    path = config.token_path(athlete)
    print(f"Authorised for {who}; the token is stored in {path} (mode 0600).")
    print("A running `restday run` picks it up at its next sync: no restart needed.")
    return EXIT_OK


def sync(config: Config, clock: Clock, *, athlete: str, days: int | None) -> int:
    """One sync now of the athlete's activities (the first one, or `--days N`, backfills),
    stored for them like the service does."""
    client = _client(config, clock, athlete)
    if client is None:
        return EXIT_CONFIG
    with open_store(config, writes=True) as store:
        fetcher = Fetcher(client, config.strava.backfill_days, clock)
        fetched = fetcher.fetch(newest_start(store.history(athlete=athlete)), days)
        result = dataclasses.replace(fetched, athlete_id=athlete)
        try:
            report = store_result(store, result)
        except ValueError as exc:  # an activity stored for another athlete: nothing stored
            print(f"restday: {exc}", file=sys.stderr)
            return EXIT_FAILURE
    whose = f" for {athlete}" if several(config) else ""
    if report is not None:
        print(f"Synced {report.summary()}{whose}.")
    else:
        print(f"Synced{whose}: nothing new.")
    if result.athlete is not None:
        print(f"Shoes updated ({len(result.athlete.get('shoes') or [])}).")
    print(f"Strava API calls today: {result.calls_today}.")
    if result.error is not None:
        print(f"restday: {result.error}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK
