"""A deterministic synthetic portfolio that exercises every band, flag and status in DOMAIN.md.

The same seed, size and end date give the same portfolio. Rows go through the CSV importer's own
code path (`import_source`), so the demo proves the import as well.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot import domain
from bot.db import transaction
from bot.ingest.formats import ImportResult, Kind
from bot.ingest.importer import import_source
from bot.services.health import rebuild_shop_health
from bot.services.portfolio import data_changed

REGIONS = ("US",) * 8 + ("FR", "DE", "UK", "PH", "MY")
POLICIES = (
    "Late dispatch",
    "Counterfeit or IP infringement",
    "Misleading product information",
    "Prohibited product",
    "Off-platform transaction",
    "Order cancellation rate",
    "Inauthentic reviews",
)
# Shop names as an agency's book has them: a brand word and what the shop sells, each pair used
# once ("Cedar Candles", "Juniper Pet Supply"); a larger portfolio adds a city of the shop's region.
BRANDS = (
    "Aurora", "Bloom", "Cedar", "Dune", "Ember", "Fable", "Glow", "Harbor", "Indigo", "Juniper",
    "Kite", "Lumen", "Maple", "Nova", "Orchid", "Pebble", "Quartz", "River", "Saffron", "Tide",
    "Umber", "Velvet", "Willow", "Yarrow", "Zephyr", "Atlas", "Birch", "Coral", "Delta", "Fern",
    "Hazel", "Iris", "Jasper", "Linden", "Meadow", "Olive", "Poppy", "Sage", "Sorrel", "Wren",
)  # fmt: skip
KINDS = (
    "Beauty", "Home", "Outfitters", "Kitchen", "Pet Supply", "Studio", "Supply Co.", "Goods",
    "Apparel", "Tech", "Garden", "Toys", "Candles", "Skincare", "Jewelry", "Activewear",
    "Haircare", "Bakeware", "Footwear", "Swimwear", "Lashes", "Coffee", "Bags", "Nail Bar",
)  # fmt: skip
CITIES = {
    "US": ("Austin", "Denver", "Portland", "Miami", "Brooklyn", "Nashville", "Phoenix", "Boise"),
    "FR": ("Lyon", "Nantes", "Lille", "Bordeaux", "Marseille", "Rennes"),
    "DE": ("Berlin", "Hamburg", "Köln", "Leipzig", "München", "Bremen"),
    "UK": ("Leeds", "Bristol", "Brighton", "Glasgow", "York", "Cardiff"),
    "PH": ("Manila", "Cebu", "Davao", "Makati", "Iloilo", "Baguio"),
    "MY": ("Penang", "Ipoh", "Melaka", "Kuching", "Johor", "Sabah"),
}

# Archetypes placed on the first shops so a small portfolio still shows every case.
# (today's AHR, AHR 1 day ago, AHR 7 days ago, SPS tenths today, SPS 1 day ago, CHR today, CHR 7d ago)
ARCHETYPES: list[tuple[int, int, int, int, int, int, int]] = [
    (0, 12, 40, 18, 20, 0, 60),  # deactivated, suspended account
    (35, 70, 90, 22, 30, 140, 190),  # poor, fell > 20, SPS critical and fell, CHR critical
    (120, 125, 150, 30, 31, 160, 170),  # fair, crossed 150 within the week
    (155, 190, 200, 45, 45, 210, 240),  # fell 35 today, 5 above the 150 milestone
    (179, 200, 200, 33, 39, 199, 230),  # fell exactly 21: action; SPS fell 0.6
    (180, 200, 200, 35, 40, 200, 220),  # fell exactly 20: no action; SPS fell exactly 0.5
    (210, 214, 260, 0, 0, 180, 205),  # excellent, SPS not scored yet, CHR fell 25 in 7 days
    (320, 320, 318, 48, 48, 400, 400),  # healthy everything
    (51, 55, 60, 26, 26, 151, 151),  # fair at its lowest edge
    (50, 52, 52, 25, 25, 150, 150),  # poor at its highest edge
]


@dataclass(frozen=True)
class DemoSize:
    shops: int = 200
    days: int = 180
    seed: int = 7


def _shop_id(i: int) -> str:
    return f"7{i:09d}"


def _shop_code(i: int) -> str:
    """Seller Center's codes start with the shop's region: US00003, DE00022, PH00010."""
    return f"{_region(i)}{i:05d}"


def shop_names(count: int, seed: int) -> list[str]:
    """`count` shop names, the same for the same seed: each brand-and-kind pair once, then with a
    city of the shop's region ("Cedar Candles Lyon")."""
    pairs = [f"{brand} {kind}" for brand in BRANDS for kind in KINDS]
    random.Random(seed).shuffle(pairs)
    names = []
    for i in range(count):
        round_, pair = divmod(i, len(pairs))
        cities = CITIES.get(_region(i), CITIES["US"])
        names.append(pairs[pair] if not round_ else f"{pairs[pair]} {cities[(round_ - 1) % len(cities)]}")
    return names


