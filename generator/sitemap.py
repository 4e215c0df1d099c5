"""Sitemap stage: owns writing sitemap.xml (and its numbered parts) and robots.txt.

Output is deterministic to the byte: entries are sorted by `loc`, the XML is built as text
with a fixed layout (UTF-8, XML declaration, two-space indent, final newline) and gzip uses
mtime=0 and no file name. Only <loc> and <lastmod> are written (no <priority> or
<changefreq>: search engines ignore them).

Layout:
- Everything fits in one file (<= max_urls URLs and <= max_bytes uncompressed): one
  `sitemap.xml` <urlset>.
- Otherwise `sitemap-1.xml`, `sitemap-2.xml`, ... (filled greedily in loc order, each within
  both limits) and `sitemap.xml` is a <sitemapindex> listing them by absolute URL, each with the
  newest <lastmod> of its entries. The parts sit beside `sitemap.xml`, in the site root, because
  the protocol lets a sitemap list only URLs under its own directory.
- With gzip=True the parts are `sitemap-N.xml.gz`. `sitemap.xml` itself (index or single
  urlset) always stays plain XML: robots.txt, Search Console and people look for that name, and
  a `.xml` name holding gzip bytes would be served with the wrong type.
The result lists `sitemap.xml` first, then the parts in number order.

Inputs are validated rather than repaired (ValueError): a loc must be an absolute, already
percent-encoded ASCII URL under `base_url` (a non-ASCII or space character is refused), locs
unique, and lastmod one of the W3C Datetime forms the official XSD also accepts: YYYY-MM-DD or
YYYY-MM-DDThh:mm:ss[.s+]TZD (not YYYY, YYYY-MM or hh:mm without seconds; the checker accepts
those, the writer does not emit them). XML-special characters (& < > " ') are
entity-escaped here, so a query such as `?a=1&b=2` is written `?a=1&amp;b=2` and reads back
unchanged.
"""

from __future__ import annotations

import gzip as gzip_module
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from generator.sitemap_check import (
    MAX_BYTES,
    MAX_URLS,
    NS,
    check_lastmod,
    check_loc,
    normalise_base_url,
    parse_w3c_datetime,
)

INDEX_NAME = "sitemap.xml"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_WRITABLE_LASTMOD = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))?"
)
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"})


@dataclass(frozen=True)
class SitemapEntry:
    """One page to list: absolute URL and W3C Datetime of its last change."""

    loc: str
    lastmod: str


@dataclass(frozen=True)
class SitemapFile:
    """One file to publish: path relative to the site root and its exact bytes."""

    path: str
    data: bytes


def build_sitemaps(
    entries: Sequence[SitemapEntry],
    base_url: str,
    *,
    max_urls: int = MAX_URLS,
    max_bytes: int = MAX_BYTES,
    gzip: bool = False,
) -> list[SitemapFile]:
    """Write the sitemap files for `entries`; see the module docstring for the layout."""
    base = normalise_base_url(base_url)
    _check_limits(max_urls, max_bytes)
    ordered = _validated(entries, base)
    blocks = [_url_block(entry) for entry in ordered]
    if len(blocks) <= max_urls and _urlset_size(blocks) <= max_bytes:
        return [SitemapFile(INDEX_NAME, _urlset(blocks))]
    groups = _pack([len(block) for block in blocks], max_urls, max_bytes)
    parts = [_part(number, blocks[group], gzip) for number, group in enumerate(groups, 1)]
    lastmods = [_newest(ordered[group]) for group in groups]
    index = _index(
        [(base + part.path, lastmod) for part, lastmod in zip(parts, lastmods, strict=True)]
    )
    return [SitemapFile(INDEX_NAME, index), *parts]


def robots_txt(sitemap_url: str, *, disallow: Sequence[str] = ()) -> bytes:
    """robots.txt allowing everything except `disallow` paths, naming the sitemap.

    Disallow lines come before `Allow: /` so first-match parsers (such as Python's
    urllib.robotparser) honour them too; Google uses the longest match, so order is moot there.
    """
    parts = urlsplit(sitemap_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not _is_clean(sitemap_url):
        raise ValueError(f"sitemap URL must be absolute, ASCII, without spaces: {sitemap_url!r}")
    for path in disallow:
        if not path.startswith("/") or not _is_clean(path):
            raise ValueError(f"disallow path must start with '/', ASCII, no spaces: {path!r}")
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in disallow), "Allow: /"]
    return ("\n".join([*lines, "", f"Sitemap: {sitemap_url}"]) + "\n").encode("ascii")


