"""Publishing: a complete new tree is staged beside the output folder, then swapped in at once.

The previous output stays untouched until the swap: a build that fails or is killed at any
point leaves it exactly as it was, and a reader sees either the old tree or the new one, never a
mix (the swap is one renameat2(RENAME_EXCHANGE) call). Unchanged files are hard-linked from the
previous tree, so they keep their inode and mtime. Files the generator did not create are
carried over, never deleted or overwritten. A lock file makes a second concurrent build on the
same output fail fast. The build record beside the output says which files the generator made;
it is written before the swap too, listing both trees, so a kill at any point still knows.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import json
import os
import posixpath
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

RENAME_EXCHANGE = 2
AT_FDCWD = -100
RECORD_VERSION = 1
COMPACT_JSON = (",", ":")
SHOWN_CONFLICTS = 5


class PublishError(Exception):
    """The output folder cannot be used (locked, unsafe, not a folder) or written."""


@dataclass(frozen=True)
class OutputFile:
    path: str  # relative, POSIX
    data: bytes


@dataclass(frozen=True)
class BuildRecord:
    """What the generator wrote last time: each file's digest and lastmod, and the inputs."""

    fingerprint: str = ""
    files: dict[str, dict[str, str]] = field(default_factory=dict)
    towns: dict[str, dict] = field(default_factory=dict)  # town href -> {"zips", "hub"}
    redirects: dict[str, str] = field(default_factory=dict)  # old href -> new href

    def lastmod(self, path: str, digest: str) -> str | None:
        entry = self.files.get(path)
        return entry.get("lastmod") if entry and entry.get("sha256") == digest else None


@dataclass(frozen=True)
class PublishResult:
    written: int
    unchanged: int
    removed: tuple[str, ...]
    kept_foreign: tuple[str, ...]


@dataclass(frozen=True)
class OutputLocation:
    """The output folder and the files the generator keeps beside it."""

    folder: Path

    @property
    def record_path(self) -> Path:
        return self.folder.parent / f".{self.folder.name}.record.json"

    @property
    def lock_path(self) -> Path:
        return self.folder.parent / f".{self.folder.name}.lock"

    @property
    def report_path(self) -> Path:
        return self.folder.parent / f"{self.folder.name}-report.json"

    def staging_path(self, tag: str) -> Path:
        return self.folder.parent / f".{self.folder.name}.{tag}-{os.getpid()}"

    def leftover_pattern(self) -> re.Pattern[str]:
        """Names of what a killed build may leave beside the output: trees and temporary files."""
        name = re.escape(self.folder.name)
        return re.compile(
            rf"\.{name}\.(staging|old)-\d+|\.(\.{name}\.record\.json|{name}-report\.json)\.tmp-\d+"
        )


def check_output_folder(folder: Path, protected: list[Path]) -> None:
    """Refuse an output folder that is, holds or lies inside an input, or is the project.

    `protected` lists the project folder first, then the inputs (files and folders). The output
    may lie inside the project, but not inside an input folder such as content/ or templates/.
    """
    if folder.is_symlink():
        raise PublishError(
            f"{folder} is a symbolic link; pass the folder it points to as the output folder"
        )
    target = folder.resolve()
    if (
        target == Path(target.anchor)
        or Path.home().resolve().is_relative_to(target)
        or ".git" in target.parts
    ):
        raise PublishError(f"refusing to use {folder} as the output folder")
    for index, path in enumerate(protected):
        source = path.resolve()
        inside = index > 0 and source.is_dir() and target.is_relative_to(source)
        if source.is_relative_to(target) or inside:
            what = f"the input {path}" if index else f"the project folder {source}"
            raise PublishError(
                f"refusing to use {folder} as the output folder: it would hold, replace or lie "
                f"inside {what}; choose a folder such as output/"
            )
    if folder.exists() and not folder.is_dir():
        raise PublishError(f"{folder} exists and is not a folder")


