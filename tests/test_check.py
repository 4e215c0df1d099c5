"""Page checks: each rule on a page broken in exactly one way, with its exact message and
severity; the real site passes them all; --strict turns warnings into a failed build."""

from __future__ import annotations

import html
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

import generator.site_files as site_files
from generator import check
from generator.build import BuildFailed
from generator.check import (
    SiteLinks,
    check_page,
    check_pages,
    collapse_normalized,
    has_errors,
    parse_page,
    read_facts,
    resolve_internal,
)
from generator.problems import Finding, Severity

from .conftest import FIXED_EPOCH, ROOT
from .test_publish import build_site, contents, snapshot, write_table

ROOT_URL = "https://clinic.example/"
PATH = "ketamine-infusion/va/vienna/index.html"
URL = ROOT_URL + "ketamine-infusion/va/vienna/"
DESCRIPTION = "Ketamine infusion therapy for Vienna, VA at NOVA Health Recovery in Fairfax, VA."


def graph(url: str = URL, *extra: dict) -> list[dict]:
    return [
        {
            "@type": "MedicalClinic",
            "@id": ROOT_URL + "#clinic",
            "name": "NOVA Health Recovery",
            "telephone": "703-844-0184",
            "address": {"@type": "PostalAddress", "addressLocality": "Fairfax"},
        },
        {
            "@type": "MedicalWebPage",
            "@id": url + "#webpage",
            "url": url,
            "name": "Ketamine Infusions for Vienna, VA",
            "publisher": {"@id": ROOT_URL + "#clinic"},
            "about": {"@type": "Place", "name": "Vienna", "address": {"postalCode": ["22180"]}},
        },
        {
            "@type": "BreadcrumbList",
            "itemListElement": [{"@type": "ListItem", "position": 1, "name": "Home"}],
        },
        *extra,
    ]


def page(
    *,
    head: str | None = None,
    title: str = "<title>Ketamine Infusions for Vienna, VA</title>",
    description: str = f'<meta name="description" content="{DESCRIPTION}">',
    canonical: str = f'<link rel="canonical" href="{URL}">',
    jsonld: str | None = None,
    body: str = "<h1>Ketamine infusion therapy for Vienna, VA</h1>",
    html: str = '<html lang="en-US">',
    kind: str = "town",
    end: str = "</body></html>\n",
) -> bytes:
    if jsonld is None:
        ld = json.dumps({"@context": "https://schema.org", "@graph": graph()})
        jsonld = f'<script type="application/ld+json">{ld}</script>'
    if head is None:
        head = (
            '<meta charset="utf-8"><meta name="viewport" content="width=device-width">'
            f"{title}{description}{canonical}{jsonld}"
        )
    return (
        f'<!DOCTYPE html>{html}<head>{head}</head><body data-kind="{kind}">'
        f'<main id="content">{body}<p>Call or text 988 in a crisis.</p>'
        f'<a href="/">Home</a><a href="#content">Skip</a></main>{end}'
    ).encode()


def findings(
    data: bytes, sitemap: dict[str, str] | None = None, files: dict[str, bytes] | None = None
) -> list[tuple[str, str, Severity]]:
    pages = {PATH: data, "index.html": b"", **(files or {})}
    found = check_pages(pages, ROOT_URL, {PATH: URL} if sitemap is None else sitemap)
    return [(f.rule, f.message, f.severity) for f in found if f.path == PATH]


def error(rule: str, message: str) -> list[tuple[str, str, Severity]]:
    return [(rule, message, Severity.ERROR)]


def test_the_reference_page_passes() -> None:
    assert findings(page()) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "does not parse as HTML: Document is empty"),
        (b"   \n", "does not parse as HTML: Document is empty"),
        (b"<html>\xff\xfe</html>", "is not UTF-8 (byte 6)"),
    ],
)
def test_unreadable_page(data: bytes, message: str) -> None:
    assert findings(data) == error("page.parse", message)


def test_cut_short_page_is_a_warning() -> None:
    assert findings(page(end="</body")) == [
        ("page.complete", "does not end with </html>; it may be cut short", Severity.WARNING)
    ]


