"""The store as restday opens it: with Strava's parsers, so that an upgrade of a store written
by an older restday can parse activities and gear again from their raw JSON.

`restday.store` knows only SQL and `restday.integrations.strava_json` only Strava's JSON;
this module joins them, as strava-offline's sync passes `from_dict` to its SQL layer. Every
`Store.open` that may write a store found on disk passes `parsers=STRAVA_PARSERS`.
"""

from restday.integrations.strava_json import parse_activity, parse_shoe
from restday.store import Parsers

STRAVA_PARSERS = Parsers(activity=parse_activity, gear=parse_shoe)
