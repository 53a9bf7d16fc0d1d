"""Locate and unpack the vendored placeholder asset directory (structurally exact, fake numbers).

The licensed SMPL-X/MANO/FLAME files cannot ship with this package; the placeholder archive lets
tests and the demo run everywhere. Anything computed on it is meaningless as a human pose.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

from pymafx_ros.storage import cache_root, file_sha256, write_folder_atomic

ARCHIVE_NAME = "placeholder_data.tar.gz"
ARCHIVE_ENV = "PYMAFX_PLACEHOLDER_ARCHIVE"
# Package data (pyproject's package-data; the colcon install copies the package folder whole),
# so a source checkout, a pip install and the installed node all find it beside this module.
PACKAGED_ARCHIVE = Path(__file__).resolve().parent / "data" / ARCHIVE_NAME
# Written last into an unpacked tree so a crash mid-extraction is never mistaken for a full copy.
_COMPLETE_MARK = ".complete"


def _candidate_archives() -> list[Path]:
    candidates = [PACKAGED_ARCHIVE]
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


def placeholder_data_dir() -> Path:
    """Unpack the placeholder archive once (keyed by its hash); return its ``data/`` directory."""
    archive = placeholder_archive()
    digest = file_sha256(archive)[:16]
    target = cache_root() / f"placeholder-{digest}"
    if not (target / _COMPLETE_MARK).is_file():

        def unpack(staging: Path) -> None:
            with tarfile.open(archive) as tar:
                tar.extractall(staging, filter="data")
            (staging / _COMPLETE_MARK).write_text(digest)

        # All or nothing: concurrent processes never see half a tree (first rename wins).
        write_folder_atomic(target, unpack)
    return target / "data"
