"""Redirects for town pages that disappeared: a renamed town's old URL points at its new page,
a removed town's at its county hub (or state hub, or home), for as long as the URL stays free.

The old towns come from the build record (each town page's URL, ZIP codes and hub), so the
redirects survive any number of later builds. They are written for common hosts: a
Netlify-style `_redirects` file and an nginx `map` file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

NETLIFY_FILE = "_redirects"
NGINX_FILE = "redirects.nginx.map"


@dataclass(frozen=True)
class TownTrace:
    """What a build remembers of a town page: its ZIP codes and the hub above it."""

    zips: tuple[str, ...]
    hub: str


def plan_redirects(
    previous: Mapping[str, TownTrace],
    earlier_redirects: Mapping[str, str],
    current: Mapping[str, TownTrace],
    live: set[str],
    home: str,
) -> dict[str, str]:
    """Old href -> new href, for every town URL of an earlier build that is no longer a page.
    `live` holds every href of the new build; a redirect is kept only while its source is free
    and is re-aimed when its target has gone too."""
    new_towns = {href: trace for href, trace in current.items() if href not in previous}
    redirects = {}
    for href, target in sorted(earlier_redirects.items()):
        if href not in live:
            redirects[href] = (
                target if target in live else _fallback(target, earlier_redirects, live, home)
            )
    for href, trace in sorted(previous.items()):
        if href not in live:
            redirects[href] = _renamed_to(trace, new_towns) or _hub_or_home(trace, live, home)
    return redirects


def _renamed_to(old: TownTrace, new_towns: Mapping[str, TownTrace]) -> str | None:
    """The new town sharing most of the old town's ZIP codes, if any."""
    scored = sorted(
        (-len(set(old.zips) & set(trace.zips)), href)
        for href, trace in new_towns.items()
        if set(old.zips) & set(trace.zips)
    )
    return scored[0][1] if scored else None


def _hub_or_home(trace: TownTrace, live: set[str], home: str) -> str:
    return trace.hub if trace.hub in live else home


def _fallback(target: str, earlier: Mapping[str, str], live: set[str], home: str) -> str:
    seen = {target}
    while target in earlier and earlier[target] not in seen:
        target = earlier[target]
        seen.add(target)
    return target if target in live else home


def netlify_redirects(redirects: Mapping[str, str]) -> bytes:
    """`_redirects`: one 'from to 301' rule a line (Netlify, Cloudflare Pages)."""
    lines = ["# Written by the generator: town pages that moved or were removed."]
    lines += [f"{source} {target} 301" for source, target in sorted(redirects.items())]
    return ("\n".join(lines) + "\n").encode("utf-8")


def nginx_map(redirects: Mapping[str, str]) -> bytes:
    """Entries for an nginx `map $uri $new_uri { include redirects.nginx.map; }` block."""
    lines = [
        "# Written by the generator. In the server block:",
        '#   map $uri $new_uri { default ""; include /path/to/redirects.nginx.map; }',
        "#   if ($new_uri) { return 301 $new_uri; }",
    ]
    lines += [f"{source} {target};" for source, target in sorted(redirects.items())]
    return ("\n".join(lines) + "\n").encode("utf-8")
