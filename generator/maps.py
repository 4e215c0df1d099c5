"""Static maps: places projected onto a small SVG canvas, with no tiles and no requests.

A map is plain data (markers in canvas coordinates plus its text alternative); the template
draws it. Where a marker's label goes (right of the marker, or left of it near the right edge)
is decided here, so the template only prints it. The projection is equirectangular, scaled by
the cosine of the mean latitude, which is accurate enough at the scale of a county or a state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .geo import Point

WIDTH = 640
MAX_HEIGHT = 420
MIN_HEIGHT = 240
PADDING = 36
MIN_SPAN_DEGREES = 0.02
LABEL_GAP = 11  # pixels between a marker's centre and its label
LABEL_DROP = 4  # the label's baseline this far below the marker's centre
LABEL_ROOM = 150  # a label goes left of its marker when less room than this is left on its right
# Each canvas coordinate as one float object, whichever maps use it: coordinates are tenths of
# a pixel on a small canvas (a few thousand values), markers number hundreds of thousands.
_COORDINATES: dict[float, float] = {}


@dataclass(frozen=True, slots=True)
class Marker:
    """A place on the canvas. Where its label goes is worked out when the template asks
    (properties), so a map's markers are no costlier to make than its places."""

    x: float
    y: float
    label: str  # empty: drawn as an unlabelled dot
    role: str  # "focus", "place" or "clinic"

    @property
    def label_x(self) -> float:
        """Where the label starts (label_anchor "start") or ends ("end")."""
        return self.x + LABEL_GAP if self.x < WIDTH - LABEL_ROOM else self.x - LABEL_GAP

    @property
    def label_y(self) -> float:
        return self.y + LABEL_DROP

    @property
    def label_anchor(self) -> str:
        """SVG text-anchor: "start" right of the marker, "end" left of it, near the right edge."""
        return "start" if self.x < WIDTH - LABEL_ROOM else "end"


@dataclass(frozen=True, slots=True)
class MapData:
    width: int
    height: int
    markers: tuple[Marker, ...]
    title: str
    description: str


def make_map(places: list[tuple[Point, str, str]], title: str, description: str) -> MapData:
    """places: (position, label, role). Markers are drawn in the given order, so put the ones
    that matter (focus, clinic) last to keep them on top."""
    latitudes = [point.latitude for point, _, _ in places]
    longitudes = [point.longitude for point, _, _ in places]
    south, north = min(latitudes), max(latitudes)
    west, east = min(longitudes), max(longitudes)
    scale_x = math.cos(math.radians((north + south) / 2))
    span_x = max((east - west) * scale_x, MIN_SPAN_DEGREES)
    span_y = max(north - south, MIN_SPAN_DEGREES)
    inner_width = WIDTH - 2 * PADDING
    height = round(min(MAX_HEIGHT, max(MIN_HEIGHT, inner_width * span_y / span_x + 2 * PADDING)))
    scale = min(inner_width / span_x, (height - 2 * PADDING) / span_y)
    middle_x, middle_y = (west + east) / 2, (north + south) / 2
    markers = tuple(
        Marker(
            _canvas(WIDTH / 2 + (point.longitude - middle_x) * scale_x * scale),
            _canvas(height / 2 - (point.latitude - middle_y) * scale),
            label,
            role,
        )
        for point, label, role in places
    )
    return MapData(WIDTH, height, markers, title, description)


def _canvas(value: float) -> float:
    """A canvas coordinate, rounded to a tenth of a pixel; one float object per value."""
    value = round(value, 1)
    return _COORDINATES.setdefault(value, value)