@pytest.mark.parametrize(
    ("broken", "rule", "message"),
    [
        ({"html": "<html>"}, "page.lang", "<html> has no lang attribute"),
        ({"body": ""}, "page.h1", "has 0 <h1> elements; exactly one is needed"),
        (
            {"body": "<h1>One</h1><h1>Two</h1>"},
            "page.h1",
            "has 2 <h1> elements; exactly one is needed",
        ),
        ({"body": "<h1> </h1>"}, "page.h1", "<h1> is empty"),
        ({"title": ""}, "page.title", "has no <title>"),
        ({"title": "<title> </title>"}, "page.title", "<title> is empty"),
        (
            {"title": "<title>a</title><title>b</title>"},
            "page.title",
            "has 2 <title> elements; exactly one is needed",
        ),
        (
            {"title": f"<title>{'x' * 61}</title>"},
            "page.title",
            "title is 61 characters; at most 60",
        ),
        ({"description": ""}, "page.description", 'has no <meta name="description">'),
        (
            {"description": '<meta name="description" content=" ">'},
            "page.description",
            "meta description is empty",
        ),
        (
            {"description": f'<meta name="description" content="{"x" * 69}">'},
            "page.description",
            "meta description is 69 characters; it must be 70-160",
        ),
        (
            {"description": f'<meta name="description" content="{"x" * 161}">'},
            "page.description",
            "meta description is 161 characters; it must be 70-160",
        ),
        (
            {"description": f'<meta name="description" content="{DESCRIPTION}">' * 2},
            "page.description",
            "has 2 meta descriptions; exactly one is needed",
        ),
        ({"canonical": ""}, "page.canonical", "indexable page has no canonical link"),
        (
            {"canonical": f'<link rel="canonical" href="{URL}">' * 2},
            "page.canonical",
            "has 2 canonical links; at most one is allowed",
        ),
        ({"jsonld": ""}, "page.jsonld", "has no JSON-LD"),
        (
            {"jsonld": '<script type="application/ld+json">{"@graph": [</script>'},
            "page.jsonld",
            "JSON-LD block 1 does not parse: Expecting value: line 1 column 13 (char 12)",
        ),
        (
            {"body": '<h1>V</h1><a href="/ketamine/faq/">FAQ</a>'},
            "page.link",
            "link /ketamine/faq/ has no target file",
        ),
        (
            {"body": '<h1>V</h1><a href="#nowhere">x</a>'},
            "page.link",
            "link #nowhere: no element has id 'nowhere'",
        ),
        (
            {"body": '<h1>V</h1><a href="../../../../x/">x</a>'},
            "page.link",
            "link ../../../../x/ leaves the site root",
        ),
        (
            {"body": '<h1>V</h1><img src="https://cdn.example/x.png" alt="">'},
            "page.external-request",
            "loads https://cdn.example/x.png from another site",
        ),
    ],
)
def test_each_rule_on_a_page_broken_one_way(broken: dict, rule: str, message: str) -> None:
    assert findings(page(**broken)) == error(rule, message)


@pytest.mark.parametrize(
    ("href", "message"),
    [
        (
            "https://other.example/x/",
            "canonical https://other.example/x/ is not under the site's URL "
            "https://clinic.example/",
        ),
        (ROOT_URL, "canonical https://clinic.example/ points to another page"),
    ],
)
def test_canonical_must_point_at_the_page_itself(href: str, message: str) -> None:
    """The JSON-LD page URL, which is the right canonical, then disagrees with it too."""
    jsonld_message = f"MedicalWebPage url {URL} is not the canonical URL {href}"
    assert findings(page(canonical=f'<link rel="canonical" href="{href}">')) == [
        ("page.canonical", message, Severity.ERROR),
        ("page.jsonld", jsonld_message, Severity.ERROR),
    ]


def test_viewport_is_required() -> None:
    head = f"<title>Ketamine Infusions for Vienna, VA</title>{page().decode().split('</title>')[1]}"
    head = head.split("</head>")[0]
    assert findings(page(head=head)) == error("page.viewport", 'has no <meta name="viewport">')


