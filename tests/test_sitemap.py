"""Tests for generator.sitemap: files valid against the official XSDs, splitting by count and
size, index lastmods, gzip determinism, escaping, input validation and robots.txt."""

from __future__ import annotations

import gzip
import random
from datetime import UTC, datetime
from urllib.robotparser import RobotFileParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from generator.sitemap import SitemapEntry, SitemapFile, build_sitemaps, robots_txt
from generator.sitemap_check import check_sitemap_bytes

from .conftest import load_schema

BASE = "https://www.example.com"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@pytest.fixture(scope="module")
def urlset_xsd() -> etree.XMLSchema:
    return load_schema("sitemap.xsd")


@pytest.fixture(scope="module")
def index_xsd() -> etree.XMLSchema:
    return load_schema("siteindex.xsd")


def _entries(count: int) -> list[SitemapEntry]:
    return [
        SitemapEntry(f"{BASE}/areas/town-{i:02d}/", f"2026-11-{1 + (i * 7) % 28:02d}")
        for i in range(count)
    ]


def _xml(file: SitemapFile) -> bytes:
    return gzip.decompress(file.data) if file.path.endswith(".gz") else file.data


def _valid(data: bytes, schema: etree.XMLSchema) -> etree._Element:
    root = etree.fromstring(data)
    schema.assertValid(root)
    return root


def _pairs(root: etree._Element, entry: str) -> list[tuple[str, str]]:
    return [
        (node.findtext("s:loc", namespaces=NS), node.findtext("s:lastmod", namespaces=NS))
        for node in root.iterfind(f"s:{entry}", NS)
    ]


def _instant(text: str) -> datetime:
    """Independent of the module under test: Python's own ISO parser."""
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ---------------------------------------------------------------- one file


def test_single_file_is_valid_sorted_and_complete(urlset_xsd: etree.XMLSchema) -> None:
    entries = _entries(5)
    files = build_sitemaps(list(reversed(entries)), BASE)
    assert [f.path for f in files] == ["sitemap.xml"]
    assert files[0].data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<urlset ')
    root = _valid(files[0].data, urlset_xsd)
    assert _pairs(root, "url") == sorted((e.loc, e.lastmod) for e in entries)
    assert b"priority" not in files[0].data and b"changefreq" not in files[0].data


def test_output_is_independent_of_input_order() -> None:
    entries = _entries(12)
    shuffled = random.Random(7).sample(entries, len(entries))
    assert build_sitemaps(entries, BASE, max_urls=5) == build_sitemaps(shuffled, BASE, max_urls=5)


def test_base_url_trailing_slash_is_normalised() -> None:
    assert build_sitemaps(_entries(4), BASE, max_urls=2) == build_sitemaps(
        _entries(4), BASE + "/", max_urls=2
    )
    sub = [
        SitemapEntry(f"{BASE}/sub/a/", "2026-11-26"),
        SitemapEntry(f"{BASE}/sub/b/", "2026-11-27"),
    ]
    index = build_sitemaps(sub, f"{BASE}/sub", max_urls=1)[0]
    locs = [loc for loc, _ in _pairs(etree.fromstring(index.data), "sitemap")]
    assert locs == [f"{BASE}/sub/sitemap-1.xml", f"{BASE}/sub/sitemap-2.xml"]


# ---------------------------------------------------------------- splitting


def _assert_split(
    files: list[SitemapFile],
    entries: list[SitemapEntry],
    urlset_xsd: etree.XMLSchema,
    index_xsd: etree.XMLSchema,
) -> list[list[tuple[str, str]]]:
    """Index valid and listing each child by URL with its newest lastmod; children valid and
    together holding every entry exactly once. Returns the children's (loc, lastmod) pairs."""
    assert files[0].path == "sitemap.xml"
    listed = _pairs(_valid(files[0].data, index_xsd), "sitemap")
    assert [loc for loc, _ in listed] == [f"{BASE}/{f.path}" for f in files[1:]]
    children = [_pairs(_valid(_xml(f), urlset_xsd), "url") for f in files[1:]]
    for (_, index_lastmod), child in zip(listed, children, strict=True):
        assert _instant(index_lastmod) == max(_instant(lastmod) for _, lastmod in child)
    every = [pair for child in children for pair in child]
    assert every == sorted((e.loc, e.lastmod) for e in entries)
    return children


def test_split_by_count(urlset_xsd: etree.XMLSchema, index_xsd: etree.XMLSchema) -> None:
    entries = _entries(10)
    files = build_sitemaps(entries, BASE, max_urls=3)
    assert [f.path for f in files] == [
        "sitemap.xml",
        "sitemap-1.xml",
        "sitemap-2.xml",
        "sitemap-3.xml",
        "sitemap-4.xml",
    ]
    children = _assert_split(files, entries, urlset_xsd, index_xsd)
    assert [len(child) for child in children] == [3, 3, 3, 1]


