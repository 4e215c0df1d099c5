"""Sitemap checker: owns the sitemaps.org protocol rules for built sitemap files and trees.

It is our own reading of https://www.sitemaps.org/protocol.html (it does not use the XSDs;
those are the external oracle in the tests). Every verdict is a `Finding` with a rule id:

ERROR (the protocol, or the official schema's structure, is broken):
  sitemap.well-formed      not well-formed XML
  sitemap.encoding         not UTF-8 (declared encoding or byte-order mark)
  sitemap.gzip             a `.gz` file that does not gunzip
  sitemap.root             root is neither <urlset> nor <sitemapindex>
  sitemap.namespace        right root name, wrong or missing namespace
  sitemap.structure        protocol element misplaced, repeated, out of schema order, or text
                           where only elements may be
  sitemap.unknown-element  element in the sitemap namespace the protocol does not define
                           (elements of other namespaces are extensions and are allowed)
  sitemap.unknown-attribute attribute on a protocol element (only xsi:schemaLocation allowed)
  sitemap.loc-missing      <url>/<sitemap> without <loc>
  sitemap.loc-absolute     <loc> is not an absolute URL (scheme and host)
  sitemap.loc-under-base   <loc> not under the site's base URL (for a <urlset> named with a
                           directory, under that directory: the protocol's location rule)
  sitemap.loc-length       <loc> longer than 2048 characters
  sitemap.escaping         <loc> has characters that must be percent-encoded, a bad %-escape,
                           '[' or ']' outside the host, or more than one '#'
  sitemap.lastmod-format   <lastmod> is not a W3C Datetime (YYYY, YYYY-MM, YYYY-MM-DD,
                           YYYY-MM-DDThh:mm[:ss[.s+]]TZD; a time needs a TZD = Z or +-hh:mm)
  sitemap.changefreq       value outside always/hourly/daily/weekly/monthly/yearly/never
  sitemap.priority         value not a decimal in 0.0..1.0
  sitemap.max-urls         more than 50,000 <url> (or <sitemap>) entries
  sitemap.max-bytes        more than 50 MiB uncompressed
  sitemap.duplicate-loc    the same <loc> twice (in a file, or across an index's children);
                           not forbidden by the protocol text, but always a bug in our output
  sitemap.missing          check_sitemap_tree: no sitemap.xml in the site root
  sitemap.child-missing    an index entry whose file is not in the site where its URL maps
  sitemap.nested-index     an index entry that is itself an index (the protocol forbids it)
WARNING (valid, but advice):
  sitemap.changefreq / sitemap.priority   valid value, ignored by major search engines
  sitemap.loc-non-ascii    an IRI: non-ASCII characters are allowed by RFC 3987 but should be
                           percent-encoded UTF-8 for the widest compatibility
  sitemap.empty            no <url> (or <sitemap>) entries

Whitespace around <loc>, <lastmod> and <priority> values is ignored, as xsd:anyURI, xsd:date
and xsd:decimal collapse it; <changefreq> (an xsd:string) is compared exactly.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from io import BytesIO
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote, urlsplit

from lxml import etree

from generator.problems import Finding, Severity

NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
MAX_URLS = 50_000
MAX_BYTES = 50 * 1024 * 1024
MAX_LOC_CHARS = 2048
CHANGEFREQS = frozenset({"always", "hourly", "daily", "weekly", "monthly", "yearly", "never"})

_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_XSI_ALLOWED = frozenset({f"{{{_XSI}}}schemaLocation", f"{{{_XSI}}}noNamespaceSchemaLocation"})
_PROTOCOL_ELEMENTS = frozenset(
    {"urlset", "url", "sitemapindex", "sitemap", "loc", "lastmod", "changefreq", "priority"}
)
_ENTRY = {"urlset": "url", "sitemapindex": "sitemap"}
_ENTRY_CHILDREN = {
    "url": ("loc", "lastmod", "changefreq", "priority"),
    "sitemap": ("loc", "lastmod"),
}
# Anything but RFC 3986 unreserved/reserved characters, '%' and non-ASCII (IRI) characters
# from U+00A0 on: i.e. spaces, controls (C0, DEL, C1), " < > \\ ^ ` { | }.
_MUST_ENCODE = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%\u00a0-\U0010ffff]")
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^/?#]")  # scheme and a host
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_W3C_DATETIME = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d+))?)?"
    r"(?P<tzd>Z|[+-]\d{2}:\d{2}))?)?)?"
)
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_ENCODING_DECL = re.compile(rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']+)[\"']")
_NON_UTF8_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")  # UTF-16 LE/BE, UTF-32


@dataclass(frozen=True)
class _Inspection:
    """What one file turned out to be: its kind, the <loc>s it lists (with lines) and findings."""

    kind: str
    locs: tuple[tuple[str, int], ...]
    findings: tuple[Finding, ...]


# ---------------------------------------------------------------- values


def normalise_base_url(base_url: str) -> str:
    """Return `base_url` with exactly one trailing slash; ValueError if not absolute http(s)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base URL must be absolute http(s): {base_url!r}")
    if parts.query or parts.fragment or "#" in base_url:
        raise ValueError(f"base URL must not have a query or fragment: {base_url!r}")
    return base_url.rstrip("/") + "/"


