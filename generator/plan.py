"""Planning: places + copy + settings -> every page of the site as data (URLs, links, JSON-LD).

The plan outlines every page at once (path, URL, title); hub, topic and home pages are made
whole, town pages only when asked for, by the process that renders them.

Two pages on one path, two towns whose slugs collide, or a path that would leave the output
folder are errors here, before anything is rendered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple, overload

from . import jsonld
from .content import Copy, Topic
from .geo import Spot, spot, spot_distance, spot_distance_and_direction
from .maps import MapData, make_map
from .names import url_slug
from .pages import (
    HubBody,
    HubGroup,
    IndexBody,
    Link,
    NotFoundBody,
    Page,
    PageOutline,
    SiteContext,
    TopicBody,
    TownBody,
    ZipLine,
)
from .places import (
    Bearing,
    County,
    Neighbour,
    Places,
    State,
    Town,
    nearest_towns,
    neighbours,
)
from .problems import InputError, Problem
from .settings import Settings

TITLE_MAX = 60
DESCRIPTION_RANGE = (70, 160)
STYLESHEET = "assets/style.css"
TEMPLATES = {kind: f"{kind}.html" for kind in ("index", "topic", "state", "county", "town")}


@dataclass(frozen=True)
class SitePlan:
    """Every page of the site, sorted by output path: an outline of each, and the full pages
    on demand (`pages`). Town pages, nearly all of a large site, are only made when asked for,
    by the process that renders them, so the plan stays small and its work is shared out."""

    outlines: tuple[PageOutline, ...]
    site: SiteContext
    pages: PlannedPages


class PlannedPages(Sequence[Page]):
    """The pages of a plan in outline order; each town page is made anew when asked for."""

    def __init__(
        self,
        outlines: tuple[PageOutline, ...],
        made: dict[str, Page],
        towns: dict[str, _TownPlan],
        shared: _Shared,
    ) -> None:
        self._outlines = outlines
        self._made = made
        self._towns = towns
        self._shared = shared

    def __len__(self) -> int:
        return len(self._outlines)

    @overload
    def __getitem__(self, index: int) -> Page: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Page, ...]: ...

    def __getitem__(self, index: int | slice) -> Page | tuple[Page, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        path = self._outlines[index].path
        page = self._made.get(path)
        return page if page is not None else _town_page(self._towns[path], self._shared)


@dataclass(frozen=True)
class _TownPlan:
    """A town page to be made: the town, its nearest served towns (distances and directions
    to them are worked out with the page), and its decided title."""

    town: Town
    nearest: tuple[Town, ...]
    indexable: bool
    title: str


class Urls:
    """Turns the URL patterns of the settings into paths, root-relative hrefs and absolute URLs.
    Each town's path is made once (towns are linked from many pages)."""

    def __init__(
        self,
        settings: Settings,
        merged: Mapping[tuple[str, str], str] | None = None,
        town_paths: dict[tuple[str, str], str] | None = None,
    ):
        self.settings = settings
        self.merged = merged or {}
        self.base_path = settings.base_path
        self.site_root = settings.site_root
        self._town_paths = {} if town_paths is None else town_paths

    def merging(self, merged: Mapping[tuple[str, str], str]) -> Urls:
        """These URLs, with links to the `merged` towns going to their hubs."""
        return Urls(self.settings, merged, self._town_paths)

    def town(self, town: Town) -> str:
        key = town.key
        path = self._town_paths.get(key)
        if path is None:
            path = self._fill(self.settings.urls.town, state=town.state, town=town.name)
            self._town_paths[key] = path
        return path

    def town_href(self, town: Town) -> str:
        """Where links to a town go: its page, or its entry on the hub it was merged into."""
        hub = self.merged.get(town.key)
        return f"{self.href(hub)}#{url_slug(town.name)}" if hub else self.href(self.town(town))

    def county(self, county: County) -> str:
        return self._fill(self.settings.urls.county, state=county.state, county=county.name)

    def state(self, state: State) -> str:
        return self._fill(self.settings.urls.state, state=state.code)

    def topic(self, topic: Topic) -> str:
        return self._fill(self.settings.urls.topic, topic=topic.slug)

    def _fill(self, pattern: str, **names: str) -> str:
        return pattern.format(**{k: url_slug(v) for k, v in names.items()}).lstrip("/")

    def href(self, relative: str) -> str:
        return self.base_path + relative

    def absolute(self, relative: str) -> str:
        return self.site_root + relative

    @staticmethod
    def file_path(relative: str) -> str:
        return relative + "index.html" if relative == "" or relative.endswith("/") else relative


