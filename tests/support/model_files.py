"""Model files for the file-check tests: a data directory of links to the placeholder files
with one file replaced, and small checkpoints with the official keys and shapes (every tensor
a broadcast view of one number, so the file is under 1 MB however large the model)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import torch

from pymafx_ros.body_models.placeholder import placeholder_data_dir
from pymafx_ros.model.factory import STATE_DICT_TABLE
from pymafx_ros.model.seeded_weights import read_state_dict_table


def data_dir_with(root: Path, relative: str, content: bytes | None) -> Path:
    """A copy (by links) of the placeholder data directory in ``root`` whose ``relative`` file
    holds ``content`` (None: the file is missing)."""
    source = placeholder_data_dir()
    for path in source.rglob("*"):
        if path.is_file():
            target = root / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(path, target)
    (root / relative).unlink()
    if content is not None:
        (root / relative).write_bytes(content)
    return root


def npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


class RunsCode:
    """Unpickling this would run ``touch <marker>``: a pickle carrying a code payload."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def code_pickle(marker: Path) -> bytes:
    return pickle.dumps({"v_template": RunsCode(marker)}, protocol=2)


def tiny_checkpoint(
    path: Path,
    drop: tuple[str, ...] = (),
    extra: tuple[str, ...] = (),
    reshape: dict[str, tuple[int, ...]] | None = None,
) -> Path:
    """An official-layout checkpoint ({'model': state dict}) without ``drop``, with ``extra``
    keys and ``reshape``d keys."""
    dtypes = {"float32": torch.float32, "int64": torch.int64}
    state = {}
    for entry in read_state_dict_table(STATE_DICT_TABLE):
        if entry.key in drop:
            continue
        shape = (reshape or {}).get(entry.key, entry.shape)
        state[entry.key] = torch.zeros((), dtype=dtypes.get(entry.dtype, torch.float32)).expand(
            shape
        )
    for key in extra:
        state[key] = torch.zeros(3)
    torch.save({"model": state}, path)
    return path