def test_split_by_size(urlset_xsd: etree.XMLSchema, index_xsd: etree.XMLSchema) -> None:
    entries = _entries(10)
    single = build_sitemaps(entries, BASE)[0].data
    max_bytes = len(single) // 3
    files = build_sitemaps(entries, BASE, max_bytes=max_bytes)
    block = len(build_sitemaps(entries[:2], BASE)[0].data) - len(
        build_sitemaps(entries[:1], BASE)[0].data
    )
    assert all(len(f.data) <= max_bytes for f in files[1:])
    # Greedy: no part could have taken the next entry too.
    assert all(len(f.data) + block > max_bytes for f in files[1:-1])
    children = _assert_split(files, entries, urlset_xsd, index_xsd)
    assert len(children) > 1 and min(len(child) for child in children) >= 2


def test_size_limit_is_inclusive() -> None:
    size = len(build_sitemaps(_entries(6), BASE)[0].data)
    assert [f.path for f in build_sitemaps(_entries(6), BASE, max_bytes=size)] == ["sitemap.xml"]
    assert len(build_sitemaps(_entries(6), BASE, max_bytes=size - 1)) == 3


def test_index_lastmod_compares_instants_not_strings(index_xsd: etree.XMLSchema) -> None:
    # As strings "2026-11-27T01:00:00+00:00" sorts last, but 2026-11-26T23:00-05:00 is later.
    entries = [
        SitemapEntry(f"{BASE}/a", "2026-11-27T01:00:00+00:00"),
        SitemapEntry(f"{BASE}/b", "2026-11-26T23:00:00-05:00"),
        SitemapEntry(f"{BASE}/c", "2026-11-27"),
        SitemapEntry(f"{BASE}/d", "2026-11-01"),
    ]
    files = build_sitemaps(entries, BASE, max_urls=3)
    listed = _pairs(_valid(files[0].data, index_xsd), "sitemap")
    assert [lastmod for _, lastmod in listed] == ["2026-11-26T23:00:00-05:00", "2026-11-01"]


def test_gzip_parts_are_deterministic_and_index_stays_plain(
    urlset_xsd: etree.XMLSchema, index_xsd: etree.XMLSchema
) -> None:
    entries = _entries(10)
    first = build_sitemaps(entries, BASE, max_urls=4, gzip=True)
    assert first == build_sitemaps(entries, BASE, max_urls=4, gzip=True)
    assert [f.path for f in first] == [
        "sitemap.xml",
        "sitemap-1.xml.gz",
        "sitemap-2.xml.gz",
        "sitemap-3.xml.gz",
    ]
    assert all(f.data[:2] == b"\x1f\x8b" and f.data[4:8] == b"\0\0\0\0" for f in first[1:])
    _assert_split(first, entries, urlset_xsd, index_xsd)
    plain = build_sitemaps(entries, BASE, max_urls=4)
    assert [_xml(f) for f in first[1:]] == [f.data for f in plain[1:]]


def test_gzip_single_file_stays_plain() -> None:
    files = build_sitemaps(_entries(3), BASE, gzip=True)
    assert files == build_sitemaps(_entries(3), BASE)


# ---------------------------------------------------------------- escaping and validation


def test_ampersand_and_apostrophe_are_entity_escaped(urlset_xsd: etree.XMLSchema) -> None:
    loc = f"{BASE}/search?q=detox&city=fairfax&note=it's"
    data = build_sitemaps([SitemapEntry(loc, "2026-11-26")], BASE)[0].data
    assert b"?q=detox&amp;city=fairfax&amp;note=it&apos;s</loc>" in data
    assert _pairs(_valid(data, urlset_xsd), "url") == [(loc, "2026-11-26")]


def test_percent_encoded_non_ascii_passes_through(urlset_xsd: etree.XMLSchema) -> None:
    loc = f"{BASE}/caf%C3%A9/"
    data = build_sitemaps([SitemapEntry(loc, "2026-11-26")], BASE)[0].data
    assert _pairs(_valid(data, urlset_xsd), "url") == [(loc, "2026-11-26")]


