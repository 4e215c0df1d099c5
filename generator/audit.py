"""Uniqueness audit of town landing pages: how alike their main content is.

Owns: extracting a built page's ``<main>`` text, cutting it into word 5-shingles,
measuring the Jaccard similarity of every pair of town pages (exactly for small
sites; for large ones datasketch MinHash LSH proposes candidate pairs that are then
measured exactly) and the report of that distribution: maximum, 95th percentile,
histogram, the closest pairs and the pairs over the near-duplicate threshold.
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import os
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import lxml.etree
import lxml.html
import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

TOWN_KIND = "town"
SHINGLE_WORDS = 5
HISTOGRAM_BINS = 10
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

_WORD = re.compile(r"\w+")
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


# --- page text -------------------------------------------------------------------------------


def main_text(html: bytes) -> str:
    """Visible text inside the page's first ``<main>``, whitespace-normalised and lowercased.

    The bytes are read as UTF-8 (what the generator writes). Script, style and template
    content is dropped; block elements separate words even in minified HTML. A page without
    ``<main>`` has no main text (``""``).
    """
    root = _parse(html)
    return "" if root is None else main_text_of(root)


def main_text_of(root: lxml.html.HtmlElement) -> str:
    """`main_text` of an already parsed page. The tree is changed: read it for nothing else."""
    main = root.find(".//main")
    if main is None:
        return ""
    lxml.etree.strip_elements(main, *_SKIPPED_TAGS, with_tail=False)
    for element in main.iter(*_BLOCK_TAGS):
        element.tail = " " + (element.tail or "")
        if element.tag not in _VOID_TAGS:
            element.text = " " + (element.text or "")
    text = lxml.etree.tostring(main, method="text", encoding=str, with_tail=False)
    return " ".join(text.split()).lower()


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


def _parse(html: bytes) -> lxml.html.HtmlElement | None:
    """The document's root element (None if there is no content); bytes are read as UTF-8."""
    try:
        return lxml.html.document_fromstring(html, parser=lxml.html.HTMLParser(encoding="utf-8"))
    except lxml.etree.ParserError:  # nothing but whitespace or comments
        return None


# --- shingles and MinHash --------------------------------------------------------------------


@dataclass
class _WordHasher:
    """64-bit word hashes (blake2b: stable across processes and runs), memoised per batch."""

    cache: dict[str, int] = field(default_factory=dict)

    def hashes(self, words: list[str]) -> np.ndarray:
        cache = self.cache
        for word in set(words).difference(cache):
            digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
            cache[word] = int.from_bytes(digest, "little")
        return np.array([cache[word] for word in words], dtype=np.uint64)


def _shingles(text: str, hasher: _WordHasher) -> np.ndarray:
    """Sorted unique 64-bit hashes of the text's word 5-shingles (lowercased ``\\w+`` words).

    Fewer than five words make one shingle of all of them (no words: the empty shingle).
    """
    words = hasher.hashes(_WORD.findall(text.lower()))
    width = min(SHINGLE_WORDS, len(words))
    count = len(words) - width + 1
    combined = np.full(count, np.uint64(width), dtype=np.uint64)
    for offset in range(width):
        combined = combined * _POLY + words[offset : offset + count]
    hashes = np.sort(_fmix64(combined))
    return hashes[np.concatenate(([True], hashes[1:] != hashes[:-1]))]


