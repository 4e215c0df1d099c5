"""`python -m generator validate DIR`: the output checks on any built site, for SEO auditors.

A readable report grouped by rule, --json for machines, exit 1 on errors (or on warnings with
--strict), exit 0 on the clinic's real site.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from .conftest import FIXED_EPOCH, copy_project
from .test_publish import build_site, run_cli

BASE = "https://www.example.com/"


@pytest.fixture
def site_copy(default_site, tmp_path: Path) -> Path:
    out, _ = default_site
    copy = tmp_path / "audited"
    shutil.copytree(out, copy)
    return copy


def _html_count(site: Path) -> int:
    return sum(1 for _ in site.rglob("*.html"))


def _break(site: Path) -> None:
    """One of each: no h1, a broken link, a duplicated title, an empty page, a cut sitemap."""
    faq = site / "ketamine" / "faq" / "index.html"
    faq.write_text(re.sub(r"<h1>.*?</h1>", "", faq.read_text(encoding="utf-8"), flags=re.S))
    index = site / "index.html"
    index.write_text(index.read_text().replace('href="/ketamine/faq/"', 'href="/ketamine/fqa/"'))
    vienna = (site / "ketamine-infusion" / "va" / "vienna" / "index.html").read_text()
    title = re.search(r"<title>.*?</title>", vienna).group()
    fairfax = site / "ketamine-infusion" / "va" / "fairfax" / "index.html"
    fairfax.write_text(re.sub(r"<title>.*?</title>", title, fairfax.read_text()))
    (site / "404.html").write_bytes(b"")
    sitemap = site / "sitemap.xml"
    sitemap.write_text(sitemap.read_text().replace("</urlset>", ""))


def test_the_real_site_passes(site_copy: Path) -> None:
    process = run_cli("validate", str(site_copy))
    assert process.returncode == 0, process.stdout
    assert process.stdout == (
        f"{site_copy}: {_html_count(site_copy)} pages checked against {BASE}: "
        "0 error(s), 0 warning(s)\n"
    )


def test_broken_site_report_is_grouped_by_rule(site_copy: Path) -> None:
    _break(site_copy)

    process = run_cli("validate", str(site_copy))

    assert process.returncode == 1
    assert process.stderr == ""
    blocks = process.stdout.split("\n\n")
    assert blocks[0] == (
        f"{site_copy}: {_html_count(site_copy)} pages checked against {BASE}: "
        "5 error(s), 0 warning(s)"
    )
    vienna_title = "Ketamine Infusions for Vienna, VA | NOVA Health Recovery"
    assert blocks[1:5] == [
        "page.h1 (1)\n  error: ketamine/faq/index.html: has 0 <h1> elements; exactly one is needed",
        "page.link (1)\n  error: index.html: link /ketamine/fqa/ has no target file",
        "page.parse (1)\n  error: 404.html: does not parse as HTML: Document is empty",
        f"page.title-unique (1)\n  error: ketamine-infusion/va/fairfax/index.html: title "
        f"'{vienna_title}' is shared with ketamine-infusion/va/vienna/index.html",
    ]
    assert blocks[5].startswith("sitemap.well-formed (1)\n  error: sitemap.xml: ")
    assert len(blocks) == 6


def test_json_report_for_machines(site_copy: Path) -> None:
    _break(site_copy)

    process = run_cli("validate", str(site_copy), "--json")

    assert process.returncode == 1
    report = json.loads(process.stdout)
    assert set(report) == {"site", "base_url", "pages", "errors", "warnings", "rules"}
    assert (report["site"], report["base_url"]) == (str(site_copy), BASE)
    assert (report["pages"], report["errors"], report["warnings"]) == (
        _html_count(site_copy),
        5,
        0,
    )
    assert sorted(report["rules"]) == [
        "page.h1",
        "page.link",
        "page.parse",
        "page.title-unique",
        "sitemap.well-formed",
    ]
    assert report["rules"]["page.link"] == [
        {
            "path": "index.html",
            "severity": "error",
            "message": "link /ketamine/fqa/ has no target file",
        }
    ]


def test_warnings_fail_only_with_strict(site_copy: Path) -> None:
    page = site_copy / "ketamine" / "faq" / "index.html"
    page.write_bytes(page.read_bytes().rstrip().removesuffix(b"</html>"))
    warning = "  warning: ketamine/faq/index.html: does not end with </html>; it may be cut short"

    relaxed = run_cli("validate", str(site_copy))
    strict = run_cli("validate", str(site_copy), "--strict")

    assert relaxed.returncode == 0
    assert strict.returncode == 1
    assert relaxed.stdout.split("\n\n")[1:] == [f"page.complete (1)\n{warning}\n"]
    assert strict.stdout == relaxed.stdout


def test_other_base_url_makes_every_canonical_wrong(site_copy: Path) -> None:
    process = run_cli("validate", str(site_copy), "--base-url", "https://clinic.example", "--json")
    report = json.loads(process.stdout)
    assert process.returncode == 1
    assert report["base_url"] == "https://clinic.example/"
    canonical = report["rules"]["page.canonical"]
    assert len(canonical) == _html_count(site_copy) - 1  # every page but the noindex 404
    assert canonical[0]["message"] == (
        "canonical https://www.example.com/ is not under the site's URL https://clinic.example/"
    )


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    process = run_cli("validate", str(tmp_path / "nope"))
    assert process.returncode == 1
    assert process.stdout.split("\n\n")[1] == (
        f"site.folder (1)\n  error: {tmp_path / 'nope'}: is not a folder holding a built site\n"
    )


def test_a_site_below_a_base_path_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    project = copy_project(tmp_path / "project")
    toml = project / "site.toml"
    toml.write_text(
        re.sub(
            r'(?m)^base_url = ".*"$', 'base_url = "https://nova.example/clinic"', toml.read_text()
        )
    )
    build_site(project / "output", project / "data" / "locations.csv", project=project)

    process = run_cli("validate", str(project / "output"))

    assert process.returncode == 0, process.stdout
    assert "pages checked against https://nova.example/clinic/: 0 error(s)" in process.stdout