@pytest.mark.parametrize(
    ("loc", "lastmod", "why"),
    [
        (f"{BASE}/café/", "2026-11-26", "non-ASCII"),
        (f"{BASE}/drug rehab/", "2026-11-26", "percent-encoded"),
        (f"{BASE}/100%/", "2026-11-26", "hex digits"),
        ("/relative/", "2026-11-26", "absolute"),
        ("https://other.example.com/", "2026-11-26", "not under"),
        (f"{BASE}/" + "a" * 2048, "2026-11-26", "2048"),
        (f"{BASE}/a", "2026-11-26T10:00:00", "lastmod"),
        (f"{BASE}/a", "26/11/2026", "lastmod"),
        (f"{BASE}/a", "2026-02-30", "lastmod"),
        # W3C Datetime, but not valid against the official XSD: the writer refuses them.
        (f"{BASE}/a", "2026", "lastmod"),
        (f"{BASE}/a", "2026-11", "lastmod"),
        (f"{BASE}/a", "2026-11-26T10:00Z", "lastmod"),
    ],
)
def test_bad_entries_are_rejected(loc: str, lastmod: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        build_sitemaps([SitemapEntry(loc, lastmod)], BASE)


@pytest.mark.parametrize(
    ("entries", "options", "why"),
    [
        ([], {}, "no sitemap entries"),
        ([SitemapEntry(f"{BASE}/a", "2026-11-26")] * 2, {}, "duplicate"),
        ([SitemapEntry(f"{BASE}/a", "2026-11-26")], {"max_urls": 0}, "max_urls"),
        ([SitemapEntry(f"{BASE}/a", "2026-11-26")], {"max_urls": 50_001}, "max_urls"),
        (
            [SitemapEntry(f"{BASE}/a", "2026-11-26")],
            {"max_bytes": 50 * 1024 * 1024 + 1},
            "max_bytes",
        ),
        (
            [SitemapEntry(f"{BASE}/a", "2026-11-26"), SitemapEntry(f"{BASE}/b", "2026-11-26")],
            {"max_bytes": 150},
            "one <url>",
        ),
    ],
)
def test_bad_arguments_are_rejected(entries: list, options: dict, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        build_sitemaps(entries, BASE, **options)


def test_bad_base_url_is_rejected() -> None:
    with pytest.raises(ValueError, match="absolute"):
        build_sitemaps(_entries(1), "www.example.com")


_SEGMENT = st.text(alphabet="abcxyz019-._~%20", min_size=1, max_size=12).filter(
    lambda s: "%" not in s.replace("%20", "") and s not in (".", "..")
)
_LASTMOD = st.sampled_from(
    [
        "2026-11-26",
        "2026-11-26T21:05:00Z",
        "2026-11-26T21:05:00.5+01:00",
        "2026-11-27T01:00:00-14:00",
    ]
)


@settings(max_examples=30, deadline=None)
@given(
    paths=st.lists(st.lists(_SEGMENT, min_size=1, max_size=3), min_size=1, max_size=25),
    lastmods=st.lists(_LASTMOD, min_size=25, max_size=25),
    max_urls=st.integers(min_value=1, max_value=30),
    compress=st.booleans(),
)
def test_every_output_passes_our_own_checker(
    paths: list[list[str]], lastmods: list[str], max_urls: int, compress: bool
) -> None:
    locs = sorted({f"{BASE}/{'/'.join(parts)}" for parts in paths})
    entries = [SitemapEntry(loc, lastmod) for loc, lastmod in zip(locs, lastmods, strict=False)]
    files = build_sitemaps(entries, BASE, max_urls=max_urls, gzip=compress)
    assert len(files) == (1 if len(entries) <= max_urls else 1 + -(-len(entries) // max_urls))
    for file in files:
        assert check_sitemap_bytes(file.data, file.path, BASE) == []


# ---------------------------------------------------------------- robots.txt


def test_robots_txt_names_the_sitemap() -> None:
    text = robots_txt(f"{BASE}/sitemap.xml")
    assert text == (b"User-agent: *\nAllow: /\n\nSitemap: https://www.example.com/sitemap.xml\n")


def test_robots_txt_disallow_is_honoured_by_first_match_parsers() -> None:
    text = robots_txt(f"{BASE}/sitemap.xml", disallow=["/private/", "/drafts/"])
    assert text.decode().splitlines()[:4] == [
        "User-agent: *",
        "Disallow: /private/",
        "Disallow: /drafts/",
        "Allow: /",
    ]
    parser = RobotFileParser()
    parser.parse(text.decode().splitlines())
    assert not parser.can_fetch("bot", f"{BASE}/private/x.html")
    assert parser.can_fetch("bot", f"{BASE}/areas/x/")
    assert parser.site_maps() == [f"{BASE}/sitemap.xml"]


@pytest.mark.parametrize(
    ("url", "disallow"),
    [
        ("/sitemap.xml", ()),
        (f"{BASE}/site map.xml", ()),
        (f"{BASE}/sitemap.xml\nDisallow: /", ()),
        (f"{BASE}/sitemap.xml", ("private/",)),
        (f"{BASE}/sitemap.xml", ("/a\nAllow: /b",)),
    ],
)
def test_robots_txt_rejects_bad_input(url: str, disallow: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        robots_txt(url, disallow=disallow)
