"""Benchmark datasets: every active US ZIP of the ZIP database grouped into towns, and subsets.

A town is a (postal city, state) pair of `zipcodes.list_all()`; each of its active ZIPs is one
row `zip,town,county,state`. Rows our validation or planner would reject are left out, so every
dataset builds: ZIPs with no county or no coordinates (Puerto Rico, the military "states", a
few others), states our validation does not know (FM, MH, PW), and towns whose URL slug would
collide with another town's in the same state. A county the database spells two ways
('Roanoke city' and 'Roanoke City') gets its most common spelling, or our validation would warn
on each row. The subsets are deterministic: whole towns, every Nth town of the sorted list.

    python benchmarks/datasets.py --sizes 1000,10000,all --out /dev/shm/nova-bench/data
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import zipcodes
from slugify import slugify

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.validate import USPS_STATES

HEADER = ("zip", "town", "county", "state")

Row = tuple[str, str, str, str]
TownKey = tuple[str, str]  # (state, town)


@dataclass(frozen=True)
class Dataset:
    """One CSV written for the benchmark."""

    name: str
    path: Path
    towns: int
    rows: int


def usable_rows() -> list[Row]:
    """Active ZIPs with a county, coordinates and a state our validation accepts."""
    rows = []
    for record in zipcodes.list_all():
        if not record["active"] or record["state"] not in USPS_STATES:
            continue
        if not record["county"] or not record["lat"] or not record["long"]:
            continue
        rows.append((record["zip_code"], record["city"], record["county"], record["state"]))
    return rows


def unify_counties(rows: list[Row]) -> list[Row]:
    """One spelling per county: the database writes some both ways ('Roanoke city' / 'City')."""
    spellings: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for row in rows:
        spellings[(row[3], row[2].casefold())][row[2]] += 1
    chosen = {key: counts.most_common(1)[0][0] for key, counts in spellings.items()}
    return [(z, town, chosen[(state, county.casefold())], state) for z, town, county, state in rows]


def group_towns(rows: list[Row]) -> dict[TownKey, list[Row]]:
    """Rows by (state, town), sorted by state, town, then ZIP; slug collisions dropped."""
    towns: dict[TownKey, list[Row]] = defaultdict(list)
    for row in unify_counties(rows):
        towns[(row[3], row[1])].append(row)
    keep = _without_slug_collisions(towns)
    return {key: sorted(towns[key]) for key in sorted(keep, key=lambda k: (k[0], k[1].casefold()))}


def _without_slug_collisions(towns: dict[TownKey, list[Row]]) -> list[TownKey]:
    """Towns whose URL slug is unique in their state."""
    by_slug: dict[tuple[str, str], list[TownKey]] = defaultdict(list)
    for state, town in towns:
        by_slug[(state, slugify(town))].append((state, town))
    return [keys[0] for slug, keys in by_slug.items() if slug[1] and len(keys) == 1]


def subset(towns: dict[TownKey, list[Row]], size: int) -> dict[TownKey, list[Row]]:
    """`size` whole towns: every Nth town of the sorted list (all towns if size is larger)."""
    keys = list(towns)
    if size >= len(keys):
        return towns
    step = len(keys) / size
    return {keys[int(i * step)]: towns[keys[int(i * step)]] for i in range(size)}


def write_csv(path: Path, towns: dict[TownKey, list[Row]]) -> int:
    """Write the rows of `towns` (already sorted) and return the number of rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [row for town_rows in towns.values() for row in town_rows]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    return len(rows)


def make_datasets(folder: Path, sizes: list[str]) -> dict[str, Dataset]:
    """One CSV per size ('1000', '10000', 'all') in `folder`, e.g. towns-1000.csv."""
    towns = group_towns(usable_rows())
    made = {}
    for size in sizes:
        chosen = towns if size == "all" else subset(towns, int(size))
        path = folder / f"towns-{size}.csv"
        made[size] = Dataset(size, path, len(chosen), write_csv(path, chosen))
    return made


def drop_one_zip(path: Path) -> str:
    """The benchmark's one-row change: delete the last ZIP row of the multi-ZIP town nearest
    the middle of the file (changes that town's page, its hubs' counts, nearby towns' notes)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    counts = Counter((row[3], row[1]) for row in body)
    middle = len(body) // 2
    candidates = [i for i, row in enumerate(body) if counts[(row[3], row[1])] > 1]
    index = min(candidates, key=lambda i: (abs(i - middle), i))
    town = (body[index][3], body[index][1])
    last = max(i for i in candidates if (body[i][3], body[i][1]) == town)
    removed = body.pop(last)
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *body])
    return f"removed row {removed[0]} ({removed[1]}, {removed[3]}; {counts[town]} ZIPs before)"


def parse_sizes(text: str) -> list[str]:
    """'1000,10000,all' -> ['1000', '10000', 'all'], checking each item."""
    sizes = [s.strip().lower() for s in text.split(",") if s.strip()]
    for size in sizes:
        if size != "all" and not size.isdigit():
            raise argparse.ArgumentTypeError(f"size {size!r} is neither a number nor 'all'")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("1000,10000,all"))
    parser.add_argument("--out", type=Path, default=Path("/dev/shm/nova-bench/data"))
    args = parser.parse_args(argv)
    for dataset in make_datasets(args.out, args.sizes).values():
        print(f"{dataset.path}: {dataset.towns} towns, {dataset.rows} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
