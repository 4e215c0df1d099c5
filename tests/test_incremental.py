"""Scale features: split sitemaps, incremental rebuilds, redirects for removed and renamed
towns, parallel production and progress reporting."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from lxml import etree

from generator import produce
from generator.build import BuildOptions, BuildResult, build
from generator.progress import LogProgress
from generator.report import print_summary

from .conftest import FIXED_EPOCH, copy_project
from .test_publish import contents, snapshot

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
LATER_EPOCH = "1796000000"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    return copy_project(tmp_path / "project")


def run(project: Path, **options) -> BuildResult:
    return build(BuildOptions(project=project, out=project.parent / "output", **options))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def file_stats(out: Path) -> dict[str, tuple]:
    """Each file's bytes-independent identity (inode, mtime...); folders are new every build."""
    return {k: v for k, v in snapshot(out).items() if v[0] != "dir"}


def lastmods(out: Path) -> dict[str, str]:
    tree = etree.parse(str(out / "sitemap.xml"))
    return {
        u.findtext(f"{SITEMAP_NS}loc"): u.findtext(f"{SITEMAP_NS}lastmod")
        for u in tree.iter(f"{SITEMAP_NS}url")
    }


def test_a_large_sitemap_is_split_under_a_sitemap_index(project: Path, schemas_dir) -> None:
    edit(project / "site.toml", "max_urls = 50000", "max_urls = 40")
    edit(project / "site.toml", "gzip = false", "gzip = true")
    run(project)
    out = project.parent / "output"
    index_schema = etree.XMLSchema(etree.parse(str(schemas_dir / "siteindex.xsd")))
    urlset_schema = etree.XMLSchema(etree.parse(str(schemas_dir / "sitemap.xsd")))
    index = etree.parse(str(out / "sitemap.xml"))
    assert index_schema.validate(index), index_schema.error_log
    children = [loc.text for loc in index.iter(f"{SITEMAP_NS}loc")]
    assert len(children) == 4  # 129 indexable pages, 40 a file
    locs = []
    for url in children:
        name = url.rsplit("/", 1)[1]
        assert name.endswith(".xml.gz")
        child = etree.parse(io.BytesIO(gzip.decompress((out / name).read_bytes())))
        assert urlset_schema.validate(child), urlset_schema.error_log
        locs += [loc.text for loc in child.iter(f"{SITEMAP_NS}loc")]
    assert len(locs) == len(set(locs)) == 129
    assert "Sitemap: https://www.example.com/sitemap.xml" in (out / "robots.txt").read_text()


def test_a_rebuild_with_no_change_writes_nothing(project: Path) -> None:
    run(project)
    out = project.parent / "output"
    before = snapshot(out)
    result = run(project)
    assert result.skipped and result.written == 0
    assert snapshot(out) == before


def test_a_forced_rebuild_rewrites_nothing_that_did_not_change(project: Path) -> None:
    run(project)
    out = project.parent / "output"
    before = file_stats(out)
    result = run(project, force=True)
    assert not result.skipped and result.written == 0
    assert file_stats(out) == before


