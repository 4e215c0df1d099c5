"""Safety: names from the table and settings stay inert text in HTML, attributes, JSON-LD and
XML; no name can put a file outside the output folder; output paths are ASCII; the output
folder can never be the project, an input, or hold one. A property-based test feeds random
town and county names through the whole pipeline.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml import html as lxml_html

from generator.build import BuildFailed, BuildResult
from generator.problems import InputError
from generator.publish import PublishError

from .conftest import FIXED_EPOCH, ROOT, copy_project
from .test_publish import BESIDE_OUTPUT, beside, build_site, run_cli, snapshot, write_table

XSS = "</script><script>alert(1)</script>"
ATTRIBUTE_BREAKER = "\"'><img src=x onerror=alert(2)>"
NASTY = [
    XSS,
    ATTRIBUTE_BREAKER,
    "../../etc",
    "..",
    "a/b\\c",
    "&amp; &lt; &#x3C;",
    "]]><!-- -->",
    "{{ 7*7 }} {% raw %}",
    "%2e%2e%2f%00",
    "Ærøskøbing",
    "北京",
    "Москва",
    "🙂",
    "\u202eevil",
    " ",
    "",
    "x" * 150,
    "CON",
    "index.html",
    "?#",
]
ALLOWED_BUILD_FAILURES = {"page.title-unique", "page.description-unique", "quality.similar"}


def _clean(name: str) -> str:
    """A name as validation keeps it: whitespace collapsed, NFC."""
    return unicodedata.normalize("NFC", " ".join(name.split()))


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["zip", "town", "county", "state", "type"])
    writer.writerows(rows)
    return buffer.getvalue()


def _strings(value: Any) -> set[str]:
    """Every string anywhere in a JSON value."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*map(_strings, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(_strings, value)) if value else set()
    return set()


def assert_inert(out: Path, names: list[str]) -> None:
    """Every page parses; its only scripts are JSON-LD that parses; no event handler
    attributes; og:title equals the title; each name is exact text in the JSON-LD."""
    seen: set[str] = set()
    for path in sorted(out.rglob("*.html")):
        tree = lxml_html.document_fromstring(path.read_bytes())
        scripts = tree.xpath("//script")
        assert all(s.get("type") == "application/ld+json" for s in scripts), path
        for script in scripts:
            seen |= _strings(json.loads(script.text))
        assert tree.xpath("//@*[starts-with(name(), 'on')]") == [], path
        title = tree.findtext(".//title")
        og_title = tree.xpath('//meta[@property="og:title"]/@content')
        assert og_title == [title], path
    for name in names:
        assert name in seen, name


def assert_inside(out: Path) -> None:
    assert beside(out) <= BESIDE_OUTPUT
    for path in out.rglob("*"):
        relative = path.relative_to(out).as_posix()
        assert relative.isascii(), relative
        assert path.resolve().is_relative_to(out.resolve())


@pytest.fixture
def epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)


def test_script_and_attribute_breakers_stay_text(tmp_path: Path, epoch) -> None:
    table = write_table(
        tmp_path / "t.csv",
        _csv(
            [
                ["22030", "Fairfax", "Fairfax County", "VA", "town"],
                ["22180", XSS, "Fairfax County", "VA", "neighborhood"],
                ["20814", ATTRIBUTE_BREAKER, f"{ATTRIBUTE_BREAKER} County", "MD", "neighborhood"],
            ]
        ),
    )
    out = tmp_path / "site" / "output"
    result = build_site(out, table)

    assert_inert(out, [XSS, ATTRIBUTE_BREAKER])
    assert_inside(out)
    state_hub = lxml_html.parse(str(out / "ketamine-infusion" / "md" / "index.html"))
    assert f"{ATTRIBUTE_BREAKER} County" in state_hub.getroot().text_content()
    page = next(p for p in result.pages if p.town == XSS)
    tree = lxml_html.document_fromstring((out / page.path).read_bytes())
    assert XSS in tree.findtext(".//h1")
    raw = (out / page.path).read_bytes()
    assert b"<script>alert" not in raw and b"&lt;/script&gt;&lt;script&gt;alert(1)" in raw


def test_a_path_in_a_name_stays_inside_the_output(tmp_path: Path, epoch) -> None:
    table = write_table(
        tmp_path / "t.csv",
        _csv(
            [
                ["22030", "Fairfax", "Fairfax County", "VA", "town"],
                ["22180", "../../etc", "../../../tmp", "VA", "neighborhood"],
            ]
        ),
    )
    out = tmp_path / "site" / "output"
    result = build_site(out, table)
    assert_inside(out)
    assert {p.path for p in result.pages if p.town == "../../etc"} == {
        "ketamine-infusion/va/etc/index.html"
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "t.csv"]