def _walk(rng: random.Random, days: int, *, start: int, end: int) -> list[int]:
    """A noisy path from start to end over the given days, clamped to 0..1000."""
    values = []
    for t in range(days):
        base = start + (end - start) * t / max(days - 1, 1)
        values.append(max(0, min(1000, round(base + rng.gauss(0, 3)))))
    return values


def _series(
    rng: random.Random, i: int, days: int
) -> tuple[list[int | None], list[int | None], list[list[int | None]]]:
    """Daily AHR, SPS (tenths) and per-account CHR for one shop, oldest first."""
    if i < len(ARCHETYPES):
        ahr0, ahr1, ahr7, sps0, sps1, chr0, chr7 = ARCHETYPES[i]
    else:
        ahr0 = rng.choice([rng.randint(200, 420)] * 6 + [rng.randint(51, 199)] * 3 + [rng.randint(0, 50)])
        ahr1 = ahr0 + rng.choice([0] * 8 + [rng.randint(-5, 5), rng.randint(21, 45)])
        ahr7 = ahr1 + rng.choice([0] * 5 + [rng.randint(-10, 10), rng.randint(10, 40)])
        sps0 = rng.choice([0, rng.randint(15, 34)] + [rng.randint(35, 50)] * 8)
        sps1 = sps0 if sps0 == 0 else min(50, sps0 + rng.choice([0] * 8 + [rng.randint(1, 9)]))
        chr0 = rng.choice([rng.randint(200, 600)] * 7 + [rng.randint(151, 199), rng.randint(0, 150)])
        chr7 = chr0 + rng.choice([0] * 7 + [rng.randint(21, 60)])
        ahr1, ahr7 = (max(0, min(1000, v)) for v in (ahr1, ahr7))
        chr7 = min(1000, chr7)
    # History drifts to the 7-days-ago value, then moves linearly to yesterday's, then today's.
    week = [round(ahr7 + (ahr1 - ahr7) * k / 6) for k in range(7)]
    history = _walk(rng, max(days - 7, 1), start=ahr7 + rng.randint(0, 30), end=ahr7)[:-1]
    ahr: list[int | None] = [*history, *week, ahr0]
    ahr = ahr[-days:]
    sps: list[int | None] = [*([sps1] * (days - 1)), sps0]
    if i % 37 == 11:
        sps[-2] = None  # a missing day: no delta, no flag
    accounts = 5 if i % 53 == 6 else 1 + (i % 3 == 0) + (i % 7 == 0)
    chr_series: list[list[int | None]] = []
    for a in range(accounts):
        worst = a == 0
        end = chr0 if worst else max(chr0, rng.randint(200, 700))
        start = chr7 if worst else end
        if worst and (i == 3 or i % 11 == 5):
            series: list[int | None] = [*([start] * (days - 1)), end]  # the whole fall since yesterday
        else:
            series = [*([start] * (days - 7)), *(round(start + (end - start) * k / 7) for k in range(1, 8))]
        chr_series.append(series[-days:])
    return ahr, sps, chr_series


def _violation_rows(rng: random.Random, i: int, end: dt.date, handles: list[str]) -> Iterator[dict[str, str]]:
    enforcement_shop = ["Enforced", "No action", "Pending", "Revoked"]
    enforcement_account = ["Enforced", "Enforcement pending", "Violation warning"]
    appeals_shop = [
        "Not appealed",
        "Appealing",
        "Appeal failed (can appeal again)",
        "Appeal failed",
        "Appeal succeeded",
    ]
    count = rng.choice([0, 0, 1, 1, 2, 3, 5]) if i >= len(ARCHETYPES) else 3
    for n in range(count):
        age = rng.choice([0, 3, 7, 8, 20, 29, 30, 31, 45, 60, 61, 120]) if n else (i * 3) % 28
        notified = end - dt.timedelta(days=age)
        account = bool(handles) and (n + i) % 4 == 3
        status_index = i + n
        if account:
            appeal = rng.choice(["Not yet appealed", "Appealing", "Appeal failed", "Appeal succeeded"])
            enforcement = enforcement_account[status_index % 3]
        else:
            appeal = appeals_shop[status_index % 5]
            enforcement = "Revoked" if appeal == "Appeal succeeded" else enforcement_shop[status_index % 3]
        rejected = ""
        if appeal.startswith("Appeal failed"):
            rejected = (notified + dt.timedelta(days=min(age, rng.randint(1, 10)))).isoformat()
        yield {
            "violation_id": f"V{i:06d}{n:02d}",
            "shop_id": _shop_id(i),
            "scope": "account" if account else "shop",
            "tiktok_handle": handles[n % len(handles)] if account else "",
            "policy": POLICIES[(i + n) % len(POLICIES)] if i % 5 else POLICIES[0],
            "notified_at": notified.isoformat(),
            "enforcement_status": enforcement,
            "appeal_status": appeal,
            "points": str(rng.choice([0, 4, 8, 12, 20]) if enforcement != "Violation warning" else 0),
            "appeal_rejected_at": rejected,
            "violation_status": ("Violation - Deduction" if n % 2 == 0 else "Violation - Warning")
            if account
            else "",
        }


def _numbered(rows: Iterator[dict[str, str]]) -> Iterator[tuple[int, dict[str, str]]]:
    yield from enumerate(rows, start=2)