class _TownFacts(NamedTuple):
    """What other pages say about a town, made once per plan."""

    href: str  # where links to the town go: its page, or its entry on the hub it was merged into
    display: str  # "Vienna, VA"
    to_clinic: Bearing
    hub_entry: Link  # its entry on the state and county hubs


@dataclass(frozen=True)
class _Shared:
    """What the pages of one plan have in common, made once: the settings, URLs and hub links,
    each town's facts, and the site-wide part of the JSON-LD."""

    places: Places
    settings: Settings
    urls: Urls
    hubs: dict[tuple[str, str], Link]
    towns: dict[tuple[str, str], _TownFacts]
    graph: jsonld.SiteGraph
    home: Link
    clinic_label: str  # the clinic's marker on maps
    states: dict[str, State]
    county_sizes: dict[tuple[str, str], int]  # (state, county) -> towns in it
    county_links: dict[tuple[str, str], Link]  # (state, county) -> its hub, else its state's
    # (state, a town's counties) -> links to them: one tuple for the towns that share them,
    # filled in as town pages ask
    town_counties: dict[tuple[str, tuple[str, ...]], tuple[Link, ...]]


def plan_site(
    places: Places, copy: Copy, settings: Settings, demoted: frozenset[str] = frozenset()
) -> SitePlan:
    """Every page of the site, sorted by output path. `demoted` holds the hrefs of town pages
    the uniqueness gate made give way: published noindex, or merged into their hub."""
    urls = Urls(settings)
    _check_slugs(places, urls)
    hubs = _hub_links(places, urls)
    urls = urls.merging(_merged_towns(places, urls, hubs, demoted))
    shared = _shared(places, settings, urls, hubs)
    site = _site_context(places, copy, settings, urls)
    nearest = nearest_towns(places.towns, settings.quality.nearest_towns)
    made = [_index_page(places, copy, shared, site), _not_found_page(shared, site)]
    made += [_topic_page(t, copy, shared) for t in copy.topics]
    for state in places.states:
        made.append(_state_page(state, shared))
        made += [
            _county_page(c, state, shared) for c in state.counties if (c.state, c.name) in hubs
        ]
    towns = [
        _town_plan(t, nearest[t.key], shared, indexable=shared.towns[t.key].href not in demoted)
        for t in places.towns
        if t.key not in urls.merged
    ]
    towns = _unique_titles(made, towns)
    outlines = [*map(_outline, made), *(outline for outline, _ in towns)]
    _check_paths(outlines, places.source)
    ordered = tuple(sorted(outlines, key=lambda o: o.path))
    town_plans = {outline.path: plan for outline, plan in towns}
    pages = PlannedPages(ordered, {p.path: p for p in made}, town_plans, shared)
    return SitePlan(outlines=ordered, site=site, pages=pages)


def _hub_above(town: Town, hubs: dict[tuple[str, str], Link]) -> Link:
    """The hub one level above a town: its county's, or its state's when the county has none."""
    return hubs.get((town.state, town.county)) or hubs[(town.state, "")]


def _merged_towns(
    places: Places, urls: Urls, hubs: dict[tuple[str, str], Link], demoted: frozenset[str]
) -> dict[tuple[str, str], str]:
    """Town key -> relative path of the hub it is merged into (its county hub, else its state)."""
    if urls.settings.quality.on_similar != "merge" or not demoted:
        return {}
    root = urls.base_path
    merged = {}
    for town in places.towns:
        if urls.href(urls.town(town)) in demoted:
            merged[town.key] = _hub_above(town, hubs).href[len(root) :]
    return merged