def test_settings_text_is_escaped_everywhere(tmp_path: Path, epoch) -> None:
    project = copy_project(tmp_path / "project")
    toml = project / "site.toml"
    name = 'NOVA "Health" <b>&</b>'
    toml.write_text(toml.read_text().replace('name = "NOVA Health Recovery"', f"name = '{name}'"))
    write_table(project / "data" / "locations.csv")
    out = project / "output"

    build_site(out, project / "data" / "locations.csv", project=project)

    assert_inert(out, [name])
    tree = lxml_html.document_fromstring((out / "index.html").read_bytes())
    assert tree.xpath('//meta[@property="og:site_name"]/@content') == [name]
    assert tree.xpath("//b") == []


@pytest.mark.parametrize(
    "relative",
    ["", ".", "data", "templates", "content", "templates/assets", "content/x", "..", ".git/x"],
)
def test_output_folder_can_never_be_an_input(tmp_path: Path, relative: str) -> None:
    project = copy_project(tmp_path / "project")
    (project / ".git").mkdir()
    before = snapshot(tmp_path)

    with pytest.raises(PublishError) as raised:
        build_site(
            project / relative if relative else project,
            project / "data/locations.csv",
            project=project,
        )

    assert str(raised.value).startswith("refusing to use ")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("out", "culprit"),
    [
        (".", f"the project folder {ROOT}"),
        ("data", "the input data/locations.csv"),
        ("templates", "the input templates"),
    ],
)
def test_command_line_refuses_the_repository_as_output(out: str, culprit: str) -> None:
    before = snapshot(ROOT / "data")
    process = run_cli("build", "--out", out)
    assert process.returncode == 2
    assert process.stderr == (
        f"error: refusing to use {out} as the output folder: it would hold, replace or lie "
        f"inside {culprit}; choose a folder such as output/\n"
    )
    assert snapshot(ROOT / "data") == before


# --- property: any town and county name builds an inert site or fails clearly -------------

VISIBLE = st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn"))
names = st.one_of(
    st.sampled_from(NASTY),
    st.text(VISIBLE, max_size=60),
    st.text(VISIBLE, min_size=90, max_size=110),
    st.text(st.characters(codec="ascii"), max_size=40),
    st.builds(str.__add__, st.sampled_from(NASTY), st.text(VISIBLE, max_size=20)),
    st.text(max_size=30),  # anything, control characters included
)
counties = st.one_of(st.just("Fairfax County"), names)


@pytest.fixture(scope="module")
def previous_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("previous")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
        build_site(folder / "site" / "output", write_table(folder / "t.csv"))
    return folder / "site"


@pytest.fixture(scope="module")
def sitemap_schema(schemas_dir: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(schemas_dir / "sitemap.xsd")))


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(town=names, county=counties, other_town=names)
def test_random_names_build_an_inert_site_or_fail_clearly(
    previous_site: Path,
    sitemap_schema: etree.XMLSchema,
    monkeypatch: pytest.MonkeyPatch,
    town: str,
    county: str,
    other_town: str,
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    rows = [
        ["22030", "Fairfax", "Fairfax County", "VA", "town"],
        ["22180", town, county, "VA", "neighborhood"],
        ["20814", other_town, "Montgomery County", "MD", "neighborhood"],
    ]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        table = write_table(work / "t.csv", _csv(rows))
        shutil.copytree(previous_site, work / "site")
        out = work / "site" / "output"
        before = snapshot(out)
        try:
            result = build_site(out, table)
        except InputError as error:
            event("refused: " + ", ".join(sorted({p.column or "file" for p in error.problems})))
            _assert_clear(error, table)
            assert snapshot(out) == before
            return
        except BuildFailed as failure:
            event("check failed: " + ", ".join(sorted({f.rule for f in failure.findings})))
            assert {f.rule for f in failure.findings if f.severity == "error"} <= (
                ALLOWED_BUILD_FAILURES
            ), failure.findings
            assert snapshot(out) == before
            return
        event("built")
        _assert_built(out, result, [town, other_town], sitemap_schema)


def _assert_clear(error: InputError, table: Path) -> None:
    assert error.problems
    for problem in error.problems:
        assert problem.file == str(table)
        assert problem.message and "Traceback" not in problem.message
        assert problem.column in (None, "zip", "town", "county", "state", "type")
        assert str(problem).startswith(f"{table}:")


def _assert_built(
    out: Path, result: BuildResult, names: list[str], schema: etree.XMLSchema
) -> None:
    assert_inside(out)
    expected = [_clean(n) for n in names if _clean(n)]
    assert {_clean(n) for n in expected} <= {p.town for p in result.pages if p.kind == "town"}
    assert_inert(out, expected)
    sitemap = etree.parse(str(out / "sitemap.xml"))
    assert schema.validate(sitemap), schema.error_log
