"""Benchmark of the uniqueness audit (generator.audit) on a large synthetic site.

Owns: generating N town pages shaped like the real ones (a few hundred words of <main>
text built from shared template sentences filled with per-town data, a per-town local
paragraph, site chrome outside <main>, a few planted near-copies), writing them to a
tmpfs directory, and timing ``audit_site`` over several runs.

    python benchmarks/audit_bench.py --pages 30000 --runs 3 [--dir /mnt/bench] [--keep]
    python benchmarks/audit_bench.py --site /dev/shm/some-built-site --runs 3

The site goes to a new ``audit-bench-*`` folder under ``--dir`` (removed afterwards).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.audit import AuditReport, audit_site, format_report

SEED = 7
SERVICE = "ketamine-infusion"
SERVICES = ("ketamine-infusion", "spravato-treatment", "tms-therapy")
SERVICE_NAMES = {
    "ketamine-infusion": "ketamine infusion therapy",
    "spravato-treatment": "Spravato (esketamine) treatment",
    "tms-therapy": "TMS therapy",
}
STATES = ("VA", "MD", "DC", "WV", "PA", "DE", "NC")
STATE_LIST = tuple(
    "ak al ar az ca co ct dc de fl ga hi ia id il in ks ky la ma md me mi mn mo ms mt nc nd ne "
    "nh nj nm nv ny oh ok or pa ri sc sd tn tx ut va vt wa wi wv wy".split()
)
SOURCE = (
    "Harmer CJ, Duman RS, Cowen PJ. How do antidepressants work? New perspectives for refining "
    "future treatment approaches. Lancet Psychiatry. 2017;4(5):409-418."
)
ROADS = ("I-66", "I-95", "I-495", "Route 7", "Route 50", "Route 28", "US-1", "Route 15", "I-270")
CLINICS = ("Fairfax", "Leesburg", "Manassas", "Alexandria")
SYLLABLES = (
    "ash", "bel", "bro", "burn", "cas", "clif", "dale", "dor", "elm", "fal", "fern", "glen", "ham",
    "hill", "kes", "lan", "lee", "mar", "mont", "nor", "oak", "pem", "pine", "ral", "ridge",
    "ros", "sal", "shen", "ston", "tal", "ton", "vale", "ven", "wes", "wick", "wood", "york",
)  # fmt: skip
FILLER = (
    "the", "a", "of", "and", "to", "in", "for", "with", "on", "near", "by", "is", "are", "was",
    "has", "many", "local", "families", "residents", "park", "library", "school", "market",
    "trail", "church", "river", "creek", "station", "center", "street", "historic", "new",
    "community", "neighborhood", "downtown", "commuters", "shops", "restaurants", "festival",
    "farm", "museum", "green", "quiet", "busy", "growing", "older", "homes", "townhouses",
)  # fmt: skip
INTROS = (
    "Looking for {service} near {town}? {brand} helps adults in {town}, {state} who live with "
    "depression, anxiety or chronic pain that has not improved with other treatments.",
    "{brand} offers {service} to patients from {town} and the rest of {county}. Our team works "
    "with your own doctor so that care stays simple and safe.",
    "If you live in {town}, {state}, {service} at {brand} may be an option when several "
    "medications have not helped. Many of our patients drive in from {town} every week.",
    "People in {town} ask us whether {service} is right for them. This page explains how "
    "treatment works, what it costs and how to reach our clinic from {town}.",
)
SERVICE_PARAGRAPHS = tuple(
    f"{topic} is one of the questions we discuss at the first visit. A physician reviews your "
    f"history, current medications and goals, and explains how {{service}} fits into a wider "
    f"plan. Sessions take place in a quiet private room and a nurse checks on you throughout; "
    f"most patients rest for a while afterwards and a friend or family member drives them home."
    for topic in (
        "Safety", "Cost and insurance", "How many sessions you need", "Side effects",
        "Who is a good candidate", "Combining treatment with therapy", "Maintenance sessions",
        "What the research says",
    )
)  # fmt: skip
FAQS = tuple(
    f"{question} For patients from {{town}}, the answer depends on your history, so the "
    f"physician will go through it with you at the consultation and write down a clear plan."
    for question in (
        "Do I need a referral?", "Is it covered by insurance?", "How long does a visit take?",
        "Can I drive afterwards?", "How soon will I feel better?", "Is it addictive?",
        "Can I keep my other medications?", "What happens at the first appointment?",
        "Do you treat teenagers?", "Is there parking at the clinic?",
    )
)  # fmt: skip
CALLS = (
    "Call us today to book a consultation for {service}; we usually see new patients from "
    "{town} within a week.",
    "Ready to talk? Request an appointment online and a coordinator will call you back the same "
    "day to answer questions from {town}.",
    "Book your free phone screening now. Evening and weekend slots are available for patients "
    "coming from {town}.",
)


@dataclass(frozen=True)
class Town:
    """A synthetic place with the data a town page shows."""

    name: str
    slug: str
    state: str
    county: str
    zips: tuple[str, ...]
    neighbours: tuple[str, ...]
    miles: int
    minutes: int
    road: str
    clinic: str
    notes: str


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3)))).title()


def _towns(count: int, rng: random.Random) -> list[Town]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = _name(rng) + rng.choice(("", "", " Park", " Heights", " Springs", " Mill"))
        if name not in seen:
            seen.add(name)
            names.append(name)
    counties = [_name(rng) + " County" for _ in range(max(1, count // 12))]
    return [_town(index, names, counties, rng) for index in range(count)]


def _town(index: int, names: list[str], counties: list[str], rng: random.Random) -> Town:
    near = [names[(index + rng.randint(-6, 6)) % len(names)] for _ in range(rng.randint(5, 10))]
    miles = rng.randint(2, 60)
    return Town(
        name=names[index],
        slug=names[index].lower().replace(" ", "-"),
        state=STATES[index % len(STATES)],
        county=counties[index % len(counties)],
        zips=tuple(str(rng.randint(20000, 26999)) for _ in range(rng.randint(1, 12))),
        neighbours=tuple(dict.fromkeys(n for n in near if n != names[index])),
        miles=miles,
        minutes=miles * 2 + rng.randint(0, 15),
        road=rng.choice(ROADS),
        clinic=rng.choice(CLINICS),
        notes=_words(rng, 20, 40),
    )


def _words(rng: random.Random, least: int, most: int) -> str:
    """Stand-in for hand-written local copy: words that rarely line up the same way twice."""
    return " ".join(rng.choice(FILLER + SYLLABLES) for _ in range(rng.randint(least, most)))


def _main_html(town: Town, service: str, rng: random.Random) -> str:
    """The <main> of a town page, marked up like the real template (sections, lists, a map)."""
    slots = {
        "service": SERVICE_NAMES[service],
        "town": town.name,
        "state": town.state,
        "county": town.county,
        "brand": "NOVA Health Recovery",
    }
    zips = "".join(f"<li>{z}: {town.name}, {town.county}</li>" for z in town.zips)
    parts = [
        f'<main id="content">\n<h1>{escape(SERVICE_NAMES[service].capitalize())} for '
        f"{town.name}, {town.state}</h1>",
        f'<p class="lead">{escape(rng.choice(INTROS).format(**slots))}</p>',
        '<aside class="cta" aria-label="Contact"><p><strong>No referral needed.</strong> Call '
        '<a href="tel:+17035550100">703-555-0100</a> to ask about a consultation.</p></aside>',
        f'<section aria-labelledby="zips"><h2 id="zips">{town.name} ZIP codes we serve</h2>'
        f'<ul class="zips">{zips}</ul></section>',
        f'<section aria-labelledby="where"><h2 id="where">Where {town.name} is</h2><p>'
        f"{town.name} is in {town.county}, {town.state}. Our {town.clinic} clinic is about "
        f"{town.miles} miles away, roughly {town.minutes} minutes by car via {town.road}.</p>"
        f"<p>About {town.name}: {town.notes}.</p></section>",
        _map(town, rng),
        _nearby(town),
        "<section>"
        + f"<p>{escape(rng.choice(SERVICE_PARAGRAPHS).format(**slots))}</p>"
        + f"<p>Our patients from {town.name} say: {_words(rng, 30, 60)}.</p></section>",
        '<section aria-labelledby="faq"><h2 id="faq">Questions</h2>'
        + "".join(f"<p>{escape(q.format(**slots))}</p>" for q in rng.sample(FAQS, 2))
        + "</section>",
        f"<p>{escape(rng.choice(CALLS).format(**slots))}</p>",
        "</main>",
    ]
    return "\n".join(parts)


def _map(town: Town, rng: random.Random) -> str:
    places = [*town.neighbours, town.name]
    marks = "".join(
        f'<circle cx="{rng.uniform(20, 620):.1f}" cy="{rng.uniform(20, 400):.1f}" r="4" '
        f'fill="#4a5561"/><text x="{rng.uniform(20, 620):.1f}" y="{rng.uniform(20, 400):.1f}" '
        f'font-size="12" fill="#1b1f24">{name}</text>\n'
        for name in places
    )
    return (
        '<figure class="map-figure"><svg class="map" viewBox="0 0 640 420" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>Map of {town.name} and nearby communities'
        f'</title><rect width="640" height="420" fill="#f6fafb"/>\n{marks}</svg>'
        f"<figcaption>{town.name} and the {len(town.neighbours)} nearest communities we serve."
        "</figcaption></figure>"
    )


def _nearby(town: Town) -> str:
    items = "".join(
        f'<li><a href="/{town.state.lower()}/{name.lower().replace(" ", "-")}/">{name}, '
        f'{town.state}</a> <span class="note">about {3 + 4 * k} miles from {town.name}</span></li>'
        for k, name in enumerate(town.neighbours)
    )
    return (
        '<section aria-labelledby="nearby"><h2 id="nearby">Nearby communities we serve</h2>'
        f'<ul class="towns">{items}</ul></section>'
    )


def _page(main: str, title: str, url: str) -> str:
    """A whole page: head with metadata and JSON-LD, header, breadcrumbs, main, footer."""
    nav = "".join(f'<li><a href="/{s}/">{SERVICE_NAMES[s]}</a></li>' for s in SERVICES)
    links = "".join(f'<li><a href="/{SERVICE}/{k}/">{k.upper()}</a></li>' for k in STATE_LIST)
    sources = "".join(f'<li id="ref-{k}">{SOURCE}</li>' for k in range(3))
    meta = "".join(
        f'<meta property="og:{key}" content="{title} | NOVA Health Recovery">\n'
        for key in ("title", "description", "site_name", "url", "type", "locale")
    )
    crumbs = "".join(f'{{"@type":"ListItem","position":{k},"name":"{title}"}},' for k in range(4))
    return (
        f'<!DOCTYPE html>\n<html lang="en-US">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title} | NOVA Health Recovery</title>\n"
        f'<meta name="description" content="Treatment for {title}.">\n'
        f'<link rel="canonical" href="https://www.example.com{url}">\n{meta}'
        '<link rel="stylesheet" href="/assets/style.css">\n'
        '<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{'
        f'"@type":"MedicalWebPage","url":"https://www.example.com{url}","name":"{title}"}},'
        f'{{"@type":"BreadcrumbList","itemListElement":[{crumbs.rstrip(",")}]}}]}}</script>\n'
        '</head>\n<body data-kind="town">\n<a class="skip" href="#content">Skip to main '
        'content</a>\n<header class="site-header"><a class="brand" href="/">NOVA Health '
        f'Recovery</a><nav aria-label="Main"><ul>{nav}</ul></nav></header>\n'
        '<nav class="breadcrumbs" aria-label="Breadcrumb"><ol><li><a href="/">Home</a></li>'
        f'<li><a href="{url}">{title}</a></li></ol></nav>\n{main}\n'
        '<footer class="site-footer"><section class="crisis"><h2>In crisis?</h2><p>If you are '
        "thinking about suicide or are in crisis, call or text 988 to reach the 988 Suicide "
        "&amp; Crisis Lifeline, any time of day or night.</p></section>"
        f'<section><h2>Sources</h2><ol class="sources">{sources}</ol></section>'
        f'<nav aria-label="Areas we serve"><h2>Areas we serve</h2><ul>{links}</ul></nav>'
        "<p>NOVA Health Recovery, Fairfax, VA. This page is general information, not medical "
        "advice.</p></footer>\n</body>\n</html>\n"
    )


def _planted(main: str, source: Town, target: Town, rng: random.Random) -> str:
    """A sloppy clone of another town's main content: the name swapped in the heading and lead
    only, a few words changed."""
    words = main.replace(source.name, target.name, 2).split(" ")
    plain = [k for k, word in enumerate(words) if word.isalpha()]
    for k in rng.sample(plain, rng.randint(0, 6)):
        words[k] = rng.choice(FILLER)
    return " ".join(words)


def write_site(site: Path, pages: int, seed: int = SEED) -> list[tuple[str, str]]:
    """Write ``pages`` town pages (one service, like the real site) and a few other pages.

    Every 1000th page is a sloppy clone of an earlier one. Returns the planted
    (source URL, clone URL) pairs.
    """
    rng = random.Random(seed)
    towns = _towns(pages, rng)
    mains: list[str] = []
    planted = []
    for number, town in enumerate(towns):
        main = _main_html(town, SERVICE, rng)
        if number % 1000 == 999:
            source = rng.randrange(number)
            main = _planted(mains[source], towns[source], town, rng)
            planted.append((_url(towns[source], SERVICE), _url(town, SERVICE)))
        mains.append(main)
        path = site / _url(town, SERVICE).strip("/") / "index.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        title = escape(f"{town.name}, {town.state}")
        path.write_text(_page(main, title, _url(town, SERVICE)), encoding="utf-8")
    for kind in ("index", "state", "county", "topic"):
        page = _page("<main><p>Not a town page.</p></main>", kind, f"/{kind}.html")
        (site / f"{kind}.html").write_text(page.replace('"town"', f'"{kind}"'), encoding="utf-8")
    return planted


def _url(town: Town, service: str) -> str:
    return f"/{service}/{town.state.lower()}/{town.slug}/"


def _is_tmpfs(path: Path) -> bool:
    result = subprocess.run(["stat", "-f", "-c", "%T", str(path)], capture_output=True, text=True)
    return result.stdout.strip() == "tmpfs"


def _default_dir() -> Path:
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and _is_tmpfs(shm) else Path("/mnt/bench")


def _generate(site: Path, pages: int) -> list[tuple[str, str]]:
    """``write_site`` in a child process, so the peak RSS measured here is the audit's own."""
    with ProcessPoolExecutor(max_workers=1) as pool:
        return pool.submit(write_site, site, pages).result()


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (the pool workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _run(site: Path) -> tuple[float, float, AuditReport]:
    """Wall-clock and CPU seconds of one ``audit_site`` call, and its report."""
    cpu, start = _cpu_seconds(), time.perf_counter()
    report = audit_site(site)
    return time.perf_counter() - start, _cpu_seconds() - cpu, report


def _summary(seconds: list[float], report: AuditReport, planted: list[tuple[str, str]]) -> str:
    median = statistics.median(seconds)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    found = {(pair.a, pair.b) for pair in report.flagged}
    caught = sum(tuple(sorted(pair)) in found for pair in planted)
    return (
        f"runs: {', '.join(f'{s:.2f}' for s in seconds)} s; median {median:.2f} s, "
        f"{report.pages / median:.0f} pages/s\n"
        f"peak RSS: main process {own:.0f} MiB, largest child {child:.0f} MiB\n"
        f"method {report.method}, max {report.maximum:.3f}, p95 {report.p95:.3f}, "
        f"{len(report.flagged)} flagged"
        + (f", planted near-copies flagged {caught}/{len(planted)}" if planted else "")
    )


def _timed_runs(site: Path, runs: int, planted: list[tuple[str, str]]) -> None:
    seconds = []
    for run in range(1, runs + 1):
        elapsed, cpu, report = _run(site)
        seconds.append(elapsed)
        print(f"run {run}: {elapsed:.2f} s wall, {cpu:.2f} s CPU; load average {_load()}")
    print(_summary(seconds, report, planted))
    print(format_report(report))


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    """Generate the site (or take ``--site``), time ``audit_site`` ``--runs`` times, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30_000, help="town pages (default 30000)")
    parser.add_argument("--runs", type=int, default=3, help="timed audits (default 3)")
    parser.add_argument("--dir", type=Path, default=None, help="tmpfs folder (default /dev/shm)")
    parser.add_argument("--keep", action="store_true", help="keep the generated site")
    parser.add_argument("--site", type=Path, help="audit this built site instead of generating")
    args = parser.parse_args(argv)
    if args.site:
        print(f"auditing {args.site}; {os.cpu_count()} cpus, load average {_load()}")
        _timed_runs(args.site, args.runs, [])
        return 0
    base = args.dir or _default_dir()
    if not _is_tmpfs(base):
        print(f"warning: {base} is not tmpfs; timings include disk reads", file=sys.stderr)
    site = Path(tempfile.mkdtemp(prefix="audit-bench-", dir=base))
    try:
        started = time.perf_counter()
        planted = _generate(site, args.pages)
        print(f"wrote {args.pages} town pages ({len(planted)} planted near-copies) to {site} "
              f"in {time.perf_counter() - started:.1f} s; {os.cpu_count()} cpus, "
              f"load average {_load()}")  # fmt: skip
        _timed_runs(site, args.runs, planted)
    finally:
        if not args.keep:
            shutil.rmtree(site, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
