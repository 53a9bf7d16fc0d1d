"""The one error type of the asset loader: what is wrong, in which file, and how to fix it."""

from __future__ import annotations

from pathlib import Path


class AssetError(ValueError):
    """A data-directory file is missing, unreadable, unsafe or not shaped as PyMAF-X expects."""

    def __init__(self, path: str | Path, problem: str, source: str = "") -> None:
        self.path = Path(path)
        self.problem = problem
        self.source = source
        message = f"{self.path}: {problem}"
        if source:
            message += f"\n  where to get it: {source}"
        super().__init__(message)
