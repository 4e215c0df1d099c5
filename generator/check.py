"""Output checks on built pages: structure, limits, uniqueness, canonical URLs, JSON-LD, links.

The same checks run inside every build (on the rendered bytes, before publishing) and on any
built folder through `python -m generator validate DIR`. Each finding names its rule, the page
and its severity; the caller decides whether warnings fail (strict mode). The rules:

page.parse        the file is UTF-8 HTML that parses into a document (error)
page.complete     the file ends with </html>, i.e. it was not cut short (warning)
page.lang         <html lang> is set (error)
page.viewport     a viewport meta element is present (error)
page.h1           exactly one <h1>, with text (error)
page.title        exactly one <title>, not empty, at most 60 characters (error)
page.description  exactly one meta description, 70-160 characters (error)
page.crisis       the 988 Suicide & Crisis Lifeline is on the page (error)
page.canonical    one canonical link on an indexable page, equal to its sitemap URL (error)
page.jsonld       JSON-LD parses and has the nodes and properties the page type needs (error)
page.link         every internal link resolves to a built file or an id on the page (error)
page.external-request  nothing is loaded from another site (error)
page.title-unique, page.canonical-unique (error), page.description-unique (warning)
"""

from __future__ import annotations

import json
import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import filterfalse
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree

from .problems import Finding, Severity

TITLE_MAX = 60
DESCRIPTION_RANGE = (70, 160)
REQUIRED_LD_TYPES = {"MedicalClinic", "MedicalWebPage", "BreadcrumbList"}
REQUIRED_LD_PROPERTIES = {
    "MedicalClinic": ("@id", "name", "telephone", "address"),
    "MedicalWebPage": ("@id", "url", "name", "publisher"),
    "BreadcrumbList": ("itemListElement",),
    "Place": ("name", "address"),
    "FAQPage": ("mainEntity",),
    "ListItem": ("position", "name"),
}
CRISIS_TEXT = "988"


@dataclass(frozen=True)
class PageFacts:
    """What the checks need from one HTML file, read in one parse."""

    path: str
    kind: str
    lang: str
    h1s: tuple[str, ...]
    titles: tuple[str, ...]
    descriptions: tuple[str, ...]
    canonicals: tuple[str, ...]
    robots: str
    viewport: bool
    jsonld: tuple[str, ...]
    links: tuple[str, ...]
    resources: tuple[str, ...]
    ids: frozenset[str]
    text: str
    complete: bool = True

    @property
    def indexable(self) -> bool:
        return "noindex" not in self.robots.lower()

    @property
    def title(self) -> str:
        return self.titles[0] if self.titles else ""

    @property
    def description(self) -> str:
        return self.descriptions[0] if self.descriptions else ""

    @property
    def canonical(self) -> str:
        return self.canonicals[0] if self.canonicals else ""

    @property
    def h1_count(self) -> int:
        return len(self.h1s)


class PageUnreadable(ValueError):
    """The bytes are not an HTML document the checks can read."""


def read_facts(path: str, data: bytes) -> PageFacts:
    """Parse one page; raise PageUnreadable when it is not UTF-8 or not a document."""
    return facts_of(path, parse_page(data), data)