def _shared(
    places: Places, settings: Settings, urls: Urls, hubs: dict[tuple[str, str], Link]
) -> _Shared:
    clinic = settings.clinic
    clinic_spot = spot(places.clinic)
    county_sizes: dict[tuple[str, str], int] = {}
    county_links: dict[tuple[str, str], Link] = {}
    for state in places.states:
        for county in state.counties:
            key = (state.code, county.name)
            county_sizes.setdefault(key, len(county.towns))
            county_links[key] = hubs.get(key) or Link(county.name, hubs[(state.code, "")].href)
    return _Shared(
        places=places,
        settings=settings,
        urls=urls,
        hubs=hubs,
        towns={t.key: _town_facts(t, clinic_spot, urls) for t in places.towns},
        graph=jsonld.SiteGraph(settings),
        home=Link("Home", urls.href("")),
        clinic_label=f"{clinic.name} ({clinic.city})",
        states={s.code: s for s in places.states},
        county_sizes=county_sizes,
        county_links=county_links,
        town_counties={},
    )


def _town_facts(town: Town, clinic: Spot, urls: Urls) -> _TownFacts:
    """A town's link target, name with state, bearing to the clinic and hub entry: a link to
    its page; a merged town is plain text with its ZIPs."""
    to_clinic = Bearing(*spot_distance_and_direction(town.spot, clinic))
    note = f"{to_clinic.text} of the clinic"
    href = urls.town_href(town)
    if town.key in urls.merged:
        zips = ", ".join(z.zip for z in town.zips)
        entry = Link(town.name, "", f"ZIP {zips}; {note}", url_slug(town.name))
    else:
        entry = Link(town.name, href, note)
    return _TownFacts(href, f"{town.name}, {town.state}", to_clinic, entry)


def _site_context(places: Places, copy: Copy, settings: Settings, urls: Urls) -> SiteContext:
    topics = tuple(Link(t.nav, urls.href(urls.topic(t))) for t in copy.topics)
    return SiteContext(
        settings=settings,
        copy=copy,
        home=Link("Home", urls.href("")),
        topics=topics,
        topic_summaries=tuple(zip(topics, (t.summary for t in copy.topics), strict=True)),
        states=tuple(Link(s.name, urls.href(urls.state(s))) for s in places.states),
        stylesheet=urls.href(STYLESHEET),
    )


def _hub_links(places: Places, urls: Urls) -> dict[tuple[str, str], Link]:
    """Links to the state hubs, keyed (code, ''), and to county hubs that add something: a county
    hub that would list exactly its state's towns (Washington, DC) is left out."""
    hubs: dict[tuple[str, str], Link] = {}
    for state in places.states:
        hubs[(state.code, "")] = Link(state.name, urls.href(urls.state(state)))
        for county in state.counties:
            if len(county.towns) < len(state.towns):
                hubs[(state.code, county.name)] = Link(
                    f"{county.name}, {state.code}", urls.href(urls.county(county))
                )
    return hubs


def _crumb_ld(urls: Urls, crumbs: tuple[Link, ...]) -> list[tuple[str, str]]:
    start = len(urls.base_path)
    return [(c.text, urls.site_root + c.href[start:]) for c in crumbs]


def _page(
    kind: str,
    relative: str,
    shared: _Shared,
    *,
    title: str,
    description: str,
    h1: str,
    crumb: str,
    trail: list[Link],
    body,
    extra_ld=(),
    about="",
    references=(),
    href: str = "",
    **fields,
) -> Page:
    """A page at `relative` (its href too, when the caller has made it already)."""
    urls = shared.urls
    url = urls.absolute(relative)
    href = href or urls.href(relative)
    crumbs = (shared.home, *trail, Link(crumb, href))
    ld = shared.graph.page(
        url,
        title,
        description,
        _crumb_ld(urls, crumbs),
        about=about,
        references=references,
        extra=extra_ld,
    )
    return Page(
        kind=kind,
        path=urls.file_path(relative),
        href=href,
        url=url,
        title=title,
        description=description,
        h1=h1,
        template=TEMPLATES[kind],
        breadcrumbs=crumbs,
        body=body,
        jsonld=ld,
        **fields,
    )


def _index_page(places: Places, copy: Copy, shared: _Shared, site: SiteContext) -> Page:
    return _page(
        "index",
        "",
        shared,
        title=fit_title(copy.home_title, shared.settings),
        description=fit_description(copy.home_description),
        h1=copy.home_title,
        crumb="Home",
        trail=[],
        body=IndexBody(copy.home_html, site.states, len(places.towns)),
    )