def parse_w3c_datetime(text: str) -> datetime | None:
    """Parse a W3C Datetime to an aware UTC datetime, or None if `text` is not one.

    Reduced precision counts as the start of the period in UTC: "2026" is 2026-01-01T00:00Z
    and "2026-11-26" is 2026-11-26T00:00Z. Years 0001..9999; offsets up to +-14:00 (as XSD).
    """
    match = _W3C_DATETIME.fullmatch(text)
    if match is None:
        return None
    fields = match.groupdict()
    try:
        tz = _parse_tzd(fields["tzd"])
        return datetime(
            int(fields["year"]),
            int(fields["month"] or 1),
            int(fields["day"] or 1),
            int(fields["hour"] or 0),
            int(fields["minute"] or 0),
            int(fields["second"] or 0),
            int((fields["fraction"] or "0")[:6].ljust(6, "0")),
            tzinfo=tz,
        ).astimezone(UTC)
    except ValueError:
        return None


def _parse_tzd(tzd: str | None) -> timezone:
    if tzd is None or tzd == "Z":
        return UTC
    hours, minutes = int(tzd[1:3]), int(tzd[4:6])
    if minutes > 59 or hours > 14 or (hours == 14 and minutes):
        raise ValueError(f"time zone offset out of range: {tzd}")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if tzd[0] == "-" else offset)


def check_loc(loc: str, scope: str, path: str) -> list[Finding]:
    """Check one <loc> value (already stripped) against the URL rules; `scope` ends with '/'."""
    if len(loc) > MAX_LOC_CHARS:
        return [_err("sitemap.loc-length", path, f"<loc> has {len(loc)} characters (max 2048)")]
    problem = _escaping_problem(loc)
    if problem is not None:
        return [_err("sitemap.escaping", path, f"<loc> {loc!r}: {problem}")]
    if not _ABSOLUTE.match(loc):
        return [_err("sitemap.loc-absolute", path, f"<loc> {loc!r} is not an absolute URL")]
    findings = []
    if not _is_under(loc, scope):
        findings.append(_err("sitemap.loc-under-base", path, f"<loc> {loc!r} is not under {scope}"))
    if not loc.isascii():
        message = f"<loc> {loc!r} has non-ASCII characters; percent-encode them as UTF-8"
        findings.append(_warn("sitemap.loc-non-ascii", path, message))
    return findings


def _escaping_problem(loc: str) -> str | None:
    bad = _MUST_ENCODE.search(loc)
    if bad is not None:
        return f"character {bad.group()!r} must be percent-encoded"
    if _BAD_PERCENT.search(loc):
        return "'%' not followed by two hex digits (a literal % must be written %25)"
    if loc.count("#") > 1:
        return "more than one '#' (a '#' inside the fragment must be written %23)"
    if "[" in loc or "]" in loc:
        return _bracket_problem(loc)
    return None


def _bracket_problem(loc: str) -> str | None:
    try:
        parts = urlsplit(loc)
    except ValueError as exc:
        return str(exc)
    if any(bracket in parts.path + parts.query + parts.fragment for bracket in "[]"):
        return "'[' or ']' outside the host must be percent-encoded"
    return None


def _is_under(loc: str, scope: str) -> bool:
    return loc.startswith(scope) or _lower_origin(loc).startswith(_lower_origin(scope))


def _lower_origin(url: str) -> str:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    rest = url[len(origin) :]
    return origin.lower() + (rest if rest.startswith("/") else "/" + rest)


