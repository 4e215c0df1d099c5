"""Output checks on built pages: structure, limits, uniqueness, canonical URLs, JSON-LD, links.

The same checks run inside every build (on the rendered bytes, before publishing) and on any
built folder through `python -m generator validate DIR`. Each finding names its rule and
severity; the caller decides whether warnings fail (strict mode).
"""

from __future__ import annotations

import json
import posixpath
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from lxml import html as lxml_html

from .problems import Finding, Severity

TITLE_MAX = 60
DESCRIPTION_RANGE = (70, 160)
REQUIRED_LD_TYPES = {"MedicalClinic", "MedicalWebPage", "BreadcrumbList"}
CRISIS_TEXT = "988"


@dataclass(frozen=True)
class PageFacts:
    """What the checks need from one HTML file, read in one parse."""

    path: str
    kind: str
    lang: str
    h1_count: int
    title: str
    description: str
    canonical: str
    robots: str
    viewport: bool
    jsonld: tuple[str, ...]
    links: tuple[str, ...]
    resources: tuple[str, ...]
    ids: frozenset[str]
    text: str

    @property
    def indexable(self) -> bool:
        return "noindex" not in self.robots


def read_facts(path: str, data: bytes) -> PageFacts:
    tree = lxml_html.document_fromstring(data)

    def meta(name: str) -> str:
        found = tree.xpath(f'//meta[@name="{name}"]/@content')
        return str(found[0]) if found else ""

    body = tree.find("body")
    canonical = tree.xpath('//link[@rel="canonical"]/@href')
    title = tree.findtext(".//title") or ""
    return PageFacts(
        path=path,
        kind=(body.get("data-kind", "") if body is not None else ""),
        lang=tree.get("lang", ""),
        h1_count=len(tree.xpath("//h1")),
        title=" ".join(title.split()),
        description=meta("description"),
        canonical=str(canonical[0]) if canonical else "",
        robots=meta("robots"),
        viewport=bool(meta("viewport")),
        jsonld=tuple(s.text or "" for s in tree.xpath('//script[@type="application/ld+json"]')),
        links=tuple(str(h) for h in tree.xpath("//a/@href")),
        resources=tuple(str(s) for s in tree.xpath("//link[@rel!='canonical']/@href | //@src")),
        ids=frozenset(str(i) for i in tree.xpath("//@id")),
        text=" ".join(tree.text_content().split()) if body is not None else "",
    )


def check_pages(
    pages: Mapping[str, bytes], site_root: str, expected_urls: Mapping[str, str]
) -> list[Finding]:
    """Check every page. `pages` maps output paths to bytes (HTML files only); `expected_urls`
    maps each indexable page's path to its sitemap URL. Other files a link may point at are
    passed as paths with empty bytes by the caller through `pages` keys ending in non-HTML."""
    files = set(pages)
    facts = [
        read_facts(path, data) for path, data in sorted(pages.items()) if path.endswith(".html")
    ]
    findings: list[Finding] = []
    for page in facts:
        findings += check_page(page, site_root, files, expected_urls.get(page.path))
    findings += _check_unique(facts, "title", "page.title-unique")
    findings += _check_unique(
        [f for f in facts if f.indexable],
        "description",
        "page.description-unique",
        Severity.WARNING,
    )
    findings += _check_unique(
        [f for f in facts if f.canonical], "canonical", "page.canonical-unique"
    )
    return findings


def check_page(
    page: PageFacts, site_root: str, files: set[str], sitemap_url: str | None
) -> list[Finding]:
    findings = []

    def fail(rule: str, message: str, severity: Severity = Severity.ERROR) -> None:
        findings.append(Finding(rule, page.path, message, severity))

    if not page.lang:
        fail("page.lang", "<html> has no lang attribute")
    if not page.viewport:
        fail("page.viewport", "no <meta name=viewport>")
    if page.h1_count != 1:
        fail("page.h1", f"has {page.h1_count} <h1> elements; exactly one is needed")
    if not page.title:
        fail("page.title", "has no <title>")
    elif len(page.title) > TITLE_MAX:
        fail("page.title", f"title is {len(page.title)} characters; at most {TITLE_MAX}")
    low, high = DESCRIPTION_RANGE
    if not low <= len(page.description) <= high:
        fail(
            "page.description",
            f"meta description is {len(page.description)} characters; it must be {low}-{high}",
        )
    if CRISIS_TEXT not in page.text:
        fail("page.crisis", "does not show the 988 Suicide & Crisis Lifeline")
    findings += _check_canonical(page, sitemap_url)
    findings += _check_jsonld(page)
    findings += _check_links(page, site_root, files)
    return findings