def _is_clean(text: str) -> bool:
    return text.isascii() and text.isprintable() and " " not in text


def _check_limits(max_urls: int, max_bytes: int) -> None:
    if not 1 <= max_urls <= MAX_URLS:
        raise ValueError(f"max_urls must be in 1..{MAX_URLS}, got {max_urls}")
    if not 1 <= max_bytes <= MAX_BYTES:
        raise ValueError(f"max_bytes must be in 1..{MAX_BYTES}, got {max_bytes}")


def _validated(entries: Sequence[SitemapEntry], base: str) -> list[SitemapEntry]:
    if not entries:
        raise ValueError("no sitemap entries: a <urlset> needs at least one <url>")
    ordered = sorted(entries, key=lambda entry: entry.loc)
    for previous, entry in zip([None, *ordered], ordered, strict=False):
        findings = check_loc(entry.loc, base, INDEX_NAME) + check_lastmod(entry.lastmod, "")
        if findings:
            raise ValueError(f"bad sitemap entry {entry}: {findings[0].message}")
        if not _WRITABLE_LASTMOD.fullmatch(entry.lastmod):
            message = "<lastmod> must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.s]TZD"
            raise ValueError(f"bad sitemap entry {entry}: {message}")
        if previous is not None and previous.loc == entry.loc:
            raise ValueError(f"duplicate sitemap loc: {entry.loc}")
    return ordered


def _escape(text: str) -> str:
    return text.translate(_ESCAPES)


def _url_block(entry: SitemapEntry) -> bytes:
    return (
        f"  <url>\n    <loc>{_escape(entry.loc)}</loc>\n"
        f"    <lastmod>{_escape(entry.lastmod)}</lastmod>\n  </url>\n"
    ).encode()


def _head(root: str) -> bytes:
    return f'{_DECLARATION}<{root} xmlns="{NS}">\n'.encode()


def _tail(root: str) -> bytes:
    return f"</{root}>\n".encode()


def _urlset(blocks: Sequence[bytes]) -> bytes:
    return _head("urlset") + b"".join(blocks) + _tail("urlset")


def _urlset_size(blocks: Sequence[bytes]) -> int:
    return len(_head("urlset")) + sum(len(block) for block in blocks) + len(_tail("urlset"))


def _pack(sizes: Sequence[int], max_urls: int, max_bytes: int) -> list[slice]:
    """Greedy split into consecutive groups within both limits."""
    overhead = len(_head("urlset")) + len(_tail("urlset"))
    groups, start, total = [], 0, overhead
    for position, size in enumerate(sizes):
        if overhead + size > max_bytes:
            raise ValueError(f"one <url> needs {overhead + size} bytes > max_bytes={max_bytes}")
        if position - start == max_urls or total + size > max_bytes:
            groups.append(slice(start, position))
            start, total = position, overhead
        total += size
    groups.append(slice(start, len(sizes)))
    return groups


def _part(number: int, blocks: Sequence[bytes], compress: bool) -> SitemapFile:
    data = _urlset(blocks)
    if compress:
        return SitemapFile(f"sitemap-{number}.xml.gz", gzip_module.compress(data, mtime=0))
    return SitemapFile(f"sitemap-{number}.xml", data)


def _newest(entries: Sequence[SitemapEntry]) -> str:
    """The newest lastmod, compared as instants; ties go to the larger string (deterministic)."""
    return max((entry.lastmod for entry in entries), key=lambda text: (_instant(text), text))


def _instant(text: str) -> datetime:
    instant = parse_w3c_datetime(text)
    if instant is None:  # unreachable: entries were validated
        raise ValueError(f"not a W3C Datetime: {text!r}")
    return instant


def _index(children: Sequence[tuple[str, str]]) -> bytes:
    if len(children) > MAX_URLS:
        raise ValueError(f"{len(children)} sitemap files exceed the index limit of {MAX_URLS}")
    blocks = [
        f"  <sitemap>\n    <loc>{_escape(loc)}</loc>\n"
        f"    <lastmod>{_escape(lastmod)}</lastmod>\n  </sitemap>\n"
        for loc, lastmod in children
    ]
    data = _head("sitemapindex") + "".join(blocks).encode() + _tail("sitemapindex")
    if len(data) > MAX_BYTES:
        raise ValueError(f"sitemap index would be {len(data)} bytes > {MAX_BYTES}")
    return data
