"""The uniqueness gate, local content and health-content trust signals (issue: worth indexing)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from generator import build as build_module
from generator.audit import PagePair, audit_site, audit_texts, fingerprint, main_text
from generator.build import BuildFailed, BuildOptions, build
from generator.forking import Aside
from generator.quality import audit_town_pages, choose_demoted
from generator.settings import QualitySettings

from .conftest import ROOT, copy_project

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
# Three DC neighbourhoods in one ZIP, at one centroid: pages that differ only by name.
NEAR_IDENTICAL = """zip,town,county,state,type
20008,Woodley Park,District of Columbia,DC,neighborhood
20008,Woodley Park East,District of Columbia,DC,neighborhood
20008,Woodley Park West,District of Columbia,DC,neighborhood
20814,Bethesda,Montgomery County,MD,town
20910,Silver Spring,Montgomery County,MD,town
22180,Vienna,Fairfax County,VA,town
22030,Fairfax,Fairfax County,VA,town
20190,Reston,Fairfax County,VA,town
"""
TWINS = {
    "/ketamine-infusion/dc/woodley-park/",
    "/ketamine-infusion/dc/woodley-park-east/",
    "/ketamine-infusion/dc/woodley-park-west/",
}


def test_default_site_town_pages_are_distinct(default_site) -> None:
    site, result = default_site
    report = audit_site(site)
    assert report.method == "exact" and report.pages == 104
    assert report.maximum <= 0.5
    assert report.p95 <= 0.35
    assert result.extra["uniqueness"]["maximum"] == pytest.approx(report.maximum)
    assert sum(report.histogram) == report.pairs == 104 * 103 // 2


def near_identical_project(tmp_path: Path, on_similar: str) -> BuildOptions:
    project = copy_project(tmp_path / "project")
    (project / "data" / "locations.csv").write_text(NEAR_IDENTICAL)
    settings = (project / "site.toml").read_text()
    settings = settings.replace("similarity_threshold = 0.6", "similarity_threshold = 0.5")
    settings = settings.replace('on_similar = "fail"', f'on_similar = "{on_similar}"')
    (project / "site.toml").write_text(settings)
    return BuildOptions(project=project, out=tmp_path / "output")


def test_gate_fails_the_build_on_near_identical_towns(tmp_path: Path) -> None:
    options = near_identical_project(tmp_path, "fail")
    with pytest.raises(BuildFailed) as failure:
        build(options)
    similar = [f for f in failure.value.findings if f.rule == "quality.similar"]
    assert similar and all(f.severity == "error" for f in similar)
    named = {url for f in similar for url in re.findall(r"/ketamine-infusion/\S+/", f.message)}
    named |= {"/" + f.path.removesuffix("index.html") for f in similar}
    assert named <= TWINS and len(named) >= 2
    assert not (tmp_path / "output").exists()


def test_gate_publishes_near_identical_towns_noindex_and_out_of_the_sitemap(tmp_path) -> None:
    options = near_identical_project(tmp_path, "noindex")
    result = build(options)
    out = tmp_path / "output"
    demoted = {
        "/" + p.path.removesuffix("index.html")
        for p in result.pages
        if p.kind == "town" and not p.indexable
    }
    assert demoted and demoted <= TWINS
    assert len(demoted) < len(TWINS)  # at least one of the twins keeps its place in the index
    locs = {e.text for e in etree.parse(str(out / "sitemap.xml")).iter(f"{SITEMAP_NS}loc")}
    for href in demoted:
        page = lxml_html.parse(str(out / href.strip("/") / "index.html")).getroot()
        assert page.xpath('//meta[@name="robots"]/@content') == ["noindex, follow"]
        assert not page.xpath('//link[@rel="canonical"]')
        assert "https://www.example.com" + href not in locs
    assert any("published noindex" in w for w in result.warnings)
    assert result.extra["uniqueness"]["flagged"]


def test_gate_can_merge_thin_towns_into_their_hub(tmp_path: Path) -> None:
    options = near_identical_project(tmp_path, "merge")
    result = build(options)
    out = tmp_path / "output"
    pages = {p.path for p in result.pages}
    merged = {href for href in TWINS if href.strip("/") + "/index.html" not in pages}
    assert 1 <= len(merged) < len(TWINS)
    hub = lxml_html.parse(str(out / "ketamine-infusion/dc/index.html")).getroot()
    for href in merged:
        slug = href.rstrip("/").rsplit("/", 1)[1]
        entry = hub.xpath(f'//li[@id="{slug}"]')
        assert entry and "20008" in entry[0].text_content()
    links = [a for p in out.rglob("*.html") for a in lxml_html.parse(str(p)).xpath("//a/@href")]
    assert not [a for a in links if a in merged]
    assert any(a.startswith("/ketamine-infusion/dc/#woodley-park") for a in links)


def test_choose_demoted_keeps_the_page_with_more_to_say() -> None:
    pairs = [PagePair("/a/", "/b/", 0.9), PagePair("/b/", "/c/", 0.8), PagePair("/c/", "/d/", 0.7)]
    demoted = choose_demoted(pairs, {"/a/": 3, "/b/": 1, "/c/": 2, "/d/": 2})
    # /b/ gives way to /a/ (fewer ZIPs); /b/-/c/ is then resolved; /c/-/d/ tie -> later URL.
    assert demoted == {"/b/", "/d/"}


def _town_texts(count: int) -> dict[str, str]:
    """Main texts of ``count`` towns: a shared lead, then words of the town's own; towns 1 and
    2 are near-copies of town 0 (one word changed), town 3 of town 4."""
    texts = {}
    for k in range(count):
        own = " ".join(f"w{k}x{n}" for n in range(40))
        texts[f"/ketamine-infusion/st/t{k:04d}/"] = (
            f"ketamine infusion therapy near town {k} for adults with depression. {own}"
        )
    keys = list(texts)
    for copy, source in ((1, 0), (2, 0), (3, 4)):
        texts[keys[copy]] = texts[keys[source]].replace("x7 ", f"y{copy} ")
    return texts


@pytest.mark.parametrize("count", [6, 2500])  # exact; MinHash LSH (signatures) above 2000
def test_gate_on_fingerprints_demotes_the_near_identical_towns(count: int) -> None:
    texts = _town_texts(count)
    keys = list(texts)
    with_signature = count > 2000
    pages = [
        (href, href.strip("/") + "/index.html", fingerprint(text, with_signature))
        for href, text in reversed(texts.items())  # order does not matter
    ]
    zips = {href: 1 for href in texts} | {keys[1]: 3, keys[4]: 0}
    settings = QualitySettings(similarity_threshold=0.6, on_similar="noindex")
    gate = audit_town_pages(pages, settings, zips)
    assert gate.report.method == ("minhash-lsh" if with_signature else "exact")
    assert {(p.a, p.b) for p in gate.report.flagged} == {
        (keys[0], keys[1]),
        (keys[0], keys[2]),
        (keys[1], keys[2]),
        (keys[3], keys[4]),
    }
    # Most similar first: /t0000/ gives way to /t0001/ (more ZIPs), which settles /t0000/ -
    # /t0002/; /t0002/ gives way to /t0001/; /t0004/ (no ZIPs) gives way to /t0003/.
    assert gate.demoted == {keys[0], keys[2], keys[4]}
    assert all(f.rule == "quality.similar" and f.severity == "warning" for f in gate.findings)
    assert {f.path for f in gate.findings} == {keys[k][1:] + "index.html" for k in (0, 1, 3)}
    assert any("published noindex" in f.message for f in gate.findings)
    assert gate.report == audit_texts(texts)  # the audit of the main texts themselves
    failing = audit_town_pages(pages, QualitySettings(0.6, "fail"), zips)
    assert failing.demoted == frozenset() and {f.severity for f in failing.findings} == {"error"}


def test_gate_refuses_fingerprints_made_for_the_other_method() -> None:
    texts = _town_texts(6)
    pages = [
        (href, href[1:] + "index.html", fingerprint(text, True)) for href, text in texts.items()
    ]
    with pytest.raises(ValueError, match="with_signature=False"):
        audit_town_pages(pages, QualitySettings(), {})


def town(site: Path, path: str) -> lxml_html.HtmlElement:
    return lxml_html.parse(str(site / path / "index.html")).getroot()


def test_town_and_hub_pages_carry_a_static_map_with_alt_text(default_site) -> None:
    site = default_site[0]
    for path in ("ketamine-infusion/va/vienna", "ketamine-infusion/va", "ketamine-infusion/md"):
        page = town(site, path)
        svg = page.xpath("//main//*[local-name()='svg']")
        assert len(svg) == 1, path
        assert svg[0].get("role") == "img"
        title = svg[0].xpath("*[local-name()='title']")[0].text
        assert title.startswith("Map of"), path
        assert svg[0].xpath(".//*[local-name()='rect'][@transform]"), "clinic marker"
        assert not svg[0].xpath(".//*[local-name()='image']"), "no tiles"
    vienna = town(site, "ketamine-infusion/va/vienna")
    labels = vienna.xpath("//*[local-name()='text']/text()")
    assert "Vienna" in labels and "NOVA Health Recovery (Fairfax)" in labels
    caption = vienna.xpath("//figcaption")[0].text_content()
    assert "8 nearest communities" in caption and "southwest" in caption


def test_town_page_facts_trace_to_the_table_and_the_zip_database(default_site) -> None:
    site = default_site[0]
    alexandria = " ".join(town(site, "ketamine-infusion/va/alexandria").text_content().split())
    # Alexandria spans Alexandria City and Fairfax County ZIPs in data/locations.csv.
    assert "22314: Alexandria, Alexandria City" in alexandria
    assert "22303: Alexandria, Fairfax County" in alexandria
    assert re.search(
        r"Alexandria is in Fairfax County, VA and Alexandria City, VA\. We serve "
        r"\d+ other communities in Fairfax County, VA\.",
        alexandria,
    )
    mclean = " ".join(town(site, "ketamine-infusion/va/mclean").text_content().split())
    assert "22106: McLean, Fairfax County (P.O. boxes only)" in mclean
    wheaton = " ".join(town(site, "ketamine-infusion/md/wheaton").text_content().split())
    assert "neighborhood with mail addressed to Silver Spring, MD" in wheaton


def test_faq_lives_on_one_page_only(default_site) -> None:
    site = default_site[0]
    faq = town(site, "ketamine/faq")
    questions = [h.text_content() for h in faq.xpath("//main//h3")]
    assert len(questions) >= 8
    data = json.loads(faq.xpath('//script[@type="application/ld+json"]')[0].text)
    assert any(node["@type"] == "FAQPage" for node in data["@graph"])
    for path in site.rglob("*.html"):
        if path.parent.name != "faq":
            text = path.read_text(encoding="utf-8")
            assert not [q for q in questions if q in text], path
            assert '"FAQPage"' not in text


def test_reviewer_line_only_when_set(tmp_path: Path, default_site) -> None:
    site = default_site[0]
    assert "Medically reviewed by" not in (site / "index.html").read_text()
    assert "reviewedBy" not in (site / "ketamine/faq/index.html").read_text()
    project = copy_project(tmp_path / "project")
    settings = (project / "site.toml").read_text()
    settings = settings.replace('reviewer_name = ""', 'reviewer_name = "Jane Example"')
    settings = settings.replace('reviewer_credentials = ""', 'reviewer_credentials = "MD"')
    settings = settings.replace('reviewed_on = ""', 'reviewed_on = "2026-11-01"')
    (project / "site.toml").write_text(settings)
    out = tmp_path / "output"
    build(BuildOptions(project=project, out=out))
    page = town(out, "ketamine/how-ketamine-works")
    assert "Medically reviewed by Jane Example, MD, on 2026-11-01." in " ".join(
        page.text_content().split()
    )
    graph = json.loads(page.xpath('//script[@type="application/ld+json"]')[0].text)["@graph"]
    webpage = next(n for n in graph if n["@type"] == "MedicalWebPage")
    assert webpage["lastReviewed"] == "2026-11-01"
    assert webpage["reviewedBy"]["name"] == "Jane Example"


def test_main_text_of_a_town_page_leaves_out_site_chrome(default_site) -> None:
    data = (default_site[0] / "ketamine-infusion/va/vienna/index.html").read_bytes()
    text = main_text(data)
    assert "vienna" in text
    assert "medical disclaimer" not in text and "sources" not in text.split()


def test_audit_command_on_the_default_site(default_site) -> None:
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "generator", "audit", str(default_site[0]), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["pages"] == 104 and report["maximum"] <= 0.5


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("on_similar", ["noindex", "merge"])
def test_gate_run_aside_in_a_forked_process_gives_the_same_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_similar: str
) -> None:
    """Large sites run the gate in a forked process while the site files are staged; when it
    demotes pages, the files staged meanwhile are made again for the new plan."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795000000")
    inline = build(near_identical_project(tmp_path / "inline", on_similar))
    forks = _count_forks(monkeypatch)
    aside = build(near_identical_project(tmp_path / "aside", on_similar))
    assert forks == [True]
    assert aside.extra == inline.extra and aside.warnings == inline.warnings
    assert _tree(tmp_path / "aside" / "output") == _tree(tmp_path / "inline" / "output")


def test_gate_run_aside_still_fails_the_build(tmp_path: Path, monkeypatch) -> None:
    forks = _count_forks(monkeypatch)
    with pytest.raises(BuildFailed) as failure:
        build(near_identical_project(tmp_path, "fail"))
    assert any(f.rule == "quality.similar" for f in failure.value.findings)
    assert not (tmp_path / "output").exists()
    assert forks == [True]


def _count_forks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """From now on the gate runs aside on any site; returns the `fork` of each Aside made."""
    monkeypatch.setattr(build_module, "GATE_ASIDE_FROM_TOWNS", 1)
    forks: list[bool] = []

    class CountedAside(Aside):
        def __init__(self, work, fork: bool = True) -> None:
            forks.append(fork)
            super().__init__(work, fork)

    monkeypatch.setattr(build_module, "Aside", CountedAside)
    return forks
