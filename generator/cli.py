"""Command line: parse arguments, call build() / validate() / audit, print, set the exit code.

Exit codes: 0 success; 1 the built site has errors (validate, audit gate); 2 bad input or a
build that could not be published (the previous output is untouched).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import progress
from .audit import audit_site, format_report
from .build import BuildFailed, BuildOptions, build
from .problems import InputError, Severity
from .publish import OutputLocation, PublishError
from .report import build_report, print_summary, write_report
from .site_check import validate_site

EXIT_OK, EXIT_CHECK_FAILED, EXIT_INPUT = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    return args.handler(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m generator", description="Build NOVA Health Recovery's landing pages."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    build_cmd = commands.add_parser("build", help="build the site into the output folder")
    build_cmd.add_argument("--config", type=Path, help="settings file (default: site.toml)")
    build_cmd.add_argument(
        "--locations",
        type=Path,
        default=Path("data/locations.csv"),
        help="location table (default: data/locations.csv)",
    )
    build_cmd.add_argument(
        "--content", type=Path, default=Path("content"), help="copy folder (default: content)"
    )
    build_cmd.add_argument(
        "--templates",
        type=Path,
        default=Path("templates"),
        help="templates folder (default: templates)",
    )
    build_cmd.add_argument(
        "--out", type=Path, default=Path("output"), help="output folder (default: output)"
    )
    build_cmd.add_argument("--strict", action="store_true", help="fail on warnings too")
    build_cmd.add_argument(
        "--force", action="store_true", help="rebuild every page even when no input changed"
    )
    build_cmd.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="processes producing pages (default: one per core)",
    )
    build_cmd.set_defaults(handler=_build)

    validate_cmd = commands.add_parser("validate", help="check a built site (for auditors)")
    validate_cmd.add_argument("site", type=Path, help="the built site's folder")
    validate_cmd.add_argument("--base-url", help="expected base URL (default: from sitemap.xml)")
    validate_cmd.add_argument("--json", action="store_true", help="machine-readable output")
    validate_cmd.add_argument("--strict", action="store_true", help="fail on warnings too")
    validate_cmd.set_defaults(handler=_validate)

    audit_cmd = commands.add_parser(
        "audit", help="measure how similar a built site's town pages are"
    )
    audit_cmd.add_argument("site", type=Path, help="the built site's folder")
    audit_cmd.add_argument(
        "--threshold",
        type=float,
        default=0.6,
        help="flag pairs more similar than this (default: 0.6)",
    )
    audit_cmd.add_argument("--json", action="store_true", help="machine-readable output")
    audit_cmd.set_defaults(handler=_audit)
    return parser


def _build(args: argparse.Namespace) -> int:
    options = BuildOptions(
        config=args.config,
        locations=args.locations,
        content=args.content,
        templates=args.templates,
        out=args.out,
        strict=args.strict,
        # The report is written last: when a build was killed just before, its output is
        # complete but the report is missing, and the "nothing changed" shortcut would skip it.
        force=args.force or not OutputLocation(args.out).report_path.exists(),
        workers=args.jobs,
    )
    try:
        result = build(options, progress.for_stream(sys.stderr))
    except InputError as error:
        _print_problems(error.problems)
        return EXIT_INPUT
    except BuildFailed as failure:
        errors = [f for f in failure.findings if f.severity is Severity.ERROR or args.strict]
        for finding in errors:
            print(finding, file=sys.stderr)
        print(
            f"build failed: {len(errors)} problem(s) in the built pages; "
            f"{options.out} was not changed",
            file=sys.stderr,
        )
        return EXIT_INPUT
    except PublishError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT
    if not result.skipped:
        write_report(options.out, build_report(result))
    print_summary(result, options.out)
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    report = validate_site(args.site, args.base_url)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(report.format())
    return EXIT_CHECK_FAILED if report.failed(args.strict) else EXIT_OK


def _audit(args: argparse.Namespace) -> int:
    if not args.site.is_dir():
        print(f"error: {args.site} is not a folder", file=sys.stderr)
        return EXIT_INPUT
    report = audit_site(args.site, threshold=args.threshold)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_report(report))
    return EXIT_CHECK_FAILED if report.flagged else EXIT_OK


def _print_problems(problems) -> None:
    errors = [p for p in problems if p.severity is Severity.ERROR]
    for problem in sorted(problems, key=lambda p: (p.file, p.row or 0, p.column or "")):
        print(problem, file=sys.stderr)
    print(
        f"build stopped: {len(errors)} error(s) in the inputs; nothing was written", file=sys.stderr
    )


if __name__ == "__main__":
    sys.exit(main())