def test_crisis_line_is_required() -> None:
    data = page().replace(b"Call or text 988 in a crisis.", b"")
    assert findings(data) == error("page.crisis", "does not show the 988 Suicide & Crisis Lifeline")


def test_crisis_line_must_be_visible_not_only_in_the_head() -> None:
    description = "Ketamine infusions for Vienna, VA. In a crisis call or text 988, the lifeline."
    data = page(description=f'<meta name="description" content="{description}">')
    data = data.replace(b"Call or text 988 in a crisis.", b"").replace(b"<title>", b"<title>988 ")
    assert findings(data) == error("page.crisis", "does not show the 988 Suicide & Crisis Lifeline")


def test_svg_titles_and_nested_markup_are_read_like_a_browser() -> None:
    svg = "<svg><title>Map of Vienna</title></svg>"
    data = page(body=f"<h1>Ketamine <em>infusion</em>\n  therapy</h1>{svg}")
    assert findings(data) == []
    facts = read_facts(PATH, data)
    assert facts.h1s == ("Ketamine infusion therapy",)
    assert facts.titles == ("Ketamine Infusions for Vienna, VA",)


def _ld(nodes: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(nodes)}</script>'


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        (graph()[1:], "JSON-LD lacks MedicalClinic"),
        ([graph()[0], {**graph()[1], "about": {"@id": "#x"}}, graph()[2]], "JSON-LD lacks Place"),
        ([{**graph()[0], "telephone": ""}, *graph()[1:]], "MedicalClinic lacks 'telephone'"),
        (
            [graph()[0], {**graph()[1], "url": ROOT_URL}, graph()[2]],
            f"MedicalWebPage url {ROOT_URL} is not the canonical URL {URL}",
        ),
        (
            [*graph()[:2], {"@type": "BreadcrumbList", "itemListElement": [{"@type": "ListItem"}]}],
            "ListItem lacks 'position'",
        ),
        (7, "JSON-LD lacks BreadcrumbList, MedicalClinic, MedicalWebPage, Place"),
    ],
)
def test_jsonld_needs_the_nodes_and_properties_of_the_page_type(nodes, message: str) -> None:
    found = findings(page(jsonld=_ld(nodes)))
    assert found[0] == ("page.jsonld", message, Severity.ERROR)


def test_jsonld_type_lists_and_top_level_lists_are_understood() -> None:
    nodes = graph()
    nodes[0] = {**nodes[0], "@type": ["MedicalClinic", "MedicalBusiness"]}
    assert findings(page(jsonld=_ld(nodes))) == []


def test_noindex_page_needs_no_canonical_but_must_stay_out_of_the_sitemap() -> None:
    data = page(canonical='<meta name="robots" content="noindex, follow">', kind="404")
    assert findings(data, sitemap={}) == []
    assert findings(data) == error("page.canonical", "noindex page is listed in the sitemap")


def test_canonical_must_equal_the_sitemap_url() -> None:
    assert findings(page(), sitemap={}) == error(
        "page.canonical", f"indexable page is not in the sitemap (canonical {URL})"
    )
    assert findings(page(), sitemap={PATH: URL + "?x"}) == error(
        "page.canonical", f"canonical {URL} differs from its sitemap URL {URL}?x"
    )


def test_links_resolve_to_files_folders_and_ids() -> None:
    body = (
        '<h1 id="top">V</h1><a href="#top">top</a><a href="../">VA</a>'
        '<a href="/.well-known/security.txt">s</a><a href="https://clinic.example/">home</a>'
        '<a href="tel:+17038440184">call</a><a href="https://elsewhere.example/x">x</a>'
    )
    files = {"ketamine-infusion/va/index.html": b"", ".well-known/security.txt": b""}
    assert findings(page(body=body), files=files) == []
    assert resolve_internal("/.well-known/", "index.html", ROOT_URL, "/") == (
        ".well-known/index.html",
        "",
    )


def test_each_broken_link_is_reported_once() -> None:
    body = '<h1>V</h1><a href="/nope/">a</a><a href="/nope/">b</a>'
    assert findings(page(body=body)) == error("page.link", "link /nope/ has no target file")


