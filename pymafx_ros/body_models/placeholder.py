"""Locate and unpack the vendored placeholder asset directory (structurally exact, fake numbers).

The licensed SMPL-X/MANO/FLAME files cannot ship with this package; the placeholder archive lets
tests and the demo run everywhere. Anything computed on it is meaningless as a human pose.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import tempfile
from pathlib import Path

ARCHIVE_NAME = "placeholder_data.tar.gz"
ARCHIVE_ENV = "PYMAFX_PLACEHOLDER_ARCHIVE"
CACHE_ENV = "PYMAFX_CACHE_DIR"
# Written last into an unpacked tree so a crash mid-extraction is never mistaken for a full copy.
_COMPLETE_MARK = ".complete"


def _candidate_archives() -> list[Path]:
    here = Path(__file__).resolve()
    candidates = [here.parents[2] / "tests" / "fixtures" / ARCHIVE_NAME]  # source checkout
    if len(here.parents) > 5:
        # colcon install: <prefix>/lib/python3.X/site-packages/pymafx_ros/body_models/
        candidates.append(here.parents[5] / "share" / "pymafx_ros" / "placeholder" / ARCHIVE_NAME)
    if os.environ.get(ARCHIVE_ENV):
        candidates.insert(0, Path(os.environ[ARCHIVE_ENV]))
    return candidates


def placeholder_archive() -> Path:
    """Return the path of the placeholder archive, or explain where it was looked for."""
    candidates = _candidate_archives()
    for path in candidates:
        if path.is_file():
            return path
    tried = ", ".join(str(p) for p in candidates)
    raise FileNotFoundError(
        f"placeholder asset archive {ARCHIVE_NAME} not found (tried {tried}); "
        f"set {ARCHIVE_ENV} to its path"
    )


def cache_root() -> Path:
    """Directory for unpacked assets: $PYMAFX_CACHE_DIR, else $XDG_CACHE_HOME/pymafx_ros."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pymafx_ros"


def placeholder_data_dir() -> Path:
    """Unpack the placeholder archive once (keyed by its hash); return its ``data/`` directory."""
    archive = placeholder_archive()
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
    target = cache_root() / f"placeholder-{digest}"
    if not (target / _COMPLETE_MARK).is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        # Extract beside the target and rename, so concurrent processes never see half a tree.
        staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
        with tarfile.open(archive) as tar:
            tar.extractall(staging, filter="data")
        (staging / _COMPLETE_MARK).write_text(digest)
        try:
            staging.rename(target)
        except OSError:  # another process won the race; its copy is complete
            _remove_tree(staging)
    return target / "data"


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
