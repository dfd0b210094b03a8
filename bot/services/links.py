"""Per-shop links: the Seller Center deep link, the authorization-request link and the Security
Center block list. A link imported for the shop wins over the template from settings.

Every value is URL-encoded when it is filled into a template (the one place that happens), so an
imported ID such as `X<!channel>` cannot change where a link goes or what a message shows. A request
link is never made with an empty HEALTHBOT_SERVICE_ID: `LinkNotConfigured` says what to set.
"""

from __future__ import annotations

import urllib.parse

from bot.services.records import ShopInfo
from bot.settings import SERVICE_ID_HELP, MissingSetting, Settings


class LinkNotConfigured(ValueError):
    """The link's template needs a setting that is not set; the message says what to set."""

    def __init__(self, missing: MissingSetting) -> None:
        super().__init__(missing.sentence())
        self.missing = missing


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
    """The shop's own request link from import, else the template's; LinkNotConfigured when the
    template needs HEALTHBOT_SERVICE_ID and it is not set (never a link ending in `service_id=`)."""
    if shop.auth_request_url:
        return shop.auth_request_url
    if settings.service_id_missing(settings.healthbot_auth_request_url):
        raise LinkNotConfigured(
            MissingSetting(
                "HEALTHBOT_SERVICE_ID",
                "I cannot make the request link",
                f"Set it to {SERVICE_ID_HELP} and restart the bot, or give this shop an "
                "`auth_request_url` in the shops CSV. Nothing was sent",
            )
        )
    return _fill(settings.healthbot_auth_request_url, shop, settings)