def test_titles_canonicals_and_descriptions_must_be_unique() -> None:
    other = "ketamine-infusion/va/oakton/index.html"
    found = check_pages({PATH: page(), other: page()}, ROOT_URL, {PATH: URL, other: URL})
    assert [str(f) for f in found if "unique" in f.rule] == [
        f"{other}: error: [page.title-unique] title 'Ketamine Infusions for Vienna, VA' is "
        f"shared with {PATH}",
        f"{other}: warning: [page.description-unique] description '{DESCRIPTION}' is shared "
        f"with {PATH}",
        f"{other}: error: [page.canonical-unique] canonical '{URL}' is shared with {PATH}",
    ]


def test_strict_makes_warnings_fail() -> None:
    warning = Finding("page.complete", PATH, "cut short", Severity.WARNING)
    assert not has_errors([warning])
    assert has_errors([warning], strict=True)
    assert not has_errors([], strict=True)


def test_the_default_site_passes_every_check(default_site) -> None:
    out, _ = default_site
    files = contents(out)
    site_root = "https://www.example.com/"
    urls = {
        p: site_root + p.removesuffix("index.html")
        for p in files
        if p.endswith(".html") and p != "404.html"
    }
    assert check_pages(files, site_root, urls) == []


def test_strict_build_fails_on_warnings_and_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every page gets the same (valid) description: a warning, published unless --strict."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    base = templates / "base.html"
    base.write_text(base.read_text().replace("{{ page.description }}", "x" * 80, 1))
    table = write_table(tmp_path / "t.csv")
    out = tmp_path / "site" / "output"
    build_site(out, table)
    before = snapshot(out)

    with pytest.raises(BuildFailed) as raised:
        build_site(out, table, templates=templates, strict=True)
    assert snapshot(out) == before
    assert {f.rule for f in raised.value.findings} == {"page.description-unique"}

    result = build_site(out, table, templates=templates)
    assert any("[page.description-unique]" in w for w in result.warnings)
    assert snapshot(out) != before


def test_a_sitemap_that_fails_its_check_stops_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build checks the sitemap it wrote with the protocol checker before publishing."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    table = write_table(tmp_path / "t.csv")
    out = tmp_path / "site" / "output"
    build_site(out, table)
    before = snapshot(out)
    real = site_files.build_sitemaps

    def cut_short(*args, **kwargs):
        return [replace(s, data=s.data.replace(b"</urlset>", b"")) for s in real(*args, **kwargs)]

    monkeypatch.setattr(site_files, "build_sitemaps", cut_short)

    with pytest.raises(BuildFailed) as raised:
        build_site(out, table, force=True)

    assert [(f.rule, f.path) for f in raised.value.findings] == [
        ("sitemap.well-formed", "sitemap.xml")
    ]
    assert snapshot(out) == before


@pytest.mark.parametrize(
    ("href", "target"),
    [
        ("/clinic/a/", ("a/index.html", "")),
        ("/clinic", ("index.html", "")),
        ("https://x.example/clinic/a/b/#f", ("a/b/index.html", "f")),
        ("../", ("t/index.html", "")),
        ("a.html", ("t/v/a.html", "")),
        ("/other/", (None, "")),
        ("../../../x", (None, "")),
        ("https://x.example/clinic/../y", (None, "")),
        ("https://elsewhere.example/", None),
        ("mailto:x@example.com", None),
    ],
)
def test_links_of_a_site_below_a_base_path(href: str, target) -> None:
    assert resolve_internal(href, "t/v/index.html", "https://x.example/clinic/", "/clinic/") == (
        target
    )


# --- facts read by XPath, and the fast paths of the checks ----------------------------------

ODD_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
    | st.sampled_from(" \t\r\n\x0b\x0c\x1c\x1f\x85\xa0\u2003\u2028\u3000"),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(ODD_TEXT, ODD_TEXT)
