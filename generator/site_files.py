"""The site-wide files besides the pages: sitemap(s), robots.txt, the stylesheet, redirects.

Each page's `lastmod` is kept from the build record while its bytes are unchanged, so it
moves only when the page really changes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from .pages import PageOutline
from .problems import InputError, Problem
from .publish import BuildRecord, OutputFile
from .redirects import NETLIFY_FILE, NGINX_FILE, netlify_redirects, nginx_map
from .settings import Settings
from .sitemap import SitemapEntry, build_sitemaps, robots_txt

ASSETS = ("assets/style.css",)
FIXED_NAMES = ("robots.txt", "sitemap.xml", NETLIFY_FILE, NGINX_FILE)


def read_assets(templates: Path) -> list[OutputFile]:
    """The static files copied as they are; a missing one is an input error."""
    problems, files = [], []
    for asset in ASSETS:
        try:
            files.append(OutputFile(asset, (templates / asset).read_bytes()))
        except OSError as error:
            problems.append(Problem(str(templates / asset), f"cannot be read: {error.strerror}"))
    if problems:
        raise InputError(problems)
    return files


def build_time() -> str:
    """Now as a W3C datetime, or SOURCE_DATE_EPOCH's time for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.replace(microsecond=0).isoformat()


def lastmods(digests: Mapping[str, str], previous: BuildRecord, now: str) -> dict[str, str]:
    """Each file's lastmod: the recorded one while its digest is unchanged, else now."""
    return {path: previous.lastmod(path, digest) or now for path, digest in digests.items()}


def sitemap_files(
    pages: Sequence[PageOutline], lastmod: Mapping[str, str], settings: Settings
) -> list[OutputFile]:
    entries = [SitemapEntry(p.url, lastmod[p.path]) for p in pages if p.indexable]
    return [
        OutputFile(s.path, s.data)
        for s in build_sitemaps(
            entries,
            settings.site_root,
            max_urls=settings.sitemap.max_urls,
            gzip=settings.sitemap.gzip,
        )
    ]


def robots_file(settings: Settings) -> OutputFile:
    return OutputFile("robots.txt", robots_txt(settings.site_root + "sitemap.xml"))


def redirect_files(redirects: Mapping[str, str]) -> list[OutputFile]:
    """Redirect files for common hosts, written only when some URL has moved."""
    if not redirects:
        return []
    return [
        OutputFile(NETLIFY_FILE, netlify_redirects(redirects)),
        OutputFile(NGINX_FILE, nginx_map(redirects)),
    ]
