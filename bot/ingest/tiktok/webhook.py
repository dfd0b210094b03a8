"""TikTok Shop webhooks: checking their signature and reading them (type 6: a seller deauthorized
the app; type 7: an authorization expires soon)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

#: Webhook type sent when a seller deauthorizes the app.
SELLER_DEAUTHORIZATION = 6
#: Webhook type sent when a seller's authorization is about to expire (informational).
AUTHORIZATION_EXPIRING = 7


def verify_webhook(body: bytes, authorization_header: str, app_key: str, app_secret: str) -> bool:
    """True when ``authorization_header`` is TikTok's signature of this webhook body.

    TikTok sends ``hex(HMAC-SHA256(key=app_secret, msg=app_key + raw body))`` in the
    ``Authorization`` header. The comparison runs in constant time.
    """
    if not authorization_header or not app_secret:
        return False
    expected = hmac.new(
        app_secret.encode("utf-8"), app_key.encode("utf-8") + body, hashlib.sha256
    ).hexdigest()
    received = authorization_header.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(expected.encode("ascii"), received)


@dataclass(frozen=True)
class WebhookEvent:
    """A TikTok Shop webhook: ``type`` (6 = seller deauthorization, 7 = authorization expiring)."""

    type: int
    shop_id: str
    timestamp: int
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def is_deauthorization(self) -> bool:
        """The seller revoked the app's access: stop polling the shop."""
        return self.type == SELLER_DEAUTHORIZATION

    @property
    def is_authorization_expiring(self) -> bool:
        """Informational: the seller's authorization expires soon and should be renewed."""
        return self.type == AUTHORIZATION_EXPIRING


def parse_webhook(body: bytes | str) -> WebhookEvent:
    """Parse a webhook body (verify it first with `verify_webhook`). Raises ValueError when malformed."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("TikTok webhook body is not valid JSON") from exc
    if not isinstance(payload, dict):
        raise ValueError("TikTok webhook body is not a JSON object")
    try:
        event_type = int(payload["type"])
        timestamp = int(payload.get("timestamp") or 0)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError("TikTok webhook has no valid integer 'type' / 'timestamp'") from exc
    shop_id = payload.get("shop_id")
    data = payload.get("data")
    return WebhookEvent(
        type=event_type,
        shop_id="" if shop_id is None else str(shop_id),
        timestamp=timestamp,
        data=data if isinstance(data, dict) else {},
    )
