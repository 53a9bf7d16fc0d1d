"""On-disk cache of built model artefacts (ONNX files, OpenVINO compiled blobs).

Building them takes minutes, loading them seconds. Every entry is a folder named after a hash
of everything that shapes its content (weights, model code, precision, library versions), so
changing any of them builds a new entry instead of loading a stale one. Entries are built in a
temporary folder and renamed into place (readers never see half an entry), guarded by a file
lock (two processes never build the same entry twice), and carry a manifest with every file's
size and SHA-256: an entry with a missing or truncated file, or that a runtime fails to load,
is deleted and built again instead of crashing the node. Of the entries for one program and
precision only the ``KEEP_PER_PROGRAM`` most recently used stay (older weights or code versions
are deleted when a new one is built), so the cache does not grow without bound.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pymafx_ros.storage import cache_root, file_sha256, write_folder_atomic

LOG = logging.getLogger(__name__)

MANIFEST = "manifest.json"
LAYOUT_VERSION = "1"  # bump when the entry layout itself changes
KEEP_PER_PROGRAM = 2


def default_cache_dir() -> Path:
    """``$PYMAFX_CACHE_DIR/backends``, else ``~/.cache/pymafx_ros/backends``."""
    return cache_root() / "backends"


@dataclass(frozen=True)
class EntryKey:
    """What an entry holds (``kind``, ``program``, ``precision``) and what it was built from
    (``inputs``: weights hash, code version, library versions...)."""

    kind: str
    program: str
    precision: str
    inputs: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "layout": LAYOUT_VERSION,
            "kind": self.kind,
            "program": self.program,
            "precision": self.precision,
            "inputs": dict(sorted(self.inputs.items())),
        }

    @property
    def family(self) -> str:
        """Folder-name prefix shared by every version of this program and precision."""
        return f"{self.kind}-{self.program}-{self.precision}-"

    @property
    def folder_name(self) -> str:
        text = json.dumps(self.as_dict(), sort_keys=True)
        return self.family + hashlib.sha256(text.encode()).hexdigest()[:20]


class ArtefactCache:
    """Entries under ``root`` (default: ``default_cache_dir()``)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()

    @contextlib.contextmanager
    def _locked(self, key: EntryKey) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / f".{key.folder_name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def check(self, key: EntryKey) -> str | None:
        """Why the entry for ``key`` cannot be used (None when it can): missing, no or
        unreadable manifest, another key, a file missing or of the wrong size."""
        folder = self.root / key.folder_name
        if not folder.is_dir():
            return "not built yet"
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
            files = manifest["files"]
            if manifest["key"] != key.as_dict():
                return "its manifest names another key"
        except (OSError, ValueError, KeyError, TypeError) as error:
            return f"unreadable manifest ({error})"
        for name, record in files.items():
            path = folder / name
            if not path.is_file() or path.stat().st_size != record["size"]:
                return f"{name} is missing or truncated"
        return None

    def verify(self, key: EntryKey) -> str | None:
        """Like ``check``, and also compares every file's SHA-256 (reads the whole entry)."""
        problem = self.check(key)
        if problem is not None:
            return problem
        folder = self.root / key.folder_name
        files = json.loads((folder / MANIFEST).read_text())["files"]
        for name, record in files.items():
            if file_sha256(folder / name) != record["sha256"]:
                return f"{name} does not match its checksum"
        return None

    def get_or_build(self, key: EntryKey, build: Callable[[Path], None], describe: str) -> Path:
        """The entry folder for ``key``; builds it first with ``build(folder)`` when it is
        missing or damaged. ``describe`` names it in the log (e.g. "OpenVINO body encoder")."""
        folder = self.root / key.folder_name
        with self._locked(key):
            problem = self.check(key)
            if problem is None:
                LOG.debug("using cached %s: %s", describe, folder)
                os.utime(folder / MANIFEST)  # most recently used: kept by _prune
                return folder
            if folder.exists():
                LOG.warning(
                    "cached %s at %s is unusable (%s): rebuilding", describe, folder, problem
                )
                shutil.rmtree(folder, ignore_errors=True)
            LOG.info(
                "building %s (once for these weights, code and library versions; cached in %s)",
                describe,
                self.root,
            )
            start = time.perf_counter()

            def build_with_manifest(staging: Path) -> None:
                build(staging)
                seconds = time.perf_counter() - start
                files = {
                    str(path.relative_to(staging)): {
                        "size": path.stat().st_size,
                        "sha256": file_sha256(path),
                    }
                    for path in sorted(staging.rglob("*"))
                    if path.is_file()
                }
                manifest = {"key": key.as_dict(), "files": files, "build_seconds": seconds}
                (staging / MANIFEST).write_text(json.dumps(manifest, indent=1))

            # Readers never see half an entry: built aside, renamed into place.
            write_folder_atomic(folder, build_with_manifest, replace=True)
            LOG.info("built %s in %.1f s", describe, time.perf_counter() - start)
        self._prune(key)
        return folder

    def _prune(self, key: EntryKey) -> None:
        """Delete all but the ``KEEP_PER_PROGRAM`` most recently used entries of the family."""

        def last_used(folder: Path) -> float:
            try:
                return (folder / MANIFEST).stat().st_mtime
            except OSError:
                return 0.0

        family = sorted(
            (f for f in self.root.glob(key.family + "*") if f.is_dir()),
            key=last_used,
            reverse=True,
        )
        for old in family[KEEP_PER_PROGRAM:]:
            LOG.info("removing an older cached artefact: %s", old)
            shutil.rmtree(old, ignore_errors=True)

    def discard(self, key: EntryKey, reason: str) -> None:
        """Delete an entry a runtime could not load (it is rebuilt on the next request)."""
        folder = self.root / key.folder_name
        with self._locked(key):
            if folder.exists():
                LOG.warning("discarding cached %s: %s", folder, reason)
                shutil.rmtree(folder, ignore_errors=True)
