"""Geography from the offline US ZIP database (the `zipcodes` package): lookups and distances.

Distances are great-circle ("straight-line") miles between ZIP centroids; directions are the
initial compass bearing rounded to one of eight points. No road distances, no network.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import zipcodes

EARTH_RADIUS_MILES = 3958.8
ZIP_CODE = re.compile(r"[0-9]{5}")
# Up to this many ZIPs are looked up one by one (each lookup scans the database, ~0.3 ms);
# more are picked out of one pass over the whole database (~0.3 s).
ONE_BY_ONE_LIMIT = 1_000
COMPASS_POINTS = (
    "north",
    "northeast",
    "east",
    "southeast",
    "south",
    "southwest",
    "west",
    "northwest",
)


@dataclass(frozen=True)
class ZipRecord:
    """What the ZIP database says about one ZIP code."""

    zip: str
    city: str
    county: str
    state: str
    kind: str  # STANDARD, PO BOX, UNIQUE or MILITARY
    latitude: float
    longitude: float
    acceptable_cities: tuple[str, ...] = ()

    @property
    def po_box_only(self) -> bool:
        return self.kind == "PO BOX"


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float


def lookup_zip(zip_code: str) -> ZipRecord | None:
    """The database record of a 5-digit ZIP, or None when the database does not know it."""
    return lookup_zips([zip_code]).get(zip_code)


def lookup_zips(zip_codes: Iterable[str]) -> dict[str, ZipRecord]:
    """The records of the 5-digit ZIPs among `zip_codes` that the database knows, by code.

    Only the records asked for are built: the database's list of every ZIP (100 MB of dicts,
    which `zipcodes.list_all()` would keep for good) is dropped once they are picked out."""
    wanted = {code for code in zip_codes if ZIP_CODE.fullmatch(code)}
    if len(wanted) <= ONE_BY_ONE_LIMIT:
        found = [raw for code in sorted(wanted) for raw in zipcodes.matching(code)]
    else:
        found = [raw for raw in zipcodes.filter_by() if raw["zip_code"] in wanted]
    return {raw["zip_code"]: _record(raw) for raw in found}


def _record(raw: dict) -> ZipRecord:
    return ZipRecord(
        zip=raw["zip_code"],
        city=raw["city"],
        county=raw["county"],
        state=raw["state"],
        kind=raw["zip_code_type"],
        latitude=float(raw["lat"]),
        longitude=float(raw["long"]),
        acceptable_cities=tuple(raw.get("acceptable_cities") or ()),
    )


def city_centroid(city: str, state: str) -> Point | None:
    """The mean centroid of a city's standard ZIP codes, e.g. the clinic's city."""
    records = [_record(r) for r in zipcodes.filter_by(city=city, state=state)]
    standard = [r for r in records if r.kind == "STANDARD"] or records
    return centroid(Point(r.latitude, r.longitude) for r in standard) if standard else None


def centroid(points) -> Point:
    points = list(points)
    return Point(
        sum(p.latitude for p in points) / len(points),
        sum(p.longitude for p in points) / len(points),
    )


def distance_miles(a: Point, b: Point) -> float:
    """Great-circle distance by the haversine formula."""
    return spot_distance(spot(a), spot(b))


def compass_direction(origin: Point, target: Point) -> str:
    """Which of eight compass points 'target' lies towards, seen from 'origin'."""
    return spot_direction(spot(origin), spot(target))


class Spot(NamedTuple):
    """A point with the trigonometry of its latitude worked out, for many distances from it."""

    latitude: float  # radians
    cos_latitude: float
    sin_latitude: float
    longitude: float  # degrees


def spot(point: Point) -> Spot:
    latitude = math.radians(point.latitude)
    return Spot(latitude, math.cos(latitude), math.sin(latitude), point.longitude)


def spot_distance(a: Spot, b: Spot) -> float:
    """distance_miles() between two spots."""
    dlon = math.radians(b.longitude - a.longitude)
    h = (
        math.sin((b.latitude - a.latitude) / 2) ** 2
        + a.cos_latitude * b.cos_latitude * math.sin(dlon / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))


def spot_direction(origin: Spot, target: Spot) -> str:
    """compass_direction() between two spots: the initial great-circle bearing, rounded."""
    dlon = math.radians(target.longitude - origin.longitude)
    x = math.sin(dlon) * target.cos_latitude
    y = (
        origin.cos_latitude * target.sin_latitude
        - origin.sin_latitude * target.cos_latitude * math.cos(dlon)
    )
    degrees = (math.degrees(math.atan2(x, y)) + 360) % 360
    return COMPASS_POINTS[round(degrees / 45) % 8]


def spot_distance_and_direction(origin: Spot, target: Spot) -> tuple[float, str]:
    """spot_distance() and spot_direction() at once, their common terms worked out once (the
    same floats: planning asks for both for every pair of neighbouring towns)."""
    lat1, cos1, sin1, lon1 = origin
    lat2, cos2, sin2, lon2 = target
    dlon = math.radians(lon2 - lon1)
    h = math.sin((lat2 - lat1) / 2) ** 2 + cos1 * cos2 * math.sin(dlon / 2) ** 2
    miles = 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))
    x = math.sin(dlon) * cos2
    y = cos1 * sin2 - sin1 * cos2 * math.cos(dlon)
    degrees = (math.degrees(math.atan2(x, y)) + 360) % 360
    return miles, COMPASS_POINTS[round(degrees / 45) % 8]
