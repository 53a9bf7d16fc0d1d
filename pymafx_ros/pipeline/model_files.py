"""Check every file the model would load, without building the model: per file, ok or what is
wrong and where the right file comes from. Used by the node before it starts (a broken file
stops it at once, with exit code 2) and by ``pymafx-ros check``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pymafx_ros.body_models.errors import AssetError
from pymafx_ros.body_models.layout import DATA_DIR_HELP, LAYOUT, LOAD_ORDER
from pymafx_ros.body_models.validate import load_file
from pymafx_ros.model.checkpoint import (
    EXPECTED_FILE,
    CheckpointError,
    check_compatible,
    read_state_dict,
)
from pymafx_ros.model.factory import STATE_DICT_TABLE
from pymafx_ros.model.seeded_weights import read_state_dict_table

CHECKPOINT_SOURCE = f"{EXPECTED_FILE}; see https://github.com/HongwenZhang/PyMAF-X#necessary-files"


@dataclass(frozen=True)
class FileReport:
    """One checked file: ``problem`` is None when it is fine."""

    path: Path
    problem: str | None
    source: str  # where the right file comes from

    @property
    def ok(self) -> bool:
        return self.problem is None

    def describe(self) -> str:
        """One or two lines: the path and 'ok', or what is wrong and where to get the file."""
        if self.ok:
            return f"ok       {self.path}"
        return f"PROBLEM  {self.path}: {self.problem}\n         where to get it: {self.source}"


class ModelFilesError(ValueError):
    """Some model files are missing or broken; the message names each and what is wrong."""

    def __init__(self, reports: list[FileReport]) -> None:
        self.reports = [r for r in reports if not r.ok]
        lines = [f"{r.path}: {r.problem}\n  where to get it: {r.source}" for r in self.reports]
        super().__init__("\n".join(lines))


def check_data_dir(data_dir: str | Path) -> list[FileReport]:
    """Validate every file of a PyMAF-X ``data/`` directory (content, keys, shapes, safety)."""
    data_dir = Path(data_dir).expanduser()
    if not data_dir.is_dir():
        return [FileReport(data_dir, "not a directory", DATA_DIR_HELP)]
    reports = []
    for relative in LOAD_ORDER:
        spec = LAYOUT[relative]
        try:
            load_file(data_dir, spec)
        except AssetError as err:
            reports.append(FileReport(data_dir / relative, err.problem, spec.source))
        else:
            reports.append(FileReport(data_dir / relative, None, spec.source))
    return reports


def check_checkpoint(path: str | Path, table: Path = STATE_DICT_TABLE) -> FileReport:
    """Validate a checkpoint's keys and shapes against the official v1.1 table (tensors are
    memory-mapped, not read, so this takes about a second even for the full file)."""
    path = Path(path).expanduser()
    expected = {entry.key: entry.shape for entry in read_state_dict_table(table)}
    try:
        check_compatible(expected, read_state_dict(path, mmap=True), str(path))
    except FileNotFoundError:
        return FileReport(path, "file not found", CHECKPOINT_SOURCE)
    except CheckpointError as err:
        problem = str(err).removeprefix(f"{path}: ").removeprefix(f"{path} ")
        for said in (f"; expected {EXPECTED_FILE}", f" expected {EXPECTED_FILE}."):
            problem = problem.replace(said, "")
        return FileReport(path, problem, CHECKPOINT_SOURCE)
    return FileReport(path, None, CHECKPOINT_SOURCE)


def check_model_files(
    data_dir: str | Path | None, checkpoint: str | Path | None
) -> list[FileReport]:
    """Reports for the given data directory and checkpoint (None: the bundled placeholder,
    which is not checked here)."""
    reports = check_data_dir(data_dir) if data_dir else []
    if checkpoint:
        reports.append(check_checkpoint(checkpoint))
    return reports


def require_model_files(data_dir: str | Path | None, checkpoint: str | Path | None) -> None:
    """Raise ModelFilesError naming every broken file (see ``check_model_files``)."""
    reports = check_model_files(data_dir, checkpoint)
    if not all(r.ok for r in reports):
        raise ModelFilesError(reports)