def _fmix64(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: spreads the polynomial combination over all bits."""
    shift, first, second = _FMIX
    values = (values ^ (values >> shift)) * first
    values = (values ^ (values >> shift)) * second
    return values ^ (values >> shift)


def _signatures(sets: Sequence[np.ndarray]) -> np.ndarray:
    """MinHash values (one row per set) from datasketch's ``MinHash.bulk``.

    The shingle hashes are already uniform, so the top 32 bits are fed as they are.
    """
    minhashes = MinHash.bulk(
        ((s >> np.uint64(32)).tolist() for s in sets),
        num_perm=NUM_PERM,
        seed=MINHASH_SEED,
        hashfunc=_identity,
        scheme=MINHASH_SCHEME,
    )
    return np.array([m.hashvalues for m in minhashes], dtype=np.uint32).reshape(-1, NUM_PERM)


def _identity(value: int) -> int:
    return value


@dataclass(frozen=True)
class _Batch:
    """Shingle sets (and MinHash values if asked) of a run of pages, as flat arrays."""

    hashes: np.ndarray
    sizes: np.ndarray
    signatures: np.ndarray | None


def _batch_of(sets: list[np.ndarray], with_signatures: bool) -> _Batch:
    hashes = np.concatenate(sets) if sets else np.empty(0, dtype=np.uint64)
    sizes = np.array([len(s) for s in sets], dtype=np.int64)
    return _Batch(hashes, sizes, _signatures(sets) if with_signatures else None)


def _texts_batch(texts: Sequence[str], with_signatures: bool) -> _Batch:
    hasher = _WordHasher()
    return _batch_of([_shingles(text, hasher) for text in texts], with_signatures)


def _files_batch(paths: Sequence[Path], with_signatures: bool) -> _Batch:
    hasher = _WordHasher()
    sets = [_shingles(main_text(path.read_bytes()), hasher) for path in paths]
    return _batch_of(sets, with_signatures)


@dataclass(frozen=True)
class _Corpus:
    """Shingle sets of pages: page ``k`` is ``hashes[indptr[k]:indptr[k+1]]``, never empty."""

    keys: list[str]
    hashes: np.ndarray
    indptr: np.ndarray
    signatures: np.ndarray | None


def _corpus(keys: list[str], batches: Sequence[_Batch]) -> _Corpus:
    sizes = np.concatenate([b.sizes for b in batches] or [np.empty(0, np.int64)])
    hashes = np.concatenate([b.hashes for b in batches] or [np.empty(0, np.uint64)])
    indptr = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    with_signatures = bool(batches) and batches[0].signatures is not None
    signatures = np.vstack([b.signatures for b in batches]) if with_signatures else None
    return _Corpus(keys, hashes, indptr, signatures)


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


# --- exact intersections ---------------------------------------------------------------------


@dataclass(frozen=True)
class _SharedIndex:
    """Per page, the dense ids of its shingles that occur on at least one other page."""

    ids: np.ndarray
    indptr: np.ndarray
    sizes: np.ndarray
    id_count: int

    def page_of_entry(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.sizes), dtype=np.int64), np.diff(self.indptr))


def _shared_index(corpus: _Corpus) -> _SharedIndex:
    _, ids = np.unique(corpus.hashes, return_inverse=True)
    ids = ids.astype(np.int32)
    frequency = np.bincount(ids)
    shared = frequency[ids] >= 2
    sizes = np.diff(corpus.indptr)
    pages = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    counts = np.bincount(pages[shared], minlength=len(sizes))
    indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return _SharedIndex(ids[shared], indptr, sizes, len(frequency))


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


def _scored(index: _SharedIndex, i: np.ndarray, j: np.ndarray, inter: np.ndarray) -> _Scored:
    inter = inter.astype(np.int64)
    union = index.sizes[i] + index.sizes[j] - inter
    return _Scored(i, j, inter, union, inter / union)


def _score_all_pairs(index: _SharedIndex) -> _Scored:
    """Every pair ``i < j``, in row-major order."""
    i, j = np.triu_indices(len(index.sizes), 1)
    return _scored(index, i, j, _intersection_matrix(index)[i, j])


def _intersection_matrix(index: _SharedIndex) -> np.ndarray:
    """Shared-shingle counts of all page pairs, from the posting list of every shared shingle.

    Short posting lists add their pairs one by one; long ones (template text shared by many
    pages) are grouped by identical page set and added as one weighted matrix product.
    """
    n = len(index.sizes)
    pages = index.page_of_entry()
    frequency = np.bincount(index.ids, minlength=index.id_count)[index.ids]
    order = np.lexsort((pages, index.ids, frequency))
    pages, ids, frequency = pages[order], index.ids[order], frequency[order]
    dense = frequency > max(2, n // DENSE_POSTING_SHARE)
    counts = _sparse_counts(pages[~dense], frequency[~dense], n)
    counts += _dense_counts(pages[dense], ids[dense], n)
    return counts


def _sparse_counts(pages: np.ndarray, frequency: np.ndarray, n: int) -> np.ndarray:
    """Pair counts from short posting lists: runs of ``pages`` whose length is their frequency."""
    counts = np.zeros(n * n, dtype=np.int64)
    pending: list[np.ndarray] = []
    for length in np.unique(frequency):
        lists = pages[frequency == length].reshape(-1, length)
        first, second = np.triu_indices(length, 1)
        pending.append((lists[:, first] * n + lists[:, second]).ravel())
        if sum(len(codes) for codes in pending) > 10_000_000 or length == frequency[-1]:
            counts += np.bincount(np.concatenate(pending), minlength=n * n)
            pending = []
    return counts.reshape(n, n)


def _dense_counts(pages: np.ndarray, ids: np.ndarray, n: int) -> np.ndarray:
    """Pair counts from long posting lists, identical lists merged into one weighted column."""
    if len(ids) == 0:
        return np.zeros((n, n), dtype=np.int64)
    bounds = np.concatenate(([0], np.flatnonzero(np.diff(ids)) + 1, [len(ids)]))
    columns: dict[bytes, int] = {}
    for start, stop in itertools.pairwise(bounds):
        key = pages[start:stop].tobytes()
        columns[key] = columns.get(key, 0) + 1
    matrix = np.zeros((n, len(columns)), dtype=np.float32)
    for column, key in enumerate(columns):
        matrix[np.frombuffer(key, dtype=pages.dtype), column] = 1.0
    weights = np.array(list(columns.values()), dtype=np.float32)
    return np.rint((matrix * weights) @ matrix.T).astype(np.int64)


def _score_pairs(index: _SharedIndex, i: np.ndarray, j: np.ndarray) -> _Scored:
    """The given pairs ``i < j`` (repeats allowed), returned sorted by ``(i, j)``."""
    order = np.lexsort((j, i))
    i, j = i[order], j[order]
    inter = np.zeros(len(i), dtype=np.int64)
    mask = np.zeros(index.id_count, dtype=bool)
    bounds = np.flatnonzero(np.diff(i, prepend=-1, append=-1))
    for start, stop in itertools.pairwise(bounds):
        own = index.ids[index.indptr[i[start]] : index.indptr[i[start] + 1]]
        mask[own] = True
        inter[start:stop] = _marked(index, mask, j[start:stop])
        mask[own] = False
    return _scored(index, i, j, inter)


def _marked(index: _SharedIndex, mask: np.ndarray, pages: np.ndarray) -> np.ndarray:
    """How many shared shingles of each of ``pages`` are set in ``mask``."""
    lengths = index.indptr[pages + 1] - index.indptr[pages]
    ends = np.cumsum(lengths)
    gather = np.arange(ends[-1]) + np.repeat(index.indptr[pages] - (ends - lengths), lengths)
    hits = np.concatenate(([0], np.cumsum(mask[index.ids[gather]])))
    return hits[ends] - hits[ends - lengths]


# --- candidate pairs for large sites ---------------------------------------------------------


@dataclass(frozen=True)
class _Candidates:
    """Pairs ``i < j`` sharing an LSH bucket, with how many MinHash values they share."""

    i: np.ndarray
    j: np.ndarray
    agreement: np.ndarray


def _lsh_candidates(signatures: np.ndarray, threshold: float) -> _Candidates:
    """Pairs of pages sharing a bucket of a datasketch ``MinHashLSH`` index of all pages.

    The buckets are read from the index's hash tables (one per band): a self-join needs
    every bucket once, which is much cheaper than querying the index page by page.
    """
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    for key, row in enumerate(signatures):
        sketch = LeanMinHash(seed=MINHASH_SEED, hashvalues=row, scheme=MINHASH_SCHEME)
        lsh.insert(key, sketch, check_duplication=False)
    pages = len(signatures)
    codes = [np.empty(0, dtype=np.int64)]
    for table in lsh.hashtables:
        for bucket, size in table.itemcounts().items():
            if size > 1:
                members = np.sort(np.fromiter(table.get(bucket), dtype=np.int64, count=size))
                first, second = np.triu_indices(size, 1)
                codes.append(members[first] * pages + members[second])
    unique = np.unique(np.concatenate(codes))
    i, j = unique // pages, unique % pages
    return _Candidates(i, j, _agreement(signatures, i, j))


def _agreement(signatures: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """How many of their MinHash values each pair shares (in chunks, to bound memory)."""
    step = 100_000
    parts = [np.zeros(0, dtype=np.int64)]
    for start in range(0, len(i), step):
        rows_i, rows_j = i[start : start + step], j[start : start + step]
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


def _report(corpus: _Corpus, threshold: float, top: int) -> AuditReport:
    pages = len(corpus.keys)
    method = "exact" if corpus.signatures is None else "minhash-lsh"
    if pages < 2:
        return AuditReport(
            pages, 0, method, False, 0.0, 0.0, [0] * HISTOGRAM_BINS, [], [], threshold
        )
    if corpus.signatures is None:
        return _exact_report(corpus.keys, _shared_index(corpus), threshold, top)
    return _lsh_report(corpus, threshold, top)


def _exact_report(keys: list[str], index: _SharedIndex, threshold: float, top: int) -> AuditReport:
    scored = _score_all_pairs(index)
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


def _lsh_report(corpus: _Corpus, threshold: float, top: int) -> AuditReport:
    """Candidates measured exactly stand for themselves; a random sample of the remaining pairs
    stands for the rest, each sampled pair weighted by how many pairs it represents."""
    pages = len(corpus.keys)
    pairs = pages * (pages - 1) // 2
    lsh_threshold = _lsh_threshold(threshold)
    # The LSH index (many small Python objects) lives in a child process: it runs beside the
    # shingle index built here, and its memory goes back to the system when it is done.
    with _pool(1) as pool:
        future = pool.submit(_lsh_candidates, corpus.signatures, lsh_threshold)
        index = _shared_index(corpus)
        found = future.result()
    chosen = _worth_measuring(found, lsh_threshold, top)
    measured = _score_pairs(index, found.i[chosen], found.j[chosen])
    sample = _score_pairs(index, *_sample_pairs(pages, SAMPLE_PAIRS))
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
        closest=_closest(known, corpus.keys, top),
        flagged=_flagged(known, corpus.keys, threshold),
        threshold=threshold,
    )


def audit_texts(
    texts: Mapping[str, str], *, threshold: float = 0.6, exact_limit: int = 2000, top: int = 10
) -> AuditReport:
    """Audit pages given as ``{url path: main text}``: exact up to ``exact_limit`` pages, else
    MinHash LSH. Pages are ordered by key, so the report does not depend on mapping order."""
    keys = sorted(texts)
    batches = _map_chunks(_texts_batch, [texts[key] for key in keys], len(keys) > exact_limit)
    return _report(_corpus(keys, batches), threshold, top)


def audit_site(
    site_dir: Path, *, threshold: float = 0.6, exact_limit: int = 2000, top: int = 10
) -> AuditReport:
    """Audit the town pages (``<body data-kind="town">``) of a built site directory."""
    pages = town_pages(site_dir)
    paths = list(pages.values())
    batches = _map_chunks(_files_batch, paths, len(paths) > exact_limit)
    return _report(_corpus(list(pages), batches), threshold, top)


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