@contextmanager
def output_lock(location: OutputLocation) -> Iterator[None]:
    """Hold an exclusive lock on the output for the whole build; fail fast if another has it."""
    try:
        location.folder.parent.mkdir(parents=True, exist_ok=True)
        handle = open(location.lock_path, "a+")  # noqa: SIM115 - closed below
    except OSError as error:
        raise PublishError(f"cannot lock {location.folder}: {_reason(error)}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PublishError(
                f"another build is writing {location.folder} right now "
                f"(lock: {location.lock_path}); wait for it to finish"
            ) from None
        try:
            _recover(location)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _recover(location: OutputLocation) -> None:
    """Clear what a killed build left behind; restore the output if a swap was interrupted."""
    pattern = location.leftover_pattern()
    leftovers = sorted(p for p in location.folder.parent.iterdir() if pattern.fullmatch(p.name))
    olds = [p for p in leftovers if p.is_dir() and ".old-" in p.name]
    if not location.folder.exists() and olds:
        olds[-1].rename(location.folder)
        leftovers.remove(olds[-1])
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def read_record(location: OutputLocation) -> BuildRecord:
    try:
        raw = json.loads(location.record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return BuildRecord()
    if not isinstance(raw, dict) or raw.get("version") != RECORD_VERSION:
        return BuildRecord()
    files = raw.get("files", {})
    if not isinstance(files, dict) or not all(isinstance(e, dict) for e in files.values()):
        return BuildRecord()
    towns, redirects = raw.get("towns", {}), raw.get("redirects", {})
    if not isinstance(towns, dict) or not isinstance(redirects, dict):
        towns, redirects = {}, {}
    return BuildRecord(str(raw.get("fingerprint", "")), files, towns, redirects)


def write_record(location: OutputLocation, record: BuildRecord) -> None:
    """Write the record of a published build; the site is live already, so say so on failure."""
    try:
        write_atomically(location.record_path, _record_data(record))
    except OSError as error:
        raise PublishError(
            f"{location.folder} was published, but the build record "
            f"{location.record_path} could not be written: {_reason(error)}"
        ) from None


def _record_data(record: BuildRecord) -> bytes:
    return json.dumps(
        {
            "version": RECORD_VERSION,
            "fingerprint": record.fingerprint,
            "files": record.files,
            "towns": record.towns,
            "redirects": record.redirects,
        },
        sort_keys=True,
        separators=COMPACT_JSON,  # no indent: json's C encoder, 2x faster on a large site
    ).encode("utf-8")


def write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def output_matches_record(location: OutputLocation, record: BuildRecord) -> bool:
    """True when every file the record lists is in the output with the recorded size."""
    for path, entry in record.files.items():
        try:
            if (location.folder / path).stat().st_size != int(entry.get("size", -1)):
                return False
        except (OSError, ValueError):
            return False
    return bool(record.files)


@dataclass(frozen=True)
class StagedFile:
    """One file put in the staged tree: written anew, or linked unchanged from the output."""

    path: str
    digest: str
    size: int
    written: bool


def stage_file(
    staging: Path, current: Path, path: str, data: bytes, previous_digest: str | None
) -> StagedFile:
    """Put one file in the staged tree; safe to call from several processes at once."""
    target = staging / path
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()
    target.unlink(missing_ok=True)  # a page produced a second time (after the quality gate)
    if previous_digest == digest and _link_same(current / path, target, data):
        return StagedFile(path, digest, len(data), written=False)
    with open(target, "xb") as handle:
        handle.write(data)
    return StagedFile(path, digest, len(data), written=True)


class Staging:
    """The new tree beside the output, filled file by file, then swapped in by `finish`.

    Leaving the `with` block without `finish` (an error, a failed check) removes the staged
    tree; an OSError becomes a PublishError saying the output was not changed."""

    def __init__(self, location: OutputLocation, previous: BuildRecord) -> None:
        self.location = location
        self.previous = previous
        self.folder = location.staging_path("staging")
        self.staged: dict[str, StagedFile] = {}
        self.finished = False

    def __enter__(self) -> Staging:
        try:
            self.folder.mkdir()
        except OSError as error:
            raise self._error(error) from None
        return self

    def add(self, path: str, data: bytes) -> StagedFile:
        staged = stage_file(
            self.folder, self.location.folder, path, data, self._previous_digest(path)
        )
        self.keep(staged)
        return staged

    def keep(self, staged: StagedFile) -> None:
        """Count a file another process staged."""
        self.staged[staged.path] = staged

    def discard(self, paths: set[str]) -> None:
        """Take files out of the staged tree again (pages a second plan no longer has)."""
        for path in paths:
            (self.folder / path).unlink(missing_ok=True)
            self.staged.pop(path, None)

    def previous_digests(self) -> dict[str, str]:
        return {path: entry.get("sha256", "") for path, entry in self.previous.files.items()}

    def finish(self) -> PublishResult:
        current = self.location.folder
        ours = set(self.staged)
        kept = _carry_over_foreign(current, self.folder, self.previous, ours)
        removed = tuple(
            sorted(p for p in self.previous.files if p not in ours and (current / p).exists())
        )
        _match_mode(self.folder, current)
        _flush(self.folder)
        write_atomically(
            self.location.record_path, _record_data(_pending_record(self.previous, ours))
        )
        _swap_in(self.folder, self.location)
        self.finished = True
        written = sum(s.written for s in self.staged.values())
        return PublishResult(written, len(self.staged) - written, removed, kept)

    def __exit__(self, kind, error, traceback) -> None:
        if self.finished:
            return
        shutil.rmtree(self.folder, ignore_errors=True)
        if isinstance(error, OSError) and not isinstance(error, PublishError):
            raise self._error(error) from None

    def _previous_digest(self, path: str) -> str | None:
        entry = self.previous.files.get(path)
        return entry.get("sha256") if entry else None

    def _error(self, error: OSError) -> PublishError:
        folder = self.location.folder
        return PublishError(
            f"cannot write the new site beside {folder}: {_reason(error)}; {folder} was not changed"
        )


def _reason(error: OSError) -> str:
    where = f" ({error.filename})" if error.filename else ""
    return f"{error.strerror or error}{where}"


def _pending_record(previous: BuildRecord, ours: set[str]) -> BuildRecord:
    """The record while a swap may be under way: the files of both trees are the generator's,
    lastmods are the previous ones, and no fingerprint, so the next build never skips."""
    entries = dict(previous.files)
    for path in sorted(ours):
        entries.setdefault(path, {"sha256": "", "size": "-1", "lastmod": ""})
    return BuildRecord("", entries, previous.towns, previous.redirects)


def _link_same(old: Path, target: Path, data: bytes) -> bool:
    """Hard-link the previous file when it still holds exactly these bytes."""
    try:
        if old.is_symlink() or old.stat().st_size != len(data) or old.read_bytes() != data:
            return False
        os.link(old, target)
    except OSError:
        return False
    return True


def _carry_over_foreign(
    current: Path, staging: Path, previous: BuildRecord, ours: set[str]
) -> tuple[str, ...]:
    """Files in the output that the generator never wrote (e.g. a host's verification file),
    and folders holding none of its files, are linked into the new tree. A foreign file where
    the new build writes something else is an error: it is never overwritten."""
    if not current.is_dir():
        return ()
    kept, conflicts = [], []
    generated_dirs = _folders_of([*previous.files, *ours])
    for here, names, folders in _walk(current):
        for name in names:
            relative = f"{here}/{name}" if here else name
            if relative in previous.files:
                continue
            if relative in ours:
                if not _same_bytes(current / relative, (staging / relative).read_bytes()):
                    conflicts.append(relative)
                continue
            _link_foreign(current / relative, staging / relative)
            kept.append(relative)
        for name in folders:
            relative = f"{here}/{name}" if here else name
            if relative not in generated_dirs:
                (staging / relative).mkdir(parents=True, exist_ok=True)
    _refuse_conflicts(current, conflicts)
    return tuple(sorted(kept))


def _folders_of(paths: list[str]) -> set[str]:
    """Every folder above the given file paths ('a/b/c.html' -> 'a/b', 'a')."""
    folders: set[str] = set()
    for path in paths:
        folder = posixpath.dirname(path)
        while folder and folder not in folders:
            folders.add(folder)
            folder = posixpath.dirname(folder)
    return folders


def _walk(root: Path) -> Iterator[tuple[str, list[str], list[str]]]:
    """(folder relative to root, "" for root; its files and symbolic links; its real
    subfolders) for every folder below root, top down, names sorted."""
    pending = [""]
    while pending:
        here = pending.pop()
        names, folders = [], []
        with os.scandir(root / here if here else root) as entries:
            for entry in entries:
                (folders if entry.is_dir(follow_symlinks=False) else names).append(entry.name)
        names.sort()
        folders.sort()
        yield here, names, folders
        pending += [f"{here}/{name}" if here else name for name in reversed(folders)]


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return not path.is_symlink() and path.read_bytes() == data
    except OSError:
        return False


def _link_foreign(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        raise PublishError(
            f"{source} was not made by the generator and is in the way of a folder the new "
            "build needs; move it out of the output folder"
        )
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)


def _refuse_conflicts(current: Path, conflicts: list[str]) -> None:
    if conflicts:
        shown = ", ".join(conflicts[:SHOWN_CONFLICTS]) + (
            ", ..." if len(conflicts) > SHOWN_CONFLICTS else ""
        )
        raise PublishError(
            f"{len(conflicts)} file(s) in {current} were not made by the generator but the new "
            f"build writes the same path(s): {shown}; move them out of {current} (or delete "
            f"them) and build again; {current} was not changed"
        )


def _match_mode(staging: Path, current: Path) -> None:
    """The new tree keeps the permissions of the folder it replaces (e.g. group-readable)."""
    if current.is_dir():
        os.chmod(staging, current.stat().st_mode & 0o7777)


def _flush(root: Path) -> None:
    """Put the staged tree on disk before it goes live: one syncfs of its file system."""
    libc = _libc()
    syncfs = getattr(libc, "syncfs", None) if libc else None
    fd = os.open(root, os.O_RDONLY)
    try:
        if syncfs is None or syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def _swap_in(staging: Path, location: OutputLocation) -> None:
    folder = location.folder
    if not folder.exists():
        staging.rename(folder)
        return
    if _exchange(staging, folder):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous tree
        return
    old = location.staging_path("old")
    folder.rename(old)  # a kill here is repaired by _recover on the next build
    try:
        staging.rename(folder)
    except OSError:
        old.rename(folder)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two directories (Linux renameat2); False where unsupported."""
    libc = _libc()
    renameat2 = getattr(libc, "renameat2", None) if libc else None
    if renameat2 is None:
        return False
    result = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    if result == 0:
        return True
    if ctypes.get_errno() in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))
