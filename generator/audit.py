"""Uniqueness audit of town landing pages: how alike their main content is.

Owns: extracting a built page's ``<main>`` text; a page's fingerprint (the hashes of its word
5-shingles and, for large sites, their MinHash signature), cheap enough to be made where the
page is rendered; and the cross-page part over the fingerprints: the Jaccard similarity of
every pair of town pages (exactly for small sites; for large ones MinHash LSH bands propose
candidate pairs that are then measured exactly) and the report of that distribution:
maximum, 95th percentile, histogram, the closest pairs and the pairs over the near-duplicate
threshold.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import multiprocessing
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import lxml.etree
import numpy as np
from datasketch import MinHash, MinHashLSH

from .check import PageUnreadable, collapse_normalized, parse_page

TOWN_KIND = "town"
SHINGLE_WORDS = 5
HISTOGRAM_BINS = 10
# Up to this many pages every pair is measured exactly; above it MinHash LSH proposes pairs.
EXACT_LIMIT = 2000
# MinHash LSH (large sites). MinHashLSH(threshold=0.4, num_perm=256) uses 51 bands of 5 rows:
# a pair at similarity 0.6 becomes a candidate with probability 0.984, at 0.65 0.998, at 0.7
# 0.9999, while pairs near 0.2 (typical of templated pages) rarely do.
NUM_PERM = 256
MINHASH_SEED = 1
MINHASH_SCHEME = "affine32"
LSH_THRESHOLD = 0.4
# LSH candidates are measured exactly if their MinHash estimate is within this margin (about
# five standard deviations of a 256-value estimate) of the LSH threshold or of the top pairs.
ESTIMATE_MARGIN = 0.15
SAMPLE_PAIRS = 200_000
SAMPLE_SEED = 20_240_501
PARALLEL_MIN_PAGES = 2_000
# Posting lists longer than this share of the pages are counted by matrix product.
DENSE_POSTING_SHARE = 10
# Words whose hashes a process remembers (about 120 bytes each) before it starts anew.
WORD_MEMO_LIMIT = 200_000
# Large arrays are made in pieces of about CHUNK_VALUES values, posting lists for about
# PART_VALUES shingle hashes at a time, pairs in chunks of PAIR_CHUNK and bitsets
# BLOCK_COLUMNS shingles wide, so that memory stays bounded on any input.
CHUNK_VALUES = 1 << 20
PART_VALUES = 1 << 22
PAIR_CHUNK = 2048
BLOCK_COLUMNS = 2048
# Estimated costs (ns) that choose how the shared shingles of given pairs are counted: per
# page pair listed from a posting list, per 32-bit bitset word and pair, per bit set.
PAIR_LISTED_NS = 20.0
PAIR_WORD_NS = 1.5
BIT_SET_NS = 10.0

_WORD = re.compile(r"\w+")
# For ASCII text: upper case to lower case, and every byte that is no word character to a space.
_ASCII_WORDS = bytes(
    c + 32 if 65 <= c <= 90 else c if 48 <= c <= 57 or 97 <= c <= 122 or c == 95 else 32
    for c in range(256)
)
_BODY_TAG = re.compile(rb"<body(?=[\s/>])", re.IGNORECASE)
_SKIPPED_TAGS = ("script", "style", "template")
_BLOCK_TAGS = (
    "address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "nav", "ol", "p", "pre", "section", "summary", "table", "td", "th", "tr", "ul",
)  # fmt: skip
_VOID_TAGS = ("br", "hr")
_POLY = np.uint64(0x9E3779B97F4A7C15)
_FMIX = (np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53))
# datasketch's MurmurHash3 32-bit finaliser ("affine32" pre-mixes every hash value with it).
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))
_HASHES = np.dtype("<u8")
_SIGNATURE = np.dtype("<u4")


@dataclass(frozen=True)
class PagePair:
    """Two pages (site URL paths, ``a`` < ``b``) and the Jaccard similarity of their main text."""

    a: str
    b: str
    similarity: float


@dataclass(frozen=True)
class AuditReport:
    """Similarity distribution over all pairs of audited pages.

    ``method`` is ``"exact"`` (every pair measured) or ``"minhash-lsh"``. In the latter,
    ``estimated`` is true: ``p95`` and ``histogram`` combine the exactly measured LSH candidates
    with a seeded random sample of the other pairs, scaled to ``pairs``; ``maximum``, ``closest``
    and ``flagged`` are exact similarities of the pairs found, and a pair LSH did not propose is
    missed only with small probability (1.6 % at similarity 0.6, under 0.01 % from 0.7 up).
    ``histogram[k]`` counts pairs with similarity in ``[k/10, (k+1)/10)``, 1.0 in the last bin.
    ``flagged`` holds every pair found with similarity above ``threshold``, most similar first.
    """

    pages: int
    pairs: int
    method: str
    estimated: bool
    maximum: float
    p95: float
    histogram: list[int]
    closest: list[PagePair]
    flagged: list[PagePair]
    threshold: float

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (pairs as ``{"a", "b", "similarity"}`` dicts)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class PageFingerprint:
    """What the audit needs of one page's main text: the sorted distinct 64-bit hashes of its
    word 5-shingles and, for a large site, its MinHash signature (``NUM_PERM`` 32-bit values),
    both as little-endian bytes (compact, picklable, comparable)."""

    shingles: bytes
    signature: bytes | None

    def shingle_hashes(self) -> np.ndarray:
        """The shingle hashes as a read-only ``uint64`` array."""
        return np.frombuffer(self.shingles, dtype=_HASHES)

    def signature_values(self) -> np.ndarray | None:
        """The MinHash values as a read-only ``uint32`` array (None without a signature)."""
        return None if self.signature is None else np.frombuffer(self.signature, _SIGNATURE)


# --- page text -------------------------------------------------------------------------------


def main_text(html: bytes) -> str:
    """Visible text inside the page's first ``<main>``, whitespace-normalised and lowercased.

    The bytes are read as UTF-8 (what the generator writes). Script, style and template
    content is dropped; block elements separate words even in minified HTML. A page without
    ``<main>`` has no main text (``""``).
    """
    root = _parse(html)
    return "" if root is None else main_text_of(root)


def main_text_of(root: lxml.etree._Element) -> str:
    """`main_text` of an already parsed page. The tree may be changed: read it for nothing else."""
    found = _FIRST_MAIN(root)
    if not found:
        return ""
    try:
        text = str(_MAIN_TEXT(found[0]))
    except lxml.etree.XSLTApplyError:  # nested deeper than libxslt's template depth (3,000)
        return _marked_main_text(found[0])
    return collapse_normalized(text).lower()


def _marked_main_text(main: lxml.etree._Element) -> str:
    """What `_MAIN_TEXT` gives, made by editing the tree: skipped elements removed, a space
    put before and after every block element."""
    lxml.etree.strip_elements(main, *_SKIPPED_TAGS, with_tail=False)
    for element in main.iter(*_BLOCK_TAGS):
        element.tail = " " + (element.tail or "")
        if element.tag not in _VOID_TAGS:
            element.text = " " + (element.text or "")
    text = lxml.etree.tostring(main, method="text", encoding=str, with_tail=False)
    return " ".join(text.split()).lower()


def _main_text_stylesheet() -> lxml.etree.XSLT:
    """The text of a ``<main>`` element in one pass in C: skipped elements left out, a space
    before and after every block element (after only for void ones), blanks collapsed."""
    boxes = "|".join(tag for tag in _BLOCK_TAGS if tag not in _VOID_TAGS)
    space = "<xsl:text> </xsl:text>"
    return lxml.etree.XSLT(
        lxml.etree.XML(
            '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
            '<xsl:output method="text" encoding="utf-8"/>'
            '<xsl:template match="/"><xsl:variable name="text"><xsl:apply-templates/>'
            '</xsl:variable><xsl:value-of select="normalize-space($text)"/></xsl:template>'
            f'<xsl:template match="{"|".join(_SKIPPED_TAGS)}"/>'
            f'<xsl:template match="{boxes}">{space}<xsl:apply-templates/>{space}</xsl:template>'
            f'<xsl:template match="{"|".join(_VOID_TAGS)}"><xsl:apply-templates/>{space}'
            "</xsl:template></xsl:stylesheet>"
        )
    )


_FIRST_MAIN = lxml.etree.XPath("descendant::main[1]")
_MAIN_TEXT = _main_text_stylesheet()


def town_pages(site_dir: Path) -> dict[str, Path]:
    """Built pages whose ``<body data-kind="town">``, keyed by URL path, in URL order."""
    pages = sorted(site_dir.rglob("*.html"))
    kinds = [kind for chunk in _map_chunks(_kinds_of, pages) for kind in chunk]
    towns = {_url_path(site_dir, page): page for page, kind in zip(pages, kinds, strict=True)
             if kind == TOWN_KIND}  # fmt: skip
    return dict(sorted(towns.items()))


def _url_path(site_dir: Path, page: Path) -> str:
    """URL path of a built file: ``a/b/index.html`` -> ``/a/b/``, ``x.html`` -> ``/x.html``."""
    relative = page.relative_to(site_dir).as_posix()
    if relative == "index.html" or relative.endswith("/index.html"):
        return "/" + relative.removesuffix("index.html")
    return "/" + relative


def _kinds_of(pages: Sequence[Path]) -> list[str | None]:
    return [_page_kind(page) for page in pages]


def _page_kind(path: Path) -> str | None:
    """The ``data-kind`` of the page's ``<body>``.

    Only the document up to the first ``<body ...>`` tag is parsed (the head is a small part
    of a page); if that yields no body carrying ``data-kind``, the whole page is parsed.
    """
    data = path.read_bytes()
    start = _BODY_TAG.search(data)
    end = data.find(b">", start.end()) if start else -1
    if end != -1:
        kind = _body_kind(data[: end + 1])
        if kind is not None:
            return kind
    return _body_kind(data)


def _body_kind(html: bytes) -> str | None:
    root = _parse(html)
    body = None if root is None else root.find("body")
    return None if body is None else body.get("data-kind")


def _parse(html: bytes) -> lxml.etree._Element | None:
    """The document's root element, read as the page checks read it (None when they cannot:
    not UTF-8, or nothing but whitespace or comments)."""
    try:
        return parse_page(html)
    except PageUnreadable:
        return None


# --- fingerprints (one page) -----------------------------------------------------------------


@dataclass
class _WordHasher:
    """64-bit word hashes (blake2b: stable across processes and runs), memoised.

    The memo only saves work (a word's hash never depends on what was hashed before); it
    starts anew when it would hold more than ``limit`` words."""

    limit: int = WORD_MEMO_LIMIT
    cache: dict[bytes, int] = field(default_factory=dict)

    def hashes(self, words: list[bytes]) -> np.ndarray:
        cache = self.cache
        try:
            return np.fromiter(map(cache.__getitem__, words), dtype=np.uint64, count=len(words))
        except KeyError:
            pass
        missing = set(words).difference(cache)
        if len(cache) + len(missing) > self.limit:
            cache.clear()
            missing = set(words)
        for word in missing:
            cache[word] = int.from_bytes(hashlib.blake2b(word, digest_size=8).digest(), "little")
        return np.fromiter(map(cache.__getitem__, words), dtype=np.uint64, count=len(words))


_WORD_HASHER = _WordHasher()  # one per process; forked workers start from a copy


def _words(text: str) -> list[bytes]:
    """The text's lowercased ``\\w+`` words, UTF-8 encoded (ASCII text through a byte table)."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_WORDS).split()
    return [word.encode("utf-8") for word in _WORD.findall(text.lower())]


def _shingles(text: str, hasher: _WordHasher) -> np.ndarray:
    """Sorted unique 64-bit hashes of the text's word 5-shingles (lowercased ``\\w+`` words).

    Fewer than five words make one shingle of all of them (no words: the empty shingle).
    """
    words = hasher.hashes(_words(text))
    width = min(SHINGLE_WORDS, len(words))
    count = len(words) - width + 1
    hashes = np.full(count, np.uint64(width), dtype=np.uint64)
    for offset in range(width):
        hashes *= _POLY
        hashes += words[offset : offset + count]
    hashes = _fmix64(hashes)
    hashes.sort()
    fresh = np.empty(count, dtype=bool)
    fresh[0] = True
    np.not_equal(hashes[1:], hashes[:-1], out=fresh[1:])
    return hashes[fresh]


def _fmix64(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser, in place: spreads a polynomial combination over all
    bits. Returns ``values``."""
    shift, first, second = _FMIX
    values ^= values >> shift
    values *= first
    values ^= values >> shift
    values *= second
    values ^= values >> shift
    return values


@functools.cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` of the affine permutations datasketch draws for ``NUM_PERM``, the seed
    and the scheme."""
    a, b = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, scheme=MINHASH_SCHEME).permutations
    return a.astype(np.uint32), b.astype(np.uint32)


def _signature(hashes: np.ndarray) -> np.ndarray:
    """MinHash values of a shingle set: what datasketch's ``MinHash(num_perm=NUM_PERM,
    seed=MINHASH_SEED, scheme="affine32", hashfunc=identity)`` holds after ``update_batch`` of
    the top 32 bits of the hashes (already uniform), in one numpy step: datasketch's fmix32
    pre-mix, then the least ``a * h + b`` (32-bit arithmetic) for each permutation."""
    shift, first, middle_shift, second = _FMIX32
    values = (hashes >> np.uint64(32)).astype(np.uint32)
    values ^= values >> shift
    values *= first
    values ^= values >> middle_shift
    values *= second
    values ^= values >> shift
    a, b = _permutations()
    return (values[:, None] * a + b).min(axis=0)


def fingerprint(text: str, with_signature: bool) -> PageFingerprint:
    """The fingerprint of one page's main text (as `main_text_of` gives it), with its MinHash
    signature if ``with_signature`` (`uses_signatures` says when the audit needs one). Cheap
    enough to make for every town page in the process that renders it."""
    hashes = _shingles(text, _WORD_HASHER)
    signature = _signature(hashes).astype(_SIGNATURE).tobytes() if with_signature else None
    return PageFingerprint(hashes.astype(_HASHES).tobytes(), signature)


def uses_signatures(page_count: int, exact_limit: int = EXACT_LIMIT) -> bool:
    """Whether the fingerprints of ``page_count`` town pages need a MinHash signature: above
    ``exact_limit`` pages the audit proposes pairs by MinHash LSH instead of measuring all."""
    return page_count > exact_limit


def _text_fingerprints(texts: Sequence[str], with_signature: bool) -> list[PageFingerprint]:
    return [fingerprint(text, with_signature) for text in texts]


def _file_fingerprints(paths: Sequence[Path], with_signature: bool) -> list[PageFingerprint]:
    return [fingerprint(main_text(path.read_bytes()), with_signature) for path in paths]


# --- process pool ----------------------------------------------------------------------------


def _map_chunks(function: Callable, items: Sequence, *extra: object) -> list:
    """``function(chunk, *extra)`` over consecutive chunks of ``items``, results in input order.

    Large inputs go to a process pool; the result does not depend on the number of workers.
    """
    workers = 1 if len(items) < PARALLEL_MIN_PAGES else len(os.sched_getaffinity(0))
    size = max(1, -(-len(items) // (workers * 8)))
    chunks = [items[start : start + size] for start in range(0, len(items), size)]
    if workers == 1:
        return [function(chunk, *extra) for chunk in chunks]
    repeated = [[arg] * len(chunks) for arg in extra]
    with _pool(workers) as pool:
        return list(pool.map(function, chunks, *repeated))


def _pool(workers: int) -> ProcessPoolExecutor:
    """A process pool that forks where the platform can: workers need no re-import, and the
    entry script (``python -m generator``) is never run again in them."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


# --- shared shingles -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Postings:
    """For every shingle found on two pages or more (in hash order), the pages that have it:
    shingle ``k``'s pages, ascending, are the next ``lengths[k]`` entries of ``pages``.
    ``sizes[p]`` is the number of shingles of page ``p``."""

    pages: np.ndarray
    lengths: np.ndarray
    sizes: np.ndarray

    def entry_lengths(self) -> np.ndarray:
        """The length of the posting list each entry of ``pages`` belongs to."""
        return np.repeat(self.lengths, self.lengths)


def _postings(prints: Sequence[PageFingerprint], sizes: np.ndarray) -> _Postings:
    """Posting lists of the shingles that two pages or more share, made for one range of hash
    values at a time (about ``PART_VALUES`` hashes each), so that memory stays bounded."""
    bits = max(0, (-(-int(sizes.sum()) // PART_VALUES) - 1).bit_length())
    if bits == 0:
        hashes = np.frombuffer(b"".join(item.shingles for item in prints), _HASHES)
        return _Postings(*_posting_lists(hashes, sizes), sizes)
    edges = _part_edges(prints, sizes, bits).tolist()
    pages, lengths = [], []
    for part in range(1 << bits):
        data = b"".join(
            item.shingles[8 * edge[part] : 8 * edge[part + 1]]
            for item, edge in zip(prints, edges, strict=True)
        )
        counts = np.array([edge[part + 1] - edge[part] for edge in edges], dtype=np.int64)
        found = _posting_lists(np.frombuffer(data, _HASHES), counts)
        del data
        pages.append(found[0])
        lengths.append(found[1])
    return _Postings(np.concatenate(pages), np.concatenate(lengths), sizes)


def _part_edges(prints: Sequence[PageFingerprint], sizes: np.ndarray, bits: int) -> np.ndarray:
    """Where each page's hashes (sorted) pass from one range of top ``bits`` bits to the
    next: row ``p`` holds ``2 ** bits + 1`` offsets, from 0 to ``sizes[p]``."""
    parts = 1 << bits
    edges = np.empty((len(prints), parts + 1), dtype=np.int64)
    step = max(1, CHUNK_VALUES // max(1, int(sizes.max())))
    for first in range(0, len(prints), step):
        chunk = sizes[first : first + step]
        hashes = np.frombuffer(b"".join(p.shingles for p in prints[first : first + step]), _HASHES)
        keys = (hashes >> np.uint64(64 - bits)).astype(np.int64)
        keys += np.repeat(np.arange(len(chunk)) * parts, chunk)  # sorted: page, then range
        found = np.searchsorted(keys, np.arange(len(chunk) * parts)).reshape(-1, parts)
        edges[first : first + step, :parts] = found - (np.cumsum(chunk) - chunk)[:, None]
        edges[first : first + step, parts] = chunk
    return edges


def _posting_lists(hashes: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pages (concatenated) and lengths of the posting lists of the shingles that two
    pages or more share; page ``p`` has the next ``sizes[p]`` of the (sorted) ``hashes``."""
    if len(hashes) == 0:
        return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int64)
    order, fresh = _sort_order(hashes)
    shared = ~fresh  # an entry is shared if it starts no new value or the next one does not
    shared[:-1] |= ~fresh[1:]
    lengths = np.diff(np.flatnonzero(fresh[shared]), append=np.count_nonzero(shared))
    del fresh
    page_of = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    pages = [np.empty(0, dtype=np.int32)]
    for start in range(0, len(order), CHUNK_VALUES):
        stop = start + CHUNK_VALUES
        pages.append(page_of[order[start:stop][shared[start:stop]]])
    return np.concatenate(pages), lengths


def _sort_order(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A stable sort order of 64-bit values, and where in that order a new value starts.

    numpy sorts integers several times faster than it argsorts them, so the order comes from
    sorting each value's top bits with its index packed below them. Values that share their
    top bits but differ (a few among millions) are then put in order by a sort of their own.
    """
    count = len(values)
    index_bits = max(1, (count - 1).bit_length())
    if index_bits > 40:
        order = np.argsort(values, kind="stable")
        ordered = values[order]
        return order, np.concatenate(([True], ordered[1:] != ordered[:-1]))
    keys = (values >> np.uint64(index_bits + 1)).view(np.int64)
    keys <<= index_bits
    for start in range(0, count, CHUNK_VALUES):
        keys[start : start + CHUNK_VALUES] |= np.arange(start, min(count, start + CHUNK_VALUES))
    keys.sort()
    fresh = np.ones(count, dtype=bool)  # a new value starts here
    new_top = np.ones(count, dtype=bool)  # new top bits start here
    for start in range(1, count, CHUNK_VALUES):
        stop = min(count, start + CHUNK_VALUES)
        changed = (keys[start:stop] ^ keys[start - 1 : stop - 1]) >> index_bits
        np.not_equal(changed, 0, out=new_top[start:stop])
    order = keys
    order &= (1 << index_bits) - 1
    for start in range(1, count, CHUNK_VALUES):
        stop = min(count, start + CHUNK_VALUES)
        ordered = values[order[start - 1 : stop]]
        np.not_equal(ordered[1:], ordered[:-1], out=fresh[start:stop])
    if (fresh & ~new_top).any():
        _untangle(values, order, fresh, new_top)
    return order, fresh


def _untangle(values: np.ndarray, order: np.ndarray, fresh: np.ndarray, new_top: np.ndarray):
    """Sort each run of equal top bits that holds several values by value, then index."""
    starts = np.flatnonzero(new_top)
    runs = np.unique(np.searchsorted(starts, np.flatnonzero(fresh & ~new_top), "right") - 1)
    first = starts[runs]
    following = np.minimum(runs + 1, len(starts) - 1)
    sizes = np.where(runs + 1 < len(starts), starts[following], len(order)) - first
    del starts
    where = _ranges(first, sizes)
    run = np.repeat(np.arange(len(sizes)), sizes)
    order[where] = order[where][np.lexsort((order[where], values[order[where]], run))]
    ordered = values[order[where]]
    fresh[where] = new_top[where]
    fresh[where[1:]] |= (ordered[1:] != ordered[:-1]) & (run[1:] == run[:-1])


def _ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The integers ``starts[k] .. starts[k] + sizes[k] - 1`` for every ``k``, concatenated."""
    return np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())


# --- exact intersections ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Scored:
    """Exactly measured pairs of page indices ``i < j``."""

    i: np.ndarray
    j: np.ndarray
    inter: np.ndarray
    union: np.ndarray
    similarity: np.ndarray

    def subset(self, chosen: np.ndarray) -> _Scored:
        return _Scored(*(part[chosen] for part in self.parts()))

    def parts(self) -> tuple[np.ndarray, ...]:
        return self.i, self.j, self.inter, self.union, self.similarity


def _scored(sizes: np.ndarray, i: np.ndarray, j: np.ndarray, inter: np.ndarray) -> _Scored:
    inter = inter.astype(np.int64)
    union = sizes[i] + sizes[j] - inter
    return _Scored(i, j, inter, union, inter / union)


def _score_all_pairs(postings: _Postings) -> _Scored:
    """Every pair ``i < j``, in row-major order."""
    i, j = np.triu_indices(len(postings.sizes), 1)
    return _scored(postings.sizes, i, j, _intersection_matrix(postings)[i, j])


def _intersection_matrix(postings: _Postings) -> np.ndarray:
    """Shared-shingle counts of all page pairs, from the posting list of every shared shingle.

    Short posting lists add their pairs one by one; long ones (template text shared by many
    pages) are grouped by identical page set and added as one weighted matrix product.
    """
    n = len(postings.sizes)
    frequency = postings.entry_lengths()
    shingle = np.repeat(np.arange(len(postings.lengths)), postings.lengths)
    order = np.argsort(frequency, kind="stable")
    pages = postings.pages[order].astype(np.int64)
    shingle, frequency = shingle[order], frequency[order]
    dense = frequency > max(2, n // DENSE_POSTING_SHARE)
    counts = np.zeros(n * n, dtype=np.int64)
    for codes in _listed_pairs(pages[~dense], frequency[~dense], n):
        counts += np.bincount(codes, minlength=n * n)
    return counts.reshape(n, n) + _dense_counts(pages[dense], shingle[dense], n)


def _listed_pairs(pages: np.ndarray, frequency: np.ndarray, n: int) -> Iterator[np.ndarray]:
    """Codes ``i * n + j`` of the page pairs of posting lists, in pieces of about
    ``CHUNK_VALUES`` codes. ``pages`` holds the lists (pages ascending) grouped by length,
    ``frequency`` the length of the list of each entry."""
    pending: list[np.ndarray] = []
    size = 0
    bounds = np.flatnonzero(np.diff(frequency, prepend=-1, append=-1))
    for start, stop in itertools.pairwise(bounds):
        length = int(frequency[start])
        lists = pages[start:stop].reshape(-1, length).astype(np.int64)
        if length * (length - 1) // 2 > CHUNK_VALUES:  # a long list: its pairs in pieces
            for members in lists:
                yield from _pairs_of_long_list(members, n)
            continue
        first, second = np.triu_indices(length, 1)
        step = max(1, CHUNK_VALUES // len(first))
        for row in range(0, len(lists), step):
            block = lists[row : row + step]
            pending.append((block[:, first] * n + block[:, second]).ravel())
            size += len(pending[-1])
            if size >= CHUNK_VALUES:
                yield np.concatenate(pending)
                pending, size = [], 0
    if pending:
        yield np.concatenate(pending)


def _pairs_of_long_list(members: np.ndarray, n: int) -> Iterator[np.ndarray]:
    """Codes of the pairs of one long list of pages (ascending), about ``CHUNK_VALUES`` at a
    time: the pairs of a run of first pages with every later page."""
    length = len(members)
    later = np.arange(length - 1, 0, -1)  # pairs that start at each first page
    ends = np.cumsum(later)
    low = 0
    while low < length - 1:
        high = max(low + 1, int(np.searchsorted(ends, ends[low] - later[low] + CHUNK_VALUES)))
        high = min(high, length - 1)
        counts = later[low:high]
        first = np.repeat(np.arange(low, high), counts)
        second = _ranges(np.arange(low + 1, high + 1), counts)
        yield members[first] * n + members[second]
        low = high


def _dense_counts(pages: np.ndarray, shingle: np.ndarray, n: int) -> np.ndarray:
    """Pair counts from long posting lists, identical lists merged into one weighted column."""
    if len(shingle) == 0:
        return np.zeros((n, n), dtype=np.int64)
    bounds = np.concatenate(([0], np.flatnonzero(np.diff(shingle)) + 1, [len(shingle)]))
    columns: dict[bytes, int] = {}
    for start, stop in itertools.pairwise(bounds):
        key = pages[start:stop].tobytes()
        columns[key] = columns.get(key, 0) + 1
    matrix = np.zeros((n, len(columns)), dtype=np.float32)
    for column, key in enumerate(columns):
        matrix[np.frombuffer(key, dtype=pages.dtype), column] = 1.0
    weights = np.array(list(columns.values()), dtype=np.float32)
    return np.rint((matrix * weights) @ matrix.T).astype(np.int64)


# --- intersections of chosen pairs -----------------------------------------------------------


def _score_pairs(postings: _Postings, *pair_sets: tuple[np.ndarray, np.ndarray]) -> list[_Scored]:
    """Each set of pairs ``i < j`` (repeats allowed) measured, sorted by ``(i, j)``."""
    n = len(postings.sizes)
    codes = [np.sort(i.astype(np.int64) * n + j) for i, j in pair_sets]
    unique = _distinct(np.concatenate(codes))
    inter = _intersections(postings, unique)
    return [
        _scored(postings.sizes, *np.divmod(part, n), inter[np.searchsorted(unique, part)])
        for part in codes
    ]


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (numpy's sort is faster than its hash-based unique)."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))[: len(values)]]


def _intersections(postings: _Postings, codes: np.ndarray) -> np.ndarray:
    """Shared shingles of the pairs with sorted, distinct codes ``i * n + j``.

    A shingle on few pages adds the pairs of its posting list, which are listed and looked
    up; shingles on many pages are counted by ``and`` of per-page bitsets. Where the line
    between the two lies changes only the time taken.
    """
    n = len(postings.sizes)
    counts = np.zeros(len(codes), dtype=np.int64)
    if len(codes) == 0:
        return counts
    lengths = postings.lengths
    starts = np.cumsum(lengths) - lengths
    limit = _listing_limit(lengths, len(codes))
    short = np.flatnonzero(lengths <= limit)
    short = short[np.argsort(lengths[short], kind="stable")]  # grouped by length
    pages = postings.pages[_ranges(starts[short], lengths[short])]
    lookup = _CodeLookup(codes)
    for found in _listed_pairs(pages, np.repeat(lengths[short], lengths[short]), n):
        lookup.count(found, counts)
    del pages, lookup
    long = np.flatnonzero(lengths > limit)
    _count_by_bitsets(postings, starts[long], lengths[long], codes, counts)
    return counts


class _CodeLookup:
    """Counts occurrences of sorted distinct codes in arrays of codes. A table of code hashes
    lets through only the few codes that may be among them (it has about 16 slots per code),
    which are then looked up exactly."""

    def __init__(self, codes: np.ndarray) -> None:
        self.codes = codes
        self.shift = np.uint64(64 - min(26, max(12, (16 * len(codes)).bit_length())))
        self.table = np.zeros(1 << (64 - int(self.shift)), dtype=bool)
        self.table[self._slots(codes)] = True

    def _slots(self, codes: np.ndarray) -> np.ndarray:
        return (codes.view(np.uint64) * _POLY) >> self.shift

    def count(self, found: np.ndarray, counts: np.ndarray) -> None:
        found = found[self.table[self._slots(found)]]
        where = np.minimum(np.searchsorted(self.codes, found), len(self.codes) - 1)
        hit = self.codes[where] == found
        counts += np.bincount(where[hit], minlength=len(self.codes))


def _listing_limit(lengths: np.ndarray, pairs: int) -> int:
    """The longest posting list whose page pairs are listed (with every shorter one; longer
    ones go to bitsets): the choice of least estimated time."""
    if len(lengths) == 0:
        return 1
    count = np.bincount(lengths)
    values = np.flatnonzero(count)
    count = count[values]
    entries = count * values
    listed = np.cumsum(entries * (values - 1) // 2)
    entries_left = entries.sum() - np.cumsum(entries)
    columns_left = len(lengths) - np.cumsum(count)
    cost = (
        PAIR_LISTED_NS * listed
        + PAIR_WORD_NS * pairs * np.ceil(columns_left / 32)
        + BIT_SET_NS * entries_left
    )
    best = int(np.argmin(cost))
    none = PAIR_WORD_NS * pairs * np.ceil(len(lengths) / 32) + BIT_SET_NS * entries.sum()
    return 1 if none <= cost[best] else int(values[best])


def _count_by_bitsets(
    postings: _Postings, starts: np.ndarray, lengths: np.ndarray, codes: np.ndarray, counts
) -> None:
    """Add to ``counts`` how many of the shingles with these posting lists (``starts`` and
    ``lengths`` in ``postings.pages``) both pages of each pair have: ``and`` of per-page
    bitsets, ``BLOCK_COLUMNS`` shingles at a time."""
    n = len(postings.sizes)
    i, j = np.divmod(codes, n)
    for first in range(0, len(lengths), BLOCK_COLUMNS):
        block = slice(first, first + BLOCK_COLUMNS)
        columns = len(lengths[block])
        words = -(-columns // 32)
        bits = np.zeros(n * words)
        # A page has a shingle once: adding the bit values of a word sets its bits, exactly.
        ends = np.cumsum(lengths[block])
        cuts = np.searchsorted(ends, np.arange(CHUNK_VALUES, ends[-1], CHUNK_VALUES), "right")
        for low, high in itertools.pairwise([0, *np.unique(cuts[cuts > 0]).tolist(), columns]):
            sizes = lengths[block][low:high]
            slots = postings.pages[_ranges(starts[block][low:high], sizes)].astype(np.int64)
            slots *= words
            column = np.repeat(np.arange(low, high, dtype=np.int32), sizes)
            slots += column >> 5
            bits += np.bincount(slots, weights=_BIT_VALUES[column & 31], minlength=n * words)
            del slots, column
        bits = bits.astype(np.uint32).reshape(n, words)
        for k in range(0, len(codes), PAIR_CHUNK):
            both = bits[i[k : k + PAIR_CHUNK]] & bits[j[k : k + PAIR_CHUNK]]
            counts[k : k + PAIR_CHUNK] += _popcount(both).sum(axis=1, dtype=np.int64)


_BIT_VALUES = np.ldexp(1.0, np.arange(32))
_BYTE_BITS = np.array([bin(k).count("1") for k in range(256)], dtype=np.uint8)


def _popcount(words: np.ndarray) -> np.ndarray:
    """Set bits of each 32-bit word (numpy 2's ``bitwise_count``, else per byte)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    return _BYTE_BITS[words.view(np.uint8)].reshape(*words.shape, 4).sum(axis=-1)


# --- candidate pairs for large sites ---------------------------------------------------------


@dataclass(frozen=True)
class _Candidates:
    """Pairs ``i < j`` sharing an LSH bucket, with how many MinHash values they share."""

    i: np.ndarray
    j: np.ndarray
    agreement: np.ndarray


@functools.cache
def _lsh_shape(threshold: float) -> tuple[int, int]:
    """Bands and rows per band that datasketch's ``MinHashLSH`` chooses for the threshold."""
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return lsh.b, lsh.r


def _lsh_candidates(signatures: np.ndarray, threshold: float) -> _Candidates:
    """The pairs of pages that a datasketch ``MinHashLSH(threshold, NUM_PERM)`` holding every
    page puts in one bucket: pages whose MinHash values are identical in at least one band.

    Bands are grouped by a sort each instead of datasketch's dicts of bytes keys; the number
    of bands and their width are datasketch's choice.
    """
    bands, rows = _lsh_shape(threshold)
    n = len(signatures)
    banded = signatures[:, : bands * rows].reshape(n, bands, rows)
    hashed = np.zeros((n, bands), dtype=np.uint64)  # a 64-bit hash of each page's band values
    for row in range(rows):
        hashed *= _POLY
        hashed += banded[:, :, row]
    hashed = np.ascontiguousarray(_fmix64(hashed).T)
    groups = [_band_groups(banded[:, band], hashed[band]) for band in range(bands)]
    members = np.concatenate([np.empty(0, np.int64)] + [group[0] for group in groups])
    sizes = np.concatenate([np.empty(0, np.int64)] + [group[1] for group in groups])
    members, sizes = _distinct_groups(members, sizes)
    frequency = np.repeat(sizes, sizes)
    order = np.argsort(frequency, kind="stable")
    codes = np.empty(0, dtype=np.int64)
    pending: list[np.ndarray] = []
    for found in _listed_pairs(members[order], frequency[order], n):
        pending.append(found)
        if sum(map(len, pending)) >= max(CHUNK_VALUES, len(codes)):  # merged as they double
            codes = _distinct(np.concatenate([codes, *pending]))
            pending = []
    codes = _distinct(np.concatenate([codes, *pending]))
    i, j = np.divmod(codes, n)
    return _Candidates(i, j, _agreement(signatures, i, j))


def _band_groups(band: np.ndarray, hashed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pages (ascending) of each group of two or more pages with identical values in the
    band, concatenated, and the group sizes.

    Pages are grouped by the top bits of a 64-bit hash of their band values; in the unlikely
    case that two different values share them, the band is grouped by the values themselves.
    """
    n = len(band)
    page_bits = max(1, (n - 1).bit_length())
    keys = (hashed >> np.uint64(page_bits + 1)).view(np.int64) << page_bits
    keys |= np.arange(n)
    keys.sort()
    members, sizes = _runs(keys >> page_bits, keys & ((1 << page_bits) - 1))
    leaders = members[np.repeat(np.cumsum(sizes) - sizes, sizes)]
    if not (band[members] == band[leaders]).all():
        _, value = np.unique(band, axis=0, return_inverse=True)
        order = np.argsort(value.ravel(), kind="stable")
        members, sizes = _runs(value.ravel()[order], order)
    return members, sizes


def _runs(keys: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The items of each run of two or more equal (sorted) keys, concatenated, and run sizes."""
    sizes = np.diff(np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1], [True]))))
    kept = sizes >= 2
    return items[np.repeat(kept, sizes)], sizes[kept]


def _distinct_groups(members: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Groups of more than a few pages kept once: the same pages often agree in many bands."""
    starts = np.cumsum(sizes) - sizes
    seen: set[bytes] = set()
    drop = np.zeros(len(sizes), dtype=bool)
    for group in np.flatnonzero(sizes > 8):
        key = members[starts[group] : starts[group] + sizes[group]].tobytes()
        drop[group] = key in seen
        seen.add(key)
    return members[np.repeat(~drop, sizes)], sizes[~drop]


def _agreement(signatures: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """How many of their MinHash values each pair shares (in small chunks: faster and lean)."""
    parts = [np.zeros(0, dtype=np.int64)]
    for start in range(0, len(i), PAIR_CHUNK):
        rows_i, rows_j = i[start : start + PAIR_CHUNK], j[start : start + PAIR_CHUNK]
        parts.append(np.count_nonzero(signatures[rows_i] == signatures[rows_j], axis=1))
    return np.concatenate(parts)


def _worth_measuring(candidates: _Candidates, cut: float, top: int) -> np.ndarray:
    """Candidates whose MinHash estimate is within the margin of ``cut`` or of the ``top``-th
    best estimate, whichever is lower; the rest are left to the random sample."""
    estimate = candidates.agreement / NUM_PERM
    if len(estimate) <= top:
        return np.arange(len(estimate))
    best = np.partition(estimate, len(estimate) - top)[len(estimate) - top] if top > 0 else 1.0
    return np.flatnonzero(estimate >= min(cut, best) - ESTIMATE_MARGIN)


def _sample_pairs(pages: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` uniformly random pairs of distinct pages (with replacement), fixed seed."""
    rng = np.random.default_rng(SAMPLE_SEED)
    first = rng.integers(0, pages, count)
    second = rng.integers(0, pages - 1, count)
    second += second >= first
    return np.minimum(first, second), np.maximum(first, second)


def _lsh_threshold(threshold: float) -> float:
    """LSH bucket threshold: ``LSH_THRESHOLD``, or two thirds of a quality gate below 0.6."""
    return min(LSH_THRESHOLD, threshold * 2 / 3)


# --- distribution ----------------------------------------------------------------------------


def _histogram(scored: _Scored) -> np.ndarray:
    """Pairs per bin of width 0.1, binned in integer arithmetic (no float edge effects)."""
    bins = np.minimum(HISTOGRAM_BINS * scored.inter // scored.union, HISTOGRAM_BINS - 1)
    return np.bincount(bins, minlength=HISTOGRAM_BINS)


def _scaled(counts: np.ndarray, total: int) -> np.ndarray:
    """``counts`` scaled to sum to ``total``, rounded by largest remainder (ties: lower bin)."""
    if total <= 0 or counts.sum() == 0:
        return np.zeros_like(counts)
    raw = counts * (total / counts.sum())
    result = np.floor(raw).astype(np.int64)
    order = np.lexsort((np.arange(len(raw)), -(raw - result)))
    result[order[: total - result.sum()]] += 1
    return result


def _p95(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted 95th percentile: the smallest value whose cumulative weight reaches 95 %."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    rank = np.searchsorted(cumulative, cumulative[-1] * 95 / 100, side="left")
    return float(values[order][min(rank, len(values) - 1)])


def _ranked(scored: _Scored, keys: list[str]) -> list[PagePair]:
    """Pairs most similar first, ties in page order."""
    order = np.lexsort((scored.j, scored.i, -scored.similarity))
    return [
        PagePair(keys[scored.i[k]], keys[scored.j[k]], float(scored.similarity[k])) for k in order
    ]


def _closest(scored: _Scored, keys: list[str], top: int) -> list[PagePair]:
    similarity = scored.similarity
    if top <= 0:
        return []
    if len(similarity) > top:
        cut = np.partition(similarity, len(similarity) - top)[len(similarity) - top]
        scored = scored.subset(np.flatnonzero(similarity >= cut))
    return _ranked(scored, keys)[:top]


def _flagged(scored: _Scored, keys: list[str], threshold: float) -> list[PagePair]:
    return _ranked(scored.subset(np.flatnonzero(scored.similarity > threshold)), keys)


def _union(first: _Scored, second: _Scored, pages: int) -> _Scored:
    """Pairs of either set, each once."""
    both = _Scored(*map(np.concatenate, zip(first.parts(), second.parts(), strict=True)))
    _, unique = np.unique(both.i * pages + both.j, return_index=True)
    return both.subset(unique)


# --- reports ---------------------------------------------------------------------------------


def audit_fingerprints(
    fingerprints: Mapping[str, PageFingerprint], *, threshold: float = 0.6, top: int = 10
) -> AuditReport:
    """Audit pages given as ``{url path: fingerprint}``: exactly if the fingerprints carry no
    MinHash signature, else by MinHash LSH (all or none of them must carry one). Pages are
    ordered by key, so the report depends neither on mapping order nor on where the
    fingerprints were made."""
    keys = sorted(fingerprints)
    prints = [fingerprints[key] for key in keys]
    signed = {item.signature is not None for item in prints}
    if len(signed) > 1:
        raise ValueError("some fingerprints carry a MinHash signature and some do not")
    method = "minhash-lsh" if True in signed else "exact"
    if len(keys) < 2:
        return AuditReport(
            len(keys), 0, method, False, 0.0, 0.0, [0] * HISTOGRAM_BINS, [], [], threshold
        )
    sizes = np.fromiter((len(item.shingles) // 8 for item in prints), np.int64, len(prints))
    if not sizes.all():
        raise ValueError("a fingerprint without shingles")
    postings = _postings(prints, sizes)
    if method == "exact":
        return _exact_report(keys, postings, threshold, top)
    signatures = b"".join(item.signature or b"" for item in prints)
    signatures = np.frombuffer(signatures, _SIGNATURE).reshape(len(keys), NUM_PERM)
    return _lsh_report(keys, postings, signatures, threshold, top)


def _exact_report(keys: list[str], postings: _Postings, threshold: float, top: int) -> AuditReport:
    scored = _score_all_pairs(postings)
    return AuditReport(
        pages=len(keys),
        pairs=len(scored.i),
        method="exact",
        estimated=False,
        maximum=float(scored.similarity.max()),
        p95=_p95(scored.similarity, np.ones(len(scored.i))),
        histogram=_histogram(scored).tolist(),
        closest=_closest(scored, keys, top),
        flagged=_flagged(scored, keys, threshold),
        threshold=threshold,
    )


def _lsh_report(
    keys: list[str], postings: _Postings, signatures: np.ndarray, threshold: float, top: int
) -> AuditReport:
    """Candidates measured exactly stand for themselves; a random sample of the remaining pairs
    stands for the rest, each sampled pair weighted by how many pairs it represents."""
    pages = len(keys)
    pairs = pages * (pages - 1) // 2
    lsh_threshold = _lsh_threshold(threshold)
    found = _lsh_candidates(signatures, lsh_threshold)
    chosen = _worth_measuring(found, lsh_threshold, top)
    measured, sample = _score_pairs(
        postings, (found.i[chosen], found.j[chosen]), _sample_pairs(pages, SAMPLE_PAIRS)
    )
    outside = ~np.isin(sample.i * pages + sample.j, measured.i * pages + measured.j)
    rest = sample.subset(np.flatnonzero(outside))
    rest_pairs = pairs - len(measured.i)
    rest_weight = rest_pairs / max(1, len(rest.i))
    weights = np.r_[np.ones(len(measured.i)), np.full(len(rest.i), rest_weight)]
    known = _union(measured, sample, pages)
    return AuditReport(
        pages=pages,
        pairs=pairs,
        method="minhash-lsh",
        estimated=True,
        maximum=float(known.similarity.max()),
        p95=_p95(np.r_[measured.similarity, rest.similarity], weights),
        histogram=(_histogram(measured) + _scaled(_histogram(rest), rest_pairs)).tolist(),
        closest=_closest(known, keys, top),
        flagged=_flagged(known, keys, threshold),
        threshold=threshold,
    )


def audit_texts(
    texts: Mapping[str, str],
    *,
    threshold: float = 0.6,
    exact_limit: int = EXACT_LIMIT,
    top: int = 10,
) -> AuditReport:
    """Audit pages given as ``{url path: main text}``: exact up to ``exact_limit`` pages, else
    MinHash LSH. `fingerprint` of each text, then `audit_fingerprints`."""
    keys = list(texts)
    with_signature = uses_signatures(len(keys), exact_limit)
    chunks = _map_chunks(_text_fingerprints, [texts[key] for key in keys], with_signature)
    prints = dict(zip(keys, itertools.chain.from_iterable(chunks), strict=True))
    return audit_fingerprints(prints, threshold=threshold, top=top)


def audit_site(
    site_dir: Path, *, threshold: float = 0.6, exact_limit: int = EXACT_LIMIT, top: int = 10
) -> AuditReport:
    """Audit the town pages (``<body data-kind="town">``) of a built site directory."""
    pages = town_pages(site_dir)
    with_signature = uses_signatures(len(pages), exact_limit)
    chunks = _map_chunks(_file_fingerprints, list(pages.values()), with_signature)
    prints = dict(zip(pages, itertools.chain.from_iterable(chunks), strict=True))
    return audit_fingerprints(prints, threshold=threshold, top=top)


def format_report(report: AuditReport) -> str:
    """A few human-readable lines: sizes, distribution, flagged pairs and closest pairs."""
    basis = "estimated from a sample" if report.estimated else "exact"
    lines = [
        f"uniqueness audit: {report.pages} town pages, {report.pairs} pairs ({report.method})",
        f"max similarity {report.maximum:.3f}, p95 {report.p95:.3f} ({basis})",
        "histogram 0.0-1.0 by 0.1: " + " ".join(str(count) for count in report.histogram),
        f"{len(report.flagged)} pair(s) above {report.threshold:.2f}",
    ]
    lines += [f"  {p.similarity:.3f}  {p.a}  {p.b}" for p in report.flagged[:20]]
    if len(report.flagged) > 20:
        lines.append(f"  ... and {len(report.flagged) - 20} more")
    lines.append(f"closest {len(report.closest)} pair(s):")
    lines += [f"  {p.similarity:.3f}  {p.a}  {p.b}" for p in report.closest]
    return "\n".join(lines)
