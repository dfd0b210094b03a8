"""Connected TikTok sellers: their encrypted tokens, the shops each one's token lists, the
single-use authorization states, and the move of the old single token into one seller.

A shop's authorization is decided by the API only from its own seller's answer (or TikTok's
webhook): a shop missing from one seller's list is never marked unauthorized because of another
seller's token, and shops no seller lists (CSV-only) are left as the CSV says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import ApiToken, OAuthState, Shop, TikTokSeller, TikTokShopLink
from bot.services.access import set_authorization
from bot.services.health import aware, refresh_shop_health
from bot.services.portfolio import data_changed
from bot.services.records import ListedShop, SellerCredentials, SellerStatus
from bot.services.vault import TokenVault
from bot.settings import Settings

LEGACY_OPEN_ID = "legacy-single-token"
LEGACY_SOURCE = "tiktok"  # the api_tokens row of the single-token days


def use_state_nonce(
    factory: sessionmaker[Session], nonce: str, expires_at: dt.datetime, now: dt.datetime
) -> bool:
    """Record an authorization state's nonce as used; False when it was used before (any replica)."""
    try:
        with factory() as session, session.begin():
            session.execute(delete(OAuthState).where(OAuthState.expires_at < now - dt.timedelta(days=1)))
            session.add(OAuthState(nonce=nonce[:64], used_at=now, expires_at=expires_at))
        return True
    except IntegrityError:
        return False


def store_seller(
    session: Session,
    vault: TokenVault,
    *,
    open_id: str,
    seller_name: str,
    access_token: str,
    refresh_token: str,
    access_expires_at: dt.datetime | None,
    refresh_expires_at: dt.datetime | None,
    now: dt.datetime,
) -> int:
    """Store (or renew) a seller's tokens, encrypted; clears a past failure. Returns its ID."""
    seller = session.scalar(select(TikTokSeller).where(TikTokSeller.open_id == open_id))
    if seller is None:
        seller = TikTokSeller(open_id=open_id[:128], connected_at=now)
        session.add(seller)
    seller.seller_name = (seller_name or seller.seller_name or open_id)[:255]
    seller.access_token = vault.encrypt(access_token)
    seller.refresh_token = vault.encrypt(refresh_token)
    seller.access_expires_at = access_expires_at
    seller.refresh_expires_at = refresh_expires_at
    seller.updated_at = now
    seller.last_error = None
    seller.failed_at = None
    session.flush()
    return seller.id


def save_refreshed_tokens(
    session: Session,
    vault: TokenVault,
    seller_id: int,
    *,
    access_token: str,
    refresh_token: str,
    access_expires_at: dt.datetime | None,
    refresh_expires_at: dt.datetime | None,
    seller_name: str = "",
    now: dt.datetime,
) -> None:
    seller = session.get(TikTokSeller, seller_id)
    if seller is None:
        return
    seller.access_token = vault.encrypt(access_token)
    seller.refresh_token = vault.encrypt(refresh_token)
    seller.access_expires_at = access_expires_at
    if refresh_expires_at is not None:
        seller.refresh_expires_at = refresh_expires_at
    if seller_name and seller.open_id == LEGACY_OPEN_ID:
        seller.seller_name = seller_name[:255]  # the old token's seller, named at last
    seller.updated_at = now


def credentials(session: Session, vault: TokenVault) -> list[SellerCredentials]:
    """Every connected seller with its tokens decrypted (VaultError when the key cannot read them)."""
    return [
        SellerCredentials(
            seller_id=s.id,
            open_id=s.open_id,
            seller_name=s.seller_name,
            access_token=vault.decrypt(s.access_token),
            refresh_token=vault.decrypt(s.refresh_token),
            access_expires_at=aware(s.access_expires_at) if s.access_expires_at else None,
        )
        for s in session.scalars(select(TikTokSeller).order_by(TikTokSeller.id))
    ]


def record_failure(session: Session, seller_id: int, error: str, now: dt.datetime) -> None:
    seller = session.get(TikTokSeller, seller_id)
    if seller is not None:
        seller.last_error, seller.failed_at = error[:1000], now


def record_synced(session: Session, seller_id: int, now: dt.datetime) -> None:
    seller = session.get(TikTokSeller, seller_id)
    if seller is not None:
        seller.synced_at, seller.last_error, seller.failed_at = now, None, None


