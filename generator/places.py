"""Places: validated rows grouped into towns, counties and states, with geography between them.

A town is one (name, state) pair with all its ZIP codes; its position is the mean of its ZIP
centroids. Nothing here knows about pages or URLs.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from .geo import Point, ZipRecord, centroid, compass_direction, distance_miles
from .validate import STATE_NAMES, Location, name_key


@dataclass(frozen=True)
class Bearing:
    """Straight-line distance and compass direction from one place to another."""

    miles: float
    direction: str

    @property
    def text(self) -> str:
        if self.miles < 1:
            return "less than a mile"
        miles = round(self.miles)
        return f"about {miles} mile{'s' if miles != 1 else ''} {self.direction}"


@dataclass(frozen=True)
class Town:
    name: str
    state: str
    place_type: str
    counties: tuple[str, ...]  # primary county first
    zips: tuple[ZipRecord, ...]
    zip_counties: tuple[str, ...]  # the table's county of each ZIP, in the order of `zips`
    rows: tuple[int, ...]
    point: Point

    @property
    def key(self) -> tuple[str, str]:
        return (self.state, self.name)

    @property
    def county(self) -> str:
        return self.counties[0]

    @property
    def postal_cities(self) -> tuple[str, ...]:
        """Postal city names of the town's ZIPs other than its own name (for neighbourhoods)."""
        names = dict.fromkeys(z.city for z in self.zips if not self.is_named(z.city))
        return tuple(names)

    def is_named(self, postal_city: str) -> bool:
        """True when a database city name is this town's name ('Mc Lean' for McLean)."""
        return name_key(postal_city) == name_key(self.name)


@dataclass(frozen=True)
class County:
    name: str
    state: str
    towns: tuple[Town, ...]


@dataclass(frozen=True)
class State:
    code: str
    name: str
    counties: tuple[County, ...]
    towns: tuple[Town, ...]


@dataclass(frozen=True)
class Places:
    states: tuple[State, ...]
    towns: tuple[Town, ...]
    clinic: Point
    source: str = "locations"


def group_places(locations: tuple[Location, ...], clinic: Point, source: str) -> Places:
    """Group rows into towns, counties and states, sorted by name for stable output."""
    rows_by_town: dict[tuple[str, str], list[Location]] = defaultdict(list)
    for location in locations:
        rows_by_town[(location.state, location.town)].append(location)
    towns = tuple(
        sorted(
            (_town(rows) for rows in rows_by_town.values()),
            key=lambda t: (t.state, t.name.casefold(), t.name),
        )
    )
    states = tuple(
        _state(code, [t for t in towns if t.state == code])
        for code in sorted({t.state for t in towns})
    )
    return Places(states=states, towns=towns, clinic=clinic, source=source)


def _town(rows: list[Location]) -> Town:
    zips = tuple(sorted({r.record.zip: r.record for r in rows}.values(), key=lambda z: z.zip))
    county_of_zip = {r.zip: r.county for r in rows}
    county_counts = Counter(r.county for r in rows)
    counties = tuple(sorted(county_counts, key=lambda c: (-county_counts[c], c)))
    first = rows[0]
    return Town(
        name=first.town,
        state=first.state,
        place_type=first.place_type,
        counties=counties,
        zips=zips,
        zip_counties=tuple(county_of_zip[z.zip] for z in zips),
        rows=tuple(r.row for r in rows),
        point=centroid(Point(z.latitude, z.longitude) for z in zips),
    )


def _state(code: str, towns: list[Town]) -> State:
    by_county: dict[str, list[Town]] = defaultdict(list)
    for town in towns:
        for county in town.counties:
            by_county[county].append(town)
    counties = tuple(
        County(name, code, tuple(by_county[name])) for name in sorted(by_county, key=str.casefold)
    )
    return State(code=code, name=STATE_NAMES.get(code, code), counties=counties, towns=tuple(towns))


def bearing(origin: Point, target: Point) -> Bearing:
    return Bearing(distance_miles(origin, target), compass_direction(origin, target))


def nearest_towns(towns: tuple[Town, ...], count: int) -> dict[tuple[str, str], tuple[Town, ...]]:
    """The `count` nearest other towns of every town (exact, by great-circle distance).

    Towns become points on the unit sphere, where straight chord length orders pairs exactly as
    great-circle distance does, so a k-d tree answers every query in logarithmic time."""
    if len(towns) < 2 or count < 1:
        return {town.key: () for town in towns}
    points = np.array([_unit_vector(t.point) for t in towns])
    k = min(count + 1, len(towns))
    _, indices = cKDTree(points).query(points, k=k)
    nearest = {}
    for index, town in enumerate(towns):
        others = [int(i) for i in np.atleast_1d(indices[index]) if i != index][:count]
        # Equal distances (towns sharing a centroid) are ordered by name, for stable output.
        others.sort(
            key=lambda i: (round(distance_miles(town.point, towns[i].point), 6), towns[i].name)
        )
        nearest[town.key] = tuple(towns[i] for i in others)
    return nearest


def _unit_vector(point: Point) -> tuple[float, float, float]:
    lat, lon = math.radians(point.latitude), math.radians(point.longitude)
    return (math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat))
