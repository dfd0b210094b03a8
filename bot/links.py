"""Per-shop links: Seller Center deep link and authorization-request link (import overrides templates)."""

from __future__ import annotations

from bot.models import Shop
from bot.settings import Settings


def _fill(template: str, shop: Shop, settings: Settings) -> str:
    return template.format(
        shop_id=shop.shop_id,
        shop_code=shop.shop_code,
        region=shop.region.lower(),
        service_id=settings.healthbot_service_id,
    )


def seller_center_url(shop: Shop, settings: Settings) -> str:
    return shop.seller_center_url or _fill(settings.healthbot_seller_center_url, shop, settings)


def security_center_url(shop: Shop, settings: Settings) -> str:
    return _fill(settings.healthbot_security_center_url, shop, settings)


def auth_request_url(shop: Shop, settings: Settings) -> str:
    return shop.auth_request_url or _fill(settings.healthbot_auth_request_url, shop, settings)