def _check_canonical(page: PageFacts, sitemap_url: str | None) -> list[Finding]:
    if not page.indexable:
        if sitemap_url:
            return [Finding("page.canonical", page.path, "noindex page is listed in the sitemap")]
        return []
    if not page.canonical:
        return [Finding("page.canonical", page.path, "indexable page has no canonical link")]
    if sitemap_url is None:
        return [Finding("page.canonical", page.path, "indexable page is not in the sitemap")]
    if page.canonical != sitemap_url:
        return [
            Finding(
                "page.canonical",
                page.path,
                f"canonical {page.canonical} differs from its sitemap URL {sitemap_url}",
            )
        ]
    return []


def _check_jsonld(page: PageFacts) -> list[Finding]:
    if not page.jsonld:
        return [Finding("page.jsonld", page.path, "no JSON-LD")]
    findings = []
    nodes = []
    for block in page.jsonld:
        try:
            data = json.loads(block)
        except json.JSONDecodeError as error:
            findings.append(Finding("page.jsonld", page.path, f"JSON-LD does not parse: {error}"))
            continue
        nodes += data.get("@graph", [data]) if isinstance(data, dict) else data
    types = {n.get("@type") for n in nodes if isinstance(n, dict)}
    needed = REQUIRED_LD_TYPES if page.indexable else {"MedicalClinic"}
    missing = sorted(needed - types)
    if missing:
        findings.append(Finding("page.jsonld", page.path, f"JSON-LD lacks {', '.join(missing)}"))
    for node in nodes:
        if isinstance(node, dict):
            findings += _check_node(node, page)
    return findings


def _check_node(node: dict, page: PageFacts) -> list[Finding]:
    required = {
        "MedicalClinic": ("@id", "name", "telephone", "address"),
        "MedicalWebPage": ("@id", "url", "name", "publisher"),
        "BreadcrumbList": ("itemListElement",),
    }.get(node.get("@type", ""), ())
    findings = [
        Finding("page.jsonld", page.path, f"{node['@type']} lacks '{key}'")
        for key in required
        if not node.get(key)
    ]
    if (
        node.get("@type") == "MedicalWebPage"
        and page.canonical
        and node.get("url") != page.canonical
    ):
        findings.append(
            Finding(
                "page.jsonld",
                page.path,
                f"MedicalWebPage url {node.get('url')} is not the canonical URL",
            )
        )
    return findings


def _check_links(page: PageFacts, site_root: str, files: set[str]) -> list[Finding]:
    findings = []
    root_path = urlsplit(site_root).path or "/"
    for href in page.links:
        target = resolve_internal(href, page.path, site_root, root_path)
        if target is None:
            continue
        path, fragment = target
        if path is None:
            findings.append(Finding("page.link", page.path, f"link {href} leaves the site root"))
        elif path == page.path and fragment and fragment not in page.ids:
            findings.append(
                Finding("page.link", page.path, f"link {href}: no element has id '{fragment}'")
            )
        elif path not in files:
            findings.append(Finding("page.link", page.path, f"link {href} has no target file"))
    for src in page.resources:
        if urlsplit(src).scheme in ("http", "https") or src.startswith("//"):
            findings.append(
                Finding("page.external-request", page.path, f"loads {src} from another site")
            )
    return findings


def resolve_internal(
    href: str, page_path: str, site_root: str, root_path: str
) -> tuple[str | None, str] | None:
    """Map a link to (output file path, fragment), or None for an external or non-web link.
    The path is None when the link points outside the site's root folder."""
    parts = urlsplit(href)
    if parts.scheme in ("tel", "mailto", "data"):
        return None
    if parts.scheme or parts.netloc:
        if not href.startswith(site_root):
            return None
        parts = urlsplit(href[len(site_root) - 1 :])
    path = unquote(parts.path)
    if not path:
        return page_path, parts.fragment
    if path.startswith("/"):
        if not (path + "/").startswith(root_path) and path != root_path.rstrip("/"):
            return None, parts.fragment
        relative = path[len(root_path) :]
    else:
        relative = posixpath.normpath(posixpath.join(posixpath.dirname(page_path), path))
        if relative.startswith(".."):
            return None, parts.fragment
        relative = relative + ("/" if path.endswith("/") else "")
    if relative in ("", ".", "./") or relative.endswith("/"):
        relative = relative.lstrip("./") + "index.html"
    return relative, parts.fragment


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