def _not_found_page(shared: _Shared, site: SiteContext) -> Page:
    settings, urls = shared.settings, shared.urls
    title = fit_title("Page Not Found", settings)
    return Page(
        kind="404",
        path="404.html",
        href=urls.href("404.html"),
        url=urls.absolute("404.html"),
        title=title,
        description=fit_description(
            f"This page could not be found. Find "
            f"{settings.clinic.name}'s pages on ketamine "
            f"infusion therapy and the areas it serves."
        ),
        h1="Page not found",
        template="404.html",
        breadcrumbs=(shared.home,),
        body=NotFoundBody(site.states),
        jsonld=shared.graph.site_only(),
        indexable=False,
    )


def _topic_page(topic: Topic, copy: Copy, shared: _Shared) -> Page:
    urls = shared.urls
    cited = tuple(r for r in copy.references if f"#ref-{r.id}" in topic.html)
    extra = (
        (jsonld.faq_node(urls.absolute(urls.topic(topic)), topic.questions),)
        if topic.questions
        else ()
    )
    return _page(
        "topic",
        urls.topic(topic),
        shared,
        title=fit_title(topic.title, shared.settings),
        description=topic.description,
        h1=topic.title,
        crumb=topic.nav,
        trail=[],
        body=TopicBody(topic.html, bool(topic.questions)),
        extra_ld=extra,
        references=cited,
    )


def _state_page(state: State, shared: _Shared) -> Page:
    hubs = shared.hubs
    groups = tuple(
        HubGroup(county.name, hubs.get((state.code, county.name)), _hub_entries(county, shared))
        for county in state.counties
    )
    name = state.name
    clinic = shared.settings.clinic
    zip_count = len({z.zip for t in state.towns for z in t.zips})
    description = fit_description(
        f"Ketamine infusion therapy for {name}: {len(state.towns)} communities in "
        f"{len(state.counties)} {_plural(len(state.counties), 'county', 'counties')} served by "
        f"{clinic.name} in {clinic.city}, {clinic.state}. No referral needed."
    )
    counties = tuple(
        hubs[(state.code, c.name)] for c in state.counties if (state.code, c.name) in hubs
    )
    return _page(
        "state",
        shared.urls.state(state),
        shared,
        title=fit_title(f"Ketamine Infusions Across {name}", shared.settings),
        description=description,
        h1=f"Ketamine infusion therapy for {name}",
        crumb=name,
        trail=[],
        body=HubBody(
            name,
            name,
            groups,
            len(state.towns),
            zip_count,
            _hub_map(name, state.towns, shared),
            counties,
        ),
        state=state.code,
    )


def _county_page(county: County, state: State, shared: _Shared) -> Page:
    label = f"{county.name}, {state.code}"
    clinic = shared.settings.clinic
    zips = {z.zip for t in county.towns for z in t.zips if z.county == county.name}
    description = fit_description(
        f"Ketamine infusion therapy for {label}: {len(county.towns)} "
        f"{_plural(len(county.towns), 'community', 'communities')} and {len(zips)} ZIP "
        f"{_plural(len(zips), 'code', 'codes')} served by {clinic.name} in {clinic.city}, "
        f"{clinic.state}."
    )
    group = HubGroup(county.name, None, _hub_entries(county, shared))
    return _page(
        "county",
        shared.urls.county(county),
        shared,
        title=fit_title(f"Ketamine Infusions Across {label}", shared.settings),
        description=description,
        h1=f"Ketamine infusion therapy for {label}",
        crumb=county.name,
        trail=[shared.hubs[(state.code, "")]],
        body=HubBody(
            county.name,
            state.name,
            (group,),
            len(county.towns),
            len(zips),
            _hub_map(label, county.towns, shared),
        ),
        state=state.code,
    )


def _hub_entries(county: County, shared: _Shared) -> tuple[Link, ...]:
    return tuple(shared.towns[t.key].hub_entry for t in county.towns)


