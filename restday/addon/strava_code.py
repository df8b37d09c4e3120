"""Strava's authorisation in the add-on: a code pasted into a runner's `strava_code` option is
exchanged once (the `restday strava auth --code` flow), and a runner who still needs one is
told in the log where to get it.

Once: the code is ignored, with a log line saying so, when the runner's token is already
stored; a code Strava has answered is remembered (as a hash, in /data) and not sent again on
the next start, since a code works once and only for minutes. The option may then be cleared.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from restday.clock import Clock
from restday.config import Config
from restday.daemon.strava_syncs import adopt_single_token
from restday.integrations.strava import (
    RateLimited,
    StravaClient,
    StravaError,
    TokenStore,
    Unavailable,
)

log = logging.getLogger("restday.addon")

USED_CODES_FILE = "strava-codes-used.json"
PASTE_REDIRECT_URI = "http://127.0.0.1/authorized"  # never loads: its address holds the code
MAX_USED_CODES = 100  # the newest hashes kept
PRIVATE_FILE = 0o600


class UsedCodes:
    """The codes Strava has answered, as SHA-256 hashes in a private file in /data."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _hashes(self) -> list[str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [item for item in data if isinstance(item, str)] if isinstance(data, list) else []

    def used(self, code: str) -> bool:
        return _hash(code) in self._hashes()

    def add(self, code: str) -> None:
        hashes = [*self._hashes(), _hash(code)][-MAX_USED_CODES:]
        fd, name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            os.fchmod(fd, PRIVATE_FILE)
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(hashes, file)
            os.replace(name, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def pasted(value: str) -> tuple[str, str]:
    """The code and the accepted scope from what was pasted: the code alone, or the whole
    address the browser ended on (`…?state=…&code=…&scope=…`)."""
    if "code=" not in value:
        return value.strip(), ""
    query = parse_qs(urlsplit(value.strip()).query or value.strip())
    return (query.get("code") or [""])[0], (query.get("scope") or [""])[0]


def settle_strava(config: Config, codes: Mapping[str, str], data_dir: Path, clock: Clock) -> None:
    """For each runner with a Strava application: exchange their pasted code once, or say in the
    log how to authorise; never fatal (restday runs without Strava until then)."""
    adopt_single_token(config)  # a single runner's token, as the service would
    used = UsedCodes(data_dir / USED_CODES_FILE)
    several = len(config.athletes) > 1
    for athlete in config.athletes:
        who = athlete.id
        option = f"{who}'s strava_code option" if several else "the strava_code option"
        code = codes.get(who)
        client = StravaClient(config.strava_for(who), config.token_path(who), clock=clock)
        if not client.configured:
            if code:
                log.warning(
                    "Strava: %s is ignored: no Strava application is configured for %s "
                    "(the strava options, or the runner's own strava_client_id and "
                    "strava_client_secret)",
                    option,
                    who,
                )
            continue
        if TokenStore(config.token_path(who)).load() is not None:
            if code:
                log.info(
                    "Strava: %s is already authorised (token %s), so %s is ignored; you may "
                    "clear it",
                    who,
                    config.token_path(who),
                    option,
                )
            continue
        if code and not used.used(code):
            if _exchange(client, code, used, option, who):
                continue
        elif code:
            log.warning(
                "Strava: the code in %s was used already (a code works once, for minutes)",
                option,
            )
        _ask(client, athlete.name, option, several)


def _exchange(client: StravaClient, value: str, used: UsedCodes, option: str, who: str) -> bool:
    code, scope = pasted(value)
    try:
        token = client.exchange_code(code, scope=scope)
    except (Unavailable, RateLimited) as exc:  # not answered: the same code may work later
        log.error("Strava: the code in %s could not be exchanged now: %s", option, exc)
        return False
    except StravaError as exc:
        used.add(value)
        log.error("Strava: the code in %s was refused: %s", option, exc)
        return False
    used.add(value)
    log.info(
        "Strava: %s is authorised (Strava athlete %s); the code is used and %s may be cleared",
        who,
        token.athlete_id or "?",
        option,
    )
    return True


def _ask(client: StravaClient, name: str, option: str, several: bool) -> None:
    url = client.authorize_url(PASTE_REDIRECT_URI, secrets.token_urlsafe(16))
    login = f" logged in to Strava as {name}" if several else ""
    log.warning(
        "Strava: not authorised yet. Open this address on any device%s, allow restday to read "
        "your activities, then copy the address the browser ends on (the page itself will not "
        "load; its code works for a few minutes), paste it into %s and restart "
        "the add-on: %s",
        login,
        option,
        url,
    )
