"""Tests for generator.sitemap_check: hand-written fixtures against the official XSDs, each
rule's id, the base-URL and size limits, and whole-site trees with an index."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from lxml import etree

from generator.problems import Finding, Severity
from generator.sitemap import SitemapEntry, build_sitemaps
from generator.sitemap_check import (
    MAX_BYTES,
    MAX_URLS,
    check_sitemap_bytes,
    check_sitemap_tree,
    parse_w3c_datetime,
)

from .conftest import load_schema

FIXTURES = Path(__file__).parent / "fixtures" / "sitemaps"
FIXTURE_FILES = sorted(FIXTURES.glob("*/*.xml"))
BASE = "https://www.example.com"
NS = "http://www.sitemaps.org/schemas/sitemap/0.9"

# Where the official XSDs and the protocol text (our checker) disagree. Each fixture here has an
# explicit expected verdict: its folder (valid/ or invalid/) is the checker's verdict, and the
# XSD must give the opposite one, so the lists cannot silently go stale.
XSD_VALID_BUT_PROTOCOL_INVALID = {
    # xsd:dateTime makes the timezone optional; the W3C Datetime note requires a TZD whenever a
    # time is given, so a local time is ambiguous and we reject it.
    "invalid/lastmod-format--seconds-without-tzd.xml": "time without TZD",
    # xsd:date allows a timezone ("2026-11-26Z"); W3C YYYY-MM-DD has none.
    "invalid/lastmod-format--date-with-tzd.xml": "date with TZD",
    # xsd:dateTime accepts 24:00:00; W3C hh is 00..23.
    "invalid/lastmod-format--hour-24.xml": "hour 24",
    # xsd:anyURI accepts relative references; the protocol wants fully-qualified URLs.
    "invalid/loc-absolute--relative-path.xml": "relative <loc>",
    "invalid/loc-absolute--index-relative.xml": "relative index <loc>",
    # The XSD knows nothing of the site; the protocol allows one host (and the file's directory).
    "invalid/loc-under-base--other-host.xml": "other host",
    "invalid/loc-under-base--http-not-https.xml": "other scheme",
    # libxml2's anyURI check escapes the value before parsing it, so it accepts a raw space;
    # RFC 3986 (which the protocol requires) does not.
    "invalid/escaping--space.xml": "unescaped space",
    # The protocol requires UTF-8; the XSD validates the parsed document, not its encoding.
    "invalid/encoding--latin1-declared.xml": "ISO-8859-1",
    # No uniqueness constraint in the XSD; the protocol is silent, our output never repeats a URL.
    "invalid/duplicate-loc--same-url-twice.xml": "duplicate <loc>",
}
XSD_INVALID_BUT_PROTOCOL_VALID = {
    # W3C Datetime allows YYYY, YYYY-MM and hh:mm without seconds; the XSD's union of
    # xsd:date | xsd:dateTime allows none of them.
    "valid/lastmod-year-only.xml": "YYYY",
    "valid/lastmod-year-month.xml": "YYYY-MM",
    "valid/lastmod-minutes-without-seconds.xml": "hh:mmTZD",
    # The XSD's wildcard is processContents="strict": an extension validates only with its own
    # schema loaded, which the oracle does not do. The protocol allows extensions.
    "valid/extension-image.xml": "image extension",
    # The XSD needs at least one <url>; the protocol does not say, and we only warn.
    "valid/warn-empty-urlset.xml": "empty <urlset>",
}
# Not fixtures, but also known: the XSD's <loc> minLength of 12 (no such rule in the protocol);
# the protocol's "less than 2,048 characters" vs the XSD's maxLength 2048 (we follow the XSD);
# xsd:dateTime years beyond 9999 or negative (W3C: exactly four digits).

EXPECTED_WARNINGS = {
    "valid/warn-changefreq-priority.xml": {"sitemap.changefreq", "sitemap.priority"},
    "valid/warn-non-ascii-iri.xml": {"sitemap.loc-non-ascii"},
    "valid/warn-empty-urlset.xml": {"sitemap.empty"},
}


@pytest.fixture(scope="module")
def schemas() -> dict[str, etree.XMLSchema]:
    return {"urlset": load_schema("sitemap.xsd"), "sitemapindex": load_schema("siteindex.xsd")}


def _xsd_valid(data: bytes, schemas: dict[str, etree.XMLSchema]) -> bool:
    try:
        root = etree.fromstring(data, etree.XMLParser(no_network=True))
    except etree.XMLSyntaxError:
        return False
    schema = schemas.get(etree.QName(root).localname, schemas["urlset"])
    return schema.validate(root)


def _rel(path: Path) -> str:
    return path.relative_to(FIXTURES).as_posix()


def _check(path: Path) -> list[Finding]:
    return check_sitemap_bytes(path.read_bytes(), path.name, BASE)


def _rules(findings: list[Finding], severity: Severity) -> set[str]:
    return {finding.rule for finding in findings if finding.severity is severity}


def _urlset(*locs: str) -> bytes:
    body = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="{NS}">{body}</urlset>'.encode()


# ---------------------------------------------------------------- fixtures vs the oracle


def test_fixtures_are_present() -> None:
    folders = {path.parent.name for path in FIXTURE_FILES}
    assert folders == {"valid", "invalid"}, f"fixtures missing under {FIXTURES}"
    for listed in [*XSD_VALID_BUT_PROTOCOL_INVALID, *XSD_INVALID_BUT_PROTOCOL_VALID]:
        assert (FIXTURES / listed).is_file(), listed


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=_rel)
def test_checker_agrees_with_official_xsd(path: Path, schemas: dict) -> None:
    checker_valid = not _rules(_check(path), Severity.ERROR)
    xsd_valid = _xsd_valid(path.read_bytes(), schemas)
    assert checker_valid == (path.parent.name == "valid")
    if _rel(path) in XSD_VALID_BUT_PROTOCOL_INVALID:
        assert (xsd_valid, checker_valid) == (True, False)
    elif _rel(path) in XSD_INVALID_BUT_PROTOCOL_VALID:
        assert (xsd_valid, checker_valid) == (False, True)
    else:
        assert xsd_valid == checker_valid


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("invalid/*.xml")), ids=_rel)
def test_invalid_fixture_breaks_exactly_its_rule(path: Path) -> None:
    expected = "sitemap." + path.stem.split("--")[0]
    findings = _check(path)
    assert _rules(findings, Severity.ERROR) == {expected}, [str(f) for f in findings]
    assert all(f.path == path.name and f.message for f in findings)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("valid/*.xml")), ids=_rel)
def test_valid_fixture_has_only_expected_warnings(path: Path) -> None:
    findings = _check(path)
    assert not _rules(findings, Severity.ERROR)
    assert _rules(findings, Severity.WARNING) == EXPECTED_WARNINGS.get(_rel(path), set())


# ---------------------------------------------------------------- single rules


@pytest.mark.parametrize(
    ("base", "loc", "ok"),
    [
        ("https://www.example.com/sub", "https://www.example.com/sub/page/", True),
        ("https://www.example.com/sub/", "https://www.example.com/sub/", True),
        ("https://www.example.com/sub/", "https://www.example.com/subway/", False),
        ("https://www.example.com/sub/", "https://www.example.com/other/", False),
        ("https://www.example.com", "HTTPS://WWW.EXAMPLE.COM/page", True),
        ("https://www.example.com", "https://www.example.com", True),
        ("https://www.example.com", "https://www.example.com.evil.test/", False),
    ],
)
def test_loc_under_base(base: str, loc: str, ok: bool) -> None:
    rules = _rules(check_sitemap_bytes(_urlset(loc), "sitemap.xml", base), Severity.ERROR)
    assert rules == (set() if ok else {"sitemap.loc-under-base"})


def test_urlset_in_a_directory_may_only_list_urls_under_it() -> None:
    data = _urlset(f"{BASE}/blog/a/", f"{BASE}/shop/b/")
    findings = check_sitemap_bytes(data, "blog/sitemap.xml", BASE)
    assert [(f.rule, "shop" in f.message) for f in findings] == [("sitemap.loc-under-base", True)]


def test_base_url_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="absolute"):
        check_sitemap_bytes(_urlset(f"{BASE}/"), "sitemap.xml", "www.example.com")


def test_duplicates_are_reported_once_per_repeat_with_lines() -> None:
    data = _urlset(f"{BASE}/a", f"{BASE}/b", f"{BASE}/a", f"{BASE}/a")
    findings = check_sitemap_bytes(data, "sitemap.xml", BASE)
    assert [f.rule for f in findings] == ["sitemap.duplicate-loc"] * 2


def test_max_urls_limit() -> None:
    locs = [f"{BASE}/p{i}" for i in range(MAX_URLS + 1)]
    over = check_sitemap_bytes(_urlset(*locs), "sitemap.xml", BASE)
    assert [f.rule for f in over] == ["sitemap.max-urls"]
    assert check_sitemap_bytes(_urlset(*locs[:MAX_URLS]), "sitemap.xml", BASE) == []


def test_max_bytes_limit_plain_and_gzipped() -> None:
    head = _urlset(f"{BASE}/").removesuffix(b"</urlset>")
    padding = b"<!--" + b" " * (MAX_BYTES - len(head)) + b"-->"
    data = head + padding + b"</urlset>"
    assert [f.rule for f in check_sitemap_bytes(data, "sitemap.xml", BASE)] == ["sitemap.max-bytes"]
    packed = gzip.compress(data, compresslevel=1, mtime=0)
    findings = check_sitemap_bytes(packed, "sitemap-1.xml.gz", BASE)
    assert [f.rule for f in findings] == ["sitemap.max-bytes"]


def test_gzip_files() -> None:
    data = _urlset(f"{BASE}/")
    assert check_sitemap_bytes(gzip.compress(data), "sitemap-1.xml.gz", BASE) == []
    assert [f.rule for f in check_sitemap_bytes(data, "sitemap-1.xml.gz", BASE)] == ["sitemap.gzip"]
    truncated = gzip.compress(data)[:-10]
    assert [f.rule for f in check_sitemap_bytes(truncated, "s.xml.gz", BASE)] == ["sitemap.gzip"]


def test_utf16_is_an_encoding_error() -> None:
    data = _urlset(f"{BASE}/").decode().replace("UTF-8", "UTF-16").encode("utf-16")
    assert _rules(check_sitemap_bytes(data, "sitemap.xml", BASE), Severity.ERROR) == {
        "sitemap.encoding"
    }


def test_external_entities_are_not_resolved() -> None:
    data = (
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        + _urlset(f"{BASE}/&x;").split(b"?>", 1)[1]
    )
    findings = check_sitemap_bytes(data, "sitemap.xml", BASE)
    assert [f.rule for f in findings] == ["sitemap.well-formed"]
    assert "root:" not in findings[0].message


def test_entity_expansion_bomb_is_refused() -> None:
    levels = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10))
    doctype = f'<!DOCTYPE urlset [<!ENTITY e0 "lol">{levels}]>'
    data = doctype.encode() + _urlset(f"{BASE}/&e9;").split(b"?>", 1)[1]
    findings = check_sitemap_bytes(data, "sitemap.xml", BASE)
    assert [f.rule for f in findings] == ["sitemap.well-formed"]


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2026", "2026-01-01T00:00:00+00:00"),
        ("2026-11", "2026-11-01T00:00:00+00:00"),
        ("2026-11-26", "2026-11-26T00:00:00+00:00"),
        ("2026-11-26T21:05Z", "2026-11-26T21:05:00+00:00"),
        ("2026-11-26T21:05+01:00", "2026-11-26T20:05:00+00:00"),
        ("2026-11-26T21:05:07.123456789-05:30", "2026-11-27T02:35:07.123456+00:00"),
        ("2024-02-29", "2024-02-29T00:00:00+00:00"),
        ("2026-11-26T10:00:00+14:00", "2026-11-25T20:00:00+00:00"),
    ],
)
def test_w3c_datetime_accepted(text: str, iso: str) -> None:
    parsed = parse_w3c_datetime(text)
    assert parsed is not None and parsed.isoformat() == iso


@pytest.mark.parametrize(
    "text",
    [
        "2026-13-01",
        "2026-02-29",
        "0000-01-01",
        "26-11-26",
        "2026-1-5",
        "2026-11-26T10:00",
        "2026-11-26T10:00:00",
        "2026-11-26T10Z",
        "2026-11-26T10:00:00.Z",
        "2026-11-26T10:00:00+1:00",
        "2026-11-26T10:00:00+14:30",
        "2026-11-26T25:00Z",
        "2026-11-26 10:00Z",
        "2026-11-26Z",
        "",
    ],
)
def test_w3c_datetime_rejected(text: str) -> None:
    assert parse_w3c_datetime(text) is None


# ---------------------------------------------------------------- trees


def _write(site: Path, files: list) -> None:
    for file in files:
        (site / file.path).parent.mkdir(parents=True, exist_ok=True)
        (site / file.path).write_bytes(file.data)


def _entries(count: int) -> list[SitemapEntry]:
    return [
        SitemapEntry(f"{BASE}/areas/town-{i:02d}/", f"2026-11-{1 + i % 28:02d}")
        for i in range(count)
    ]


@pytest.mark.parametrize("compress", [False, True])
def test_tree_built_by_the_writer_is_clean(tmp_path: Path, compress: bool) -> None:
    _write(tmp_path, build_sitemaps(_entries(10), BASE, max_urls=3, gzip=compress))
    assert check_sitemap_tree(tmp_path, BASE) == []


def test_tree_single_urlset(tmp_path: Path) -> None:
    _write(tmp_path, build_sitemaps(_entries(3), BASE))
    assert check_sitemap_tree(tmp_path, BASE) == []


def test_tree_reports_missing_child(tmp_path: Path) -> None:
    _write(tmp_path, build_sitemaps(_entries(10), BASE, max_urls=3))
    (tmp_path / "sitemap-2.xml").unlink()
    findings = check_sitemap_tree(tmp_path, BASE)
    assert [(f.rule, f.path) for f in findings] == [("sitemap.child-missing", "sitemap.xml")]
    assert "sitemap-2.xml" in findings[0].message


def test_tree_without_sitemap(tmp_path: Path) -> None:
    assert [f.rule for f in check_sitemap_tree(tmp_path, BASE)] == ["sitemap.missing"]


def _index(*locs: str) -> bytes:
    body = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<sitemapindex xmlns="{NS}">{body}</sitemapindex>'.encode()


def test_tree_nested_index_and_cross_file_duplicates(tmp_path: Path) -> None:
    (tmp_path / "sitemap.xml").write_bytes(
        _index(f"{BASE}/a.xml", f"{BASE}/b.xml", f"{BASE}/nested.xml")
    )
    (tmp_path / "a.xml").write_bytes(_urlset(f"{BASE}/x", f"{BASE}/y"))
    (tmp_path / "b.xml").write_bytes(_urlset(f"{BASE}/y"))
    (tmp_path / "nested.xml").write_bytes(_index(f"{BASE}/a.xml"))
    findings = check_sitemap_tree(tmp_path, BASE)
    assert [(f.rule, f.path) for f in findings] == [
        ("sitemap.duplicate-loc", "b.xml"),
        ("sitemap.nested-index", "nested.xml"),
    ]


def test_tree_child_urls_that_cannot_be_files(tmp_path: Path) -> None:
    (tmp_path / "sitemap.xml").write_bytes(
        _index(f"{BASE}/s.xml?page=2", f"{BASE}/../etc/passwd", f"{BASE}/sub%20dir/s.xml")
    )
    (tmp_path / "sub dir").mkdir()
    (tmp_path / "sub dir" / "s.xml").write_bytes(_urlset(f"{BASE}/sub%20dir/page"))
    findings = check_sitemap_tree(tmp_path, BASE)
    assert [f.rule for f in findings] == ["sitemap.child-missing"] * 2
