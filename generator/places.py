"""Places: validated rows grouped into towns, counties and states, with geography between them.

A town is one (name, state) pair with all its ZIP codes; its position is the mean of its ZIP
centroids. The rows are grouped into towns, and towns into counties, with pandas. Nothing here
knows about pages or URLs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from scipy.spatial import cKDTree

from .geo import Point, Spot, ZipRecord, spot, spot_distance_and_direction
from .names import name_key
from .validate import STATE_NAMES, Location

if TYPE_CHECKING:
    import pandas as pd


class Bearing(NamedTuple):
    """Straight-line distance and compass direction from one place to another."""

    miles: float
    direction: str

    @property
    def text(self) -> str:
        return bearing_text(self.miles, self.direction)


def bearing_text(miles: float, direction: str) -> str:
    """'about 12 miles southwest', or 'less than a mile'."""
    return _bearing_text(0 if miles < 1 else round(miles), direction)


@lru_cache(maxsize=100_000)
def _bearing_text(miles: int, direction: str) -> str:
    """'about 12 miles southwest' ('less than a mile' for 0): one string per distinct text, shared
    by every page that says it."""
    if miles == 0:
        return "less than a mile"
    return f"about {miles} mile{'s' if miles != 1 else ''} {direction}"


@dataclass(frozen=True, slots=True)
class Town:
    name: str
    state: str
    place_type: str
    counties: tuple[str, ...]  # primary county first
    zips: tuple[ZipRecord, ...]
    zip_counties: tuple[str, ...]  # the table's county of each ZIP, in the order of `zips`
    rows: tuple[int, ...]
    point: Point
    # Worked out once per town, when it is made: (state, name), and its point ready for distances
    key: tuple[str, str] = field(init=False, repr=False, compare=False)
    spot: Spot = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.state, self.name))
        object.__setattr__(self, "spot", spot(self.point))

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


class Neighbour(NamedTuple):
    """A nearby town, with the distance and direction to it (as in its Bearing)."""

    town: Town
    miles: float
    direction: str

    @property
    def text(self) -> str:
        return bearing_text(self.miles, self.direction)


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
    if not locations:
        return Places(states=(), towns=(), clinic=clinic, source=source)
    towns = _towns(locations)
    return Places(states=_states(towns), towns=towns, clinic=clinic, source=source)


# The grouping is done by pandas on one table of the rows (index: position in `locations`),
# taken in row order so that the order of `locations` makes no difference: a town's first row
# gives its name and type, the last row of a repeated ZIP its county. pandas is imported when
# first needed: the site checks (validate, audit) never need it.


def _towns(locations: tuple[Location, ...]) -> tuple[Town, ...]:
    """One town per (state, name), in (state, name.casefold(), name) order."""
    frame = _location_frame(locations)
    rows = _Groups(frame, "town_id")
    firsts = rows.frame.drop_duplicates("town_id")
    zips = _Groups(frame.drop_duplicates(["town_id", "zip"], keep="last"), "town_id", ["zip"])
    records = [locations[i].record for i in zips.frame.index]
    counties = frame.groupby(["town_id", "county"]).size().reset_index(name="rows")
    counties = _Groups(counties.assign(fewer=-counties["rows"]), "town_id", ["fewer", "county"])
    return tuple(
        Town(
            name=name,
            state=state,
            place_type=place_type,
            counties=town_counties,
            zips=town_zips,
            zip_counties=zip_counties,
            rows=town_rows,
            point=_centroid(town_zips),
        )
        for name, state, place_type, town_counties, town_zips, zip_counties, town_rows in zip(
            firsts["town"].tolist(),
            firsts["state"].tolist(),
            firsts["place_type"].tolist(),
            counties.tuples("county"),
            zips.split(records),
            zips.tuples("county"),
            rows.tuples("row"),
            strict=True,
        )
    )


def _location_frame(locations: tuple[Location, ...]) -> pd.DataFrame:
    """The rows as a table in row order (whatever order they come in), with `town_id`
    numbering the towns in their sorted order."""
    import pandas as pd

    columns = ("state", "town", "county", "zip", "place_type")
    values = zip(*map(attrgetter(*columns), locations), strict=True)
    frame = pd.DataFrame(
        {c: pd.array(v, dtype="string") for c, v in zip(columns, values, strict=True)}
    )
    frame["row"] = [loc.row for loc in locations]
    frame = frame.sort_values("row", kind="stable")
    frame["fold"] = frame["town"].str.casefold()
    frame["town_id"] = frame.groupby(["state", "fold", "town"], sort=True).ngroup()
    return frame


class _Groups:
    """A table sorted into the groups of `by` (in sorted order); within a group sorted by
    `order`, then in the table's order."""

    def __init__(self, frame: pd.DataFrame, by: str | list[str], order: Sequence[str] = ()):
        by = [by] if isinstance(by, str) else by
        self.frame = frame.sort_values([*by, *order], kind="stable")
        sizes = self.frame.groupby(by, sort=True).size()
        self.ends = sizes.cumsum().tolist()
        self.starts = [0, *self.ends[:-1]]

    def tuples(self, column: str) -> list[tuple[Any, ...]]:
        """The column's values, one tuple per group."""
        return self.split(self.frame[column].tolist())

    def split(self, values: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Values parallel to the sorted table, one tuple per group."""
        return [tuple(values[start:end]) for start, end in zip(self.starts, self.ends, strict=True)]


def _states(towns: tuple[Town, ...]) -> tuple[State, ...]:
    """States in code order; `towns` is sorted by state, and so are its counties."""
    counties = {
        code: tuple(group)
        for code, group in itertools.groupby(_counties(towns), key=attrgetter("state"))
    }
    return tuple(
        State(code, STATE_NAMES.get(code, code), counties[code], tuple(group))
        for code, group in itertools.groupby(towns, key=attrgetter("state"))
    )


def _counties(towns: tuple[Town, ...]) -> list[County]:
    """Every county of every state in (state, name.casefold()) order, each with its towns in
    town order. Names that casefold alike keep the order in which the towns first name them."""
    import pandas as pd

    pairs = pd.DataFrame(
        {
            "town": [i for i, town in enumerate(towns) for _ in town.counties],
            "state": pd.array([t.state for t in towns for _ in t.counties], dtype="string"),
            "county": pd.array([c for t in towns for c in t.counties], dtype="string"),
        }
    )
    pairs["fold"] = pairs["county"].str.casefold()
    pairs["seen"] = pairs.groupby(["state", "county"], sort=False).ngroup()
    groups = _Groups(pairs, ["state", "fold", "seen"])
    names = groups.frame.drop_duplicates("seen")
    return [
        County(name, state, tuple(towns[i] for i in members))
        for name, state, members in zip(
            names["county"].tolist(),
            names["state"].tolist(),
            groups.tuples("town"),
            strict=True,
        )
    ]


def _centroid(zips: tuple[ZipRecord, ...]) -> Point:
    """The mean position of the ZIP centroids (as geo.centroid computes it)."""
    return Point(
        sum(z.latitude for z in zips) / len(zips), sum(z.longitude for z in zips) / len(zips)
    )


def nearest_towns(towns: tuple[Town, ...], count: int) -> dict[tuple[str, str], tuple[Town, ...]]:
    """The `count` nearest other towns of every town, nearest first by straight chord length
    (their exact order, and the distance and direction to each, come from neighbours()).

    Towns become points on the unit sphere, where straight chord length orders pairs exactly as
    great-circle distance does, so a k-d tree answers every query in logarithmic time."""
    if len(towns) < 2 or count < 1:
        return {town.key: () for town in towns}
    points = np.array([_unit_vector(t.point) for t in towns])
    k = min(count + 1, len(towns))  # at least 2, so each row of `indices` is a list
    _, indices = cKDTree(points).query(points, k=k)
    return {
        town.key: tuple([towns[i] for i in row if i != index][:count])
        for index, (town, row) in enumerate(zip(towns, indices.tolist(), strict=True))
    }


def neighbours(town: Town, nearest: tuple[Town, ...]) -> tuple[Neighbour, ...]:
    """The towns `nearest` to `town` (from nearest_towns), each with the distance and direction
    to it, by great-circle distance rounded to 6 places; equal ones (towns sharing a centroid)
    by name, for stable output."""
    origin = town.spot
    found = [Neighbour(t, *spot_distance_and_direction(origin, t.spot)) for t in nearest]
    # Nearest first already: when each is more than 2e-6 miles farther than the one before,
    # their rounded distances increase too, and they are in order.
    miles = [n.miles for n in found]
    if all(farther - nearer > 2e-6 for nearer, farther in itertools.pairwise(miles)):
        return tuple(found)
    return tuple(sorted(found, key=lambda n: (round(n.miles, 6), n.town.name)))


def _unit_vector(point: Point) -> tuple[float, float, float]:
    lat, lon = math.radians(point.latitude), math.radians(point.longitude)
    return (math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat))
