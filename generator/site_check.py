"""Checking a site already on disk (`python -m generator validate DIR`), for SEO auditors.

Runs the same page and sitemap checks as the build, on files read from any folder, and groups
the findings by rule.
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from .check import PageUnreadable, check_pages, has_errors, read_facts
from .problems import Finding, Severity
from .sitemap_check import NS, check_sitemap_tree

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the protocol's limit for one (uncompressed) file


@dataclass(frozen=True)
class SiteReport:
    site: str
    base_url: str
    pages: int
    findings: tuple[Finding, ...]

    def failed(self, strict: bool = False) -> bool:
        return has_errors(self.findings, strict)

    def by_rule(self) -> dict[str, list[Finding]]:
        groups: dict[str, list[Finding]] = defaultdict(list)
        for finding in self.findings:
            groups[finding.rule].append(finding)
        return dict(sorted(groups.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "base_url": self.base_url,
            "pages": self.pages,
            "errors": sum(f.severity is Severity.ERROR for f in self.findings),
            "warnings": sum(f.severity is Severity.WARNING for f in self.findings),
            "rules": {
                rule: [
                    {"path": f.path, "severity": f.severity.value, "message": f.message}
                    for f in found
                ]
                for rule, found in self.by_rule().items()
            },
        }

    def format(self) -> str:
        data = self.to_dict()
        lines = [
            f"{self.site}: {self.pages} pages checked against {self.base_url}: "
            f"{data['errors']} error(s), {data['warnings']} warning(s)"
        ]
        for rule, found in self.by_rule().items():
            lines.append(f"\n{rule} ({len(found)})")
            lines += [f"  {f.severity.value}: {f.path}: {f.message}" for f in found]
        return "\n".join(lines)


def validate_site(site: Path, base_url: str | None = None) -> SiteReport:
    """Run the page and sitemap checks on the built site in `site`."""
    if not site.is_dir():
        finding = Finding("site.folder", str(site), "is not a folder holding a built site")
        return SiteReport(str(site), base_url or "", 0, (finding,))
    files = {p.relative_to(site).as_posix(): p for p in sorted(site.rglob("*")) if p.is_file()}
    base = base_url or _guess_base_url(site, files)
    if base is None:
        finding = Finding(
            "site.base-url",
            "sitemap.xml",
            "cannot tell the site's base URL: no robots.txt Sitemap line, no canonical link "
            "on index.html and no readable sitemap.xml; pass --base-url",
        )
        return SiteReport(str(site), "", 0, (finding,))
    base = base.rstrip("/") + "/"
    findings = check_sitemap_tree(site, base)
    pages = {path: _html_bytes(path, p) for path, p in files.items()}
    findings += check_pages(pages, base, _sitemap_urls(site, base))
    html_count = sum(path.endswith(".html") for path in files)
    return SiteReport(str(site), base, html_count, tuple(findings))


def _html_bytes(path: str, file: Path) -> bytes:
    if not path.endswith(".html"):
        return b""
    try:
        return file.read_bytes()
    except OSError:
        return b""


def _guess_base_url(site: Path, files: dict[str, Path]) -> str | None:
    """From robots.txt's Sitemap line, else index.html's canonical link, else sitemap.xml."""
    for line in _read_text(files.get("robots.txt")).splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap" and value.strip().endswith("/sitemap.xml"):
            return value.strip()[: -len("sitemap.xml")]
    if "index.html" in files:
        try:
            canonical = read_facts("index.html", files["index.html"].read_bytes()).canonical
        except (OSError, PageUnreadable):
            canonical = ""
        if canonical:
            return canonical
    locs = _locs(site / "sitemap.xml")
    return min(locs, key=len).rsplit("/", 1)[0] + "/" if locs else None


def _read_text(path: Path | None) -> str:
    try:
        return path.read_text(encoding="utf-8") if path else ""
    except (OSError, UnicodeDecodeError):
        return ""


def _sitemap_urls(site: Path, base: str) -> dict[str, str] | None:
    """Each sitemap URL under `base`, keyed by the output path it maps to; None when a sitemap
    file cannot be read (the sitemap checks report why)."""
    urls = {}
    pending = [site / "sitemap.xml"]
    while pending:
        locs = _locs(pending.pop())
        if locs is None:
            return None
        for loc in locs:
            if not loc.startswith(base):
                continue
            relative = loc[len(base) :]
            if relative.startswith("sitemap") and relative.endswith((".xml", ".xml.gz")):
                pending.append(site / relative)
                continue
            urls[
                relative + "index.html" if relative == "" or relative.endswith("/") else relative
            ] = loc
    return urls


def _locs(path: Path) -> list[str] | None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        with gzip.open(path) if path.name.endswith(".gz") else path.open("rb") as handle:
            data = handle.read(MAX_SITEMAP_BYTES + 1)
        if len(data) > MAX_SITEMAP_BYTES:
            return None
        root = etree.fromstring(data, parser)
    except (OSError, etree.XMLSyntaxError, EOFError):
        return None
    return [str(loc.text).strip() for loc in root.iter(f"{{{NS}}}loc") if loc.text]