def test_page_text_is_collapsed_like_str_split(heading: str, words: str) -> None:
    body = f"<h1>{html.escape(heading)}</h1><p>{html.escape(words)}</p>"
    data = page(body=body)
    tree = parse_page(data)
    expected = [
        " ".join(etree.tostring(tree.find(f".//{tag}"), method="text", encoding=str).split())
        for tag in ("h1", "body")
    ]
    facts = read_facts(PATH, data)
    assert [facts.h1s[0], facts.text] == expected


def _normalize_space(text: str) -> str:
    """XPath's normalize-space(): runs of spaces, tabs, CRs and LFs become one space."""
    return re.sub("[ \t\r\n]+", " ", text).strip(" ")


@settings(max_examples=300, deadline=None)
@given(ODD_TEXT)
def test_normalized_text_is_collapsed_like_str_split(text: str) -> None:
    assert collapse_normalized(_normalize_space(text)) == " ".join(text.split())


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=30),
    st.sampled_from([b"</html>", b"</HTML>", b"</html", b"</html>x", b""]),
    st.binary(min_size=1, max_size=4).map(lambda b: bytes(b" \t\r\n\x0b\x0c"[c % 6] for c in b)),
    st.integers(0, 1200),
)
def test_the_end_tag_is_found_behind_any_whitespace(start, end, blank, repeat) -> None:
    data = start + end + (blank * repeat)[:repeat]
    assert check._ends_with_html_end(data) == data.rstrip().lower().endswith(b"</html>")


def test_links_ids_and_sources_are_read_from_every_element() -> None:
    body = (
        '<h1 id="top">V</h1><svg id="map"><title>Map</title><image src="/m.png"/></svg>'
        '<a name="x">no href</a><a href="/x/">x</a><video src="//cdn.example/v.mp4"></video>'
    )
    head = f'{page().decode().split("<head>")[1].split("</head>")[0]}<link rel="icon" href="i">'
    facts = read_facts(PATH, page(head=head, body=body))
    assert facts.links == ("/x/", "/", "#content")
    assert facts.ids == frozenset({"top", "map", "content"})
    assert facts.resources == ("i", "/m.png", "//cdn.example/v.mp4")
    assert facts.titles == ("Ketamine Infusions for Vienna, VA",)


SITE_ROOTS = [
    ROOT_URL,
    "https://x.example/clinic/",
    "https://x.example/clinic",
    "http://x.example//",
]
SEGMENT = st.from_regex(r"[A-Za-z0-9_.%-]{1,5}", fullmatch=True)
PLAIN_FOLDER = st.lists(SEGMENT, max_size=3).map(
    lambda parts: "/" + "".join(p + "/" for p in parts)
)
LINK = st.one_of(
    PLAIN_FOLDER,
    st.tuples(st.sampled_from(["/clinic", "/clinic/", "//x.example", ""]), PLAIN_FOLDER).map(
        "".join
    ),
    st.from_regex(r"#[A-Za-z0-9_:# -]{0,6}", fullmatch=True),
    st.tuples(st.sampled_from(SITE_ROOTS), st.text("ab/.#?%: ", max_size=8)).map("".join),
    st.text("ab/.#?%:\t ", max_size=12),
    st.tuples(
        st.text("ab./", max_size=4), st.sampled_from(["?u=", "#"]), st.sampled_from(SITE_ROOTS)
    ).map("".join),
    st.sampled_from(["tel:+1703", "mailto:a@b.example", " /a/", "/a/ ", "../", "a.html"]),
)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(SITE_ROOTS), LINK, st.sampled_from(["index.html", "t/v/index.html", "a.html"])
)
def test_links_resolve_as_resolve_internal_resolves_them(site_root, href, page_path) -> None:
    root_path = urlsplit(site_root).path or "/"
    links = check.SiteLinks(site_root, frozenset())
    site_wide = href.startswith("/") or urlsplit(href.strip()).scheme  # the same on every page
    expected = resolve_internal(href, "" if site_wide else page_path, site_root, root_path)
    assert links.target(href, page_path) == expected
    assert links.target(href, page_path) == expected  # the second time from what is known


