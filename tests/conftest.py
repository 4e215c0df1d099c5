"""Shared fixtures: the project's paths, the official schemas, and the default site built once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from lxml import etree

from generator.build import BuildOptions, BuildResult, build

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SCHEMAS = SHARED / "schemas"
SEED = SHARED / "seed" / "clinic-page.txt"
FIXED_EPOCH = "1795000000"  # 2026-11-18: fixed lastmod so builds are reproducible in tests


def load_schema(name: str) -> etree.XMLSchema:
    """One of the official sitemap XSDs; a missing one fails the test (never skips it)."""
    path = SCHEMAS / name
    if not path.is_file():
        pytest.fail(f"official XSD missing: {path} (CI lays ../shared beside the clone)")
    return etree.XMLSchema(etree.parse(str(path)))


@pytest.fixture(scope="session")
def schemas_dir() -> Path:
    load_schema("sitemap.xsd")
    return SCHEMAS


@pytest.fixture(scope="session")
def default_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    """The clinic's real site, built once from the repository's own inputs."""
    out = tmp_path_factory.mktemp("default-site") / "output"
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = FIXED_EPOCH
    try:
        result = build(BuildOptions(project=ROOT, out=out))
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH")
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
    return out, result


def copy_project(destination: Path) -> Path:
    """A copy of the project's inputs (settings, table, copy, templates) to modify in a test."""
    for name in ("data", "content", "templates"):
        shutil.copytree(ROOT / name, destination / name)
    shutil.copy(ROOT / "site.toml", destination / "site.toml")
    return destination