def test_one_row_change_rewrites_exactly_the_pages_whose_bytes_change(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(project)
    out = project.parent / "output"
    old_tree, old_stat, old_dates = contents(out), file_stats(out), lastmods(out)
    table = project / "data" / "locations.csv"
    edit(
        table,
        "22182,Vienna,Fairfax County,VA,town\n",
        "22182,Vienna,Fairfax County,VA,town\n22183,Vienna,Fairfax County,VA,town\n",
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", LATER_EPOCH)
    result = run(project)

    new_tree, new_stat, new_dates = contents(out), file_stats(out), lastmods(out)
    changed = {p for p in new_tree if old_tree.get(p) != new_tree[p]}
    touched = {p for p in new_stat if old_stat.get(p) != new_stat[p]}
    assert "ketamine-infusion/va/vienna/index.html" in changed
    assert "sitemap.xml" in changed
    assert changed == touched
    assert result.written == len(changed)
    assert len(changed) < len(new_tree) / 4  # Vienna, its neighbours and hubs: not the site
    moved = {url for url in new_dates if new_dates[url] != old_dates.get(url)}
    assert moved == {
        "https://www.example.com/" + p.removesuffix("index.html")
        for p in changed
        if p.endswith(".html")
    }
    # The result equals a fresh build of the new inputs, byte for byte, but for the lastmods
    # a fresh build cannot know.
    fresh = build(BuildOptions(project=project, out=tmp_path / "fresh" / "output"))
    fresh_tree = contents(tmp_path / "fresh" / "output")
    assert fresh_tree.pop("sitemap.xml") != new_tree.pop("sitemap.xml")
    assert fresh_tree == new_tree
    assert fresh.written == len(new_tree) + 1  # and the sitemap


def test_removed_and_renamed_towns_get_redirects(project: Path) -> None:
    run(project)
    out = project.parent / "output"
    table = project / "data" / "locations.csv"
    for zip_code in ("22180", "22181", "22182"):
        edit(table, f"{zip_code},Vienna,Fairfax County,VA,town\n", "")
    edit(
        table,
        "22027,Dunn Loring,Fairfax County,VA,town",
        "22027,Dunn Loring Woods,Fairfax County,VA,neighborhood",
    )
    result = run(project)

    assert not (out / "ketamine-infusion/va/vienna").exists()
    assert "ketamine-infusion/va/vienna/index.html" in result.removed
    rules = (out / "_redirects").read_text().splitlines()
    assert (
        "/ketamine-infusion/va/vienna/ /ketamine-infusion/va/counties/fairfax-county/ 301" in rules
    )
    assert (
        "/ketamine-infusion/va/dunn-loring/ /ketamine-infusion/va/dunn-loring-woods/ 301" in rules
    )
    nginx = (out / "redirects.nginx.map").read_text().splitlines()
    assert "/ketamine-infusion/va/vienna/ /ketamine-infusion/va/counties/fairfax-county/;" in nginx
    assert not [u for u in lastmods(out) if "/vienna/" in u or u.endswith("/dunn-loring/")]

    # The redirects outlive the build that found them, until the URL is a page again.
    run(project, force=True)
    assert "/ketamine-infusion/va/vienna/" in (out / "_redirects").read_text()
    edit(
        table,
        "22027,Dunn Loring Woods,Fairfax County,VA,neighborhood",
        "22027,Dunn Loring Woods,Fairfax County,VA,neighborhood\n"
        "22180,Vienna,Fairfax County,VA,town",
    )
    run(project)
    rules = (out / "_redirects").read_text()
    assert "/ketamine-infusion/va/vienna/ " not in rules
    assert "/ketamine-infusion/va/dunn-loring/ " in rules
    assert (out / "ketamine-infusion/va/vienna/index.html").exists()


def test_parallel_production_gives_the_same_bytes_as_serial(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(produce, "PARALLEL_FROM_PAGES", 0)
    monkeypatch.setattr(produce, "CHUNK_PAGES", 7)
    serial = build(BuildOptions(project=project, out=tmp_path / "serial" / "output", workers=1))
    parallel = build(BuildOptions(project=project, out=tmp_path / "parallel" / "output", workers=2))
    assert contents(tmp_path / "serial" / "output") == contents(tmp_path / "parallel" / "output")
    assert serial.warnings == parallel.warnings


def test_progress_is_reported_as_plain_lines_off_a_terminal(project: Path) -> None:
    stream = io.StringIO()
    build(
        BuildOptions(project=project, out=project.parent / "output"), LogProgress(stream, every=0.0)
    )
    lines = stream.getvalue().splitlines()
    assert lines and lines[-1].startswith("producing pages: 130/130 pages (")
    assert lines[-1].endswith(" pages/s)")


def test_the_summary_counts_written_unchanged_and_removed(project: Path) -> None:
    run(project)
    edit(project / "data" / "locations.csv", "22027,Dunn Loring,Fairfax County,VA,town\n", "")
    result = run(project)
    assert result.removed == ("ketamine-infusion/va/dunn-loring/index.html",)
    assert 0 < result.written < result.unchanged
    summary = io.StringIO()
    print_summary(result, Path("output"), summary)
    assert (
        f"files: {result.written} written, {result.unchanged} unchanged, 1 removed"
        in summary.getvalue()
    )
