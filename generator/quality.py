"""The uniqueness gate: near-identical town pages are found and, by setting, fail the build,
are published `noindex` and left out of the sitemap, are merged into their county hub, or are
only reported.

For each flagged pair one page gives way: the one with less of its own to say (fewer ZIP
codes), ties broken by URL, so the result does not depend on the order pages were built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .audit import (
    AuditReport,
    PageFingerprint,
    PagePair,
    audit_fingerprints,
    uses_signatures,
)
from .problems import Finding, Severity
from .settings import QualitySettings

ACTIONS_THAT_DEMOTE = ("noindex", "merge")


@dataclass(frozen=True)
class GateResult:
    report: AuditReport
    demoted: frozenset[str]  # hrefs of the town pages that give way
    findings: tuple[Finding, ...]


def audit_town_pages(
    pages: Iterable[tuple[str, str, PageFingerprint]],
    settings: QualitySettings,
    zip_counts: Mapping[str, int],
) -> GateResult:
    """pages: (href, output path, fingerprint of the main text) of every town page, each made
    by ``fingerprint(main_text, uses_signatures(number of town pages))``; zip_counts: ZIPs
    per href."""
    pages = list(pages)
    paths = {href: path for href, path, _ in pages}
    report = _audit(pages, settings.similarity_threshold)
    demoted = choose_demoted(report.flagged, zip_counts)
    action = settings.on_similar
    severity = Severity.ERROR if action == "fail" else Severity.WARNING
    findings = tuple(
        Finding(
            "quality.similar",
            paths[pair.a],
            f"main text is {pair.similarity:.2f} similar to {pair.b} (threshold "
            f"{settings.similarity_threshold}); {_consequence(action, pair, demoted)}",
            severity,
        )
        for pair in report.flagged
    )
    return GateResult(
        report, frozenset(demoted) if action in ACTIONS_THAT_DEMOTE else frozenset(), findings
    )


def _audit(pages: list[tuple[str, str, PageFingerprint]], threshold: float) -> AuditReport:
    prints = {href: item for href, _, item in pages}
    signed = uses_signatures(len(prints))
    if any((item.signature is not None) != signed for item in prints.values()):
        raise ValueError(
            f"the fingerprints of {len(prints)} town pages must be made with "
            f"with_signature={signed} (uses_signatures)"
        )
    return audit_fingerprints(prints, threshold=threshold)


def choose_demoted(flagged: Iterable[PagePair], zip_counts: Mapping[str, int]) -> set[str]:
    """Greedy, most similar pair first: a pair already resolved by an earlier demotion is
    skipped; otherwise the page with fewer ZIP codes (then the later URL) gives way."""
    demoted: set[str] = set()
    for pair in sorted(flagged, key=lambda p: (-p.similarity, p.a, p.b)):
        if pair.a in demoted or pair.b in demoted:
            continue
        demoted.add(
            min((pair.a, pair.b), key=lambda href: (zip_counts.get(href, 0), _reverse(href)))
        )
    return demoted


def _reverse(href: str) -> tuple[int, ...]:
    return tuple(-ord(ch) for ch in href)


def _consequence(action: str, pair: PagePair, demoted: set[str]) -> str:
    loser = pair.a if pair.a in demoted else pair.b if pair.b in demoted else ""
    if action == "fail":
        return 'the build fails (quality.on_similar = "fail")'
    if action == "noindex" and loser:
        return f"{loser} is published noindex and left out of the sitemap"
    if action == "merge" and loser:
        return f"{loser} is merged into its county hub"
    return "reported only"
