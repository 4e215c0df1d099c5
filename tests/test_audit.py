"""Tests of the uniqueness audit (generator.audit): text extraction, Jaccard, both methods."""

from __future__ import annotations

import html
import itertools
import json
import pickle
import random
import re
from fractions import Fraction
from pathlib import Path

import lxml.etree
import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import audit
from generator.audit import (
    NUM_PERM,
    AuditReport,
    PageFingerprint,
    PagePair,
    audit_fingerprints,
    audit_site,
    audit_texts,
    fingerprint,
    format_report,
    main_text,
    town_pages,
    uses_signatures,
)
from generator.check import parse_page

WORDS = [f"w{k}" for k in range(4000)]
TEMPLATE = (
    "our clinic offers ketamine infusion therapy to adults who live with depression",
    "a physician reviews your history and current medications at the first visit",
    "most patients rest for a while afterwards and a friend drives them home",
    "call us today to book a consultation and ask about insurance and costs",
    "sessions take place in a quiet private room and a nurse checks on you",
    "we work with your own doctor so that your care stays simple and safe",
)


def _page(main: str, kind: str = "town") -> bytes:
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>T</title>'
        "<script>var chrome = 'head script';</script></head>"
        f'<body data-kind="{kind}"><header><nav><a href="/">Home page link</a></nav></header>'
        f"<main>{main}</main><footer><p>Footer words everywhere</p></footer></body></html>"
    ).encode()


def _shingles(text: str) -> set[tuple[str, ...]]:
    """Reference shingling, written independently of the module."""
    words = re.findall(r"\w+", text.lower())
    if len(words) < 5:
        return {tuple(words)}
    return {tuple(words[k : k + 5]) for k in range(len(words) - 4)}


def _jaccard(a: str, b: str) -> Fraction:
    first, second = _shingles(a), _shingles(b)
    return Fraction(len(first & second), len(first | second))