def generate(size: DemoSize, end: dt.date) -> dict[Kind, Iterator[tuple[int, dict[str, str]]]]:
    """Row streams per kind, as a CSV file of that kind would give them."""
    names = shop_names(size.shops, size.seed)
    start = end - dt.timedelta(days=size.days - 1)

    def shops() -> Iterator[dict[str, str]]:
        for i in range(size.shops):
            region = _region(i)
            yield {
                "shop_id": _shop_id(i),
                "shop_code": _shop_code(i),
                "shop_name": names[i],
                "region": region,
                "authorized": "false" if i % 23 == 12 else "true",
                "chr_authorized": "false" if i % 17 == 9 or i % 23 == 12 else "true",
                "owner": f"U{(i % 6) + 1:08d}" if i % 4 else "",
                "slack_channel": f"C{i:08d}" if i % 10 == 3 else "",
                "seller_center_url": "",
                "auth_request_url": "",
            }

    def per_shop() -> Iterator[tuple[int, random.Random]]:
        for i in range(size.shops):
            yield i, random.Random(size.seed * 1_000_003 + i)

    def metrics() -> Iterator[dict[str, str]]:
        for i, rng in per_shop():
            ahr, sps, _ = _series(rng, i, size.days)
            # 48-point regions have no AHR: they collect penalty points from violations instead.
            points_region = domain.uses_penalty_points(_region(i))
            gmv = round(rng.lognormvariate(8, 1.3), 2)
            orders = int(gmv / 35)  # about $35 an order: the recovery estimate's order rate
            for t in range(size.days):
                day = start + dt.timedelta(days=t)
                yield {
                    "date": day.isoformat(),
                    "shop_id": _shop_id(i),
                    "ahr": "" if points_region else str(ahr[t]),
                    "sps": "" if sps[t] is None else domain.format_sps(sps[t]) if sps[t] else "0",
                    "gmv_7d": f"{gmv * (0.9 + 0.2 * ((t * 7 + i) % 10) / 10):.2f}",
                    "completed_orders_7d": str(orders),
                }

    def accounts() -> Iterator[dict[str, str]]:
        for i, rng in per_shop():
            _, _, chr_series = _series(rng, i, size.days)
            for a, series in enumerate(chr_series):
                handle = _handle(names[i], i, a)
                for t in range(size.days):
                    yield {
                        "date": (start + dt.timedelta(days=t)).isoformat(),
                        "shop_id": _shop_id(i),
                        "tiktok_handle": handle,
                        "chr": str(series[t]),
                    }

    def violations() -> Iterator[dict[str, str]]:
        for i in range(size.shops):
            rng = random.Random(size.seed * 7919 + i)
            _, _, chr_series = _series(random.Random(size.seed * 1_000_003 + i), i, size.days)
            handles = [_handle(names[i], i, a) for a in range(len(chr_series))]
            yield from _violation_rows(rng, i, end, handles)

    def security() -> Iterator[dict[str, str]]:
        # Security Center is for selected sellers only: about one shop in seven.
        kinds = ("alert_order", "risk_refund", "fraud_blocked")
        for i in range(0, size.shops, 7):
            rng = random.Random(size.seed * 104_729 + i)
            for n in range(rng.randint(1, 4)):
                kind = kinds[(i + n) % 3]
                yield {
                    "signal_id": f"S{i:06d}{n:02d}",
                    "shop_id": _shop_id(i),
                    "kind": kind,
                    "order_id": f"57{i:07d}{n:03d}",
                    "occurred_at": (end - dt.timedelta(days=rng.randint(0, 20))).isoformat(),
                    "state": "open" if kind != "fraud_blocked" and n % 3 != 2 else "resolved",
                    "amount": f"{rng.uniform(8, 240):.2f}",
                }

    return {
        Kind.SHOPS: _numbered(shops()),
        Kind.METRICS: _numbered(metrics()),
        Kind.ACCOUNTS: _numbered(accounts()),
        Kind.VIOLATIONS: _numbered(violations()),
        Kind.SECURITY: _numbered(security()),
    }


def _region(i: int) -> str:
    if i < len(ARCHETYPES):
        return "US"
    return "PH" if i == len(ARCHETYPES) else "MY" if i == len(ARCHETYPES) + 1 else REGIONS[i % len(REGIONS)]


def _handle(name: str, i: int, account: int) -> str:
    base = name.split()[0].lower() + name.split()[1].lower()
    return f"{base}{i}" if account == 0 else f"{base}{i}_{account}"


def load_demo(factory: sessionmaker[Session], size: DemoSize, end: dt.date) -> list[ImportResult]:
    """Write the portfolio through the importer; every file must import cleanly."""
    results = []
    for kind, rows in generate(size, end).items():
        result = import_source(factory, kind, rows, source=f"demo:{kind}", rebuild=False)
        if result.errors:
            raise RuntimeError(f"demo {kind} rows failed to import: {result.errors[:3]}")
        results.append(result)
    with transaction(factory) as session:
        rebuild_shop_health(session)
        data_changed(session)
    return results