def _town_plan(
    town: Town, nearest: tuple[Town, ...], shared: _Shared, indexable: bool
) -> tuple[PageOutline, _TownPlan]:
    """A town page's outline, and what it takes to make the page later."""
    facts = shared.towns[town.key]
    relative = shared.urls.town(town)
    title = fit_title(f"Ketamine Infusions for {facts.display}", shared.settings)
    outline = PageOutline(
        kind="town",
        path=shared.urls.file_path(relative),
        href=facts.href,
        url=shared.urls.absolute(relative),
        title=title,
        h1=_town_h1(facts.display),
        indexable=indexable,
        town=town.name,
        state=town.state,
        zips=tuple(z.zip for z in town.zips),
        hub=_hub_above(town, shared.hubs).href,
    )
    return outline, _TownPlan(town, nearest, indexable, title)


def _town_h1(display: str) -> str:
    return f"Ketamine infusion therapy for {display}"


def _outline(page: Page) -> PageOutline:
    return PageOutline(
        kind=page.kind,
        path=page.path,
        href=page.href,
        url=page.url,
        title=page.title,
        h1=page.h1,
        indexable=page.indexable,
        town=page.town,
        state=page.state,
    )


def _town_page(plan: _TownPlan, shared: _Shared) -> Page:
    town = plan.town
    nearby = neighbours(town, plan.nearest)
    facts = shared.towns[town.key]
    clinic = shared.settings.clinic
    state_hub = shared.hubs[(town.state, "")]
    county_hub = shared.hubs.get((town.state, town.county))
    display = facts.display
    to_clinic = facts.to_clinic.text
    body = TownBody(
        name=town.name,
        display_name=display,
        state_name=shared.states[town.state].name,
        place_type=town.place_type,
        postal_cities=town.postal_cities,
        counties=_county_links(town, shared),
        zips=tuple(
            ZipLine(z.zip, town.name if town.is_named(z.city) else z.city, county, z.po_box_only)
            for z, county in zip(town.zips, town.zip_counties, strict=True)
        ),
        to_clinic=to_clinic,
        clinic_is_here=(
            town.name.casefold() == clinic.city.casefold() and town.state == clinic.state
        ),
        nearest=tuple(_nearby(n, shared) for n in nearby),
        county_town_count=shared.county_sizes[(town.state, town.county)] - 1,
        county_hub=county_hub,
        state_hub=state_hub,
        map=_town_map(town, nearby, shared),
    )
    description = fit_description(
        f"Ketamine infusion therapy for {display} at {clinic.name} in {clinic.city}, "
        f"{clinic.state}, {to_clinic} of {town.name}. No referral needed. "
        f"Call {clinic.phone}."
    )
    about = jsonld.place_node(town.name, town.state, [z.zip for z in town.zips])
    return _page(
        "town",
        shared.urls.town(town),
        shared,
        title=plan.title,
        description=description,
        h1=_town_h1(display),
        crumb=town.name,
        trail=[state_hub, *([county_hub] if county_hub else [])],
        body=body,
        about=about,
        href=facts.href,
        town=town.name,
        state=town.state,
        indexable=plan.indexable,
    )


def _county_links(town: Town, shared: _Shared) -> tuple[Link, ...]:
    """Links to the town's counties; towns of the same counties share one tuple."""
    key = (town.state, town.counties)
    links = shared.town_counties.get(key)
    if links is None:
        links = tuple(shared.county_links[(town.state, c)] for c in town.counties)
        shared.town_counties[key] = links
    return links


def _nearby(neighbour: Neighbour, shared: _Shared) -> Link:
    facts = shared.towns[neighbour.town.key]
    return Link(facts.display, facts.href, neighbour.text)


CLINIC_ON_MAP_FACTOR = 3  # the clinic is drawn when within 3x the map's own extent


def _town_map(town: Town, neighbours: tuple[Neighbour, ...], shared: _Shared) -> MapData:
    clinic = shared.settings.clinic
    reach = max([n.miles for n in neighbours], default=1.0)
    to_clinic = shared.towns[town.key].to_clinic
    markers = [(n.town.point, n.town.name, "place") for n in neighbours]
    description = f"{town.name} and the {len(neighbours)} nearest communities we serve"
    if to_clinic.miles <= CLINIC_ON_MAP_FACTOR * max(reach, 1.0):
        markers.append((shared.places.clinic, shared.clinic_label, "clinic"))
        description += f", with the clinic in {clinic.city}, {to_clinic.text}."
    else:
        description += f"; the clinic in {clinic.city} is {to_clinic.text}, off this map."
    markers.append((town.point, town.name, "focus"))
    return make_map(
        markers, f"Map of {town.name}, {town.state}, and nearby communities", description
    )


