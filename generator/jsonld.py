"""Structured data (schema.org JSON-LD) for every page: the clinic, the page, its breadcrumbs.

The clinic is one MedicalClinic node with a stable @id, carrying only facts that the settings
give; each page is a MedicalWebPage that names the clinic by that @id.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

from .content import Question, Reference, plain_text
from .settings import Settings


def clinic_id(settings: Settings) -> str:
    return settings.site_root + "#clinic"


def website_id(settings: Settings) -> str:
    return settings.site_root + "#website"


def clinic_node(settings: Settings) -> dict[str, Any]:
    clinic = settings.clinic
    address: dict[str, Any] = {
        "@type": "PostalAddress",
        "addressLocality": clinic.city,
        "addressRegion": clinic.state,
        "addressCountry": "US",
    }
    if clinic.street_address:
        address["streetAddress"] = clinic.street_address
    if clinic.postal_code:
        address["postalCode"] = clinic.postal_code
    node: dict[str, Any] = {
        "@type": "MedicalClinic",
        "@id": clinic_id(settings),
        "name": clinic.name,
        "url": settings.site_root,
        "telephone": clinic.phone,
        "address": address,
    }
    if clinic.email:
        node["email"] = clinic.email
    if clinic.opening_hours:
        node["openingHours"] = clinic.opening_hours
    if clinic.latitude is not None and clinic.longitude is not None:
        node["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": clinic.latitude,
            "longitude": clinic.longitude,
        }
    return node


def website_node(settings: Settings) -> dict[str, Any]:
    return {
        "@type": "WebSite",
        "@id": website_id(settings),
        "url": settings.site_root,
        "name": settings.clinic.name,
        "publisher": {"@id": clinic_id(settings)},
    }


def faq_node(url: str, questions: tuple[Question, ...]) -> dict[str, Any]:
    return {
        "@type": "FAQPage",
        "@id": url + "#faq",
        "mainEntity": [
            {
                "@type": "Question",
                "name": q.question,
                "acceptedAnswer": {"@type": "Answer", "text": plain_text(q.answer_html)},
            }
            for q in questions
        ],
    }


def place_node(name: str, region: str, postal_codes: list[str]) -> str:
    """A Place node (a town and its ZIP codes) as JSON text, for `about` of SiteGraph.page."""
    string = encode_basestring
    codes = ",".join(map(string, postal_codes))
    return (
        f'{{"@type":"Place","name":{string(name)},"address":{{"@type":"PostalAddress",'
        f'"addressLocality":{string(name)},"addressRegion":{string(region)},'
        f'"addressCountry":"US","postalCode":[{codes}]}}}}'
    )


# One encoder for every node: what json.dumps(..., ensure_ascii=False, separators=(",", ":"))
# would build on each call.
ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
GRAPH_START = '{"@context":"https://schema.org","@graph":['
GRAPH_END = "]}"


def node_text(node: dict[str, Any]) -> str:
    """One node as it reads inside a graph: compact JSON with '<', '>' and '&' \\u-escaped, so
    no text from the inputs can close the <script> element."""
    return _escape(ENCODER.encode(node))


def _escape(text: str) -> str:
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _string(text: str) -> str:
    """A string as JSON, escaped as node_text() escapes it."""
    return _escape(encode_basestring(text))


def _members(node: dict[str, Any]) -> str:
    """The members of an object as escaped JSON, without the braces: ',"a":1,"b":2' (empty for
    {})."""
    text = node_text(node)[1:-1]
    return "," + text if text else ""


class SiteGraph:
    """The JSON-LD graph of each page of one site, as the text of its <script> element: the
    site's clinic and website nodes, the page's MedicalWebPage and BreadcrumbList nodes, and any
    others. What is the same on every page is written once: the clinic and website nodes, and
    what each page node says about the site (language, website, publisher, reviewer).

    A page's graph is joined from small escaped parts in one go, so the one large string it keeps
    is the only large one made: large drafts freed around it fragmented the heap of a large
    plan, and rendering and parsing after planning ran several per cent slower."""

    def __init__(self, settings: Settings):
        self.site_nodes = node_text(clinic_node(settings)) + "," + node_text(website_node(settings))
        self.clinic = node_text({"@id": clinic_id(settings)})
        self.part_of = _members(
            {
                "inLanguage": settings.language,
                "isPartOf": {"@id": website_id(settings)},
                "publisher": {"@id": clinic_id(settings)},
            }
        )
        self.review = _members(_review(settings))

    def site_only(self) -> str:
        """The graph of a page that is not a MedicalWebPage (the 404 page)."""
        return GRAPH_START + self.site_nodes + GRAPH_END

    def page(
        self,
        url: str,
        name: str,
        description: str,
        crumbs: list[tuple[str, str]],
        *,
        about: str = "",
        references: tuple[Reference, ...] = (),
        extra: tuple[dict[str, Any], ...] = (),
    ) -> str:
        """The graph of the page at `url`. crumbs: (name, absolute URL) from the home page down
        to this page; about: the JSON text of the node the page is about (default: the clinic)."""
        parts = [GRAPH_START, self.site_nodes, ","]
        parts += self._webpage(url, name, description, about, references)
        parts.append(",")
        parts += _breadcrumb_list(url, crumbs)
        for node in extra:
            parts += (",", node_text(node))
        parts.append(GRAPH_END)
        return "".join(parts)

    def _webpage(
        self,
        url: str,
        name: str,
        description: str,
        about: str,
        references: tuple[Reference, ...],
    ) -> list[str]:
        string = _string
        return [
            f'{{"@type":"MedicalWebPage","@id":{string(url + "#webpage")},"url":{string(url)},',
            f'"name":{string(name)},"description":{string(description)}',
            self.part_of,
            ',"about":',
            _escape(about) if about else self.clinic,
            f',"breadcrumb":{{"@id":{string(url + "#breadcrumb")}}}',
            self.review,
            _members(_citations(references)) if references else "",
            "}",
        ]


def _breadcrumb_list(url: str, crumbs: list[tuple[str, str]]) -> list[str]:
    string = _string
    parts = [f'{{"@type":"BreadcrumbList","@id":{string(url + "#breadcrumb")},"itemListElement":[']
    for n, (name, item) in enumerate(crumbs, start=1):
        if n > 1:
            parts.append(",")
        parts.append(
            f'{{"@type":"ListItem","position":{n},"name":{string(name)},"item":{string(item)}}}'
        )
    parts.append("]}")
    return parts


def _review(settings: Settings) -> dict[str, Any]:
    """Who reviewed the pages and when, once both are set."""
    review = settings.review
    if not (review.reviewer_name and review.reviewed_on):
        return {}
    reviewer = {"@type": "Person", "name": review.reviewer_name}
    if review.reviewer_credentials:
        reviewer["honorificSuffix"] = review.reviewer_credentials
    return {"lastReviewed": review.reviewed_on, "reviewedBy": reviewer}


def _citations(references: tuple[Reference, ...]) -> dict[str, Any]:
    return {
        "citation": [
            {
                "@type": "ScholarlyArticle",
                "name": r.title,
                "author": r.authors,
                "isPartOf": r.journal,
                "datePublished": str(r.year),
                "sameAs": r.doi_url,
            }
            for r in references
        ]
    }