def parse_page(data: bytes) -> Any:
    """The page's document tree; PageUnreadable when it is not UTF-8 or not a document.

    The tree is made of plain lxml elements: lxml.html's element classes are looked up in
    Python for every element, which doubles the cost of a parse."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PageUnreadable(f"is not UTF-8 (byte {error.start})") from None
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as error:
        raise PageUnreadable(f"does not parse as HTML: {error or 'empty document'}") from None
    if root is None:
        raise PageUnreadable("does not parse as HTML: Document is empty")
    return root


_PARSER = etree.HTMLParser(encoding="utf-8", collect_ids=False)
# Elements whose attributes or text the checks read one by one; links, ids and sources are
# read by XPath as plain strings, which is cheaper than an element proxy per <a>.
_READ_TAGS = ("h1", "title", "meta", "link", "script")
_HREFS = etree.XPath("//a/@href", smart_strings=False)
_IDS = etree.XPath("//*/@id", smart_strings=False)
_SOURCES = etree.XPath("//*/@src", smart_strings=False)
_BLANKS_COLLAPSED = etree.XPath("normalize-space()")
_META_NAMES = frozenset(("description", "robots", "viewport"))


@dataclass
class _Scan:
    """The facts of one page read element by element from the `_READ_TAGS` elements."""

    h1s: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    canonicals: list[str] = field(default_factory=list)
    robots: list[str] = field(default_factory=list)
    viewport: bool = False
    jsonld: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)

    def read(self, element: Any) -> None:
        tag = element.tag
        get = element.get
        if tag == "meta":
            if (name := get("name")) in _META_NAMES:
                self._read_meta(name, get("content"))
        elif tag == "link":
            self._read_link(get("rel"), get("href"))
        elif tag == "script":
            if get("type") == "application/ld+json":
                self.jsonld.append(element.text or "")
        elif tag == "h1":
            self.h1s.append(_text(element))
        elif tag == "title" and next(element.iterancestors("svg"), None) is None:
            self.titles.append(_text(element))

    def _read_link(self, rel: str | None, href: str | None) -> None:
        if href is None or rel is None:
            return
        (self.canonicals if rel == "canonical" else self.resources).append(href)

    def _read_meta(self, name: str, content: str | None) -> None:
        if content is None:
            return
        if name == "description":
            self.descriptions.append(content)
        elif name == "robots":
            self.robots.append(content)
        else:
            self.viewport = True


def facts_of(path: str, tree: Any, data: bytes) -> PageFacts:
    """What the checks need from a parsed page (the tree is only read)."""
    scan = _Scan()
    for element in tree.iter(*_READ_TAGS):
        scan.read(element)
    body = next(tree.iterchildren("body"), None)
    return PageFacts(
        path=path,
        kind=(body.get("data-kind", "") if body is not None else ""),
        lang=tree.get("lang", ""),
        h1s=tuple(scan.h1s),
        titles=tuple(scan.titles),
        descriptions=tuple(scan.descriptions),
        canonicals=tuple(scan.canonicals),
        robots=" ".join(scan.robots),
        viewport=scan.viewport,
        jsonld=tuple(scan.jsonld),
        links=tuple(_HREFS(tree)),
        resources=tuple(scan.resources) + tuple(_SOURCES(tree)),
        ids=frozenset(_IDS(tree)),
        text=_text(body) if body is not None else "",
        complete=_ends_with_html_end(data),
    )


def _text(element: Any) -> str:
    """The element's text with whitespace collapsed, script and style content included; the
    collapsing is done in C (normalize-space), which matters for a whole page's body."""
    return collapse_normalized(_BLANKS_COLLAPSED(element))


def collapse_normalized(text: str) -> str:
    """The output of XPath's normalize-space() with whitespace collapsed as Python's
    `" ".join(text.split())` collapses it. normalize-space() only collapses spaces, tabs, CRs
    and LFs: the text is passed through unless it may hold other whitespace."""
    if text.isascii() and not any(char in text for char in _OTHER_ASCII_WHITESPACE):
        return text
    return " ".join(text.split())


_OTHER_ASCII_WHITESPACE = [c for c in map(chr, range(128)) if c.isspace() and c not in " \t\r\n"]


_END_TAG = b"</html>"
_TAIL_BYTES = 512


def _ends_with_html_end(data: bytes) -> bool:
    """Whether the data ends with </html> (any case) and maybe whitespace, read from the end."""
    tail = data[-_TAIL_BYTES:].rstrip()
    if len(tail) < len(_END_TAG) and len(data) > _TAIL_BYTES:  # too short to tell: all of it
        tail = data.rstrip()
    return tail.lower().endswith(_END_TAG)


def check_pages(
    pages: Mapping[str, bytes], site_root: str, expected_urls: Mapping[str, str] | None
) -> list[Finding]:
    """Check every page. `pages` maps every output path to its bytes (only .html files are
    read; the other paths are link targets); `expected_urls` maps each indexable page's path to
    its sitemap URL, or is None when the sitemap could not be read (its own checks say why)."""
    links = SiteLinks(site_root, frozenset(pages))
    facts: list[PageFacts] = []
    findings: list[Finding] = []
    for path, data in sorted(pages.items()):
        if not path.endswith(".html"):
            continue
        try:
            facts.append(read_facts(path, data))
        except PageUnreadable as error:
            findings.append(Finding("page.parse", path, str(error)))
    for page in facts:
        sitemap_url = None if expected_urls is None else expected_urls.get(page.path)
        findings += check_page(page, links, sitemap_url, expected_urls is not None)
    return findings + check_unique(facts)


