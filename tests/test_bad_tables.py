"""Every bad table in tests/fixtures/bad_tables, built over a live site as a user would.

A refused table must exit 2 with exactly the expected `file:row:column: message` lines, no
traceback, and leave the previous output byte-identical (same bytes, mtimes and inodes). A
table with only warnings builds, and its warnings reach the console and the build report.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .conftest import ROOT
from .test_publish import BESIDE_OUTPUT, beside, build_site, run_cli, snapshot, write_table

FIXTURES = ROOT / "tests" / "fixtures" / "bad_tables"
RESAVE = "re-save it as 'CSV UTF-8 (Comma delimited)' from your spreadsheet program"

# fixture -> the lines the build prints about it ({f} is the file as given on the command line)
REFUSED = {
    "missing-column": [
        "{f}:1: missing required column(s): county; found: zip, town, state, type; the header "
        "row must be: zip,town,county,state (optional: type)"
    ],
    "zip-4-digits": [
        "{f}:3:zip: '2134' is not a 5-digit ZIP code (it looks like a ZIP that lost its leading "
        "zero: format the column as text and write 02134)"
    ],
    "zip-plus-4": [
        "{f}:2:zip: '22030-4410' is not a 5-digit ZIP code (write the 5-digit ZIP 22030, "
        "without the +4 part)"
    ],
    "zip-unknown": ["{f}:3:zip: '00001' is not in the US ZIP code database"],
    "zip-wrong-state": ["{f}:2:state: ZIP 22030 is in VA, not MD"],
    "state-bad-code": [
        "{f}:2:state: 'VX' is not a USPS state code; use a two-letter code such as VA, MD or DC",
        "{f}:3:state: 'Virginia' is not a USPS state code; write VA",
    ],
    "town-empty-without-zip": [
        "{f}:3:town: is empty, and there is no valid ZIP to fill it in from",
        "{f}:3:zip: is empty",
    ],
    "slug-collision": [
        "{f}:4:town: 'St Mary's' and town 'St. Mary's' in row 3 would both have the web "
        "address part 'st-marys' in VA; use one spelling or distinct names"
    ],
    "town-symbols-only": ["{f}:3:town: '!!!' has no letters or digits usable in a web address"],
    "double-encoded": [
        "{f}:3:town: 'CafÃ© Vienne' looks garbled, probably 'Café Vienne' saved in the wrong "
        "encoding; correct the name"
    ],
    "utf-16": ["{f}: is saved as UTF-16 ('Unicode Text'); " + RESAVE],
    "semicolons": ["{f}:1: the columns are separated by semicolons, not commas; " + RESAVE],
    "header-only": ["{f}: has a header row but no towns; add one row per ZIP code"],
    "empty": [
        "{f}: the file is empty; it needs the header row zip,town,county,state and one row "
        "per ZIP code"
    ],
    "ragged-rows": [
        "{f}:3: has 6 cells but the header has 5 columns; a cell holding a comma must be in "
        "double quotes",
        "{f}:4: has 3 cells but the header has 5 columns (no cell for: state, type)",
    ],
    "unbalanced-quotes": [
        '{f}:3: a double quote (") in line 3 is not closed, or is followed by more text in '
        "the same cell; a cell that starts with a quote must end with one, and a quote inside "
        'a cell is written ""'
    ],
    "many-problems": [
        "{f}:2:zip: '2030' is not a 5-digit ZIP code (it looks like a ZIP that lost its leading "
        "zero: format the column as text and write 02030)",
        "{f}:3:state: 'Va.' is not a USPS state code; write VA",
        "{f}:4:town: warning: was empty; filled in from ZIP 20170: Herndon",
        "{f}:5:zip: '99999' is not in the US ZIP code database",
        "{f}:6:state: ZIP 22030 is in VA, not MD",
        "{f}:7: warning: blank row skipped",
        "{f}:8:type: 'city' is not a place type; use town or neighborhood",
    ],
}
WARNED = {
    "town-empty-with-zip": ["{f}:3:town: warning: was empty; filled in from ZIP 22180: Vienna"],
    "blank-rows": ["{f}:3: warning: blank row skipped", "{f}:4: warning: blank row skipped"],
    "duplicate-rows": ["{f}:4: warning: duplicate of row 2 (22030 Fairfax, VA); skipped"],
    "county-two-spellings": [
        "{f}:3:county: warning: 'fairfax county' is spelled 'Fairfax County' in row 2; using "
        "'Fairfax County'"
    ],
    "county-mismatch": [
        "{f}:2:county: warning: 'Loudoun County' but the ZIP database puts 22030 in "
        "'Fairfax County'"
    ],
    "town-mismatch": [
        "{f}:3:town: warning: 'Reston' but the ZIP database's city for 22180 is 'Vienna' (use "
        "type neighborhood for a place inside a city)"
    ],
    "windows-1252": [
        "{f}: warning: is not UTF-8; read it as Windows-1252 (Excel's 'CSV (Comma delimited)'): "
        "'Café Vienne' (line 3); check these names, and to avoid this warning " + RESAVE
    ],
    "bom-crlf": [],
}
# A page each built table must have, and text it must show
BUILT_PAGES = {
    "town-empty-with-zip": ("ketamine-infusion/va/vienna/index.html", "Vienna, VA"),
    "blank-rows": ("ketamine-infusion/va/vienna/index.html", "Vienna, VA"),
    "duplicate-rows": ("ketamine-infusion/va/fairfax/index.html", "22030"),
    "county-two-spellings": ("ketamine-infusion/va/vienna/index.html", "Fairfax County"),
    "county-mismatch": ("ketamine-infusion/va/fairfax/index.html", "Loudoun County"),
    "town-mismatch": ("ketamine-infusion/va/reston/index.html", "Reston, VA"),
    "windows-1252": ("ketamine-infusion/va/cafe-vienne/index.html", "Café Vienne"),
    "bom-crlf": ("ketamine-infusion/ma/allston/index.html", "02134"),
}


def test_every_fixture_has_an_expectation() -> None:
    names = {p.stem for p in FIXTURES.glob("*.csv")}
    assert names == set(REFUSED) | set(WARNED)


@pytest.fixture(scope="module")
def previous_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A live site built once; each test works on a copy (copy2 keeps the mtimes)."""
    folder = tmp_path_factory.mktemp("previous")
    table = write_table(folder / "table" / "small.csv")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", "1795000000")
        build_site(folder / "site" / "output", table)
    return folder / "site"