def _synthetic(count: int, seed: int) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """Town-like texts: shared template sentences, a town name, random local words; a few
    pages are near-copies (a few words changed) of others. Returns texts and planted pairs."""
    rng = random.Random(seed)
    keys = [f"/svc/st/town-{k:05d}/" for k in range(count)]
    texts = {}
    for key in keys:
        sentences = rng.sample(TEMPLATE, 3)
        local = " ".join(rng.choices(WORDS, k=rng.randint(80, 160)))
        texts[key] = f"{sentences[0]} near {key[8:-1]}. {local}. {sentences[1]}. {sentences[2]}."
    planted = set()
    for copy in range(0, count, count // 6)[1:]:
        source = rng.randrange(copy)
        words = texts[keys[source]].split()
        for _ in range(3):
            words[rng.randrange(len(words))] = rng.choice(WORDS)
        texts[keys[copy]] = " ".join(words)
        planted.add((keys[source], keys[copy]))
    return texts, planted


@pytest.fixture(scope="module")
def corpus() -> tuple[dict[str, str], set[tuple[str, str]]]:
    return _synthetic(3000, seed=11)


@pytest.fixture(scope="module")
def exact_report(corpus) -> AuditReport:
    return audit_texts(corpus[0], exact_limit=3000)


@pytest.fixture(scope="module")
def lsh_report(corpus) -> AuditReport:
    return audit_texts(corpus[0], exact_limit=100)


# --- main_text -------------------------------------------------------------------------------


def test_main_text_ignores_everything_outside_main() -> None:
    html = _page("<h1>Vienna  Clinic</h1><p>Open\n\tdaily.</p>")
    assert main_text(html) == "vienna clinic open daily."


def test_main_text_drops_scripts_and_separates_blocks() -> None:
    html = _page(
        "<p>One</p><p>Two<b>three</b></p><script>hidden()</script><ul><li>a</li><li>b</li></ul>"
    )
    assert main_text(html) == "one twothree a b"


def test_main_text_reads_utf8_without_charset_and_handles_missing_main() -> None:
    assert main_text("<main><p>Café Zürich</p></main>".encode()) == "café zürich"
    assert main_text(b"<html><body><p>no main here</p></body></html>") == ""
    assert main_text(b"") == ""


MARKUP_TAGS = ["p", "div", "li", "h2", "td", "br", "hr", "span", "b", "a", "script", "style",
               "template", "main", "svg", "title"]  # fmt: skip
MARKUP_TEXT = st.text(
    st.sampled_from("ab \t\n\x0b\x0c\x1c\xa0\u2003\u3000É&<>") | st.characters(max_codepoint=0x2FF),
    max_size=8,
).map(html.escape)
MARKUP = st.recursive(
    MARKUP_TEXT,
    lambda inner: st.tuples(st.sampled_from(MARKUP_TAGS), st.lists(inner, max_size=4)).map(
        lambda element: f"<{element[0]}>{''.join(element[1])}</{element[0]}>"
    ),
    max_leaves=25,
)


def _spaced_text(element: lxml.etree._Element) -> str:
    """The element's text read child by child: skipped elements left out, a space before and
    after every block element (only after a void one)."""
    parts = [element.text or ""]
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else None  # None: a comment
        if tag is not None and tag not in audit._SKIPPED_TAGS:
            block = tag in audit._BLOCK_TAGS
            opening = " " if block and tag not in audit._VOID_TAGS else ""
            parts += [opening, _spaced_text(child), " " if block else ""]
        parts.append(child.tail or "")
    return "".join(parts)


@settings(max_examples=300, deadline=None)
@given(st.lists(MARKUP, max_size=4).map("".join), MARKUP)
def test_main_text_of_any_markup_spaces_blocks_and_skips_scripts(inside, outside) -> None:
    data = f"<html><body>{outside}<main>{inside}</main>{outside}</body></html>".encode()
    main = parse_page(data).find(".//main")
    expected = "" if main is None else " ".join(_spaced_text(main).split()).lower()
    assert audit.main_text_of(parse_page(data)) == expected


def test_main_text_of_a_built_tree_spaces_a_void_element_only_after_it() -> None:
    root = lxml.etree.fromstring("<html><body><main>a<br>b</br>c<hr/>d</main></body></html>")
    assert audit.main_text_of(root) == "ab c d"


def _nested_page(tag: str, depth: int) -> lxml.etree._Element:
    root = lxml.etree.Element("html")
    element = lxml.etree.SubElement(lxml.etree.SubElement(root, "body"), "main")
    for _ in range(depth):
        element = lxml.etree.SubElement(element, tag)
        element.text = "x"
    return root


@pytest.mark.parametrize("tag", ["div", "span"])
def test_main_text_of_a_tree_deeper_than_the_stylesheet_can_go(tag: str) -> None:
    """libxslt stops at 3,000 nested templates; the tree is then marked instead."""
    expected = ("x " * 3500 if tag == "div" else "x" * 3500).strip()
    assert audit.main_text_of(_nested_page(tag, 3500)) == expected
    assert audit._marked_main_text(_nested_page(tag, 3500).find(".//main")) == expected


# --- similarity ------------------------------------------------------------------------------


def test_identical_pages_score_one() -> None:
    text = "ketamine infusion therapy in vienna virginia for adults with depression"
    report = audit_texts({"/a/": text, "/b/": text.upper()})
    assert report.maximum == 1.0
    assert report.flagged == [PagePair("/a/", "/b/", 1.0)]


@pytest.mark.parametrize("exact_limit", [2000, 1])  # exact; MinHash LSH without candidates
def test_disjoint_pages_score_zero(exact_limit: int) -> None:
    texts = {"/a/": "one two three four five six", "/b/": "seven eight nine ten"}
    report = audit_texts(texts, exact_limit=exact_limit)
    assert report.maximum == 0.0
    assert report.histogram == [1] + [0] * 9
    assert report.flagged == []


def test_hand_computed_jaccard() -> None:
    # a: {1-5, 2-6, 3-7}; b: {1-5, 2-6, 3-6-8}; c: {"one two three"}; d: {"one two three"}
    report = audit_texts(
        {
            "/a/": "one two three four five six seven",
            "/b/": "One, two; three four five six EIGHT!",
            "/c/": "one two three",
            "/d/": "  One   two three ",
        },
        top=3,
    )
    assert report.pairs == 6
    assert report.closest == [
        PagePair("/c/", "/d/", 1.0),
        PagePair("/a/", "/b/", 2 / 4),
        PagePair("/a/", "/c/", 0.0),
    ]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdef"), max_size=14), min_size=2, max_size=7))
def test_exact_mode_matches_reference_jaccard(pages: list[list[str]]) -> None:
    texts = {f"/p{k}/": " ".join(words) for k, words in enumerate(pages)}
    report = audit_texts(texts, top=100)
    expected = sorted(
        (-_jaccard(texts[a], texts[b]), a, b) for a, b in itertools.combinations(sorted(texts), 2)
    )
    assert [(p.a, p.b) for p in report.closest] == [(a, b) for _, a, b in expected]
    scores = [float(-score) for score, _, _ in expected]
    assert [p.similarity for p in report.closest] == pytest.approx(scores)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdef"), max_size=14), min_size=2, max_size=9))
def test_lsh_mode_on_a_few_pages_finds_every_pair(pages: list[list[str]]) -> None:
    # With a handful of pages the 200,000 sampled pairs cover every pair.
    texts = {f"/p{k}/": " ".join(words) for k, words in enumerate(pages)}
    exact = audit_texts(texts, top=100)
    lsh = audit_texts(texts, top=100, exact_limit=1)
    assert lsh.method == "minhash-lsh" and lsh.pairs == exact.pairs
    assert (lsh.maximum, lsh.closest, lsh.flagged) == (exact.maximum, exact.closest, exact.flagged)


def test_exact_distribution_matches_brute_force() -> None:
    texts, _ = _synthetic(60, seed=5)
    report = audit_texts(texts, threshold=0.5)
    scores = [_jaccard(texts[a], texts[b]) for a, b in itertools.combinations(sorted(texts), 2)]
    assert report.pairs == len(scores) == 60 * 59 // 2
    assert report.maximum == pytest.approx(max(scores))
    assert report.p95 == pytest.approx(float(sorted(scores)[-(-len(scores) * 95 // 100) - 1]))
    bins = [min(int(score * 10), 9) for score in scores]
    assert report.histogram == [bins.count(k) for k in range(10)]
    assert len(report.flagged) == sum(score > 0.5 for score in scores)


# --- exact and LSH on a larger corpus -------------------------------------------------------


def test_exact_histogram_covers_every_pair(exact_report: AuditReport) -> None:
    assert exact_report.method == "exact" and not exact_report.estimated
    assert exact_report.pairs == 3000 * 2999 // 2
    assert sum(exact_report.histogram) == exact_report.pairs
    assert 0.0 < exact_report.p95 < exact_report.maximum


def test_lsh_finds_the_planted_pairs_like_exact(corpus, exact_report, lsh_report) -> None:
    _, planted = corpus
    assert {(p.a, p.b) for p in exact_report.flagged} == planted
    assert lsh_report.flagged == exact_report.flagged
    assert lsh_report.maximum == exact_report.maximum
    # Below the LSH range the closest pairs are the best of those found, never better than exact.
    assert lsh_report.closest[: len(planted)] == exact_report.closest[: len(planted)]
    for found, best in zip(lsh_report.closest, exact_report.closest, strict=True):
        assert found.similarity <= best.similarity


def test_lsh_distribution_is_an_estimate_of_every_pair(exact_report, lsh_report) -> None:
    assert lsh_report.method == "minhash-lsh" and lsh_report.estimated
    assert lsh_report.pairs == exact_report.pairs
    assert sum(lsh_report.histogram) == lsh_report.pairs
    assert lsh_report.p95 == pytest.approx(exact_report.p95, abs=0.02)
    share = np.array(lsh_report.histogram) / lsh_report.pairs
    assert share == pytest.approx(np.array(exact_report.histogram) / exact_report.pairs, abs=0.01)


def test_reports_are_deterministic(corpus, lsh_report) -> None:
    texts, _ = corpus
    items = list(texts.items())
    random.Random(2).shuffle(items)
    shuffled = dict(items)
    assert audit_texts(shuffled, exact_limit=100).to_dict() == lsh_report.to_dict()
    small = dict(itertools.islice(texts.items(), 200))
    assert audit_texts(small).to_dict() == audit_texts(dict(reversed(small.items()))).to_dict()


def test_report_serialises_and_formats(lsh_report: AuditReport) -> None:
    data = json.loads(json.dumps(lsh_report.to_dict()))
    assert data["method"] == "minhash-lsh" and data["estimated"] is True
    assert set(data["flagged"][0]) == {"a", "b", "similarity"}
    text = format_report(lsh_report)
    assert "3000 town pages" in text and "estimated" in text
    assert lsh_report.flagged[0].a in text


# --- built site ------------------------------------------------------------------------------


def test_audit_site_only_audits_town_pages(tmp_path: Path) -> None:
    body = "ketamine infusion therapy for adults near {} with depression and anxiety"
    files = {
        "index.html": ("index", body.format("home")),
        "404.html": ("404", body.format("vienna")),
        "topics/faq/index.html": ("topic", body.format("vienna")),
        "ketamine-infusion/va/index.html": ("state", body.format("vienna")),
        "ketamine-infusion/va/fairfax-county/index.html": ("county", body.format("vienna")),
        "ketamine-infusion/va/vienna/index.html": ("town", body.format("vienna")),
        "ketamine-infusion/va/mclean/index.html": ("town", body.format("mclean")),
        "ketamine-infusion/va/oakton.html": ("town", body.format("vienna")),
    }
    for name, (kind, text) in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(_page(f"<p>{text}</p>", kind))
    (tmp_path / "notes.txt").write_text("not html")
    decoy = """<script>s = '<body data-kind="town">';</script><!-- <body data-kind="town"> -->"""
    (tmp_path / "decoy.html").write_bytes(
        _page("<p>x</p>", "county").replace(b"</head>", decoy.encode() + b"</head>")
    )
    (tmp_path / "empty.html").write_bytes(b"")
    assert town_pages(tmp_path) == {
        "/ketamine-infusion/va/mclean/": tmp_path / "ketamine-infusion/va/mclean/index.html",
        "/ketamine-infusion/va/oakton.html": tmp_path / "ketamine-infusion/va/oakton.html",
        "/ketamine-infusion/va/vienna/": tmp_path / "ketamine-infusion/va/vienna/index.html",
    }
    report = audit_site(tmp_path)
    assert (report.pages, report.pairs) == (3, 3)
    assert report.flagged == [
        PagePair("/ketamine-infusion/va/oakton.html", "/ketamine-infusion/va/vienna/", 1.0)
    ]


# --- fingerprints and the cross-page audit --------------------------------------------------


def test_audit_texts_equals_the_audit_of_fingerprints_made_page_by_page(
    corpus, exact_report, lsh_report
) -> None:
    texts, _ = corpus
    items = list(texts.items())
    random.Random(3).shuffle(items)  # made in any order, the memo of word hashes reset midway
    signed, plain = {}, {}
    for number, (key, text) in enumerate(items):
        if number == len(items) // 2:
            audit._WORD_HASHER.cache.clear()
        signed[key] = fingerprint(text, with_signature=True)
        plain[key] = fingerprint(text, with_signature=False)
    assert audit_fingerprints(signed).to_dict() == lsh_report.to_dict()
    assert audit_fingerprints(plain).to_dict() == exact_report.to_dict()
    assert audit_fingerprints(plain, threshold=0.3, top=3) == audit_texts(
        texts, threshold=0.3, top=3, exact_limit=3000
    )


def test_fingerprint_is_small_picklable_and_matches_the_reference_shingles() -> None:
    text = "One, two; three four five six SEVEN! one two three four five"
    item = fingerprint(text, with_signature=True)
    assert pickle.loads(pickle.dumps(item)) == item
    assert len(item.shingles) == 8 * 7 and len(item.signature) == 4 * NUM_PERM
    hashes = item.shingle_hashes()
    assert hashes.dtype == np.uint64 and list(hashes) == sorted(set(hashes))
    assert len(hashes) == len(_shingles(text))
    assert fingerprint(text.upper(), with_signature=False) == PageFingerprint(item.shingles, None)
    assert fingerprint("", with_signature=False).shingle_hashes().tolist() == [0]


def test_signature_is_datasketchs_minhash() -> None:
    texts, _ = _synthetic(30, seed=4)
    prints = [fingerprint(text, with_signature=True) for text in texts.values()]
    reference = MinHash.bulk(
        [(item.shingle_hashes() >> np.uint64(32)).tolist() for item in prints],
        num_perm=NUM_PERM,
        seed=audit.MINHASH_SEED,
        hashfunc=lambda value: value,
        scheme=audit.MINHASH_SCHEME,
    )
    for item, minhash in zip(prints, reference, strict=True):
        assert np.array_equal(item.signature_values(), minhash.hashvalues)


@settings(max_examples=200, deadline=None)
@given(st.text() | st.text(alphabet=st.characters(max_codepoint=127)))
def test_words_are_the_lowercased_regex_words(text: str) -> None:
    expected = [word.encode() for word in re.findall(r"\w+", text.lower())]
    assert audit._words(text) == expected


def test_word_memo_is_bounded_and_never_changes_a_hash() -> None:
    words = [f"word{k}".encode() for k in range(50)]
    small = audit._WordHasher(limit=7)
    hashes = [small.hashes(words[k : k + 5]) for k in range(0, 50, 5)]
    assert len(small.cache) <= 7
    assert np.array_equal(np.concatenate(hashes), audit._WordHasher().hashes(words))


def test_uses_signatures_above_the_exact_limit() -> None:
    assert not uses_signatures(2000) and uses_signatures(2001)
    assert uses_signatures(11, exact_limit=10) and not uses_signatures(10, exact_limit=10)


def test_fingerprints_must_agree_on_signatures() -> None:
    prints = {"/a/": fingerprint("a b c", True), "/b/": fingerprint("a b c", False)}
    with pytest.raises(ValueError, match="signature"):
        audit_fingerprints(prints)
    one = audit_fingerprints({"/a/": prints["/a/"]})
    assert (one.pages, one.pairs, one.method) == (1, 0, "minhash-lsh")
    assert audit_fingerprints({}).method == "exact"


def _datasketch_candidates(signatures: np.ndarray, threshold: float) -> set[tuple[int, int]]:
    """Reference: every page in a datasketch MinHashLSH, each queried for its bucket mates."""
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    sketches = [
        MinHash(num_perm=NUM_PERM, hashvalues=row, scheme=audit.MINHASH_SCHEME)
        for row in signatures
    ]
    for key, sketch in enumerate(sketches):
        lsh.insert(key, sketch)
    return {
        (min(key, other), max(key, other))
        for key, sketch in enumerate(sketches)
        for other in lsh.query(sketch)
        if other != key
    }


@pytest.fixture(scope="module")
def signatures() -> np.ndarray:
    """Signatures of 400 town-like pages with near-copies, and of some exact copies."""
    texts, _ = _synthetic(400, seed=8)
    rows = [fingerprint(text, True).signature_values() for text in texts.values()]
    rows += [rows[k] for k in range(0, 400, 37)] + [rows[5]] * 12
    return np.array(rows)


@pytest.mark.parametrize(("threshold", "chunk"), [(0.4, None), (0.2, None), (0.7, None), (0.4, 9)])
def test_lsh_candidates_are_datasketchs(signatures, threshold, chunk, monkeypatch) -> None:
    expected = _datasketch_candidates(signatures, threshold)
    if chunk:  # pairs of groups listed and merged in many small pieces
        monkeypatch.setattr(audit, "CHUNK_VALUES", chunk)
    found = audit._lsh_candidates(signatures, threshold)
    assert len(expected) > 40
    assert set(zip(found.i.tolist(), found.j.tolist(), strict=True)) == expected
    codes = found.i * len(signatures) + found.j
    assert np.array_equal(codes, np.unique(codes)) and (found.i < found.j).all()  # sorted
    assert found.agreement.tolist() == [
        int(np.sum(signatures[i] == signatures[j])) for i, j in zip(found.i, found.j, strict=True)
    ]


def test_lsh_candidates_stay_exact_when_band_hashes_collide(signatures, monkeypatch) -> None:
    expected = _datasketch_candidates(signatures, 0.4)
    monkeypatch.setattr(audit, "_fmix64", lambda values: values & np.uint64(3))
    found = audit._lsh_candidates(signatures, 0.4)
    assert set(zip(found.i.tolist(), found.j.tolist(), strict=True)) == expected


def test_sort_order_is_a_stable_argsort_even_when_top_bits_collide() -> None:
    rng = np.random.default_rng(5)
    for values in (
        rng.integers(0, 2**63, 5000, dtype=np.int64).view(np.uint64) * np.uint64(2),
        rng.integers(0, 40, 5000).astype(np.uint64),  # all share their top bits
        np.concatenate([rng.integers(0, 2**20, 3000), rng.integers(2**60, 2**60 + 9, 3000)]),
    ):
        values = values.astype(np.uint64)
        order, fresh = audit._sort_order(values)
        expected = np.argsort(values, kind="stable")
        assert np.array_equal(order, expected)
        ordered = values[expected]
        assert np.array_equal(fresh, np.r_[True, ordered[1:] != ordered[:-1]])


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 1000])
def test_intersections_of_chosen_pairs_are_exact(limit, monkeypatch) -> None:
    texts, _ = _synthetic(300, seed=9)
    prints = [fingerprint(texts[key], False) for key in sorted(texts)]
    prints += prints[:20]  # repeated pages: long posting lists
    sizes = np.array([len(item.shingle_hashes()) for item in prints])
    postings = audit._postings(prints, sizes)
    sets = [set(item.shingle_hashes().tolist()) for item in prints]
    rng = np.random.default_rng(limit)
    i, j = rng.integers(0, len(prints), 3000), rng.integers(0, len(prints), 3000)
    i, j = np.minimum(i, j)[i != j], np.maximum(i, j)[i != j]
    monkeypatch.setattr(audit, "_listing_limit", lambda lengths, pairs: limit)
    monkeypatch.setattr(audit, "BLOCK_COLUMNS", 70)  # several bitset blocks, partial words
    monkeypatch.setattr(audit, "CHUNK_VALUES", 500)  # listed pairs in pieces, long lists too
    monkeypatch.setattr(audit, "PAIR_CHUNK", 256)
    (scored,) = audit._score_pairs(postings, (i, j))
    order = np.lexsort((j, i))
    assert np.array_equal(scored.i, i[order]) and np.array_equal(scored.j, j[order])
    expected = [len(sets[a] & sets[b]) for a, b in zip(i[order], j[order], strict=True)]
    assert scored.inter.tolist() == expected


def test_posting_lists_are_the_same_made_in_parts(monkeypatch) -> None:
    texts, _ = _synthetic(300, seed=10)
    prints = [fingerprint(texts[key], False) for key in sorted(texts)]
    prints += prints[:10]
    sizes = np.array([len(item.shingle_hashes()) for item in prints])
    pages: dict[int, list[int]] = {}
    for page, item in enumerate(prints):
        for value in item.shingle_hashes().tolist():
            pages.setdefault(value, []).append(page)
    shared = [pages[value] for value in sorted(pages) if len(pages[value]) > 1]
    for part in (10**9, 997, 50):
        monkeypatch.setattr(audit, "PART_VALUES", part)
        postings = audit._postings(prints, sizes)
        assert postings.lengths.tolist() == [len(found) for found in shared]
        assert postings.pages.tolist() == [page for found in shared for page in found]


def test_pairs_of_a_long_list_come_in_pieces(monkeypatch) -> None:
    monkeypatch.setattr(audit, "CHUNK_VALUES", 7)
    members = np.array([2, 3, 5, 8, 13, 21, 34])
    pieces = list(audit._pairs_of_long_list(members, 100))
    assert all(len(piece) <= 7 for piece in pieces) and len(pieces) > 2
    codes = np.concatenate(pieces).tolist()
    assert codes == [a * 100 + b for a, b in itertools.combinations(members.tolist(), 2)]
