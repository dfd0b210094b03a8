"""The audit trail of URL-button clicks (Visit Seller Center): Slack opens the link itself."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.db.models import ButtonClick


def record_click(session: Session, action: str, shop_id: str | None, user_id: str) -> None:
    """Record one click; commits."""
    session.add(
        ButtonClick(action=action, shop_id=shop_id, user_id=user_id, clicked_at=dt.datetime.now(dt.UTC))
    )
    session.commit()
