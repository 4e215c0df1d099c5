"""The plan stage on small inline inputs: URLs, collisions, titles, hubs, neighbours."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from generator.build import clinic_point
from generator.content import load_copy
from generator.load import read_table
from generator.places import group_places
from generator.plan import SitePlan, fit_title, plan_site
from generator.problems import InputError
from generator.settings import ReviewSettings, Settings, UrlSettings
from generator.validate import validate_table

from .conftest import ROOT

ROWS = [
    "22030,Fairfax,Fairfax County,VA,town",
    "22031,Fairfax County,Fairfax County,VA,neighborhood",
    "22180,Vienna,Fairfax County,VA,town",
    "22201,Arlington,Arlington County,VA,town",
    "20814,Bethesda,Montgomery County,MD,town",
    "20007,Georgetown,District of Columbia,DC,neighborhood",
]


def plan(tmp_path: Path, settings: Settings, rows: list[str] = ROWS) -> SitePlan:
    table = tmp_path / "t.csv"
    table.write_text("zip,town,county,state,type\n" + "\n".join(rows) + "\n")
    validated = validate_table(read_table(table))
    places = group_places(validated.locations, clinic_point(settings), str(table))
    return plan_site(places, load_copy(ROOT / "content"), settings)


def test_default_urls_keep_towns_and_county_hubs_apart(tmp_path: Path) -> None:
    paths = {p.path: p.kind for p in plan(tmp_path, Settings()).pages}
    assert paths["ketamine-infusion/va/fairfax-county/index.html"] == "town"
    assert paths["ketamine-infusion/va/counties/fairfax-county/index.html"] == "county"
    assert paths["ketamine-infusion/dc/georgetown/index.html"] == "town"
    # A state with one county gets no county hub (it would repeat the state hub).
    assert not [p for p in paths if p.startswith("ketamine-infusion/dc/counties/")]


def test_url_patterns_that_put_two_pages_on_one_path_are_an_error(tmp_path: Path) -> None:
    urls = UrlSettings(county="/ketamine-infusion/{state}/{county}/")
    with pytest.raises(InputError) as error:
        plan(tmp_path, Settings(urls=urls))
    message = str(error.value.problems[0])
    assert (
        "Fairfax County" in message and "ketamine-infusion/va/fairfax-county/index.html" in message
    )


def test_html_file_urls_and_a_base_path(tmp_path: Path) -> None:
    urls = UrlSettings(town="/towns/{state}-{town}.html")
    site = plan(tmp_path, Settings(base_url="https://clinic.example.org/pages", urls=urls))
    vienna = next(p for p in site.pages if p.town == "Vienna")
    assert vienna.path == "towns/va-vienna.html"
    assert vienna.href == "/pages/towns/va-vienna.html"
    assert vienna.url == "https://clinic.example.org/pages/towns/va-vienna.html"
    assert vienna.breadcrumbs[0].href == "/pages/"


def test_titles_fit_in_60_characters_and_stay_unique(tmp_path: Path) -> None:
    long_name = "Village of the Very Long Name Near the River Bend Crossing"
    rows = [*ROWS, f"22182,{long_name},Fairfax County,VA,neighborhood"]
    pages = plan(tmp_path, Settings(), rows).pages
    titles = [p.title for p in pages]
    assert all(len(t) <= 60 for t in titles)
    assert len(set(titles)) == len(titles)
    assert fit_title("Ketamine Infusions for Vienna, VA", Settings()) == (
        "Ketamine Infusions for Vienna, VA | NOVA Health Recovery"
    )


def test_titles_cut_alike_get_a_zip_and_the_structured_data_says_the_same(
    tmp_path: Path,
) -> None:
    stem = "Village of the Very Long Name Near the River Bend Cross"
    rows = [*ROWS, f"22182,{stem}ing,Fairfax County,VA,neighborhood"]
    rows.append(f"22181,{stem}roads,Fairfax County,VA,neighborhood")
    site = plan(tmp_path, Settings(), rows)
    villages = [p for p in site.pages if p.town.startswith("Village")]
    assert sorted(p.title[-6:] for p in villages) == [" 22181", " 22182"]
    for page, outline in zip(site.pages, site.outlines, strict=True):
        assert len(page.title) <= 60
        assert outline.title == page.title
        if page.kind == "404":
            continue  # no MedicalWebPage node
        web_page = next(
            node for node in json.loads(page.jsonld)["@graph"] if node["@type"] == "MedicalWebPage"
        )
        assert web_page["name"] == page.title, page.path


def test_town_page_neighbours_are_the_nearest_by_straight_line(tmp_path: Path) -> None:
    settings = replace(Settings(), quality=replace(Settings().quality, nearest_towns=2))
    vienna = next(p for p in plan(tmp_path, settings).pages if p.town == "Vienna")
    assert [link.text for link in vienna.body.nearest] == ["Fairfax County, VA", "Fairfax, VA"]
    assert vienna.body.to_clinic.startswith("about ") and vienna.body.to_clinic.endswith("west")


def test_every_page_is_planned_once_and_sorted(tmp_path: Path) -> None:
    pages = plan(tmp_path, Settings()).pages
    paths = [p.path for p in pages]
    assert paths == sorted(set(paths))
    kinds = {p.kind for p in pages}
    assert kinds == {"index", "404", "topic", "state", "county", "town"}
    assert sum(p.kind == "town" for p in pages) == len(ROWS)


def test_a_town_page_graph_names_the_site_the_page_and_its_trail(tmp_path: Path) -> None:
    settings = replace(
        Settings(base_url="https://clinic.example.org/pages"),
        clinic=replace(Settings().clinic, name="NOVA <Health> & Recovery"),
        review=ReviewSettings("Dr. Q", "MD", "2024-01-02"),
    )
    vienna = next(p for p in plan(tmp_path, settings).pages if p.town == "Vienna")
    assert not {"<", ">", "&"} & set(vienna.jsonld)  # no text can close the <script> element
    root = "https://clinic.example.org/pages/"
    url = root + "ketamine-infusion/va/vienna/"
    graph = json.loads(vienna.jsonld)
    assert graph["@context"] == "https://schema.org"
    nodes = graph["@graph"]
    assert [n["@type"] for n in nodes] == [
        "MedicalClinic",
        "WebSite",
        "MedicalWebPage",
        "BreadcrumbList",
    ]
    assert nodes[0]["name"] == "NOVA <Health> & Recovery"
    assert nodes[2] == {
        "@type": "MedicalWebPage",
        "@id": url + "#webpage",
        "url": url,
        "name": vienna.title,
        "description": vienna.description,
        "inLanguage": "en-US",
        "isPartOf": {"@id": root + "#website"},
        "publisher": {"@id": root + "#clinic"},
        "about": {
            "@type": "Place",
            "name": "Vienna",
            "address": {
                "@type": "PostalAddress",
                "addressLocality": "Vienna",
                "addressRegion": "VA",
                "addressCountry": "US",
                "postalCode": ["22180"],
            },
        },
        "breadcrumb": {"@id": url + "#breadcrumb"},
        "lastReviewed": "2024-01-02",
        "reviewedBy": {"@type": "Person", "name": "Dr. Q", "honorificSuffix": "MD"},
    }
    assert nodes[3] == {
        "@type": "BreadcrumbList",
        "@id": url + "#breadcrumb",
        "itemListElement": [
            {"@type": "ListItem", "position": n, "name": name, "item": root + path}
            for n, (name, path) in enumerate(
                [
                    ("Home", ""),
                    ("Virginia", "ketamine-infusion/va/"),
                    ("Fairfax County, VA", "ketamine-infusion/va/counties/fairfax-county/"),
                    ("Vienna", "ketamine-infusion/va/vienna/"),
                ],
                start=1,
            )
        ],
    }
