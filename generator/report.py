"""The build report: a JSON file beside the output for machines, a short summary for people."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from . import __version__
from .build import BuildResult
from .publish import COMPACT_JSON, OutputLocation, write_atomically


def build_report(result: BuildResult) -> dict[str, Any]:
    return {
        "generator": f"nova-landing-pages {__version__}",
        "pages": [
            {
                "path": p.path,
                "url": p.url,
                "kind": p.kind,
                "town": p.town,
                "state": p.state,
                "title": p.title,
                "indexable": p.indexable,
            }
            for p in result.pages
        ],
        "counts": result.counts_by_kind(),
        "files": {
            "written": result.written,
            "unchanged": result.unchanged,
            "removed": list(result.removed),
            "kept_foreign": list(result.kept_foreign),
        },
        "warnings": list(result.warnings),
        "seconds": round(result.seconds, 3),
        **result.extra,
    }


def write_report(out: Path, report: dict[str, Any]) -> Path:
    path = OutputLocation(out).report_path
    data = json.dumps(report, ensure_ascii=False, separators=COMPACT_JSON)
    write_atomically(path, data.encode("utf-8"))
    return path


def print_summary(result: BuildResult, out: Path, stream=None) -> None:
    stream = stream or sys.stdout
    if result.skipped:
        print(
            f"{out}: no input changed since the last build; {result.unchanged} files left "
            f"as they are ({result.seconds:.2f} s)",
            file=stream,
        )
        return
    for warning in result.warnings:
        print(warning, file=stream)
    kinds = ", ".join(f"{count} {kind}" for kind, count in result.counts_by_kind().items())
    print(f"built {len(result.pages)} pages into {out}/ ({kinds})", file=stream)
    print(
        f"files: {result.written} written, {result.unchanged} unchanged, "
        f"{len(result.removed)} removed"
        + (
            f", {len(result.kept_foreign)} not made by the generator kept"
            if result.kept_foreign
            else ""
        ),
        file=stream,
    )
    uniqueness = result.extra.get("uniqueness")
    if uniqueness:
        print(
            f"town pages' main text: max similarity {uniqueness['maximum']:.2f}, "
            f"95th percentile {uniqueness['p95']:.2f} ({uniqueness['method']}); "
            f"{len(uniqueness['flagged'])} pair(s) above {uniqueness['threshold']}",
            file=stream,
        )
    print(
        f"{len(result.warnings)} warning(s); report: {OutputLocation(out).report_path}; "
        f"{result.seconds:.2f} s",
        file=stream,
    )
