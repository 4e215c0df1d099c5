"""Build-speed benchmark: our generator against Hugo and Eleventy on the same US-town datasets.

For each dataset size (1,000 towns, 10,000 towns, all US towns; see datasets.py) and each of
`--runs` rounds, the three builders run one after the other, their order rotated every round
(ours, hugo, eleventy; then hugo, eleventy, ours; ...). Each full build goes into a fresh
output folder in the work folder (tmpfs by default). Measured per run: wall time, peak memory
(see measure.py), pages and bytes per page. Ours also gets a no-change rebuild (files written
must be 0) and a one-row-change rebuild; Hugo a second build into its existing output.
Medians over the rounds, the ratios of our median to theirs and every run are printed and
written to WORK/results/.

    python benchmarks/build_bench.py --sizes 1000,10000,all --runs 3
    python benchmarks/build_bench.py --sizes 1000 --runs 1          # smoke test
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import Dataset, drop_one_zip, make_datasets, parse_sizes
from measure import Measurement, output_size, run_measured, snapshot, written_files
from tools import (
    Toolchain,
    eleventy_command,
    eleventy_env,
    export_data,
    hugo_binary,
    hugo_command,
    ours_command,
    prepare_eleventy,
    prepare_eleventy_assets,
    prepare_hugo,
    snapshot_project,
    versions,
)

TOOLS = ("ours", "hugo", "eleventy")
Run = dict[str, Any]


@dataclass
class SizeContext:
    """One dataset and everything prepared for it."""

    dataset: Dataset
    data_json: Path
    hugo_source: Path
    folder: Path
    keep: bool
    prep: Measurement
    page_sets: dict[str, frozenset[str]] = dataclasses.field(default_factory=dict)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text(encoding="utf-8"))))
        return 0
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    tools = _toolchain(args, work)
    results = _header(args, tools)
    datasets = make_datasets(work / "data", args.sizes)
    for size in args.sizes:
        results["sizes"][size] = bench_size(tools, datasets[size], args)
        print_summary(results["sizes"][size])
        _write_results(work, results)
    return 0 if all(s["ok"] for s in results["sizes"].values()) else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("1000,10000,all"))
    parser.add_argument("--runs", type=int, default=3, help="rounds per size (default 3)")
    parser.add_argument("--tools", type=_parse_tools, default=TOOLS, help="ours,hugo,eleventy")
    parser.add_argument("--work", type=Path, default=Path("/dev/shm/nova-bench"))
    parser.add_argument(
        "--ref", default="HEAD", help="git revision to benchmark, or 'worktree' (default HEAD)"
    )
    parser.add_argument("--python", default=sys.executable, help="Python that runs our build")
    parser.add_argument("--keep", action="store_true", help="keep the last round's outputs")
    parser.add_argument(
        "--markdown", type=Path, metavar="RESULTS", help="print a results JSON as Markdown tables"
    )
    return parser


def _parse_tools(text: str) -> tuple[str, ...]:
    chosen = tuple(t.strip() for t in text.split(",") if t.strip())
    unknown = set(chosen) - set(TOOLS)
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"tools are {', '.join(TOOLS)}")
    return chosen


def _toolchain(args: argparse.Namespace, work: Path) -> Toolchain:
    project, _ = snapshot_project(args.ref, work)
    node = shutil.which("node") or "node"
    tools = Toolchain(args.python, hugo_binary(), node, project, work)
    if "eleventy" in args.tools:
        site = prepare_eleventy(work, node)
        prepare_eleventy_assets(site, project)
        tools = dataclasses.replace(tools, eleventy_site=site)
    return tools


def _header(args: argparse.Namespace, tools: Toolchain) -> dict[str, Any]:
    _, code = snapshot_project(args.ref, tools.work)
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "code": code,
        "machine": machine(),
        "versions": versions(tools),
        "runs": args.runs,
        "sizes": {},
    }


def machine() -> dict[str, Any]:
    """CPU, cores and memory of this machine."""
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(total_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
    }


def bench_size(tools: Toolchain, dataset: Dataset, args: argparse.Namespace) -> dict[str, Any]:
    """All rounds for one dataset; returns its summary with every run."""
    context = prepare_size(tools, dataset, args.keep)
    runs: dict[str, list[Run]] = {tool: [] for tool in args.tools}
    for round_number in range(args.runs):
        for tool in rotated(args.tools, round_number):
            load = os.getloadavg()[0]
            run = {**RUNNERS[tool](tools, context, round_number), "load_before": load}
            runs[tool].append(run)
            print(f"  [{dataset.name} round {round_number + 1}] {tool}: {_brief(run)}", flush=True)
    return summarize(context, runs)


def prepare_size(tools: Toolchain, dataset: Dataset, keep: bool) -> SizeContext:
    """Export the page data (timed as 'prep') and lay out the Hugo source for one dataset."""
    folder = tools.work / "runs" / dataset.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    data_json = tools.work / "data" / f"site-{dataset.name}.json"
    print(
        f"{dataset.name}: {dataset.towns} towns, {dataset.rows} rows; exporting page data",
        flush=True,
    )
    prep = export_data(tools, dataset.path, data_json, folder / "export.log")
    if prep.exit_code != 0:
        raise SystemExit(f"export failed, see {folder / 'export.log'}")
    hugo_source = prepare_hugo(tools.work, dataset.name, data_json, tools.project)
    return SizeContext(dataset, data_json, hugo_source, folder, keep, prep)


def rotated(items: tuple[str, ...], shift: int) -> tuple[str, ...]:
    shift %= len(items)
    return items[shift:] + items[:shift]


def run_ours(tools: Toolchain, context: SizeContext, round_number: int) -> Run:
    """Full build, then a no-change rebuild, then a rebuild after a one-row change."""
    folder = _fresh(context, f"ours-{round_number}")
    locations = folder / "locations.csv"
    shutil.copy(context.dataset.path, locations)
    site = folder / "site"

    def build(name: str, force: bool) -> Measurement:
        command = ours_command(tools, locations, site, force)
        return run_measured(command, tools.project, folder / f"{name}.log")

    run = _full_run(round_number, build("full", True), site, context, "ours")
    if run["full"]["exit_code"] == 0:
        run["no_change"] = _rebuild(site, lambda: build("no-change", False))
        change = drop_one_zip(locations)
        run["one_row"] = {**_rebuild(site, lambda: build("one-row", False)), "change": change}
    _cleanup(folder, context)
    return run


def run_hugo(tools: Toolchain, context: SizeContext, round_number: int) -> Run:
    """Full build into a fresh folder, then the same build again into that folder."""
    folder = _fresh(context, f"hugo-{round_number}")
    site = folder / "site"

    def build(name: str) -> Measurement:
        command = hugo_command(tools, context.hugo_source, site)
        return run_measured(command, context.hugo_source, folder / f"{name}.log")

    run = _full_run(round_number, build("full"), site, context, "hugo")
    if run["full"]["exit_code"] == 0:
        run["rebuild"] = _rebuild(site, lambda: build("rebuild"))
    _cleanup(folder, context)
    return run


def run_eleventy(tools: Toolchain, context: SizeContext, round_number: int) -> Run:
    """Full build into a fresh folder."""
    assert tools.eleventy_site is not None
    folder = _fresh(context, f"eleventy-{round_number}")
    site = folder / "site"
    command = eleventy_command(tools, site)
    env = eleventy_env(context.data_json)
    full = run_measured(command, tools.eleventy_site, folder / "full.log", env)
    run = _full_run(round_number, full, site, context, "eleventy")
    _cleanup(folder, context)
    return run


RUNNERS: dict[str, Callable[[Toolchain, SizeContext, int], Run]] = {
    "ours": run_ours,
    "hugo": run_hugo,
    "eleventy": run_eleventy,
}


def _fresh(context: SizeContext, name: str) -> Path:
    folder = context.folder / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _cleanup(folder: Path, context: SizeContext) -> None:
    if not context.keep:
        shutil.rmtree(folder / "site", ignore_errors=True)


def _full_run(
    round_number: int, full: Measurement, site: Path, context: SizeContext, tool: str
) -> Run:
    run: Run = {"round": round_number + 1, "full": dataclasses.asdict(full)}
    if full.exit_code == 0 and site.exists():
        size = output_size(site)
        context.page_sets.setdefault(tool, size.paths)
        run.update(pages=size.pages, html_bytes=size.html_bytes, files=size.files)
    return run


def _rebuild(site: Path, build: Callable[[], Measurement]) -> dict[str, Any]:
    before = snapshot(site)
    measured = build()
    return {**dataclasses.asdict(measured), "written": written_files(before, snapshot(site))}


def _brief(run: Run) -> str:
    full = run["full"]
    text = f"full {full['seconds']:.2f} s, {full['max_rss_mb']:.0f} MB"
    text += f" (tree PSS {full.get('tree_pss_mb', 0):.0f} MB)"
    text += f" (load before {run['load_before']:.1f})"
    if full["exit_code"]:
        return text + f" FAILED (exit {full['exit_code']})"
    for key in ("no_change", "one_row", "rebuild"):
        if key in run:
            text += f"; {key} {run[key]['seconds']:.2f} s, {run[key]['written']} written"
    return text


def summarize(context: SizeContext, runs: dict[str, list[Run]]) -> dict[str, Any]:
    """Medians, ratios and checks for one dataset, with every run kept."""
    tools = {tool: _tool_summary(items) for tool, items in runs.items()}
    summary: dict[str, Any] = {
        "dataset": {k: str(v) for k, v in dataclasses.asdict(context.dataset).items()},
        "prep": dataclasses.asdict(context.prep),
        "tools": tools,
        "same_pages": _same_pages(context.page_sets),
        "runs": runs,
    }
    summary["ratios"] = _ratios(tools, context.prep.seconds)
    summary["incremental"] = _incremental(runs, tools)
    summary["ok"] = all(t["failed"] == 0 for t in tools.values())
    return summary


def _tool_summary(items: list[Run]) -> dict[str, Any]:
    good = [r for r in items if r["full"]["exit_code"] == 0 and "pages" in r]
    summary: dict[str, Any] = {"runs": len(items), "failed": len(items) - len(good)}
    if not good:
        return summary
    seconds = [r["full"]["seconds"] for r in good]
    median = statistics.median(seconds)
    pages = good[0]["pages"]
    summary.update(
        median_s=median,
        all_s=seconds,
        pages=pages,
        pages_per_s=pages / median,
        max_rss_mb=max(r["full"]["max_rss_mb"] for r in good),
        tree_mb=max(r["full"]["tree_mb"] for r in good),
        tree_pss_mb=max(r["full"].get("tree_pss_mb", 0.0) for r in good),
        bytes_per_page=good[0]["html_bytes"] / pages if pages else 0,
    )
    return summary


def _ratios(tools: dict[str, dict[str, Any]], prep_seconds: float) -> dict[str, float]:
    ours = tools.get("ours", {}).get("median_s")
    ratios = {}
    for other in ("hugo", "eleventy"):
        theirs = tools.get(other, {}).get("median_s")
        if ours and theirs:
            ratios[f"ours/{other}"] = ours / theirs
            ratios[f"ours/({other}+prep)"] = ours / (theirs + prep_seconds)
    return ratios


def _incremental(runs: dict[str, list[Run]], tools: dict[str, dict[str, Any]]) -> dict[str, Any]:
    hugo_full = tools.get("hugo", {}).get("median_s")
    result: dict[str, Any] = {}
    for tool, key in (("ours", "no_change"), ("ours", "one_row"), ("hugo", "rebuild")):
        done = [r[key] for r in runs.get(tool, []) if key in r and r[key]["exit_code"] == 0]
        if not done:
            continue
        median = statistics.median(d["seconds"] for d in done)
        entry = {"median_s": median, "written": [d["written"] for d in done]}
        if hugo_full:
            entry["vs_hugo_full"] = median / hugo_full
        result[f"{tool}_{key}"] = entry
    return result


def _same_pages(page_sets: dict[str, frozenset[str]]) -> dict[str, Any]:
    """Whether every builder wrote the same set of HTML paths as ours."""
    ours = page_sets.get("ours")
    report: dict[str, Any] = {}
    for tool, paths in page_sets.items():
        if tool != "ours" and ours is not None:
            report[tool] = {"missing": len(ours - paths), "extra": len(paths - ours)}
    return report


def print_summary(size: dict[str, Any]) -> None:
    """The per-size table and the incremental lines."""
    dataset = size["dataset"]
    print(
        f"\n== {dataset['name']}: {dataset['towns']} towns, {dataset['rows']} rows; "
        f"prep (export for Hugo/Eleventy) {size['prep']['seconds']:.2f} s"
    )
    print(f"{'tool':<9}{'full s':>9}{'pages':>8}{'pages/s':>9}{'RSS MB':>8}{'PSS MB':>8}"
          f"{'tree RSS':>9}{'bytes/page':>12}")  # fmt: skip
    for tool, t in size["tools"].items():
        if "median_s" not in t:
            print(f"{tool:<9}{'failed':>9}")
            continue
        print(
            f"{tool:<9}{t['median_s']:>9.2f}{t['pages']:>8}{t['pages_per_s']:>9.0f}"
            f"{t['max_rss_mb']:>8.0f}{t.get('tree_pss_mb', 0):>8.0f}{t['tree_mb']:>9.0f}"
            f"{t['bytes_per_page']:>12.0f}"
        )
    for name, value in size["ratios"].items():
        print(f"{name}: {value:.2f}")
    for name, entry in size["incremental"].items():
        versus = f" = {entry['vs_hugo_full']:.3f} x Hugo full" if "vs_hugo_full" in entry else ""
        print(f"{name}: {entry['median_s']:.2f} s{versus}; files written {entry['written']}")
    for tool, diff in size["same_pages"].items():
        print(f"pages vs ours, {tool}: {diff['missing']} missing, {diff['extra']} extra")


def markdown(results: dict[str, Any]) -> str:
    """The results as the Markdown tables of benchmarks/README.md."""
    lines = [
        "| towns (rows) | tool | full build s (median) | pages | pages/s | peak memory MB "
        "(largest process / tree PSS / tree RSS) | bytes/page | ours ÷ tool (÷ tool + prep) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in results["sizes"].values():
        label = f"{int(size['dataset']['towns']):,} ({int(size['dataset']['rows']):,})"
        for tool, t in size["tools"].items():
            lines.append(_markdown_row(label, tool, t, size["ratios"]))
    lines += ["", "| towns | prep s | ours no-change s (written) | ours one-row s (written) "
              "| Hugo rebuild s (written) | no-change ÷ Hugo full |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for size in results["sizes"].values():
        lines.append(_markdown_incremental(size))
    return "\n".join(lines)


def _markdown_row(label: str, tool: str, t: dict[str, Any], ratios: dict[str, float]) -> str:
    if "median_s" not in t:
        return f"| {label} | {tool} | failed | | | | | |"
    ratio = ""
    if tool != "ours" and f"ours/{tool}" in ratios:
        ratio = f"{ratios[f'ours/{tool}']:.2f} ({ratios[f'ours/({tool}+prep)']:.2f})"
    pss = f"{t['tree_pss_mb']:.0f}" if t.get("tree_pss_mb") else "n/a"
    memory = f"{t['max_rss_mb']:.0f} / {pss} / {t['tree_mb']:.0f}"
    return (
        f"| {label} | {tool} | {t['median_s']:.2f} | {t['pages']:,} | {t['pages_per_s']:,.0f} "
        f"| {memory} | {t['bytes_per_page']:,.0f} | {ratio} |"
    )


def _markdown_incremental(size: dict[str, Any]) -> str:
    inc = size["incremental"]

    def cell(key: str) -> str:
        if key not in inc:
            return "n/a"
        return f"{inc[key]['median_s']:.2f} ({', '.join(map(str, inc[key]['written']))})"

    versus = inc.get("ours_no_change", {}).get("vs_hugo_full")
    return (
        f"| {int(size['dataset']['towns']):,} | {size['prep']['seconds']:.2f} "
        f"| {cell('ours_no_change')} | {cell('ours_one_row')} | {cell('hugo_rebuild')} "
        f"| {'' if versus is None else f'{versus:.3f}'} |"
    )


def _write_results(work: Path, results: dict[str, Any]) -> None:
    folder = work / "results"
    folder.mkdir(exist_ok=True)
    stamp = results["date"].replace(" ", "T").replace(":", "")[:17]
    text = json.dumps(results, indent=1)
    (folder / f"build-bench-{stamp}.json").write_text(text, encoding="utf-8")
    (folder / "latest.json").write_text(text, encoding="utf-8")
    print(f"results: {folder / 'latest.json'}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