def test_a_relative_link_with_a_url_in_its_query_resolves_from_its_page() -> None:
    body = '<h1>V</h1><a href="a.html?u=https://x.example/">share</a>'
    links = SiteLinks(ROOT_URL, frozenset({PATH, "index.html"}))
    found = check_page(read_facts(PATH, page(body=body)), links, URL)
    folder = PATH.removesuffix("index.html")
    assert found == [
        Finding("page.link", PATH, "link a.html?u=https://x.example/ has no target file")
    ]
    assert links.target("a.html?u=https://x.example/", PATH) == (folder + "a.html", "")


def test_a_malformed_source_url_is_a_finding_not_a_crash() -> None:
    data = page(body='<h1>V</h1><img src="http://[oops/x.png" alt="">')
    links = SiteLinks(ROOT_URL, frozenset({PATH, "index.html"}))
    found = check_page(read_facts(PATH, data), links, URL)
    assert [f.rule for f in found] == ["page.external-request"]


PAGE_PATHS = ["index.html", "a/b/index.html", "a.html", "A/index.html", "../index.html",
              "a/../index.html", "./index.html", "%41/index.html", "a b/index.html"]  # fmt: skip
ODD_ROOTS = ["https://x.example/a b/", "HTTPS://x.example/", "/clinic/", "clinic/", "mailto:x/"]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([*SITE_ROOTS, *ODD_ROOTS]), st.sampled_from(PAGE_PATHS), st.data())
def test_a_canonical_points_to_its_page_as_resolve_internal_tells(site_root, path, data) -> None:
    own_folder = st.just(path.removesuffix("index.html"))
    url = site_root + data.draw(own_folder | st.text("ab/.#?%", max_size=8))
    target = resolve_internal(url, path, site_root, urlsplit(site_root).path)
    assert check._points_to_page(url, path, site_root) == (target is not None and target[0] == path)


def test_a_link_that_passed_is_checked_again_in_other_files() -> None:
    body = '<h1>V</h1><a href="/x/">x</a><a href="tel:+1703">call</a>'
    facts = read_facts(PATH, page(body=body))
    with_x = SiteLinks(ROOT_URL, frozenset({PATH, "index.html", "x/index.html"}))
    assert check_page(facts, with_x, URL) == []
    assert check_page(facts, with_x, URL) == []  # now known to pass
    missing = [Finding("page.link", PATH, "link /x/ has no target file")]
    assert check_page(facts, SiteLinks(ROOT_URL, frozenset({PATH, "index.html"})), URL) == missing


def test_fragments_and_foreign_resources_are_checked_on_every_page() -> None:
    data = page(body='<h1>V</h1><img src="https://cdn.example/x.png" alt="">')
    other = "ketamine-infusion/va/oakton/index.html"
    with_id, without_id = (
        read_facts(PATH, data),
        read_facts(other, data.replace(b' id="content"', b"")),
    )
    links = SiteLinks(ROOT_URL, frozenset({PATH, other, "index.html"}))

    def link_findings(facts: check.PageFacts) -> list[str]:
        found = check_page(facts, links, None, sitemap_known=False)
        return [f.message for f in found if f.rule in ("page.link", "page.external-request")]

    foreign = "loads https://cdn.example/x.png from another site"
    assert link_findings(with_id) == [foreign]
    assert link_findings(without_id) == ["link #content: no element has id 'content'", foreign]
    assert link_findings(with_id) == [foreign]


def test_jsonld_findings_come_in_document_order() -> None:
    nodes = graph()
    nodes[0] = {**nodes[0], "name": "", "address": [{"@type": "Place", "name": "x"}]}
    nodes[2] = {
        "@type": ["BreadcrumbList", 3],
        "itemListElement": [{"@type": "ListItem"}, [{"@type": "ListItem", "position": 2}]],
    }
    assert findings(page(jsonld=_ld(nodes))) == [
        ("page.jsonld", "MedicalClinic lacks 'name'", Severity.ERROR),
        ("page.jsonld", "Place lacks 'address'", Severity.ERROR),
        ("page.jsonld", "ListItem lacks 'position'", Severity.ERROR),
        ("page.jsonld", "ListItem lacks 'name'", Severity.ERROR),
        ("page.jsonld", "ListItem lacks 'name'", Severity.ERROR),
    ]
