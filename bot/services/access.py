"""The partner's access to a shop: granted or lost, and when it was lost (import, sync or webhook)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.db.models import Shop
from bot.services.portfolio import data_changed
from bot.settings import Settings


def set_authorization(session: Session, shop_id: str, authorized: bool, now: dt.datetime) -> bool:
    """Record a change of shop access; True when it changed. The caller then calls
    `portfolio.data_changed` once for all its changes."""
    shop = session.get(Shop, shop_id)
    if shop is None or shop.authorized == authorized:
        return False
    shop.authorized = authorized
    shop.authorization_lost_at = None if authorized else now
    return True


def deauthorize(session: Session, shop_id: str, settings: Settings | None = None) -> bool:
    """The seller revoked the partner's access (TikTok's webhook); commits. True when it changed."""
    changed = set_authorization(session, shop_id, False, dt.datetime.now(dt.UTC))
    if changed:
        data_changed(session, settings)
    session.commit()
    return changed
