"""Structured data (schema.org JSON-LD) for every page: the clinic, the page, its breadcrumbs.

The clinic is one MedicalClinic node with a stable @id, carrying only facts that the settings
give; each page is a MedicalWebPage that names the clinic by that @id.
"""

from __future__ import annotations

import json
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


def breadcrumb_node(url: str, crumbs: list[tuple[str, str]]) -> dict[str, Any]:
    """crumbs: (name, absolute URL) from the home page down to this page."""
    return {
        "@type": "BreadcrumbList",
        "@id": url + "#breadcrumb",
        "itemListElement": [
            {"@type": "ListItem", "position": n, "name": name, "item": item}
            for n, (name, item) in enumerate(crumbs, start=1)
        ],
    }


def webpage_node(
    settings: Settings,
    url: str,
    name: str,
    description: str,
    *,
    about: dict[str, Any] | None = None,
    references: tuple[Reference, ...] = (),
    with_breadcrumb: bool = True,
) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@type": "MedicalWebPage",
        "@id": url + "#webpage",
        "url": url,
        "name": name,
        "description": description,
        "inLanguage": settings.language,
        "isPartOf": {"@id": website_id(settings)},
        "publisher": {"@id": clinic_id(settings)},
        "about": about or {"@id": clinic_id(settings)},
    }
    if with_breadcrumb:
        node["breadcrumb"] = {"@id": url + "#breadcrumb"}
    review = settings.review
    if review.reviewer_name and review.reviewed_on:
        node["lastReviewed"] = review.reviewed_on
        node["reviewedBy"] = {"@type": "Person", "name": review.reviewer_name}
        if review.reviewer_credentials:
            node["reviewedBy"]["honorificSuffix"] = review.reviewer_credentials
    if references:
        node["citation"] = [
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


def place_node(name: str, region: str, postal_codes: list[str]) -> dict[str, Any]:
    return {
        "@type": "Place",
        "name": name,
        "address": {
            "@type": "PostalAddress",
            "addressLocality": name,
            "addressRegion": region,
            "addressCountry": "US",
            "postalCode": postal_codes,
        },
    }


# One encoder for every node: what json.dumps(..., ensure_ascii=False, separators=(",", ":"))
# would build on each call.
ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
GRAPH_START = '{"@context":"https://schema.org","@graph":['
GRAPH_END = "]}"


def graph(*nodes: dict[str, Any]) -> str:
    """Serialise a @graph for a <script> element: '<', '>' and '&' are \\u-escaped, so no text
    from the inputs can close the script element."""
    return GRAPH_START + ",".join(map(node_text, nodes)) + GRAPH_END


def node_text(node: dict[str, Any]) -> str:
    """One node as it reads inside a graph. Joined with ',' between GRAPH_START and GRAPH_END,
    node texts are exactly the escaped json.dumps of the whole graph."""
    return _escape(ENCODER.encode(node))


def _escape(text: str) -> str:
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class SiteGraph:
    """The graphs of one site's pages: the clinic and website nodes, the same on every page, are
    serialised once."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.site_nodes = node_text(clinic_node(settings)) + "," + node_text(website_node(settings))

    def page(self, *nodes: dict[str, Any]) -> str:
        """The graph of the clinic, the website and `nodes`, as graph() writes it."""
        texts = [self.site_nodes, *map(node_text, nodes)]
        return GRAPH_START + ",".join(texts) + GRAPH_END
