"""The bench's portfolio as CSV files, written once per size and reused while they are complete."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from bot.ingest.demo import DemoSize, generate
from bot.ingest.formats import KIND_ORDER


def write_csvs(size: DemoSize, folder: Path, end: dt.date) -> tuple[list[Path], int]:
    """The demo portfolio's files (in import order) and their row count."""
    marker = folder / "portfolio.json"
    wanted = {"shops": size.shops, "days": size.days, "seed": size.seed, "end": end.isoformat()}
    order = [k.value for k in KIND_ORDER]
    if marker.exists():
        done = json.loads(marker.read_text())
        if done["portfolio"] == wanted:
            paths = sorted(folder.glob("*.csv"), key=lambda p: order.index(p.stem))
            return paths, int(done["rows"])
    folder.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    print(f"writing portfolio ({size.shops:,} shops x {size.days} days) as CSV ...", flush=True)
    paths, rows = [], 0
    for kind, stream in generate(size, end).items():
        path = folder / f"{kind}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer: csv.DictWriter[str] | None = None
            for _, row in stream:
                if writer is None:  # the demo's rows carry every column their kind has
                    writer = csv.DictWriter(handle, fieldnames=list(row))
                    writer.writeheader()
                writer.writerow(row)
                rows += 1
        paths.append(path)
    paths.sort(key=lambda p: order.index(p.stem))
    marker.write_text(json.dumps({"portfolio": wanted, "rows": rows}))
    return paths, rows