@pytest.fixture
def live_output(previous_site: Path, tmp_path: Path) -> Path:
    shutil.copytree(previous_site, tmp_path / "site")
    return tmp_path / "site" / "output"


def _fixture_lines(name: str, expected: dict[str, list[str]]) -> tuple[str, list[str]]:
    given = f"tests/fixtures/bad_tables/{name}.csv"
    return given, [line.format(f=given) for line in expected[name]]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_table_reports_every_problem_and_leaves_the_site_alone(
    name: str, live_output: Path
) -> None:
    given, lines = _fixture_lines(name, REFUSED)
    before = snapshot(live_output)

    process = run_cli("build", "--locations", given, "--out", str(live_output))

    errors = sum(": warning: " not in line for line in lines)
    assert process.returncode == 2
    assert process.stdout == ""
    assert process.stderr.splitlines() == [
        *lines,
        f"build stopped: {errors} error(s) in the inputs; nothing was written",
    ]
    assert snapshot(live_output) == before
    assert beside(live_output) == BESIDE_OUTPUT - {"output-report.json"}


@pytest.mark.parametrize("name", sorted(WARNED))
def test_table_with_warnings_builds_and_reports_them(name: str, live_output: Path) -> None:
    given, lines = _fixture_lines(name, WARNED)

    process = run_cli("build", "--locations", given, "--out", str(live_output))

    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    mentioned = [line for line in process.stdout.splitlines() if line.startswith(given)]
    assert mentioned == lines
    report = json.loads((live_output.parent / "output-report.json").read_text(encoding="utf-8"))
    assert [w for w in report["warnings"] if w.startswith(given)] == lines
    path, text = BUILT_PAGES[name]
    page = (live_output / path).read_text(encoding="utf-8")
    assert text in page
    assert "Ã" not in page and "\ufffd" not in page
