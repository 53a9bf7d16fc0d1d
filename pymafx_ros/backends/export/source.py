"""The exported programs of one model, and the ONNX files derived from them, cached on disk.

A ``ProgramSource`` exports on demand (once per process per program) from the plain model and
keys every cached artefact by the weights' hash, the model code's hash and the exporting
libraries' versions, so a new checkpoint, an edited model file or an upgraded torch never
loads a stale artefact.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import torch
from torch.export import ExportedProgram

from pymafx_ros.backends.artefact_cache import ArtefactCache, EntryKey
from pymafx_ros.backends.export.programs import (
    DECONVOLUTION_PARTS,
    ENCODER_PARTS,
    FREE_CROPS,
    FREE_HAND_ROWS,
    FREE_PEOPLE,
    HEAD_INPUTS,
    batch_ranges,
    example_head_inputs,
    export_encoder,
    export_head,
)
from pymafx_ros.model.output_profile import PROFILE_NAMES
from pymafx_ros.model.pymafx_net import PyMAFX

LOG = logging.getLogger(__name__)

# pymafx_ros/ (this file is pymafx_ros/backends/export/source.py).
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
# Sources that define what the exported programs compute.
CODE_FOLDERS = ("model", "body_models")
CODE_FILES = ("backends/export/programs.py", "backends/export/phase_deconv.py")


def code_version() -> str:
    """SHA-256 (first 16 hex digits) of the model code's Python sources."""
    digest = hashlib.sha256()
    paths = [p for folder in CODE_FOLDERS for p in (PACKAGE_ROOT / folder).glob("*.py")]
    paths += [PACKAGE_ROOT / name for name in CODE_FILES]
    for path in sorted(paths):
        digest.update(str(path.relative_to(PACKAGE_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def weights_fingerprint(model: PyMAFX) -> str:
    """SHA-256 (first 16 hex digits) of every tensor the model computes with: its state dict
    and the SMPL-X/MANO/FLAME buffers."""
    digest = hashlib.sha256()
    tensors = list(model.state_dict().items())
    tensors += [(f"body_models.{k}", v) for k, v in model.body_models.state_dict().items()]
    for name, tensor in tensors:
        flat = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{flat.dtype}|{tuple(flat.shape)}|".encode())
        digest.update(flat.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()[:16]


def library_versions(*names: str) -> dict[str, str]:
    """Installed versions of Python distributions (``"absent"`` when not installed)."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


@dataclass(frozen=True)
class OnnxProgram:
    """A cached ONNX file with its input and output names, and the output aliases (see
    ``programs.head_output_names``)."""

    path: Path
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    aliases: dict[str, str]
    key: EntryKey


class ProgramSource:
    """Exported programs of ``model`` (plain, eval mode) and their cached ONNX files."""

    def __init__(self, model: PyMAFX, cache: ArtefactCache) -> None:
        if model.prepared_for_inference:
            raise ValueError(
                "exported backends need the model as loaded, not after prepare_for_inference()"
            )
        self.model: PyMAFX | None = model
        self.cache = cache
        start = time.perf_counter()
        self.inputs = {
            "weights": weights_fingerprint(model),
            "code": code_version(),
            **library_versions("torch", "onnx", "onnxscript"),
        }
        LOG.debug("model fingerprint in %.1f s: %s", time.perf_counter() - start, self.inputs)
        self._programs: dict[
            tuple[str, bool, int | None],
            tuple[ExportedProgram, tuple[str, ...], dict[str, str]],
        ] = {}

    def release_model(self) -> None:
        """Let the torch model go (its memory is freed once nothing else holds it): programs
        not exported yet can then no longer be built, cached ones still load."""
        self.model = None
        self._programs.clear()

    def exported_program(
        self, name: str, phase_deconvolutions: bool = False, max_people: int | None = None
    ) -> tuple[ExportedProgram, tuple[str, ...], dict[str, str]]:
        """(``ExportedProgram``, output names, aliases) of ``<part>_encoder`` or
        ``head_<profile>``; ``phase_deconvolutions`` applies to encoders (see
        ``phase_deconv``). ``max_people``: batches bounded as a TensorRT engine's profile
        (``programs.batch_ranges``); None: free (the CPU engines')."""
        entry = (name, phase_deconvolutions and name.endswith("_encoder"), max_people)
        head = name.startswith("head_")
        free = (FREE_PEOPLE, FREE_HAND_ROWS)
        people, hands = batch_ranges(max_people, head) if max_people is not None else free
        if entry not in self._programs and self.model is None:
            raise RuntimeError(
                f"program {name} is not cached and the model was released; create the backend "
                "again to build it"
            )
        if entry not in self._programs:
            if name.endswith("_encoder"):
                part = name.removesuffix("_encoder")
                if part not in ENCODER_PARTS:
                    raise ValueError(f"no program {name!r}")
                outputs = tuple(f"{part}_map{level}" for level in range(3))
                batch = (hands if part == "hand" else people) if max_people else FREE_CROPS
                program = export_encoder(self.model, part, entry[1], batch)
                self._programs[entry] = (program, outputs, {})
            else:
                profile = name.removeprefix("head_")
                if profile not in PROFILE_NAMES:
                    raise ValueError(
                        f"no program {name!r}; head profiles: {', '.join(PROFILE_NAMES)}"
                    )
                self._programs[entry] = export_head(
                    self.model, profile, people=people, hand_rows=hands
                )
        return self._programs[entry]

    def onnx(self, name: str, phase_deconvolutions: bool = False) -> OnnxProgram:
        """The cached ONNX file of a program (exported and converted on a cache miss)."""
        encoder = name.endswith("_encoder")
        inputs = ("image",) if encoder else HEAD_INPUTS
        phases = phase_deconvolutions and name.removesuffix("_encoder") in DECONVOLUTION_PARTS
        # Its own cache family, so that the two encoder graphs never evict each other.
        key = EntryKey("onnx", f"{name}_phase_deconv" if phases else name, "fp32", self.inputs)

        def build(folder: Path) -> None:
            program, outputs, aliases = self.exported_program(name, phases)
            write_onnx(program, folder / "model.onnx", inputs, outputs)
            names = {"outputs": list(outputs), "aliases": aliases}
            (folder / "outputs.json").write_text(json.dumps(names, indent=1))

        folder = self.cache.get_or_build(key, build, f"ONNX program {name}")
        names = json.loads((folder / "outputs.json").read_text())
        outputs = tuple(names["outputs"])
        return OnnxProgram(folder / "model.onnx", inputs, outputs, names["aliases"], key)


def write_onnx(
    program: ExportedProgram, path: Path, inputs: tuple[str, ...], outputs: tuple[str, ...]
) -> None:
    """ONNX (opset 18, weights in ``<name>.data``) derived from an ``ExportedProgram``; the
    exporter's progress lines go to the debug log."""
    example = _example_inputs(inputs)
    start = time.perf_counter()
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        torch.onnx.export(
            program,
            example,
            str(path),
            dynamo=True,
            input_names=list(inputs),
            output_names=list(outputs),
            optimize=False,  # the runtimes optimise the graph themselves when loading it
            external_data=True,
        )
    LOG.debug("torch.onnx: %s", captured.getvalue().strip())
    LOG.info("converted %s to ONNX in %.1f s", path.parent.name, time.perf_counter() - start)


def _example_inputs(inputs: tuple[str, ...]) -> tuple[torch.Tensor, ...]:
    if inputs == ("image",):
        return (torch.zeros(2, 3, 224, 224),)
    return example_head_inputs(2, 3)
