"""Seeded stand-in weights for the PyMAF-X v1.1 state dict (numpy-only recipe).

The trained checkpoint is a licensed download; the parity fixtures were produced with weights
drawn by this recipe from the state-dict table (``pymafx_v1.1_state_dict.tsv``), so the same
draws let any port be checked bit-for-bit against the official code without the checkpoint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

_NORMAL = re.compile(r"^normal\(std=([^)]+)\)$")
_NORMAL_SHIFT = re.compile(r"^normal\(std=([^)]+)\) \+ \[([^\]]+)\]$")
_SCALED = re.compile(r"^scale_one_plus_normal\(scale=([^,]+), std=([^)]+)\)$")
_UNIFORM = re.compile(r"^uniform\(low=([^,]+), high=([^)]+)\)$")


@dataclass(frozen=True)
class StateDictEntry:
    """One row of the official state-dict table: key, shape, dtype and how it is initialised."""

    key: str
    shape: tuple[int, ...]
    dtype: str
    kind: str
    init_rule: str
    source: str


def read_state_dict_table(path: str | Path) -> list[StateDictEntry]:
    """Parse the state-dict TSV (comment lines start with '#'), keeping the file's row order."""
    entries = []
    header_seen = False
    for line in Path(path).read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        cols = line.split("\t")
        if not header_seen:
            header_seen = cols[0] == "key"
            if header_seen:
                continue
        key, shape, dtype, kind, rule = cols[:5]
        source = cols[5] if len(cols) > 5 else ""
        dims = tuple(int(d) for d in shape.split(",")) if shape.strip() else ()
        rule = rule.split("#", 1)[0].strip()
        entries.append(StateDictEntry(key, dims, dtype, kind, rule, source))
    if not entries:
        raise ValueError(f"{path}: no state-dict rows found (expected a 'key<TAB>shape...' table)")
    return entries


def _draw(rng: np.random.Generator, rule: str, shape: tuple[int, ...]) -> np.ndarray:
    """Draw one tensor in float64 exactly as the recipe prescribes."""
    if m := _NORMAL_SHIFT.match(rule):
        shift = np.array([float(v) for v in m.group(2).split(",")])
        return rng.standard_normal(size=shape) * float(m.group(1)) + shift
    if m := _NORMAL.match(rule):
        return rng.standard_normal(size=shape) * float(m.group(1))
    if m := _SCALED.match(rule):
        scale, std = float(m.group(1)), float(m.group(2))
        return scale * (1.0 + std * rng.standard_normal(size=shape))
    if m := _UNIFORM.match(rule):
        return rng.uniform(float(m.group(1)), float(m.group(2)), size=shape)
    raise ValueError(f"unknown init rule {rule!r}")


def seeded_state_dict(
    table: str | Path | list[StateDictEntry], seed: int
) -> dict[str, torch.Tensor]:
    """Draw every non-'keep' tensor of the table with ``default_rng(seed)``, in table order.

    Returns float32 tensors keyed like the official state dict. Kept entries (asset buffers,
    ``num_batches_tracked``) are absent: they come from the model as constructed.
    """
    entries = table if isinstance(table, list) else read_state_dict_table(table)
    # The recipe's draw order is the code-point order of the keys; the table is stored that way,
    # sorting again guards against a re-ordered file.
    rng = np.random.default_rng(seed)
    out: dict[str, torch.Tensor] = {}
    for entry in sorted(entries, key=lambda e: e.key):
        if entry.init_rule == "keep":
            continue
        out[entry.key] = torch.from_numpy(
            _draw(rng, entry.init_rule, entry.shape).astype(np.float32)
        )
    return out


def apply_seeded_weights(module: torch.nn.Module, table: str | Path, seed: int) -> None:
    """Overwrite a model's drawn tensors with the seeded recipe; kept buffers stay as built."""
    drawn = seeded_state_dict(table, seed)
    state = module.state_dict()
    missing = sorted(set(drawn) - set(state))
    if missing:
        raise KeyError(f"model lacks {len(missing)} drawn keys, e.g. {missing[:5]}")
    with torch.no_grad():
        for key, value in drawn.items():
            if state[key].shape != value.shape:
                raise ValueError(
                    f"{key}: model shape {tuple(state[key].shape)} != table {tuple(value.shape)}"
                )
            state[key].copy_(value)
