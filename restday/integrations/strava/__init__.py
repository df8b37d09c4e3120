"""Strava (DESIGN.md §2), the only code that talks to it: the client and its calls (`client`),
stravalib on a requests session to `strava.api_url` with timeouts (`session`), the rate limits
from the `X-RateLimit-*` headers (`rate_limits`), the token's refresh (`authorization`), its
file (`tokens`), the errors (`errors`) and the redirect listener of `restday strava auth`
(`redirect`). Importing the package imports neither requests nor stravalib."""

from restday.integrations.strava.authorization import REFRESH_MARGIN
from restday.integrations.strava.client import SCOPES, StravaClient
from restday.integrations.strava.errors import (
    AuthRequired,
    RateLimited,
    StravaError,
    Unavailable,
)
from restday.integrations.strava.redirect import RedirectListener
from restday.integrations.strava.tokens import Token, TokenStore

__all__ = [
    "REFRESH_MARGIN",
    "SCOPES",
    "AuthRequired",
    "RateLimited",
    "RedirectListener",
    "StravaClient",
    "StravaError",
    "Token",
    "TokenStore",
    "Unavailable",
]
