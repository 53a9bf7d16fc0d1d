"""Strict loading of a PyMAF-X v1.1 checkpoint into the port's model.

The official demo saves ``{'model': state_dict, ...}`` (keys possibly prefixed ``module.`` when
trained with DataParallel); a bare state dict is accepted too. Loading is strict: every key of
the model must be present with the same shape, and nothing else, else a readable error says what
differs and which file was expected.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

EXPECTED_FILE = (
    "the PyMAF-X v1.1 full-body checkpoint (PyMAF-X_model_checkpoint_v1.1.pt from the official "
    "release, a dict with a 'model' state dict)"
)
_SHOWN = 5
_DATA_PARALLEL_PREFIX = "module."


class CheckpointError(RuntimeError):
    """The file is not a loadable PyMAF-X v1.1 checkpoint for this model."""


def _load(path: Path, mmap: bool) -> object:
    if mmap:
        try:
            return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as err:
            if "mmap" not in str(err):  # a legacy (non-zip) file cannot be mapped: read it
                raise
    return torch.load(path, map_location="cpu", weights_only=True)


def read_state_dict(path: str | Path, mmap: bool = False) -> dict[str, torch.Tensor]:
    """Read the tensors of a checkpoint file (weights only, never arbitrary pickled objects).

    ``mmap`` maps the tensors instead of reading them (a quick check of keys and shapes)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist; expected {EXPECTED_FILE}")
    try:
        content = _load(path, mmap)
    except OSError as err:
        raise CheckpointError(f"{path}: cannot be read ({err}); expected {EXPECTED_FILE}") from err
    except pickle.UnpicklingError as err:  # torch's text suggests weights_only=False: never
        raise CheckpointError(
            f"{path}: not a torch checkpoint, or one holding Python objects besides tensors "
            f"(only weights are ever loaded); expected {EXPECTED_FILE}"
        ) from err
    except Exception as err:  # any parse failure of untrusted bytes is a bad file, not a bug
        raise CheckpointError(
            f"{path}: cannot be read as a weights-only torch checkpoint ({err.__class__.__name__}:"
            f" {str(err).splitlines()[0] if str(err) else ''}); expected {EXPECTED_FILE}"
        ) from err
    state = _unwrap(content, path)
    if all(key.startswith(_DATA_PARALLEL_PREFIX) for key in state):
        state = {key[len(_DATA_PARALLEL_PREFIX) :]: value for key, value in state.items()}
    return state


def _unwrap(content: object, path: Path) -> dict[str, torch.Tensor]:
    """The state dict inside the official container ({'model': ...}) or a bare state dict."""
    if isinstance(content, Mapping) and isinstance(content.get("model"), Mapping):
        content = content["model"]
    if not isinstance(content, Mapping) or not content:
        raise CheckpointError(f"{path}: holds no state dict; expected {EXPECTED_FILE}")
    not_tensors = [k for k, v in content.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise CheckpointError(
            f"{path}: entries {not_tensors[:_SHOWN]} are not tensors; expected {EXPECTED_FILE}"
        )
    return dict(content)


def _sample(keys: list[str]) -> str:
    shown = ", ".join(keys[:_SHOWN])
    more = f", ... ({len(keys) - _SHOWN} more)" if len(keys) > _SHOWN else ""
    return f"{len(keys)}: {shown}{more}"


def check_compatible(
    expected: Mapping[str, tuple[int, ...]], state: Mapping[str, torch.Tensor], source: str
) -> None:
    """Raise CheckpointError listing missing, unexpected and mis-shaped keys (against the
    ``expected`` key -> shape), if any."""
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    misshaped = sorted(
        f"{key} {tuple(state[key].shape)} != {tuple(expected[key])}"
        for key in set(expected) & set(state)
        if tuple(state[key].shape) != tuple(expected[key])
    )
    if not (missing or unexpected or misshaped):
        return
    lines = [f"{source} does not match the PyMAF-X v1.1 model; expected {EXPECTED_FILE}."]
    if missing:
        lines.append(f"  missing keys {_sample(missing)}")
    if unexpected:
        lines.append(f"  unexpected keys {_sample(unexpected)}")
    if misshaped:
        lines.append(f"  mis-shaped keys (file != model) {_sample(misshaped)}")
    raise CheckpointError("\n".join(lines))


def load_checkpoint(model: nn.Module, path: str | Path) -> None:
    """Load a checkpoint file into ``model`` strictly (keys, shapes), casting to its dtypes."""
    if getattr(model, "prepared_for_inference", False):
        raise CheckpointError(
            f"cannot load {path}: the model was prepared for inference (BatchNorms folded into "
            "the convolutions, so its state dict no longer has the checkpoint layout); load "
            "the checkpoint into a freshly built model, then call prepare_for_inference()"
        )
    state = read_state_dict(path)
    shapes = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    check_compatible(shapes, state, str(path))
    model.load_state_dict(state, strict=True)
