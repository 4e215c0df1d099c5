"""Static maps: projection onto the canvas, where labels go, and how the template draws them."""

from __future__ import annotations

from pathlib import Path

from lxml import html

from generator.geo import Point
from generator.maps import (
    LABEL_DROP,
    LABEL_GAP,
    LABEL_ROOM,
    PADDING,
    WIDTH,
    MapData,
    Marker,
    make_map,
)
from generator.render import make_environment

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_markers_keep_their_order_and_fit_inside_the_padding() -> None:
    places = [
        (Point(38.90, -77.40), "West", "place"),
        (Point(38.80, -77.10), "East", "clinic"),
        (Point(38.85, -77.25), "Middle", "focus"),
    ]
    drawn = make_map(places, "title", "description")
    assert [(m.label, m.role) for m in drawn.markers] == [(p[1], p[2]) for p in places]
    for marker in drawn.markers:
        assert PADDING <= marker.x <= WIDTH - PADDING
        assert PADDING <= marker.y <= drawn.height - PADDING
    west, east, middle = drawn.markers
    assert west.x < middle.x < east.x and west.y < middle.y < east.y  # north is up


def test_a_label_sits_right_of_its_marker_when_there_is_room() -> None:
    marker = Marker(WIDTH - LABEL_ROOM - 0.1, 100.0, "Vienna", "place")
    assert (marker.label_x, marker.label_y, marker.label_anchor) == (
        marker.x + LABEL_GAP,
        100.0 + LABEL_DROP,
        "start",
    )


def test_a_label_near_the_right_edge_ends_left_of_its_marker() -> None:
    marker = Marker(WIDTH - LABEL_ROOM, 100.0, "Vienna", "place")
    assert (marker.label_x, marker.label_anchor) == (marker.x - LABEL_GAP, "end")


def test_the_template_draws_each_marker_and_label_where_the_map_says() -> None:
    markers = (
        Marker(100.5, 200.3, "Vienna", "place"),
        Marker(600.2, 50.7, "Far <East>", "focus"),
        Marker(320.0, 210.0, "", "place"),
        Marker(300.1, 150.9, "Clinic", "clinic"),
    )
    page = MapData(WIDTH, 420, markers, "Map & more", "A description")
    template = make_environment(TEMPLATES).get_template("partials/map.html")
    svg = html.fromstring(template.render(map=page)).find(".//svg")
    labels = [
        (t.get("x"), t.get("y"), t.get("text-anchor"), t.get("font-size"), t.text)
        for t in svg.iter("text")
    ]
    assert labels == [
        ("111.5", "204.3", "start", "12", "Vienna"),
        ("589.2", "54.7", "end", "15", "Far <East>"),
        ("311.1", "154.9", "start", "15", "Clinic"),
    ]
    assert [(c.get("cx"), c.get("cy"), c.get("r")) for c in svg.iter("circle")] == [
        ("100.5", "200.3", "4"),
        ("600.2", "50.7", "8"),
        ("320.0", "210.0", "4"),
    ]
    (square,) = [r for r in svg.iter("rect") if r.get("transform")]
    assert (square.get("x"), square.get("y")) == ("293.1", "143.9")
    assert square.get("transform") == "rotate(45 300.1 150.9)"
