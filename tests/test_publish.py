"""Publishing: the previous output is replaced only by a complete, checked tree, never damaged.

Also the helpers the other build-level test modules share: a small real table, tree snapshots
(bytes, mtime and inode of every entry) and running the command line as a user would.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import generator.publish as publish_module
from generator.build import BuildFailed, BuildOptions, BuildResult, build
from generator.publish import OutputLocation, PublishError, read_record

from .conftest import FIXED_EPOCH, ROOT

SMALL_TABLE = """zip,town,county,state,type
22030,Fairfax,Fairfax County,VA,town
22180,Vienna,Fairfax County,VA,town
20170,Herndon,Fairfax County,VA,town
20814,Bethesda,Montgomery County,MD,town
02134,Allston,Suffolk County,MA,town
"""
BESIDE_OUTPUT = {"output", ".output.lock", ".output.record.json", "output-report.json"}


def write_table(path: Path, text: str = SMALL_TABLE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def files_of(tree: dict[str, tuple]) -> dict[str, tuple]:
    return {path: entry for path, entry in tree.items() if entry[0] == "file"}


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry under `folder` (and the folder itself): kind, bytes, mode, mtime, inode."""
    tree = {}
    for path in [folder, *sorted(folder.rglob("*"))]:
        status = path.lstat()
        key = path.relative_to(folder).as_posix()
        if path.is_symlink():
            tree[key] = ("link", os.readlink(path), status.st_ino)
        elif path.is_dir():
            tree[key] = ("dir", status.st_mode, status.st_ino)
        else:
            tree[key] = ("file", path.read_bytes(), status.st_mtime_ns, status.st_ino)
    return tree