def check_unique(pages: Sequence[Any]) -> list[Finding]:
    """Site-wide rules over pages with path, title, description, canonical and indexable."""
    findings = _check_unique(pages, "title", "page.title-unique")
    findings += _check_unique(
        [p for p in pages if p.indexable],
        "description",
        "page.description-unique",
        Severity.WARNING,
    )
    findings += _check_unique(
        [p for p in pages if p.canonical], "canonical", "page.canonical-unique"
    )
    return findings


def check_page(
    page: PageFacts,
    links: SiteLinks,
    sitemap_url: str | None,
    sitemap_known: bool = True,
) -> list[Finding]:
    """Every single-page rule; `links` knows the site root and its files (the targets links
    may have), `sitemap_url` is the page's URL in the sitemap, if listed."""
    findings = []

    def fail(rule: str, message: str, severity: Severity = Severity.ERROR) -> None:
        findings.append(Finding(rule, page.path, message, severity))

    if not page.complete:
        fail("page.complete", "does not end with </html>; it may be cut short", Severity.WARNING)
    if not page.lang:
        fail("page.lang", "<html> has no lang attribute")
    if not page.viewport:
        fail("page.viewport", 'has no <meta name="viewport">')
    _check_h1(page, fail)
    _check_title(page, fail)
    _check_description(page, fail)
    if CRISIS_TEXT not in page.text:
        fail("page.crisis", "does not show the 988 Suicide & Crisis Lifeline")
    findings += _check_canonical(page, links.site_root, sitemap_url, sitemap_known)
    findings += _check_jsonld(page)
    findings += _check_links(page, links)
    return findings


def _check_h1(page: PageFacts, fail) -> None:
    if page.h1_count != 1:
        fail("page.h1", f"has {page.h1_count} <h1> elements; exactly one is needed")
    elif not page.h1s[0]:
        fail("page.h1", "<h1> is empty")


def _check_title(page: PageFacts, fail) -> None:
    if not page.titles:
        fail("page.title", "has no <title>")
    elif len(page.titles) > 1:
        fail("page.title", f"has {len(page.titles)} <title> elements; exactly one is needed")
    elif not page.title:
        fail("page.title", "<title> is empty")
    elif len(page.title) > TITLE_MAX:
        fail("page.title", f"title is {len(page.title)} characters; at most {TITLE_MAX}")


def _check_description(page: PageFacts, fail) -> None:
    low, high = DESCRIPTION_RANGE
    size = len(page.description.strip())
    if not page.descriptions:
        fail("page.description", 'has no <meta name="description">')
    elif len(page.descriptions) > 1:
        fail(
            "page.description",
            f"has {len(page.descriptions)} meta descriptions; exactly one is needed",
        )
    elif size == 0:
        fail("page.description", "meta description is empty")
    elif not low <= size <= high:
        fail("page.description", f"meta description is {size} characters; it must be {low}-{high}")


def _check_canonical(
    page: PageFacts, site_root: str, sitemap_url: str | None, sitemap_known: bool
) -> list[Finding]:
    def finding(message: str) -> list[Finding]:
        return [Finding("page.canonical", page.path, message)]

    if len(page.canonicals) > 1:
        return finding(f"has {len(page.canonicals)} canonical links; at most one is allowed")
    if not page.indexable:
        return finding("noindex page is listed in the sitemap") if sitemap_url else []
    if not page.canonical:
        return finding("indexable page has no canonical link")
    if not page.canonical.startswith(site_root):
        return finding(f"canonical {page.canonical} is not under the site's URL {site_root}")
    if not _points_to_page(page.canonical, page.path, site_root):
        return finding(f"canonical {page.canonical} points to another page")
    if not sitemap_known:
        return []
    if sitemap_url is None:
        return finding(f"indexable page is not in the sitemap (canonical {page.canonical})")
    if page.canonical != sitemap_url:
        return finding(f"canonical {page.canonical} differs from its sitemap URL {sitemap_url}")
    return []


def _points_to_page(url: str, path: str, site_root: str) -> bool:
    """Whether a URL under the site root resolves to the page at `path`. A page's own folder
    URL made of plain path segments needs no URL parsing to tell."""
    if (
        url == site_root + path.removesuffix("index.html")
        and _PLAIN_PAGE_PATH.fullmatch(path)
        and _PLAIN_SITE_ROOT.fullmatch(site_root)
    ):
        return True
    target = resolve_internal(url, path, site_root, urlsplit(site_root).path)
    return target is not None and target[0] == path


