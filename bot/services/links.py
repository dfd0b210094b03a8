"""Per-shop links: the Seller Center deep link, the authorization-request link and the Security
Center block list. A link imported for the shop wins over the template from settings.

Every value is URL-encoded when it is filled into a template (the one place that happens), so an
imported ID such as `X<!channel>` cannot change where a link goes or what a message shows.
"""

from __future__ import annotations

import urllib.parse

from bot.services.records import ShopInfo
from bot.settings import Settings


def _fill(template: str, shop: ShopInfo, settings: Settings) -> str:
    def encoded(value: str) -> str:
        return urllib.parse.quote(value, safe="")

    return template.format(
        shop_id=encoded(shop.shop_id),
        shop_code=encoded(shop.shop_code),
        region=encoded(shop.region.lower()),
        service_id=encoded(settings.healthbot_service_id),
    )


def seller_center_url(shop: ShopInfo, settings: Settings) -> str:
    return shop.seller_center_url or _fill(settings.healthbot_seller_center_url, shop, settings)


def security_center_url(shop: ShopInfo, settings: Settings) -> str:
    return _fill(settings.healthbot_security_center_url, shop, settings)


def auth_request_url(shop: ShopInfo, settings: Settings) -> str:
    return shop.auth_request_url or _fill(settings.healthbot_auth_request_url, shop, settings)