def check_lastmod(text: str, path: str) -> list[Finding]:
    """Check one <lastmod> value (already stripped) is a W3C Datetime."""
    if _is_w3c_datetime(text):
        return []
    message = f"<lastmod> {text!r} is not a W3C Datetime (e.g. 2026-11-26 or 2026-11-26T21:05Z)"
    return [_err("sitemap.lastmod-format", path, message)]


@lru_cache(maxsize=1024)
def _is_w3c_datetime(text: str) -> bool:
    """Remembered: the pages of a build share a few lastmod values."""
    return parse_w3c_datetime(text) is not None


def _check_changefreq(text: str, path: str) -> list[Finding]:
    if text in CHANGEFREQS:
        message = f"<changefreq>{text}</changefreq> is valid but ignored by search engines"
        return [_warn("sitemap.changefreq", path, message)]
    return [_err("sitemap.changefreq", path, f"<changefreq> {text!r} is not a protocol value")]


def _check_priority(text: str, path: str) -> list[Finding]:
    value = text.strip()
    if _DECIMAL.fullmatch(value) and 0.0 <= float(value) <= 1.0:
        message = f"<priority>{value}</priority> is valid but ignored by search engines"
        return [_warn("sitemap.priority", path, message)]
    return [_err("sitemap.priority", path, f"<priority> {value!r} is not a decimal in 0.0..1.0")]


def _err(rule: str, path: str, message: str) -> Finding:
    return Finding(rule, path, message, Severity.ERROR)


def _warn(rule: str, path: str, message: str) -> Finding:
    return Finding(rule, path, message, Severity.WARNING)


def _at(findings: list[Finding], line: int | None) -> list[Finding]:
    return [replace(f, message=f"line {line}: {f.message}") for f in findings]


# ---------------------------------------------------------------- one file


def check_sitemap_bytes(data: bytes, name: str, base_url: str) -> list[Finding]:
    """Check one sitemap file (urlset or sitemapindex; gunzipped first if `name` ends .gz).

    `name` is the file's path relative to the site root (e.g. "sitemap-2.xml.gz"); it names
    the findings and, for a <urlset> in a subdirectory, narrows where its URLs may point.
    """
    return list(_inspect(data, name, normalise_base_url(base_url)).findings)


def _inspect(data: bytes, name: str, base: str) -> _Inspection:
    raw, findings = _uncompressed(data, name)
    if raw is None:
        return _Inspection("", (), tuple(findings))
    findings += _check_encoding(raw, name)
    root = _parse(raw, name, findings)
    if root is None:
        return _Inspection("", (), tuple(findings))
    kind = _root_kind(root, name, findings)
    if not kind:
        return _Inspection("", (), tuple(findings))
    scope = _scope(base, name) if kind == "urlset" else base
    locs = _check_document(root, kind, name, scope, findings)
    return _Inspection(kind, tuple(locs), tuple(findings))


