"""Determinism: the same inputs give byte-identical output, whatever the output folder, the
process or its hash seed; a page's lastmod moves only when its bytes change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from .conftest import FIXED_EPOCH, ROOT
from .test_publish import SMALL_TABLE, build_site, contents, snapshot, write_table

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
LATER_EPOCH = "1800000000"  # 2027-01-15


def lastmods(out: Path) -> dict[str, str]:
    tree = etree.parse(str(out / "sitemap.xml"))
    return {
        url.findtext("s:loc", namespaces=NS): url.findtext("s:lastmod", namespaces=NS)
        for url in tree.getroot().findall("s:url", NS)
    }


def page_of(url: str) -> str:
    return url.removeprefix("https://www.example.com/") + "index.html"


def test_two_builds_in_two_folders_are_identical(default_site, tmp_path: Path, monkeypatch):
    first, _ = default_site
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    second = tmp_path / "elsewhere" / "site"
    build_site(second, ROOT / "data" / "locations.csv")
    assert contents(second) == contents(first)


@pytest.mark.parametrize("hash_seed", ["1", "2"])
def test_another_process_and_hash_seed_give_the_same_bytes(
    default_site, tmp_path: Path, hash_seed: str
) -> None:
    first, _ = default_site
    out = tmp_path / "output"
    env = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH, "PYTHONHASHSEED": hash_seed}
    subprocess.run(
        [sys.executable, "-m", "generator", "build", "--out", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    assert contents(out) == contents(first)


@pytest.fixture
def small_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    table = write_table(tmp_path / "t.csv")
    out = tmp_path / "site" / "output"
    build_site(out, table)
    return out, table


def test_a_forced_rebuild_later_changes_nothing(small_site, monkeypatch) -> None:
    out, table = small_site
    before = snapshot(out)
    dates = lastmods(out)
    assert set(dates.values()) == {"2026-11-18T11:06:40+00:00"}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", LATER_EPOCH)

    result = build_site(out, table, force=True)

    assert lastmods(out) == dates
    assert result.written == 0
    files_before = {k: v for k, v in before.items() if v[0] == "file"}
    assert {k: v for k, v in snapshot(out).items() if v[0] == "file"} == files_before
    # same bytes, same mtimes, same inodes: every file was hard-linked into the new tree


def test_an_unchanged_rebuild_is_skipped(small_site) -> None:
    out, table = small_site
    before = snapshot(out)
    assert build_site(out, table).skipped
    assert snapshot(out) == before


def test_only_pages_whose_bytes_change_get_a_new_lastmod(small_site, monkeypatch) -> None:
    out, table = small_site
    old_pages, old_dates = contents(out), lastmods(out)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", LATER_EPOCH)
    write_table(table, SMALL_TABLE + "20171,Herndon,Fairfax County,VA,town\n")

    build_site(out, table)

    new_pages, new_dates = contents(out), lastmods(out)
    changed = {url for url in new_dates if new_pages[page_of(url)] != old_pages[page_of(url)]}
    moved = {url for url in new_dates if new_dates[url] != old_dates[url]}
    assert moved == changed
    assert "https://www.example.com/ketamine-infusion/va/herndon/" in moved
    assert "https://www.example.com/ketamine/faq/" not in moved
    assert set(new_dates[url] for url in moved) == {"2027-01-15T08:00:00+00:00"}
