"""What the ``tensorrt`` backend is asked for beyond backend and precision, and the exact
``pymafx-ros build-engines`` command that builds the engines it needs. Importable without torch
(the node and the CLIs share it)."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

# What a TensorRT engine computes in: fp16 encoders (the head stays fp32), or all fp32.
ENGINE_PRECISIONS = ("fp16", "fp32")
# Head profiles the pipeline runs (``release`` is the parity/agreement profile, built on demand).
PIPELINE_PROFILES = ("joints", "mesh")


@dataclass(frozen=True)
class EngineOptions:
    """``max_people``: the engines' largest batch (bodies and faces; hands twice that);
    ``build``: build missing engines instead of falling back (``build_engines_on_start``);
    ``data_dir`` / ``checkpoint``: the model files, named in the build command because the
    engines are keyed by their weights."""

    max_people: int = 1
    build: bool = False
    data_dir: str | Path | None = None
    checkpoint: str | Path | None = None

    def __post_init__(self) -> None:
        if self.max_people < 1:
            raise ValueError(f"max_people must be >= 1, got {self.max_people}")


def build_command(
    options: EngineOptions,
    precision: str,
    device: str = "cuda",
    profiles: tuple[str, ...] = PIPELINE_PROFILES,
) -> str:
    """The shell command that builds every engine ``options`` / ``precision`` need, e.g.
    ``pymafx-ros build-engines --precision fp16 --max-people 2`` (with this process's
    ``PYMAFX_CACHE_DIR`` when it has one: the engines must land in the cache it reads)."""
    words = ["pymafx-ros", "build-engines", "--precision", precision]
    cache = os.environ.get("PYMAFX_CACHE_DIR")
    if cache:
        words.insert(0, f"PYMAFX_CACHE_DIR={cache}")
    words += ["--max-people", str(options.max_people)]
    if device not in ("cuda", "auto"):
        words += ["--device", device]
    if tuple(profiles) != PIPELINE_PROFILES:
        words += ["--profiles", ",".join(profiles)]
    if options.data_dir is not None:
        words += ["--data", str(options.data_dir)]
    if options.checkpoint is not None:
        words += ["--checkpoint", str(options.checkpoint)]
    return shlex.join(words)