_PLAIN_PAGE_PATH = re.compile(r"(?:[a-z0-9_-]+/)*index\.html")
_PLAIN_SITE_ROOT = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?/(?:[A-Za-z0-9._~-]+/)*")


def _check_jsonld(page: PageFacts) -> list[Finding]:
    if not page.jsonld:
        return [Finding("page.jsonld", page.path, "has no JSON-LD")]
    findings = []
    nodes: list[dict] = []
    for number, block in enumerate(page.jsonld, start=1):
        try:
            data = json.loads(block)
        except json.JSONDecodeError as error:
            findings.append(
                Finding("page.jsonld", page.path, f"JSON-LD block {number} does not parse: {error}")
            )
            continue
        nodes += _nodes(data)
    node_findings, types = _check_nodes(nodes, page)
    needed = REQUIRED_LD_TYPES if page.indexable else {"MedicalClinic"}
    if page.kind == "town" and page.indexable:
        needed = needed | {"Place"}
    missing = sorted(needed - types)
    if missing and len(findings) < len(page.jsonld):
        findings.append(Finding("page.jsonld", page.path, f"JSON-LD lacks {', '.join(missing)}"))
    return findings + node_findings


def _nodes(data: Any) -> list[dict]:
    """Every node of a JSON-LD document: top-level objects, @graph members, nested objects,
    in document order."""
    found: list[dict] = []
    pending = [data] if isinstance(data, _JSON_CONTAINERS) else []
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if "@type" in item:
                found.append(item)
            item = item.values()
        for value in reversed(item):
            if isinstance(value, _JSON_CONTAINERS):
                pending.append(value)
    return found


_JSON_CONTAINERS = (dict, list)


def _check_nodes(nodes: list[dict], page: PageFacts) -> tuple[list[Finding], set[str]]:
    """The findings on the nodes' properties, and every type the nodes have."""
    findings = []
    types: set[str] = set()
    for node in nodes:
        kinds = _types(node)
        types.update(kinds)
        for kind in kinds:
            for key in REQUIRED_LD_PROPERTIES.get(kind, ()):
                if not node.get(key):
                    findings.append(Finding("page.jsonld", page.path, f"{kind} lacks '{key}'"))
        if "MedicalWebPage" in kinds and page.canonical and node.get("url") != page.canonical:
            message = (
                f"MedicalWebPage url {node.get('url')} is not the canonical URL {page.canonical}"
            )
            findings.append(Finding("page.jsonld", page.path, message))
    return findings, types


def _types(node: dict) -> list[str]:
    value = node.get("@type")
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _check_links(page: PageFacts, links: SiteLinks) -> list[Finding]:
    findings = []
    for href in links.unsettled(page.links):
        target = links.target(href, page.path)
        if target is None:
            continue
        path, fragment = target
        if path is None:
            findings.append(Finding("page.link", page.path, f"link {href} leaves the site root"))
        elif path == page.path and fragment and fragment not in page.ids:
            findings.append(
                Finding("page.link", page.path, f"link {href}: no element has id '{fragment}'")
            )
        elif path not in links.files:
            findings.append(Finding("page.link", page.path, f"link {href} has no target file"))
    for src in page.resources:
        if links.is_foreign(src):
            findings.append(
                Finding("page.external-request", page.path, f"loads {src} from another site")
            )
    return findings


_UNKNOWN = object()


