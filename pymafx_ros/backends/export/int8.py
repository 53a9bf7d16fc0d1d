"""int8 encoders: an encoder's ONNX program quantized after training by NNCF for OpenVINO.

NNCF (``nncf.quantize``) reads the fp32 OpenVINO model of the cached ONNX program, collects
activation ranges on the calibration crops (``backends.calibration``) and inserts
FakeQuantize operations that OpenVINO's CPU plugin runs as int8 convolutions (VNNI / AMX
dot products). Only the encoders are quantized: the head keeps its fp32 index arithmetic and
rotations. The result depends on the weights and on the crops, so its cache key holds both.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path

from pymafx_ros.backends.artefact_cache import EntryKey
from pymafx_ros.backends.calibration import CalibrationSet
from pymafx_ros.backends.export.source import OnnxProgram, library_versions
from pymafx_ros.backends.requirements import import_optional

LOG = logging.getLogger(__name__)

QUANTIZED_FILE = "model.xml"
# NNCF's own default: our sets hold a few dozen to a few hundred crops, so all of them count.
DEFAULT_SUBSET_SIZE = 300


def quantized_key(
    program: OnnxProgram, calibration_digest: str, subset_size: int = DEFAULT_SUBSET_SIZE
) -> EntryKey:
    """The cache key of ``program`` quantized on the set ``calibration_digest``: the ONNX
    entry (weights, code, exporter versions), the calibration set, and OpenVINO/NNCF."""
    inputs: Mapping[str, str] = {
        **program.key.inputs,
        "onnx_entry": program.key.folder_name,
        "calibration": calibration_digest,
        "subset_size": str(subset_size),
        **library_versions("openvino", "nncf"),
    }
    return EntryKey("int8", program.key.program, "int8", inputs)


def quantize_encoder(
    program: OnnxProgram,
    calibration: CalibrationSet,
    folder: Path,
    subset_size: int = DEFAULT_SUBSET_SIZE,
) -> Path:
    """Quantize the encoder ``program`` (``<part>_encoder``) on ``calibration``'s crops of that
    part and save the OpenVINO IR in ``folder``; returns the ``.xml`` path."""
    ov = import_optional("openvino", "openvino")
    nncf = import_optional("nncf", "nncf")
    part = program.key.program.removesuffix("_encoder")
    inputs = calibration.inputs(part)
    start = time.perf_counter()
    model = ov.Core().read_model(str(program.path))
    quantized = nncf.quantize(
        model,
        nncf.Dataset(inputs),
        # Symmetric weights and activations: the preset whose int8 kernels are fastest.
        preset=nncf.QuantizationPreset.PERFORMANCE,
        subset_size=min(subset_size, len(inputs)),
    )
    path = folder / QUANTIZED_FILE
    ov.save_model(quantized, str(path), compress_to_fp16=False)
    LOG.info(
        "quantized %s to int8 on %d crops (%s) in %.1f s",
        program.key.program,
        len(inputs),
        calibration.source,
        time.perf_counter() - start,
    )
    return path