def contents(folder: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every file under `folder`."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def beside(out: Path) -> set[str]:
    """What lies in the output's parent folder (no staging trees or temporary files allowed)."""
    return {p.name for p in out.parent.iterdir()}


def run_cli(*args: str, epoch: str = FIXED_EPOCH, **kwargs) -> subprocess.CompletedProcess:
    """`python -m generator ARGS` from the repository root, as a user runs it."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": epoch}
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def build_site(out: Path, table: Path, project: Path = ROOT, **options) -> BuildResult:
    return build(BuildOptions(project=project, locations=table, out=out, **options))


@pytest.fixture
def epoch(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    return FIXED_EPOCH


@pytest.fixture
def small(tmp_path: Path, epoch: str) -> tuple[Path, Path]:
    """A small site built into tmp_path/site/output from a five-town table."""
    table = write_table(tmp_path / "small.csv")
    out = tmp_path / "site" / "output"
    build_site(out, table)
    return out, table


def test_foreign_files_survive_and_removed_towns_disappear(small, tmp_path: Path) -> None:
    out, table = small
    (out / "google123.html").write_text("google-site-verification: google123.html")
    (out / ".well-known").mkdir()
    (out / ".well-known" / "security.txt").write_text("Contact: mailto:x@example.com\n")
    (out / ".well-known" / "empty").mkdir()
    (out / "ketamine-infusion" / "va" / "vienna" / "notes.txt").write_text("keep me")
    write_table(table, SMALL_TABLE.replace("22030,Fairfax,Fairfax County,VA,town\n", ""))

    result = build_site(out, table)

    assert (out / "google123.html").read_text() == "google-site-verification: google123.html"
    assert (out / ".well-known" / "security.txt").exists()
    assert (out / ".well-known" / "empty").is_dir()
    assert (out / "ketamine-infusion" / "va" / "vienna" / "notes.txt").read_text() == "keep me"
    assert not (out / "ketamine-infusion" / "va" / "fairfax").exists()
    assert result.removed == ("ketamine-infusion/va/fairfax/index.html",)
    assert result.kept_foreign == (
        ".well-known/security.txt",
        "google123.html",
        "ketamine-infusion/va/vienna/notes.txt",
    )
    assert beside(out) == BESIDE_OUTPUT - {"output-report.json"}


def test_foreign_file_in_the_way_of_a_page_is_never_overwritten(small) -> None:
    out, table = small
    write_table(table, SMALL_TABLE + "22124,Oakton,Fairfax County,VA,town\n")
    mine = out / "ketamine-infusion" / "va" / "oakton" / "index.html"
    mine.parent.mkdir()
    mine.write_text("<p>a page somebody wrote by hand</p>")
    before = snapshot(out)

    with pytest.raises(PublishError) as raised:
        build_site(out, table)

    assert str(raised.value) == (
        f"1 file(s) in {out} were not made by the generator but the new build writes the same "
        f"path(s): ketamine-infusion/va/oakton/index.html; move them out of {out} (or delete "
        f"them) and build again; {out} was not changed"
    )
    assert snapshot(out) == before
    assert beside(out) == BESIDE_OUTPUT - {"output-report.json"}


def test_unchanged_files_keep_inode_and_mtime(small) -> None:
    out, table = small
    before = snapshot(out)
    write_table(table, SMALL_TABLE.replace("Herndon", "herndon"))  # same slug, new page text

    result = build_site(out, table, force=True)

    after = snapshot(out)
    changed = sorted(k for k in after if k in before and after[k] != before[k])
    assert "ketamine-infusion/va/herndon/index.html" in changed
    assert "ketamine/faq/index.html" not in changed
    assert after["assets/style.css"] == before["assets/style.css"]
    assert result.unchanged == sum(v[0] == "file" for v in after.values()) - result.written


def test_second_build_fails_fast_while_the_lock_is_held(small) -> None:
    out, table = small
    before = snapshot(out)
    location = OutputLocation(out)
    with open(location.lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        started = time.monotonic()
        with pytest.raises(PublishError) as raised:
            build_site(out, table, force=True)
        assert time.monotonic() - started < 2
        process = run_cli("build", "--locations", str(table), "--out", str(out), "--force")
    assert str(raised.value) == (
        f"another build is writing {out} right now (lock: {location.lock_path}); "
        "wait for it to finish"
    )
    assert process.returncode == 2
    assert process.stderr == f"error: {raised.value}\n"
    assert snapshot(out) == before


def test_failed_page_check_leaves_the_output_untouched(small, tmp_path: Path) -> None:
    out, table = small
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    base = templates / "base.html"
    base.write_text(base.read_text().replace("</main>", "<h1>Second heading</h1>\n</main>"))
    before = snapshot(out)

    with pytest.raises(BuildFailed) as raised:
        build_site(out, table, templates=templates)
    process = run_cli(
        "build", "--locations", str(table), "--out", str(out), "--templates", str(templates)
    )

    rules = {(f.rule, f.message) for f in raised.value.findings}
    assert rules == {("page.h1", "has 2 <h1> elements; exactly one is needed")}
    assert process.returncode == 2
    lines = process.stderr.splitlines()
    assert "index.html: error: [page.h1] has 2 <h1> elements; exactly one is needed" in lines
    assert lines[-1] == f"build failed: {len(lines) - 1} problem(s) in the built pages; " + (
        f"{out} was not changed"
    )
    assert snapshot(out) == before
    assert beside(out) == BESIDE_OUTPUT - {"output-report.json"}


def build_with_edited_template(
    small, tmp_path: Path, name: str, old: str, new: str
) -> tuple[subprocess.CompletedProcess, bool]:
    """Build the small site with a copy of the templates where `name` has `old` replaced by
    `new`; the process, and whether the output was left exactly as it was."""
    out, table = small
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    edited = templates / name
    edited.write_text(edited.read_text().replace(old, new))
    before = snapshot(out)
    process = run_cli(
        "build", "--locations", str(table), "--out", str(out), "--templates", str(templates)
    )
    return process, snapshot(out) == before


def test_template_error_leaves_the_output_untouched(small, tmp_path: Path) -> None:
    process, untouched = build_with_edited_template(
        small, tmp_path, "town.html", "{% block main %}", "{% block main %}{{ nope.x }}"
    )

    assert process.returncode == 2
    assert "Traceback" not in process.stderr
    assert "template error while rendering /ketamine-infusion/" in process.stderr
    assert "'nope' is undefined" in process.stderr
    assert untouched


def test_site_wide_template_that_reads_the_page_is_a_clear_error(small, tmp_path: Path) -> None:
    """site-wide/ parts are rendered once per build, with `site` only."""
    process, untouched = build_with_edited_template(
        small, tmp_path, "site-wide/footer.html", "</footer>", "{{ page.title }}</footer>"
    )

    assert process.returncode == 2
    assert "Traceback" not in process.stderr
    assert "footer.html" in process.stderr
    assert "template error while rendering the site-wide part site-wide/footer.html" in (
        process.stderr
    )
    assert "'page' is undefined" in process.stderr
    assert untouched


class DiskFull:
    """Stands in for `open` in the publish module: the n-th file opened for writing fails, or
    the first one whose name holds `name_part`."""

    def __init__(self, fail_at: int | None = None, name_part: str | None = None) -> None:
        self.fail_at = fail_at
        self.name_part = name_part
        self.opened = 0

    def __call__(self, file, mode="r", *args, **kwargs):
        if "w" in mode or "x" in mode:
            self.opened += 1
            if self.opened == self.fail_at or (self.name_part and self.name_part in str(file)):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file))
        return open(file, mode, *args, **kwargs)


@pytest.mark.parametrize(
    "disk", [DiskFull(fail_at=1), DiskFull(fail_at=50), DiskFull(name_part=".record.json.tmp-")]
)
def test_disk_full_while_staging_leaves_the_output_untouched(
    small, monkeypatch: pytest.MonkeyPatch, disk: DiskFull
) -> None:
    """The first file, a file halfway, or the build record written just before the swap."""
    out, table = small
    write_table(table, (ROOT / "data" / "locations.csv").read_text(encoding="utf-8"))
    before = snapshot(out)
    record_before = OutputLocation(out).record_path.read_bytes()
    monkeypatch.setattr(publish_module, "open", disk, raising=False)

    with pytest.raises(PublishError) as raised:
        build_site(out, table)

    message = str(raised.value)
    assert message.startswith(f"cannot write the new site beside {out}: No space left on device")
    assert message.endswith(f"; {out} was not changed")
    assert snapshot(out) == before
    assert OutputLocation(out).record_path.read_bytes() == record_before
    assert beside(out) == BESIDE_OUTPUT - {"output-report.json"}
    monkeypatch.undo()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    assert len(build_site(out, table).pages) > 100


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 600 KB tmpfs: room for the small site, not for the full one beside it."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_real_disk_full_leaves_the_output_untouched(tiny_disk: Path, tmp_path: Path) -> None:
    out = tiny_disk / "output"
    table = write_table(tmp_path / "small.csv")
    assert run_cli("build", "--locations", str(table), "--out", str(out)).returncode == 0
    before = snapshot(out)

    process = run_cli("build", "--out", str(out))

    assert process.returncode == 2, process.stdout
    assert "Traceback" not in process.stderr
    assert process.stderr.startswith(f"error: cannot write the new site beside {out}: ")
    assert "No space left on device" in process.stderr
    assert snapshot(out) == before
    assert beside(out) == BESIDE_OUTPUT


def test_build_killed_after_the_swap_still_knows_its_files(
    small, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record written before the swap lists both trees: a town published by a build that
    died before its final record is still the generator's, and goes when it leaves the table."""
    out, table = small
    write_table(table, SMALL_TABLE + "22124,Oakton,Fairfax County,VA,town\n")

    class Killed(BaseException):
        pass

    def die(*args) -> None:
        raise Killed

    monkeypatch.setattr("generator.build.write_record", die)
    with pytest.raises(Killed):
        build_site(out, table)
    assert (out / "ketamine-infusion" / "va" / "oakton" / "index.html").exists()
    assert read_record(OutputLocation(out)).fingerprint == ""
    monkeypatch.undo()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    write_table(table)

    result = build_site(out, table)

    assert not (out / "ketamine-infusion" / "va" / "oakton").exists()
    assert result.kept_foreign == ()
    assert "ketamine-infusion/va/oakton/index.html" in result.removed


def test_leftovers_of_a_killed_build_are_cleared_and_an_interrupted_swap_restored(
    small,
) -> None:
    out, table = small
    expected = contents(out)
    parent = out.parent
    (parent / ".output.staging-4242" / "half").mkdir(parents=True)
    (parent / "..output.record.json.tmp-4242").write_text("{")
    (parent / ".output-report.json.tmp-4242").write_text("{")
    other = parent / ".output2.staging-4242"  # another output's build: not ours to touch
    other.mkdir()
    out.rename(parent / ".output.old-4242")  # killed between the two renames of the fallback

    build_site(out, table)

    assert contents(out) == expected
    assert beside(out) == BESIDE_OUTPUT - {"output-report.json"} | {other.name}


def test_output_folder_keeps_its_permissions(small) -> None:
    out, table = small
    out.chmod(0o750)
    build_site(out, table, force=True)
    assert out.stat().st_mode & 0o777 == 0o750


def test_json_of_the_record_is_deterministic(small) -> None:
    out, _table = small
    record = json.loads(OutputLocation(out).record_path.read_text())
    assert record["version"] == 1
    assert set(record["files"]) == set(contents(out))
    assert all(
        entry["lastmod"] == "2026-11-18T11:06:40+00:00" for entry in record["files"].values()
    )


def test_without_renameat2_the_fallback_swap_publishes_the_same_tree(
    small, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, table = small
    (out / "google123.html").write_text("verification")
    expected = contents(out)
    monkeypatch.setattr(publish_module, "_exchange", lambda a, b: False)

    result = build_site(out, table, force=True)

    assert contents(out) == expected
    assert result.kept_foreign == ("google123.html",)
    assert beside(out) == BESIDE_OUTPUT - {"output-report.json"}


def test_output_folder_that_is_a_link_or_a_file_is_refused(small, tmp_path: Path) -> None:
    out, table = small
    link = tmp_path / "site" / "live"
    link.symlink_to(out)
    a_file = tmp_path / "site" / "notes.txt"
    a_file.write_text("x")

    with pytest.raises(PublishError) as linked:
        build_site(link, table)
    with pytest.raises(PublishError) as filed:
        build_site(a_file, table)

    assert str(linked.value) == (
        f"{link} is a symbolic link; pass the folder it points to as the output folder"
    )
    assert str(filed.value) == f"{a_file} exists and is not a folder"


def test_a_missing_report_is_written_again_without_rewriting_the_site(tmp_path: Path) -> None:
    """A build killed between publishing and writing its report leaves no report; the next
    build must not take the "nothing changed" shortcut, nor rewrite the unchanged pages."""
    out = tmp_path / "output"
    table = write_table(tmp_path / "small.csv")
    assert run_cli("build", "--locations", str(table), "--out", str(out)).returncode == 0
    report = OutputLocation(out).report_path
    report.unlink()
    before = files_of(snapshot(out))

    process = run_cli("build", "--locations", str(table), "--out", str(out))

    assert process.returncode == 0, process.stderr
    assert json.loads(report.read_text())["files"]["written"] == 0
    assert files_of(snapshot(out)) == before  # same bytes, mtimes and inodes
    again = run_cli("build", "--locations", str(table), "--out", str(out))
    assert "no input changed since the last build" in again.stdout
