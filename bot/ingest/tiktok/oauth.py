"""The seller's authorization link and its signed, short-lived, single-use ``state``.

A seller opens the link (``TIKTOK_AUTHORIZE_URL`` with the partner's service ID), grants the app
access, and TikTok redirects to ``GET /tiktok/oauth/callback?code=...&state=...``. The state is
``<payload>.<signature>``: the payload (base64url JSON) carries a random nonce and an expiry, the
signature is HMAC-SHA256 over it with the app secret. A forged or altered state fails the
signature, an old one the expiry; the callback records the nonce in the database so the same
state is accepted once, on any replica (`bot.services.tiktok_sellers.use_state_nonce`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import secrets
import urllib.parse
from dataclasses import dataclass

STATE_LIFETIME = dt.timedelta(hours=24)


class StateError(ValueError):
    """The state is not one this app issued, or it has expired; the message says which, kindly."""


@dataclass(frozen=True)
class StateClaims:
    nonce: str
    expires_at: dt.datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: str, secret: str) -> str:
    return _b64(hmac.new(secret.encode("utf-8"), payload.encode("ascii"), hashlib.sha256).digest())


def issue_state(secret: str, *, now: dt.datetime, lifetime: dt.timedelta = STATE_LIFETIME) -> str:
    """A fresh state: a random nonce, valid until ``now + lifetime``, signed with ``secret``."""
    expires = int((now + lifetime).timestamp())
    payload = _b64(
        json.dumps({"n": secrets.token_urlsafe(18), "exp": expires}, separators=(",", ":")).encode()
    )
    return f"{payload}.{_signature(payload, secret)}"


def read_state(secret: str, state: str, *, now: dt.datetime) -> StateClaims:
    """The state's claims when this app signed it and it has not expired; StateError otherwise.

    It does not say whether the state was used before: the caller records the nonce for that.
    """
    payload, _, signature = state.strip().partition(".")
    if not payload or not signature or len(state) > 512:
        raise StateError("this authorization link is not one the bot made")
    try:
        expected = _signature(payload, secret)
    except UnicodeEncodeError:
        raise StateError("this authorization link is not one the bot made") from None
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
        raise StateError("this authorization link is not one the bot made")
    try:
        claims = json.loads(_unb64(payload))
        nonce, expires = str(claims["n"]), int(claims["exp"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise StateError("this authorization link is not one the bot made") from None
    expires_at = dt.datetime.fromtimestamp(expires, dt.UTC)
    if now >= expires_at:
        raise StateError("this authorization link has expired")
    return StateClaims(nonce=nonce, expires_at=expires_at)


def authorization_link(template: str, *, service_id: str, state: str) -> str:
    """``template`` with the service ID filled in (URL-encoded) and the state appended."""
    url = template.format(service_id=urllib.parse.quote(service_id, safe=""))
    separator = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{separator}state={urllib.parse.quote(state, safe='')}"