class SiteLinks:
    """The links of one site's pages (under `site_root`, with `files` built), resolved once
    per build or check. A root-relative or absolute link resolves the same on every page, and
    most of a page's links are such links, shared with the other pages. A link that passes on
    one page passes on all (one that leaves the site's URL, or goes to a file that exists and
    has no fragment) and is not looked at again."""

    def __init__(self, site_root: str, files: frozenset[str]) -> None:
        self.site_root = site_root
        self.files = files
        self.root_path = urlsplit(site_root).path or "/"
        self.targets: dict[str, tuple[str | None, str] | None] = {}
        self.passing: set[str] = set()
        self.foreign: dict[str, bool] = {}

    def unsettled(self, links: Iterable[str]) -> Iterable[str]:
        """The distinct links, in order, but for those known to pass."""
        return dict.fromkeys(filterfalse(self.passing.__contains__, links))

    def target(self, href: str, page_path: str) -> tuple[str | None, str] | None:
        """`resolve_internal` of a link on the page at `page_path`. A link that starts with "/"
        or with a scheme ("https:", "tel:") is resolved once, for no page in particular (so
        "//", which has neither host nor path, has no target file on any page)."""
        target = self.targets.get(href, _UNKNOWN)
        if target is not _UNKNOWN:
            return target
        if href.startswith("/") or _SCHEME.match(href):
            target = self.targets[href] = self._site_wide_target(href)
            if target is None or (not target[1] and target[0] in self.files):
                self._passes(href)
            return target
        if _PLAIN_FRAGMENT_LINK.fullmatch(href):
            return page_path, href[1:]
        target = resolve_internal(href, page_path, self.site_root, self.root_path)
        if target is None:  # not a web link, or one to another site: so from every page
            self._passes(href)
        return target

    def is_foreign(self, src: str) -> bool:
        """Whether a resource is loaded from another site."""
        foreign = self.foreign.get(src)
        if foreign is None:
            foreign = _scheme_of(src) in ("http", "https") or src.startswith("//")
            self.foreign[src] = foreign
        return foreign

    def _site_wide_target(self, href: str) -> tuple[str | None, str] | None:
        """`resolve_internal` of a root-relative or absolute link. A folder path of plain
        segments under the root path needs no URL parsing."""
        root_path = self.root_path
        if (
            root_path.endswith("/")
            and href.startswith(root_path)
            and _PLAIN_FOLDER_PATH.fullmatch(href)
        ):
            return href[len(root_path) :] + "index.html", ""
        return resolve_internal(href, "", self.site_root, root_path)

    def _passes(self, href: str) -> None:
        self.passing.add(href)


def _scheme_of(url: str) -> str:
    try:
        return urlsplit(url).scheme
    except ValueError:  # e.g. "http://[oops": a bracketed host that is no IPv6 address
        return url.partition(":")[0].strip().lower()


# A URL's scheme (RFC 3986): a link that starts with one does not depend on the page it is on.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_PLAIN_FOLDER_PATH = re.compile(r"/(?:[A-Za-z0-9_-]+/)*")
_PLAIN_FRAGMENT_LINK = re.compile(r"#[A-Za-z0-9_-]*")


def resolve_internal(
    href: str, page_path: str, site_root: str, root_path: str
) -> tuple[str | None, str] | None:
    """Map a link to (output file path, fragment), or None for an external or non-web link.
    The path is None when the link points outside the site's root folder."""
    try:
        parts = urlsplit(href.strip())
    except ValueError:
        return None, ""
    if parts.scheme in ("tel", "mailto", "data"):
        return None
    if parts.scheme or parts.netloc:
        if not href.startswith(site_root):
            return None
        rest = urlsplit(href[len(site_root) :])
        return _file_path(unquote(rest.path)), rest.fragment
    path = unquote(parts.path)
    if not path:
        return page_path, parts.fragment
    if path.startswith("/"):
        if path == root_path.rstrip("/"):
            return "index.html", parts.fragment
        if not path.startswith(root_path):
            return None, parts.fragment
        return _file_path(path[len(root_path) :]), parts.fragment
    joined = posixpath.join(posixpath.dirname(page_path), path)
    return _file_path(joined), parts.fragment


def _file_path(relative: str) -> str | None:
    """'a/b/' -> 'a/b/index.html', '' -> 'index.html'; None when it climbs out of the root."""
    folder = relative == "" or relative.endswith("/")
    normal = posixpath.normpath(relative) if relative else "."
    if normal == ".." or normal.startswith("../") or normal.startswith("/"):
        return None
    if normal == ".":
        return "index.html"
    return normal + "/index.html" if folder else normal


def _check_unique(
    facts: Iterable[PageFacts], field: str, rule: str, severity: Severity = Severity.ERROR
) -> list[Finding]:
    owners: dict[str, list[str]] = defaultdict(list)
    for page in facts:
        value = getattr(page, field)
        if value:
            owners[value].append(page.path)
    return [
        Finding(
            rule, paths[0], f"{field} '{value}' is shared with {', '.join(paths[1:])}", severity
        )
        for value, paths in sorted(owners.items())
        if len(paths) > 1
    ]


def has_errors(findings: Iterable[Finding], strict: bool = False) -> bool:
    return any(f.severity is Severity.ERROR or strict for f in findings)