def _hub_map(label: str, towns: tuple[Town, ...], shared: _Shared) -> MapData:
    clinic = shared.settings.clinic
    show_labels = len(towns) <= 12
    markers = [(t.point, t.name if show_labels else "", "place") for t in towns]
    first = towns[0].spot
    extent = max(spot_distance(first, t.spot) for t in towns)
    nearest = min(shared.towns[t.key].to_clinic.miles for t in towns)
    description = f"The {len(towns)} communities we serve in {label}"
    if nearest <= CLINIC_ON_MAP_FACTOR * max(extent, 1.0):
        markers.append((shared.places.clinic, shared.clinic_label, "clinic"))
        description += f", and the clinic in {clinic.city}, {clinic.state}."
    else:
        description += "."
    return make_map(markers, f"Map of the communities we serve in {label}", description)


def fit_title(topic: str, settings: Settings) -> str:
    """'<topic> | <clinic>' when it fits in 60 characters, else the topic, shortened if need be."""
    branded = f"{topic} | {settings.clinic.name}"
    if len(branded) <= TITLE_MAX:
        return branded
    return _shorten(topic, TITLE_MAX)


def fit_description(text: str) -> str:
    low, high = DESCRIPTION_RANGE
    text = _shorten(text, high)
    if len(text) < low:
        raise ValueError(f"description shorter than {low} characters: {text!r}")
    return text


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return (cut if len(cut) >= limit // 2 else text[: limit - 1]) + "…"


def _unique_titles(
    made: list[Page], towns: list[tuple[PageOutline, _TownPlan]]
) -> list[tuple[PageOutline, _TownPlan]]:
    """Shortened long names can end alike: such town titles get their first ZIP code."""
    counts = Counter([*(p.title for p in made), *(o.title for o, _ in towns)])
    return [_with_zip(o, plan) if counts[o.title] > 1 else (o, plan) for o, plan in towns]


def _with_zip(outline: PageOutline, plan: _TownPlan) -> tuple[PageOutline, _TownPlan]:
    suffix = f" {outline.zips[0]}"
    title = _shorten(outline.title.removesuffix("…"), TITLE_MAX - len(suffix)) + suffix
    return replace(outline, title=title), replace(plan, title=title)


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def _check_slugs(places: Places, urls: Urls) -> None:
    problems: list[Problem] = []
    seen: dict[str, Town] = {}
    for town in places.towns:
        relative = urls.town(town)
        if not url_slug(town.name):
            problems.append(
                Problem(
                    places.source,
                    f"town '{town.name}' has no letters or digits usable in a URL",
                    row=town.rows[0],
                    column="town",
                )
            )
        elif relative in seen:
            other = seen[relative]
            problems.append(
                Problem(
                    places.source,
                    f"town '{town.name}' ({town.state}) and "
                    f"'{other.name}' ({other.state}, row "
                    f"{other.rows[0]}) would both be /{relative}",
                    row=town.rows[0],
                    column="town",
                )
            )
        else:
            seen[relative] = town
    if problems:
        raise InputError(problems)


def _check_paths(pages: list[PageOutline], source: str) -> None:
    """Every page on its own safe path; a clash comes from two names in the table (`source`)
    or from URL patterns in the settings that put two kinds of page in one folder."""
    problems = []
    owners: dict[str, PageOutline] = {}
    for page in pages:
        path = page.path
        if path.startswith("/") or ".." in path.split("/") or not path.isascii():
            problems.append(Problem(source, f"unsafe output path {page.path!r} for {page.h1}"))
        elif page.path in owners:
            problems.append(
                Problem(
                    source,
                    f"'{page.h1}' and '{owners[page.path].h1}' would both be written to "
                    f"{page.path}; rename one in the table, or give the [urls] patterns in "
                    "the settings different folders",
                )
            )
        owners[page.path] = page
    if problems:
        raise InputError(problems)
