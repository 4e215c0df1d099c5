// Eleventy twin of our site for the build benchmark (benchmarks/build_bench.py).
// The page data is data/site.json (made at run time by benchmarks/export_data.py), read once
// here and given to the templates as `s` (build-wide) and `pages` (one list per page kind).
import { readFileSync } from "node:fs";

const data = JSON.parse(readFileSync(process.env.NOVA_DATA || "data/site.json", "utf8"));

// The page's schema.org graph, assembled here as our planner does in generator/jsonld.py.
function jsonld(p, s) {
  const clinic = { "@id": `${s.root}#clinic` };
  const nodes = [s.clinic_node, s.website_node];
  if (p.kind !== "404") {
    nodes.push(webpageNode(p, s, clinic), breadcrumbNode(p, s));
    if (p.ld.faq.length) nodes.push(faqNode(p));
  }
  const text = JSON.stringify({ "@context": "https://schema.org", "@graph": nodes });
  return text.replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
}

function webpageNode(p, s, clinic) {
  const node = {
    "@type": "MedicalWebPage",
    "@id": `${p.url}#webpage`,
    url: p.url,
    name: p.title,
    description: p.description,
    inLanguage: s.language,
    isPartOf: { "@id": `${s.root}#website` },
    publisher: clinic,
    about: p.ld.place ? placeNode(p.ld.place) : clinic,
    breadcrumb: { "@id": `${p.url}#breadcrumb` },
  };
  if (s.review.name && s.review.on) {
    node.lastReviewed = s.review.on;
    node.reviewedBy = { "@type": "Person", name: s.review.name };
    if (s.review.credentials) node.reviewedBy.honorificSuffix = s.review.credentials;
  }
  const cited = s.references.filter((r) => p.ld.citations.includes(r.id));
  if (cited.length) {
    node.citation = cited.map((r) => ({
      "@type": "ScholarlyArticle",
      name: r.title,
      author: r.authors,
      isPartOf: r.journal,
      datePublished: r.year,
      sameAs: r.doi_url,
    }));
  }
  return node;
}

function placeNode(place) {
  return {
    "@type": "Place",
    name: place.name,
    address: {
      "@type": "PostalAddress",
      addressLocality: place.name,
      addressRegion: place.region,
      addressCountry: "US",
      postalCode: place.zips,
    },
  };
}

function breadcrumbNode(p, s) {
  return {
    "@type": "BreadcrumbList",
    "@id": `${p.url}#breadcrumb`,
    itemListElement: p.breadcrumbs.map((c, i) => ({
      "@type": "ListItem",
      position: i + 1,
      name: c.text,
      item: s.root + c.href.replace(/^\//, ""),
    })),
  };
}

function faqNode(p) {
  return {
    "@type": "FAQPage",
    "@id": `${p.url}#faq`,
    mainEntity: p.ld.faq.map((q) => ({
      "@type": "Question",
      name: q.question,
      acceptedAnswer: { "@type": "Answer", text: q.answer },
    })),
  };
}

export default function (eleventyConfig) {
  eleventyConfig.addGlobalData("s", data.site);
  eleventyConfig.addGlobalData("pages", data.pages);
  eleventyConfig.addFilter("jsonld", jsonld);
  eleventyConfig.setNunjucksEnvironmentOptions({ trimBlocks: true, lstripBlocks: true });
  eleventyConfig.addPassthroughCopy("assets");
  eleventyConfig.ignores.add("data/**");
  eleventyConfig.setQuietMode(true);
}
