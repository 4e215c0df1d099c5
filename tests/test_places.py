"""Grouping validated rows into towns, counties and states: order, primary county, ZIPs, rows."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from generator.geo import (
    Point,
    compass_direction,
    distance_miles,
    lookup_zip,
    spot,
    spot_distance_and_direction,
)
from generator.load import read_table
from generator.places import Places, Town, group_places
from generator.validate import Location, validate_table

CLINIC = Point(38.8462, -77.3064)
ROWS = [
    "22314,Alexandria,Alexandria city,VA,town",  # row 2
    "22306,Alexandria,Fairfax County,VA,town",
    "22301,Alexandria,Alexandria city,VA,town",
    "22310,Alexandria,Fairfax County,VA,town",
    "22312,Alexandria,Fairfax County,VA,town",  # row 6
    "22046,Falls Church,Falls Church city,VA,town",
    "22042,Falls Church,Fairfax County,VA,town",
    "20814,Bethesda,Montgomery County,MD,town",
    "22180,Vienna,Fairfax County,VA,town",  # row 10
    "22181,Vienna,Fairfax County,VA,town",
    "22003,annandale,Fairfax County,VA,neighborhood",
]


def _locations(tmp_path: Path) -> tuple[Location, ...]:
    table = tmp_path / "t.csv"
    table.write_text("zip,town,county,state,type\n" + "\n".join(ROWS) + "\n", encoding="utf-8")
    return validate_table(read_table(table)).locations


@pytest.fixture
def places(tmp_path: Path) -> Places:
    return group_places(_locations(tmp_path), CLINIC, "t.csv")


def _town(places: Places, name: str) -> Town:
    (town,) = [t for t in places.towns if t.name == name]
    return town


def test_towns_are_sorted_by_state_then_name_ignoring_case(places: Places) -> None:
    assert [t.key for t in places.towns] == [
        ("MD", "Bethesda"),
        ("VA", "Alexandria"),
        ("VA", "annandale"),
        ("VA", "Falls Church"),
        ("VA", "Vienna"),
    ]
    assert (places.clinic, places.source) == (CLINIC, "t.csv")


def test_a_town_spanning_counties_has_its_zips_in_order_with_their_counties(
    places: Places,
) -> None:
    town = _town(places, "Alexandria")
    assert [z.zip for z in town.zips] == ["22301", "22306", "22310", "22312", "22314"]
    assert town.zip_counties == (
        "Alexandria city",
        "Fairfax County",
        "Fairfax County",
        "Fairfax County",
        "Alexandria city",
    )
    assert town.zips[0] == lookup_zip("22301")
    assert town.rows == (2, 3, 4, 5, 6)
    assert (town.place_type, town.state) == ("town", "VA")


def test_the_primary_county_has_most_zips_and_ties_go_by_name(places: Places) -> None:
    # Alexandria: 3 ZIPs in Fairfax County, 2 in Alexandria city (first in the table).
    assert _town(places, "Alexandria").counties == ("Fairfax County", "Alexandria city")
    # Falls Church: one ZIP each; the table names Falls Church city first, the name order wins.
    assert _town(places, "Falls Church").counties == ("Fairfax County", "Falls Church city")
    assert _town(places, "Falls Church").county == "Fairfax County"


def test_a_town_is_at_the_centroid_of_its_zips(places: Places) -> None:
    vienna = _town(places, "Vienna")
    first, second = lookup_zip("22180"), lookup_zip("22181")
    assert vienna.point == Point(
        (first.latitude + second.latitude) / 2, (first.longitude + second.longitude) / 2
    )
    assert vienna.point == pytest.approx(Point(38.8956, -77.2706))
    assert _town(places, "Bethesda").point == Point(
        lookup_zip("20814").latitude, lookup_zip("20814").longitude
    )


def test_states_list_their_counties_ignoring_case_each_with_its_towns(places: Places) -> None:
    assert [(s.code, s.name) for s in places.states] == [("MD", "Maryland"), ("VA", "Virginia")]
    virginia = places.states[1]
    assert [t.name for t in virginia.towns] == ["Alexandria", "annandale", "Falls Church", "Vienna"]
    assert {c.name: [t.name for t in c.towns] for c in virginia.counties} == {
        "Alexandria city": ["Alexandria"],
        "Fairfax County": ["Alexandria", "annandale", "Falls Church", "Vienna"],
        "Falls Church city": ["Falls Church"],
    }
    assert [c.name for c in virginia.counties] == [
        "Alexandria city",
        "Fairfax County",
        "Falls Church city",
    ]
    assert all(c.state == "VA" for c in virginia.counties)


def test_counties_named_alike_but_for_case_keep_the_order_the_towns_name_them(
    tmp_path: Path,
) -> None:
    # Validation unifies such spellings; grouping alone still orders them the same every time.
    locations = _locations(tmp_path)
    vienna = [replace(loc, county="fairfax county") for loc in locations if loc.town == "Vienna"]
    others = [loc for loc in locations if loc.town != "Vienna"]
    virginia = group_places((*others, *vienna), CLINIC, "t.csv").states[1]
    assert [c.name for c in virginia.counties] == [
        "Alexandria city",
        "Fairfax County",
        "fairfax county",
        "Falls Church city",
    ]


@pytest.mark.parametrize("seed", range(5))
def test_the_order_of_the_rows_makes_no_difference(tmp_path: Path, seed: int) -> None:
    locations = list(_locations(tmp_path))
    expected = group_places(tuple(locations), CLINIC, "t.csv")
    random.Random(seed).shuffle(locations)
    assert group_places(tuple(locations), CLINIC, "t.csv") == expected


def test_no_rows_give_no_places() -> None:
    assert group_places((), CLINIC, "t.csv") == Places((), (), CLINIC, "t.csv")


def test_distance_and_direction_at_once_are_the_two_apart() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        a = Point(rng.uniform(-60, 70), rng.uniform(-180, 180))
        b = Point(a.latitude + rng.gauss(0, 2), a.longitude + rng.gauss(0, 2))
        both = spot_distance_and_direction(spot(a), spot(b))
        assert both == (distance_miles(a, b), compass_direction(a, b))
    assert distance_miles(CLINIC, CLINIC) == 0.0
    assert compass_direction(CLINIC, Point(CLINIC.latitude + 1, CLINIC.longitude)) == "north"
