"""Page objects: the whole site as plain data, one frozen object per output file.

Rendering a page is a pure function of its Page and the build-wide SiteContext, so pages can be
rendered in any order and in parallel. A PageOutline is what the rest of the build needs of a
page that has not been made (yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from .content import Copy
from .maps import MapData
from .settings import Settings


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    href: str  # root-relative, includes the base path; empty for plain text
    note: str = ""
    anchor: str = ""  # id of the list entry, for links into a hub


@dataclass(frozen=True, slots=True)
class ZipLine:
    zip: str
    postal_city: str
    county: str
    po_box_only: bool


@dataclass(frozen=True, slots=True)
class TownBody:
    name: str
    display_name: str
    state_name: str
    place_type: str
    postal_cities: tuple[str, ...]
    counties: tuple[Link, ...]
    zips: tuple[ZipLine, ...]
    to_clinic: str  # e.g. "about 12 miles southwest"
    clinic_is_here: bool
    nearest: tuple[Link, ...]
    county_town_count: int
    county_hub: Link | None
    state_hub: Link
    map: MapData


@dataclass(frozen=True, slots=True)
class HubGroup:
    heading: str
    link: Link | None
    towns: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class HubBody:
    name: str
    state_name: str
    groups: tuple[HubGroup, ...]
    town_count: int
    zip_count: int
    map: MapData
    counties: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class TopicBody:
    html: Markup
    has_faq: bool


@dataclass(frozen=True, slots=True)
class IndexBody:
    html: Markup
    states: tuple[Link, ...]
    town_count: int


@dataclass(frozen=True, slots=True)
class NotFoundBody:
    states: tuple[Link, ...]


Body = TownBody | HubBody | TopicBody | IndexBody | NotFoundBody


@dataclass(frozen=True, slots=True)
class Page:
    kind: str  # town, county, state, topic, index, 404
    path: str  # file path inside the output folder, e.g. "ketamine-infusion/va/vienna/index.html"
    href: str  # root-relative URL
    url: str  # absolute canonical URL
    title: str
    description: str
    h1: str
    template: str
    breadcrumbs: tuple[Link, ...]
    body: Body
    jsonld: str
    indexable: bool = True
    town: str = ""
    state: str = ""


@dataclass(frozen=True, slots=True)
class PageOutline:
    """What the build needs to know of a page without making all of it: where it goes, what
    it is called, and for a town page its ZIP codes and the hub one level up (for redirects)."""

    kind: str
    path: str
    href: str
    url: str
    title: str
    h1: str
    indexable: bool = True
    town: str = ""
    state: str = ""
    zips: tuple[str, ...] = ()
    hub: str = ""  # town pages: href of the county hub, else of the state hub


@dataclass(frozen=True, slots=True)
class SiteContext:
    """Everything build-wide a template may use; the same for every page of one build."""

    settings: Settings
    copy: Copy
    home: Link
    topics: tuple[Link, ...]
    topic_summaries: tuple[tuple[Link, str], ...]
    states: tuple[Link, ...]
    stylesheet: str
    warnings: tuple[str, ...] = field(default=())
