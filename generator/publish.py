"""Publishing: a complete new tree is staged beside the output folder, then swapped in at once.

The previous output stays untouched until the swap: a build that fails or is killed at any
point leaves it exactly as it was. Unchanged files are hard-linked from the previous tree, so
they keep their inode and mtime. Files the generator did not create are carried over, never
deleted. A lock file makes a second concurrent build on the same output fail fast.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

RENAME_EXCHANGE = 2
AT_FDCWD = -100
RECORD_VERSION = 1


class PublishError(Exception):
    """The output folder cannot be used (locked, unsafe, not a folder)."""


@dataclass(frozen=True)
class OutputFile:
    path: str  # relative, POSIX
    data: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class BuildRecord:
    """What the generator wrote last time: each file's digest and lastmod, and the inputs."""

    fingerprint: str = ""
    files: dict[str, dict[str, str]] = field(default_factory=dict)

    def lastmod(self, path: str, digest: str) -> str | None:
        entry = self.files.get(path)
        return entry["lastmod"] if entry and entry.get("sha256") == digest else None


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


def check_output_folder(folder: Path, protected: list[Path]) -> None:
    """Refuse an output folder that is, or contains, an input or the project itself."""
    target = folder.resolve()
    if target == Path(target.anchor) or target == Path.home().resolve():
        raise PublishError(f"refusing to use {folder} as the output folder")
    for path in protected:
        source = path.resolve()
        if target == source or source.is_relative_to(target):
            raise PublishError(
                f"refusing to use {folder} as the output folder: it would hold "
                f"or replace the input {path}"
            )
    if folder.exists() and not folder.is_dir():
        raise PublishError(f"{folder} exists and is not a folder")


@contextmanager
def output_lock(location: OutputLocation) -> Iterator[None]:
    """Hold an exclusive lock on the output for the whole build; fail fast if another has it."""
    location.folder.parent.mkdir(parents=True, exist_ok=True)
    with open(location.lock_path, "a+") as handle:
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
    prefix = f".{location.folder.name}."
    leftovers = sorted(
        p
        for p in location.folder.parent.iterdir()
        if p.name.startswith(prefix) and p.is_dir() and (".staging-" in p.name or ".old-" in p.name)
    )
    if not location.folder.exists():
        olds = [p for p in leftovers if ".old-" in p.name]
        if olds:
            olds[-1].rename(location.folder)
            leftovers.remove(olds[-1])
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)


def read_record(location: OutputLocation) -> BuildRecord:
    try:
        raw = json.loads(location.record_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return BuildRecord()
    if raw.get("version") != RECORD_VERSION:
        return BuildRecord()
    return BuildRecord(fingerprint=raw.get("fingerprint", ""), files=raw.get("files", {}))


def write_record(location: OutputLocation, record: BuildRecord) -> None:
    data = json.dumps(
        {"version": RECORD_VERSION, "fingerprint": record.fingerprint, "files": record.files},
        indent=1,
        sort_keys=True,
    ).encode("utf-8")
    write_atomically(location.record_path, data)


def write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def output_matches_record(location: OutputLocation, record: BuildRecord) -> bool:
    """True when every file the record lists is in the output with the recorded size."""
    for path, entry in record.files.items():
        try:
            if (location.folder / path).stat().st_size != int(entry.get("size", -1)):
                return False
        except OSError:
            return False
    return bool(record.files)


def publish(
    location: OutputLocation, files: list[OutputFile], previous: BuildRecord
) -> PublishResult:
    """Stage every file (hard-linking unchanged ones), carry over foreign files, swap."""
    staging = location.staging_path("staging")
    staging.mkdir()
    try:
        written, unchanged = _stage(staging, location.folder, files, previous)
        ours = {f.path for f in files}
        kept = _carry_over_foreign(location.folder, staging, previous, ours)
        removed = tuple(
            sorted(p for p in previous.files if p not in ours and (location.folder / p).exists())
        )
        _fsync_tree(staging)
        _swap_in(staging, location)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return PublishResult(written, unchanged, removed, kept)


def _stage(
    staging: Path, current: Path, files: list[OutputFile], previous: BuildRecord
) -> tuple[int, int]:
    written = unchanged = 0
    for item in files:
        target = staging / item.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if _link_unchanged(current / item.path, target, item, previous):
            unchanged += 1
            continue
        with open(target, "wb") as handle:
            handle.write(item.data)
        written += 1
    return written, unchanged


def _link_unchanged(old: Path, target: Path, item: OutputFile, previous: BuildRecord) -> bool:
    entry = previous.files.get(item.path)
    if not entry or entry.get("sha256") != item.digest:
        return False
    try:
        if old.stat().st_size != len(item.data) or old.read_bytes() != item.data:
            return False
        os.link(old, target)
    except OSError:
        return False
    return True


def _carry_over_foreign(
    current: Path, staging: Path, previous: BuildRecord, ours: set[str]
) -> tuple[str, ...]:
    """Files in the output that the generator never wrote (e.g. a host's verification file)."""
    if not current.is_dir():
        return ()
    kept = []
    for path in sorted(current.rglob("*")):
        relative = path.relative_to(current).as_posix()
        if path.is_dir() or relative in previous.files or relative in ours:
            continue
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target, follow_symlinks=False)
        except OSError:
            shutil.copy2(path, target, follow_symlinks=False)
        kept.append(relative)
    return tuple(kept)


def _fsync_tree(root: Path) -> None:
    """Flush the staged tree's directory entries so a crash after the swap cannot lose them."""
    for directory in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
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
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two directories (Linux renameat2); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    if result == 0:
        return True
    if ctypes.get_errno() in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))