def _uncompressed(data: bytes, name: str) -> tuple[bytes | None, list[Finding]]:
    raw = data
    if name.endswith(".gz"):
        try:
            with gzip.GzipFile(fileobj=BytesIO(data)) as stream:
                raw = stream.read(MAX_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            return None, [_err("sitemap.gzip", name, f"does not gunzip: {exc}")]
    if len(raw) <= MAX_BYTES:
        return raw, []
    finding = _err("sitemap.max-bytes", name, f"more than {MAX_BYTES} bytes uncompressed")
    # A plain file is already in memory, so keep checking it; a gunzipped one was cut short.
    return (raw if raw is data else None), [finding]


def _check_encoding(raw: bytes, name: str) -> list[Finding]:
    declared = _ENCODING_DECL.match(raw)
    if raw.startswith(_NON_UTF8_BOMS):
        return [_err("sitemap.encoding", name, "not UTF-8 (byte-order mark of UTF-16/32)")]
    if declared and declared.group(1).decode("ascii", "replace").lower() not in ("utf-8", "utf8"):
        encoding = declared.group(1).decode("ascii", "replace")
        return [_err("sitemap.encoding", name, f"declared encoding {encoding!r}; must be UTF-8")]
    return []


def _parse(raw: bytes, name: str, findings: list[Finding]) -> etree._Element | None:
    parser = etree.XMLParser(no_network=True, load_dtd=False, huge_tree=True)
    try:
        return etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        findings.append(_err("sitemap.well-formed", name, f"not well-formed XML: {exc}"))
        return None


def _root_kind(root: etree._Element, name: str, findings: list[Finding]) -> str:
    qname = etree.QName(root)
    if qname.localname not in _ENTRY:
        message = f"root element <{qname.localname}>; expected <urlset> or <sitemapindex>"
        findings.append(_err("sitemap.root", name, message))
        return ""
    if qname.namespace != NS:
        message = f"<{qname.localname}> namespace is {qname.namespace!r}; expected {NS!r}"
        findings.append(_err("sitemap.namespace", name, message))
        return ""
    return qname.localname


def _scope(base: str, name: str) -> str:
    parent = PurePosixPath(name).parent
    if parent.is_absolute() or ".." in parent.parts or str(parent) == ".":
        return base
    return base + quote(str(parent)) + "/"


def _check_document(
    root: etree._Element, kind: str, name: str, scope: str, findings: list[Finding]
) -> list[tuple[str, int]]:
    entry_name = _ENTRY[kind]
    findings += _check_attributes(root, name)
    findings += _check_container(root, entry_name, name)
    entries = [child for child in _elements(root) if child.tag == f"{{{NS}}}{entry_name}"]
    locs = []
    for entry in entries:
        entry_findings, loc = _check_entry(entry, entry_name, name, scope)
        findings += entry_findings
        if loc:
            locs.append((loc, entry.sourceline))
    findings += _check_count(len(entries), entry_name, name)
    findings += _duplicates(locs, name)
    return locs


def _elements(parent: etree._Element) -> Iterator[etree._Element]:
    return (child for child in parent if isinstance(child.tag, str))


def _check_attributes(element: etree._Element, name: str) -> list[Finding]:
    if not element.attrib:
        return []
    local = etree.QName(element).localname
    return [
        _err(
            "sitemap.unknown-attribute",
            name,
            f"line {element.sourceline}: attribute {attr!r} on <{local}> is not in the protocol",
        )
        for attr in element.attrib
        if attr not in _XSI_ALLOWED
    ]


def _check_text(element: etree._Element, name: str) -> list[Finding]:
    texts = [element.text, *(child.tail for child in element)]
    if any(text and text.strip() for text in texts):
        local = etree.QName(element).localname
        message = f"line {element.sourceline}: text inside <{local}>, which holds only elements"
        return [_err("sitemap.structure", name, message)]
    return []


def _check_container(root: etree._Element, entry_name: str, name: str) -> list[Finding]:
    findings = _check_text(root, name)
    seen_entry = False
    for child in _elements(root):
        qname = etree.QName(child)
        line = child.sourceline
        if qname.namespace != NS:
            if seen_entry:
                message = f"extension <{qname.localname}> must come before the first <{entry_name}>"
                findings += _at([_err("sitemap.structure", name, message)], line)
        elif qname.localname == entry_name:
            seen_entry = True
        else:
            findings += _at([_misplaced(qname.localname, root, name)], line)
    return findings


def _misplaced(local: str, parent: etree._Element, name: str) -> Finding:
    where = etree.QName(parent).localname
    if local not in _PROTOCOL_ELEMENTS:
        message = f"<{local}> in <{where}> is not a sitemap protocol element"
        return _err("sitemap.unknown-element", name, message)
    return _err("sitemap.structure", name, f"<{local}> is not allowed in <{where}>")


def _check_entry(
    entry: etree._Element, entry_name: str, name: str, scope: str
) -> tuple[list[Finding], str]:
    """Findings for one <url>/<sitemap>, and its stripped <loc> ("" if it has none)."""
    line = entry.sourceline
    order_findings, firsts = _check_order(entry, _ENTRY_CHILDREN[entry_name], name)
    findings = _check_attributes(entry, name) + _check_text(entry, name)
    findings += _at(order_findings, line)
    for local, child in firsts.items():
        findings += _check_value(child, local, name, scope)
    if "loc" not in firsts:
        missing = _err("sitemap.loc-missing", name, f"<{entry_name}> has no <loc>")
        return findings + _at([missing], line), ""
    return findings, _text(firsts["loc"]).strip()


def _check_order(
    entry: etree._Element, allowed: tuple[str, ...], name: str
) -> tuple[list[Finding], dict[str, etree._Element]]:
    """Schema order and cardinality of an entry's children; also the first of each allowed one."""
    findings, firsts, rank, after_extension = [], {}, -1, False
    for child in _elements(entry):
        qname = etree.QName(child)
        if qname.namespace != NS:
            after_extension = True
            continue
        if qname.localname not in allowed:
            findings.append(_misplaced(qname.localname, entry, name))
            continue
        position = allowed.index(qname.localname)
        if qname.localname in firsts:
            findings.append(_err("sitemap.structure", name, f"<{qname.localname}> repeated"))
        elif position < rank or after_extension:
            order = ", ".join(allowed)
            message = f"<{qname.localname}> out of order (expected {order}, then extensions)"
            findings.append(_err("sitemap.structure", name, message))
        firsts.setdefault(qname.localname, child)
        rank = max(rank, position)
    return findings, firsts


def _text(element: etree._Element) -> str:
    """Character data of a text-only element (comments and processing instructions skipped)."""
    return (element.text or "") + "".join(child.tail or "" for child in element)


def _check_value(element: etree._Element, local: str, name: str, scope: str) -> list[Finding]:
    findings = _check_attributes(element, name)
    if any(True for _ in _elements(element)):
        message = f"<{local}> must hold only text, not elements"
        return findings + _at([_err("sitemap.structure", name, message)], element.sourceline)
    text = _text(element)
    if local == "loc":
        return findings + _at(check_loc(text.strip(), scope, name), element.sourceline)
    if local == "lastmod":
        return findings + _at(check_lastmod(text.strip(), name), element.sourceline)
    if local == "changefreq":
        return findings + _at(_check_changefreq(text, name), element.sourceline)
    return findings + _at(_check_priority(text, name), element.sourceline)


def _check_count(count: int, entry_name: str, name: str) -> list[Finding]:
    if count > MAX_URLS:
        message = f"{count} <{entry_name}> entries (max {MAX_URLS}); split the file"
        return [_err("sitemap.max-urls", name, message)]
    if count == 0:
        return [_warn("sitemap.empty", name, f"no <{entry_name}> entries")]
    return []


def _duplicates(locs: list[tuple[str, int]], name: str) -> list[Finding]:
    first_line: dict[str, int] = {}
    findings = []
    for loc, line in locs:
        if loc in first_line:
            message = f"line {line}: <loc> {loc!r} already listed at line {first_line[loc]}"
            findings.append(_err("sitemap.duplicate-loc", name, message))
        else:
            first_line[loc] = line
    return findings


# ---------------------------------------------------------------- a built site


def check_sitemap_tree(site_dir: Path, base_url: str) -> list[Finding]:
    """Check site_dir/sitemap.xml and, if it is an index, every child it lists.

    A child URL `base_url + p` must exist as the file `site_dir / p` (percent-decoded).
    """
    base = normalise_base_url(base_url)
    top_path = site_dir / "sitemap.xml"
    if not top_path.is_file():
        return [_err("sitemap.missing", "sitemap.xml", f"no sitemap.xml in {site_dir}")]
    top = _inspect(top_path.read_bytes(), "sitemap.xml", base)
    findings = list(top.findings)
    if top.kind != "sitemapindex":
        return findings
    owner: dict[str, str] = {}
    for loc, line in top.locs:
        findings += _check_child(site_dir, base, loc, line, owner)
    return findings


def _check_child(
    site_dir: Path, base: str, loc: str, line: int, owner: dict[str, str]
) -> list[Finding]:
    if not _is_under(loc, base):
        return []  # already reported as sitemap.loc-under-base on the index
    relative = _child_path(loc[len(base) :])
    if relative is None or not (site_dir / relative).is_file():
        message = f"line {line}: <loc> {loc} has no file at {relative or loc[len(base) :]!r}"
        return [_err("sitemap.child-missing", "sitemap.xml", message)]
    child = _inspect((site_dir / relative).read_bytes(), relative, base)
    findings = list(child.findings)
    if child.kind == "sitemapindex":
        message = "a sitemap index may not list another sitemap index"
        findings.append(_err("sitemap.nested-index", relative, message))
    return findings + _cross_duplicates(child.locs, relative, owner)


def _child_path(tail: str) -> str | None:
    if not tail or "?" in tail or "#" in tail:
        return None
    path = PurePosixPath(unquote(tail))
    if path.is_absolute() or ".." in path.parts or "." in path.parts:
        return None
    return str(path)


def _cross_duplicates(
    locs: tuple[tuple[str, int], ...], name: str, owner: dict[str, str]
) -> list[Finding]:
    findings = []
    for loc, line in locs:
        first = owner.setdefault(loc, name)
        if first != name:
            message = f"line {line}: <loc> {loc!r} is also listed in {first}"
            findings.append(_err("sitemap.duplicate-loc", name, message))
    return findings
