"""Export our build's page plan as JSON, the data file the Hugo and Eleventy sites render.

So that Hugo and Eleventy render the same pages as we do, this runs our own loader, validation
and planner (`generator.build.load_inputs`, `group_places`, `plan_site`) on a location CSV
and writes, per page, what the planner decided: path, title, description, H1, breadcrumbs and
the page body (ZIP lines, county links, distance to the clinic, the nearest towns, hub
groupings, topic HTML). The templates of the other tools then only render: layout, partials,
loops and the JSON-LD graph, which they assemble themselves from these fields as our plan does.
The time this export takes is measured and reported separately as "prep".

    python benchmarks/export_data.py --project . --locations X.csv --out site.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any


def plan_for(project: Path, locations: Path) -> tuple[Any, Any, Any]:
    """(settings, copy, plan) from the generator found in `project`."""
    sys.path.insert(0, str(project))
    import generator
    from generator.build import BuildOptions, clinic_point, load_inputs
    from generator.places import group_places
    from generator.plan import plan_site

    if not Path(generator.__file__).resolve().is_relative_to(project.resolve()):
        raise SystemExit(f"generator imported from {generator.__file__}, not from {project}")
    options = BuildOptions(project=project, locations=locations.resolve())
    inputs = load_inputs(options)
    if isinstance(inputs, tuple):  # older generator: (settings, table, copy)
        settings, table, copy = inputs
    else:
        settings, table, copy = inputs.settings, inputs.table, inputs.copy
    places = group_places(table.locations, clinic_point(settings), table.file)
    return settings, copy, plan_site(places, copy, settings)


def site_data(settings: Any, copy: Any, site: Any, built: str) -> dict[str, Any]:
    """Everything build-wide the templates use (header, footer, JSON-LD constants)."""
    from generator import jsonld
    from generator.render import tel_uri_number

    clinic = settings.clinic
    review = settings.review
    return {
        "root": settings.site_root,
        "language": settings.language,
        "og_locale": settings.language.replace("-", "_"),
        "built": built,
        "clinic": {
            "name": clinic.name,
            "phone": clinic.phone,
            "tel": tel_uri_number(clinic.phone),
            "city": clinic.city,
            "state": clinic.state,
            "street_address": clinic.street_address,
            "opening_hours": clinic.opening_hours,
        },
        "review": {
            "name": review.reviewer_name,
            "credentials": review.reviewer_credentials,
            "on": review.reviewed_on,
        },
        "stylesheet": site.stylesheet,
        "home_href": site.home.href,
        "topics": [
            {"text": link.text, "href": link.href, "summary": summary}
            for link, summary in site.topic_summaries
        ],
        "states": [_link(link) for link in site.states],
        "crisis_html": str(copy.crisis_html),
        "disclaimer_html": str(copy.disclaimer_html),
        "references": [_reference(r) for r in copy.references],
        "clinic_node": jsonld.clinic_node(settings),
        "website_node": jsonld.website_node(settings),
    }


def _link(link: Any) -> dict[str, str]:
    return {"text": link.text, "href": link.href, "note": link.note}


def _reference(ref: Any) -> dict[str, Any]:
    return {
        "id": ref.id,
        "citation": ref.citation,
        "doi": ref.doi,
        "doi_url": ref.doi_url,
        "note": ref.note,
        "title": ref.title,
        "authors": ref.authors,
        "journal": ref.journal,
        "year": str(ref.year),
    }


def page_data(page: Any, copy: Any) -> dict[str, Any]:
    """One page: the planner's decisions plus the ingredients of its JSON-LD graph."""
    body = dataclasses.asdict(page.body)
    data = {
        "kind": page.kind,
        "path": page.path,
        "dir": page.path.removesuffix("index.html").rstrip("/"),
        "href": page.href,
        "url": page.url,
        "title": page.title,
        "description": page.description,
        "h1": page.h1,
        "indexable": page.indexable,
        "state": page.state,
        "breadcrumbs": [_link(c) for c in page.breadcrumbs],
        "body": {k: str(v) if k == "html" else v for k, v in body.items()},
    }
    data["ld"] = _ld_ingredients(page, copy)
    return data


def _ld_ingredients(page: Any, copy: Any) -> dict[str, Any]:
    """What our plan adds to the JSON-LD of a page beyond its URL, title and breadcrumbs."""
    from generator.content import plain_text

    ld: dict[str, Any] = {"place": None, "citations": [], "faq": []}
    if page.kind == "town":
        zips = [z.zip for z in page.body.zips]
        ld["place"] = {"name": page.town, "region": page.state, "zips": zips}
    if page.kind == "topic":
        ld["citations"] = [r.id for r in copy.references if f"#ref-{r.id}" in page.body.html]
        topic = next(t for t in copy.topics if t.title == page.h1)
        ld["faq"] = [
            {"question": q.question, "answer": plain_text(q.answer_html)} for q in topic.questions
        ]
    return ld


def export(project: Path, locations: Path, out: Path) -> dict[str, int]:
    """Write the data file; return page counts by kind."""
    settings, copy, plan = plan_for(project, locations)
    built = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    pages: dict[str, list[dict[str, Any]]] = {}
    for page in plan.pages:
        pages.setdefault(page.kind, []).append(page_data(page, copy))
    data = {"site": site_data(settings, copy, plan.site, built), "pages": pages}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return {kind: len(items) for kind, items in sorted(pages.items())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--locations", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = export(args.project.resolve(), args.locations, args.out)
    print(json.dumps({"pages": counts, "seconds": round(time.perf_counter() - started, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
