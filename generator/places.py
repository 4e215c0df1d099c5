"""Places: validated rows grouped into towns, counties and states, with geography between them.

A town is one (name, state) pair with all its ZIP codes; its position is the mean of its ZIP
centroids. Nothing here knows about pages or URLs.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from .geo import Point, ZipRecord, centroid, compass_direction, distance_miles
from .validate import STATE_NAMES, Location, name_key

GRID_DEGREES = 0.5


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
    """The `count` nearest other towns of every town, found through a coarse grid of cells."""
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, town in enumerate(towns):
        cells[_cell(town.point)].append(index)
    extent = max((max(abs(r), abs(c)) for r, c in cells), default=0)
    return {
        town.key: tuple(towns[i] for i in _nearest(index, towns, cells, count, extent))
        for index, town in enumerate(towns)
    }


def _cell(point: Point) -> tuple[int, int]:
    return (math.floor(point.latitude / GRID_DEGREES), math.floor(point.longitude / GRID_DEGREES))


def _nearest(
    index: int,
    towns: tuple[Town, ...],
    cells: dict[tuple[int, int], list[int]],
    count: int,
    extent: int,
) -> list[int]:
    origin = towns[index].point
    row, col = _cell(origin)
    found: list[tuple[float, str, int]] = []
    ring = 0
    max_ring = 2 * extent + 1
    while ring <= max_ring:
        for cell in _ring(row, col, ring):
            for other in cells.get(cell, ()):
                if other != index:
                    found.append(
                        (distance_miles(origin, towns[other].point), towns[other].name, other)
                    )
        found.sort()
        if len(found) == len(towns) - 1:
            break
        # Every town outside the rings searched so far is at least `ring` cells away.
        if len(found) >= count and found[count - 1][0] <= _ring_reach_miles(origin, ring):
            break
        ring += 1
    return [other for _, _, other in found[:count]]


def _ring(row: int, col: int, ring: int):
    for r in range(row - ring, row + ring + 1):
        for c in range(col - ring, col + ring + 1):
            if max(abs(r - row), abs(c - col)) == ring:
                yield (r, c)


def _ring_reach_miles(origin: Point, ring: int) -> float:
    """A lower bound on the distance to any point outside the searched square of cells."""
    degrees = ring * GRID_DEGREES
    lat_miles = degrees * 68.7
    lon_miles = degrees * 68.7 * math.cos(math.radians(min(89.0, abs(origin.latitude) + degrees)))
    return min(lat_miles, lon_miles)
