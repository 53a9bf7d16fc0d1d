"""The pipeline's options: model files, front end, people, device and backend, tracking."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymafx_ros.config.choices import (
    BACKEND_CHOICES,
    DEFAULT_FOV_DEG,
    DETECTOR_KINDS,
    DEVICE_PATTERN,
    DEVICE_RULE,
    EXPERT_SETS,
    FOV_RANGE_DEG,
    NODE_DETECTORS,
    OFFLINE_MAX_PEOPLE,
    PRECISION_CHOICES,
)
from pymafx_ros.config.options import ConfigError, nested, option, validate
from pymafx_ros.config.tracking import TrackingConfig


@dataclass
class PipelineConfig:
    """What the pipeline runs with; defaults give the placeholder demo on the CPU."""

    default_fov_deg: float = option(
        DEFAULT_FOV_DEG,
        "horizontal field of view (degrees) of the fallback pinhole used without a calibrated "
        "CameraInfo (K[0] != 0)",
        low=FOV_RANGE_DEG[0],
        high=FOV_RANGE_DEG[1],
    )
    data_dir: str | Path | None = option(
        None,
        "PyMAF-X `data/` folder with the SMPL-X/MANO/FLAME files (smpl/SMPLX_NEUTRAL_2020.npz, "
        'smpl_mean_params.npz, ...); `""` = bundled placeholders (meaningless poses)',
        must_exist="dir",
        hint="point it at the PyMAF-X data/ folder, or leave it '' for the placeholders",
    )
    checkpoint: str | Path | None = option(
        None,
        'PyMAF-X v1.1 checkpoint file; `""` = seeded placeholder weights (meaningless poses)',
        must_exist="file",
        hint="point it at the PyMAF-X checkpoint, or leave it '' for the placeholder weights",
    )
    detector: str = option(
        "mediapipe",
        "person front end: `mediapipe` (MediaPipe's bundled models), `full_frame` (the whole "
        "image is one person, e.g. an upstream crop) or, outside the node, `external` (boxes "
        "given with each frame)",
        choices=DETECTOR_KINDS,
        node_choices=NODE_DETECTORS,
    )
    detector_options: dict[str, Any] = field(default_factory=dict)  # the detector's kwargs
    # Hand/face boxes from the body expert's projection instead of the front end's (None: only
    # for 'full_frame', which sees no parts). Hand visibility is then the model's own.
    parts_from_body: bool | None = None
    max_people: int = option(
        1,
        "most people processed per image (1 keeps the node fast; the offline tools default to "
        "10, everyone)",
        low=1,
        high=OFFLINE_MAX_PEOPLE,
    )
    min_person_score: float = option(
        0.5, "detection score below which a person is ignored", low=0.0, high=1.0
    )
    with_vertices: bool = False  # the node derives it from its markers and overlay options
    device: str = option(
        "auto",
        "torch device: `auto` (CUDA when torch sees one, else the CPU; a GPU that fails moves "
        "inference to the CPU), `cpu`, `cuda` or `cuda:N`",
        pattern=DEVICE_PATTERN,
        rule=DEVICE_RULE,
        accepts="`auto`, `cpu`, `cuda`, `cuda:N`",
    )
    num_threads: int = option(
        0,
        "CPU threads for inference (0 = the library default); give it only the cores nothing "
        "else uses: OpenMP slows down many times over when cores are oversubscribed",
        low=0,
        high=256,
    )
    overlap_front_end: bool = option(
        True,
        "run the front end (decoding, detector) of the next frame beside the model on this one, "
        "started just in time so a frame's latency stays front end + model: about "
        "1/max(front end, model) frames/s instead of 1/(front end + model); only where the "
        "front end gets a core the model does not use (4+ cores, the model then every core "
        "but one, or `num_threads` below the core count; on fewer it cost more than it saved, "
        "measured); `false` runs them one after the other",
    )
    seed: int = 0  # seed of the placeholder weights
    backend: str = option(
        "auto",
        "inference engine: `auto` = `torch` on a CUDA device, else `openvino` when installed, "
        "else `onnxruntime`, else `torch`; the exported engines build their programs on the "
        "first start (minutes, logged) and load them from the cache afterwards; `tensorrt` "
        "loads engines built ahead of time (`pymafx-ros build-engines`) and, without a "
        "matching one, CUDA or Torch-TensorRT, warns with the fix and runs `auto` in fp32; "
        "`torch_compile` compiles the model with torch.compile (CUDA graphs on a GPU, no "
        "TensorRT; minutes on the first start)",
        choices=BACKEND_CHOICES,
    )
    precision: str = option(
        "fp32",
        "`fp32` is exact (parity 1e-4); `bf16` runs the three encoders in bf16 (CPUs with AMX "
        "or AVX512-BF16 only; `openvino`, `torch`), moving joints by millimetres; `fp16` is "
        "`tensorrt`'s, `torch_compile`'s and `torch`'s on CUDA (fp16 encoders, fp32 head); "
        "`int8` runs the three encoders quantized by NNCF (`openvino` on CPUs with VNNI or "
        "AMX-INT8; calibrated on built-in photos, or on your frames by `pymafx-ros calibrate`); "
        "`auto` = `fp16` with `tensorrt` and with `torch_compile` on CUDA, else `bf16` "
        "where the CPU has native bf16 (measured <= 1.8 mm from fp32), else `fp32`; on "
        "`openvino` with int8 dot products, int8 competes once `pymafx-ros calibrate` recorded "
        "a cost <= 5 mm for the loaded weights: the candidates are then timed once per CPU and "
        "the fastest runs (cached; diagnostics `precision_auto`)",
        choices=PRECISION_CHOICES,
    )
    experts: str = option(
        EXPERT_SETS[0],
        "experts run per person (the body always): `body,hands,face`; `body,hands` leaves the "
        "face expert out (about a sixth of the model's work: no face crop, neutral jaw, eyes "
        "and expression, `face_estimated` false); `body` also the hand expert (mean hand "
        "poses, the body's own arms, hands not valid)",
        choices=EXPERT_SETS,
    )
    build_engines_on_start: bool = option(
        False,
        "with backend `tensorrt`, build missing engines while loading (minutes, progress in "
        "the log) instead of warning and falling back",
    )
    # Track ids, part boxes from tracks, hand hysteresis and temporal smoothing.
    tracking: TrackingConfig = nested(TrackingConfig, "")

    def validate(self) -> None:
        """Raise ConfigError naming the first bad option."""
        check_experts(self.experts)
        validate(self)

    @property
    def runs_hands(self) -> bool:
        """Whether the hand expert runs (``experts``)."""
        return "hands" in self.experts.split(",")

    @property
    def runs_face(self) -> bool:
        """Whether the face expert runs (``experts``)."""
        return "face" in self.experts.split(",")


def check_experts(experts: object) -> None:
    """ConfigError unless ``experts`` is one of ``EXPERT_SETS``, with a message that says why
    (the generic choices message would run the comma-separated sets together)."""
    if experts in EXPERT_SETS:
        return
    sets = ", ".join(f"'{s}'" for s in EXPERT_SETS)
    why = ""
    if isinstance(experts, str) and "body" not in experts.replace(" ", "").split(","):
        why = "the body expert always runs (the hands and the face are placed on the body); "
    raise ConfigError(f"'experts' is {experts!r}; {why}choose one of {sets}")