def apply_listed_shops(
    session: Session,
    answers: Mapping[int, Sequence[ListedShop]],
    now: dt.datetime,
    settings: Settings | None = None,
) -> tuple[int, int]:
    """Apply the shop lists of the sellers who answered; returns (newly authorized, lost access).

    A listed shop is authorized and linked to its seller (created when new). A shop linked to a
    seller who answered without it, and listed by no one else, lost access. Shops of sellers who
    did not answer, and shops no seller lists, are left alone.
    """
    listed = {shop.shop_id: (seller_id, shop) for seller_id, shops in answers.items() for shop in shops}
    links = {link.shop_id: link for link in session.scalars(select(TikTokShopLink))}
    known = set(session.scalars(select(Shop.shop_id)))
    authorized = lost = 0
    new: list[str] = []
    for shop_id, (seller_id, api_shop) in listed.items():
        if shop_id not in known:
            new.append(shop_id)
            session.add(
                Shop(
                    shop_id=shop_id,
                    shop_code=api_shop.code or shop_id,
                    shop_name=api_shop.name or shop_id,
                    region=(api_shop.region or "US").upper()[:8],
                    authorized=True,
                    chr_authorized=False,
                )
            )
            session.flush()
            authorized += 1
        elif set_authorization(session, shop_id, True, now):
            authorized += 1
        link = links.get(shop_id)
        if link is None:
            session.add(
                TikTokShopLink(shop_id=shop_id, seller_id=seller_id, cipher=api_shop.cipher, listed_at=now)
            )
        else:
            link.seller_id, link.cipher, link.listed_at = seller_id, api_shop.cipher, now
    for shop_id, link in links.items():
        if (
            link.seller_id in answers
            and shop_id not in listed
            and set_authorization(session, shop_id, False, now)
        ):
            lost += 1
    if new:  # new shops get their (empty) health row, so the lists count them
        refresh_shop_health(session, select(Shop.shop_id).where(Shop.shop_id.in_(new)))
    data_changed(session, settings)  # new shops change the counts even when no access changed
    return authorized, lost


def migrate_single_token(session: Session, vault: TokenVault, settings: Settings, now: dt.datetime) -> bool:
    """Move the old single token (the api_tokens row, else TIKTOK_ACCESS_TOKEN / _REFRESH_TOKEN)
    into one stored seller, encrypted, and delete the plaintext row. Only while no seller is
    stored: once sellers authorize through the link, the old settings are not read again."""
    if session.scalar(select(TikTokSeller.id).limit(1)) is not None:
        return False
    row = session.get(ApiToken, LEGACY_SOURCE)
    access = refresh = None
    expires: dt.datetime | None = None
    if row is not None:
        access, refresh, expires = row.access_token, row.refresh_token, row.expires_at
    elif settings.tiktok_access_token is not None and settings.tiktok_refresh_token is not None:
        access = settings.tiktok_access_token.get_secret_value()
        refresh = settings.tiktok_refresh_token.get_secret_value()
    if not access or not refresh:
        return False
    store_seller(
        session,
        vault,
        open_id=LEGACY_OPEN_ID,
        seller_name="Seller of the former TIKTOK_ACCESS_TOKEN",
        access_token=access,
        refresh_token=refresh,
        access_expires_at=aware(expires) if expires else None,
        refresh_expires_at=None,
        now=now,
    )
    if row is not None:
        session.delete(row)
    return True


def seller_statuses(session: Session) -> list[SellerStatus]:
    """Every connected seller, failing ones first, with its shops (for `/health tiktok`)."""
    shops: dict[int, list[tuple[str, str, bool]]] = {}
    for seller_id, code, name, authorized in session.execute(
        select(TikTokShopLink.seller_id, Shop.shop_code, Shop.shop_name, Shop.authorized)
        .join(Shop, Shop.shop_id == TikTokShopLink.shop_id)
        .order_by(Shop.shop_code)
    ):
        shops.setdefault(seller_id, []).append((code, name, authorized))
    sellers = session.scalars(select(TikTokSeller).order_by(TikTokSeller.seller_name, TikTokSeller.id))
    statuses = [
        SellerStatus(
            seller_name=s.seller_name,
            open_id=s.open_id,
            connected_at=aware(s.connected_at),
            access_expires_at=aware(s.access_expires_at) if s.access_expires_at else None,
            refresh_expires_at=aware(s.refresh_expires_at) if s.refresh_expires_at else None,
            synced_at=aware(s.synced_at) if s.synced_at else None,
            last_error=s.last_error,
            failed_at=aware(s.failed_at) if s.failed_at else None,
            shops=tuple(shops.get(s.id, ())),
        )
        for s in sellers
    ]
    return sorted(statuses, key=lambda s: s.failed_at is None)
