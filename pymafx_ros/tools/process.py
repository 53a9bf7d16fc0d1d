"""``pymafx-ros process``: run the pipeline over a video, an image or a folder of images.

Writes ``frame_NNNNNN.json`` per frame (the people, their hands for retargeting, the tracks'
quality figures and the frame's metadata), optionally ``frame_NNNNNN_vertices.npz`` (+
``smplx_faces.npy`` once) and an overlay video or images. Video frames and image folders are
one sequence: people keep their track ids and are smoothed unless ``--no-smoothing``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from tqdm import tqdm

from pymafx_ros.config import OFFLINE_MAX_PEOPLE, OutputOptions, PipelineConfig, find
from pymafx_ros.pipeline.hands import hand_outputs, hand_to_dict
from pymafx_ros.pipeline.overlap import END, EndOfInput, TwoStages
from pymafx_ros.pipeline.overlay import draw_people
from pymafx_ros.pipeline.result import FrameResult
from pymafx_ros.pipeline.serialize import frame_to_dict
from pymafx_ros.tools.motion_export import (
    DEFAULT_CAMERA_POSE,
    EXPORT_FORMATS,
    AmassExporter,
    camera_pose,
)

if TYPE_CHECKING:  # the pipeline (torch) is imported when a run starts
    from pymafx_ros.pipeline.pipeline import FrontEndFrame

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
IMAGE_RATE_FPS = 10.0  # frame rate given to overlay videos made from still images


class InputError(Exception):
    """An input the tool cannot use; the message names the file and what is wrong."""


@dataclass
class _Frame:
    """A frame between the two stages: its index, name, RGB image, stamp and front end."""

    index: int
    name: str
    rgb: np.ndarray
    timestamp_ms: int | None
    front: FrontEndFrame


@dataclass
class FrameSource:
    """Frames of one input: a video file, a single image or a folder of images."""

    path: Path
    images: list[Path] | None  # None for a video
    frame_count: int | None
    fps: float

    def frames(self) -> Iterator[tuple[str, np.ndarray]]:
        """Yield (name, RGB uint8 frame) in order."""
        if self.images is not None:
            for image in self.images:
                yield image.name, _read_image(image)
            return
        capture = cv2.VideoCapture(str(self.path))
        try:
            index = 0
            while True:
                ok, bgr = capture.read()
                if not ok:
                    break
                yield f"{self.path.name}#{index}", cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                index += 1
        finally:
            capture.release()
        if index == 0:
            raise InputError(f"{self.path}: the video holds no decodable frame")


def _read_image(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise InputError(f"{path}: not a readable image (empty, corrupt or unsupported format)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def open_input(path: Path) -> FrameSource:
    """Inspect ``path`` and say how to read it; raise InputError when it cannot be used."""
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir():
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not images:
            kinds = ", ".join(IMAGE_SUFFIXES)
            raise InputError(f"{path}: the folder holds no images ({kinds})")
        return FrameSource(path, images, len(images), IMAGE_RATE_FPS)
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return FrameSource(path, [path], 1, IMAGE_RATE_FPS)
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise InputError(f"{path}: not a readable video or image (OpenCV cannot open it)")
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = capture.get(cv2.CAP_PROP_FPS)
    finally:
        capture.release()
    return FrameSource(path, None, count if count > 0 else None, fps if fps > 0 else 30.0)


def _read_boxes(path: Path | None) -> tuple[list[Any], dict[int, list[Any]]]:
    """--boxes JSON: a list of person records for every frame, or {frame index: list}."""
    if path is None:
        return [], {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: cannot read the boxes JSON ({error})") from error
    if isinstance(data, list):
        return data, {}
    if isinstance(data, dict):
        try:
            return [], {int(k): v for k, v in data.items()}
        except ValueError as error:
            raise InputError(f"{path}: keys must be frame indices ({error})") from error
    raise InputError(f"{path}: expected a list of person records or {{frame index: list}}")


class _OverlayWriter:
    """Overlay frames into a video at the first frame's size (later frames are resized), or,
    for an image file name, into images: that file for a one-frame input, else numbered."""

    def __init__(self, path: Path, fps: float, frame_count: int | None) -> None:
        self._path = path
        self._fps = fps
        self._as_images = path.suffix.lower() in IMAGE_SUFFIXES
        self._single_image = frame_count == 1
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, index: int, rgb: np.ndarray) -> None:
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        if self._as_images:
            target = self._path
            if not self._single_image:
                target = self._path.with_name(f"{self._path.stem}_{index:06d}{self._path.suffix}")
            if not cv2.imwrite(str(target), bgr):
                raise InputError(f"{target}: cannot write the overlay image here")
            return
        if self._writer is None:
            self._size = (rgb.shape[1], rgb.shape[0])
            fourcc = cv2.VideoWriter.fourcc(*"mp4v")
            self._writer = cv2.VideoWriter(str(self._path), fourcc, self._fps, self._size)
            if not self._writer.isOpened():
                raise InputError(f"{self._path}: cannot write the overlay video here")
        if (bgr.shape[1], bgr.shape[0]) != self._size:
            bgr = cv2.resize(bgr, self._size, interpolation=cv2.INTER_AREA)
        self._writer.write(bgr)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()


def _option(parser: argparse.ArgumentParser, flag: str, config: Any, name: str) -> None:
    """``flag`` with the type, default, choices and description of the config's option."""
    spec = find(config, name)
    parser.add_argument(
        flag,
        type=type(spec.value),
        default=spec.value,
        choices=spec.option.choices or None,
        # argparse formats help with %: a literal one must be doubled.
        help=spec.description.replace("`", "").replace("%", "%%"),
    )


def add_parser(subparsers: Any) -> None:
    """Register ``process`` on the CLI's subparsers."""
    parser = subparsers.add_parser(
        "process",
        help="reconstruct people in a video, an image or a folder of images",
        description="Reconstruct every person in a video, an image or a folder of images as "
        "SMPL-X; write one JSON file per frame (and optionally vertices and an overlay).",
    )
    parser.add_argument("input", type=Path, help="video file, image, or folder of images")
    parser.add_argument("--out", type=Path, required=True, help="folder for the JSON files")
    parser.add_argument(
        "--overlay", type=Path, help="also draw the people: a video (.mp4) or images (.png)"
    )
    parser.add_argument("--vertices", action="store_true", help="write vertices as .npz")
    pipeline, output = PipelineConfig(), OutputOptions()
    _option(parser, "--detector", pipeline, "detector")
    parser.add_argument("--boxes", type=Path, help="JSON person records (external detector)")
    # Offline runs find everyone by default (OFFLINE_MAX_PEOPLE); the node keeps 1 for speed.
    _option(parser, "--max-people", PipelineConfig(max_people=OFFLINE_MAX_PEOPLE), "max_people")
    _option(parser, "--min-score", pipeline, "min_person_score")
    _option(parser, "--fov", pipeline, "default_fov_deg")
    parser.add_argument("--data", type=Path, help="PyMAF-X data/ folder (default: placeholder)")
    parser.add_argument("--checkpoint", type=Path, help="v1.1 checkpoint (default: placeholder)")
    _option(parser, "--device", pipeline, "device")
    _option(parser, "--threads", pipeline, "num_threads")
    _option(parser, "--backend", pipeline, "backend")
    _option(parser, "--precision", pipeline, "precision")
    _option(parser, "--experts", pipeline, "experts")
    parser.add_argument(
        "--no-overlap",
        dest="overlap",
        action="store_false",
        help="run the front end and the model one after the other (default: the next frame's "
        "front end runs beside the model, overlap_front_end)",
    )
    parser.add_argument(
        "--no-smoothing",
        action="store_true",
        help="publish each frame's raw estimate (no temporal filter; tracking stays on)",
    )
    _option(parser, "--wrist-frame", output, "hands.wrist_frame")
    parser.add_argument(
        "--export",
        choices=EXPORT_FORMATS,
        help="motion files for retargeting, one per track, in OUT/amass (docs/offline_bags.md)",
    )
    parser.add_argument(
        "--camera-pose",
        default=DEFAULT_CAMERA_POSE,
        help="x,y,z,roll,pitch,yaw of the camera in a z-up world for --export (default "
        f"{DEFAULT_CAMERA_POSE}: 1.5 m up, level, looking along +x; an assumption)",
    )
    parser.set_defaults(run=run)


def _write_frame(
    args: argparse.Namespace, index: int, result: FrameResult, name: str, num_vertices: int
) -> None:
    """``frame_NNNNNN.json`` and, with --vertices, ``frame_NNNNNN_vertices.npz`` (P, V, 3)."""
    stem = f"frame_{index:06d}"
    record = frame_to_dict(result, frame=index, source=name)
    record["hands"] = [
        hand_to_dict(hand, person.track_id)
        for person in result.people
        for hand in hand_outputs(person, args.wrist_frame)
    ]
    (args.out / f"{stem}.json").write_text(json.dumps(record))
    if args.vertices:
        stacked = [p.vertices for p in result.people if p.vertices is not None]
        empty = np.zeros((0, num_vertices, 3), np.float32)
        vertices = np.stack(stacked) if stacked else empty
        np.savez_compressed(args.out / f"{stem}_vertices.npz", vertices=vertices)


def run(args: argparse.Namespace) -> int:
    """Process every frame of ``args.input``; returns the exit status."""
    from pymafx_ros.pipeline.device_recovery import DeviceError
    from pymafx_ros.pipeline.pipeline import Pipeline

    source = open_input(args.input)
    every_frame, per_frame = _read_boxes(args.boxes)
    if args.detector == "external" and not (every_frame or per_frame):
        raise InputError("the external detector needs --boxes FILE (JSON person records)")
    args.out.mkdir(parents=True, exist_ok=True)
    config = PipelineConfig(
        data_dir=args.data,
        checkpoint=args.checkpoint,
        detector=args.detector,
        max_people=args.max_people,
        min_person_score=args.min_score,
        default_fov_deg=args.fov,
        with_vertices=args.vertices or args.overlay is not None,
        device=args.device,
        num_threads=args.threads,
        backend=args.backend,
        precision=args.precision,
        experts=args.experts,
        overlap_front_end=args.overlap,
    )
    config.tracking.smoothing.enable = not args.no_smoothing
    pipeline = Pipeline(config)
    info = pipeline.model_info
    overlay = None
    if args.overlay is not None:
        overlay = _OverlayWriter(args.overlay, source.fps, source.frame_count)
    if args.vertices:
        np.save(args.out / "smplx_faces.npy", info.faces.astype(np.int32))
    # A lone image is a still; video frames and image folders are a sequence to track.
    still = source.frame_count == 1 and source.images is not None
    exporter = AmassExporter("world (stated camera pose)") if args.export else None
    pose = camera_pose(args.camera_pose) if args.export else None
    lost: list[int] = []
    progress = tqdm(source.frames(), total=source.frame_count, unit="frame", disable=None)
    frames = enumerate(progress)

    def take(_timeout_s: float) -> tuple[int, str, np.ndarray] | EndOfInput:
        """The next frame; the front end waits for the model stage (nothing is dropped)."""
        index, (name, rgb) = next(frames, (-1, ("", None)))
        return END if rgb is None else (index, name, rgb)

    def front(frame: tuple[int, str, np.ndarray]) -> _Frame:
        index, name, rgb = frame
        timestamp_ms = None if still else round(index * 1000.0 / source.fps)
        boxes = per_frame.get(index, every_frame) if args.detector == "external" else None
        prepared = pipeline.front_end(rgb, None, timestamp_ms, boxes)
        return _Frame(index, name, rgb, timestamp_ms, prepared)

    def back(frame: _Frame, release: Callable[[], None]) -> None:
        try:
            result = pipeline.back_end(frame.front, tracked=release)
        except DeviceError as error:  # out of GPU memory even after a retry: skip it
            print(f"pymafx-ros process: frame {frame.index} skipped: {error}", file=sys.stderr)
            lost.append(frame.index)
            return
        _write_frame(args, frame.index, result, frame.name, info.num_vertices)
        if exporter is not None and pose is not None and frame.timestamp_ms is not None:
            exporter.add(frame.timestamp_ms * 1_000_000, result.people, *pose)
        if overlay is not None:
            drawn = draw_people(
                frame.rgb, result.people, result.intrinsics, info.joint_parents, info.faces
            )
            overlay.write(frame.index, drawn)

    # Offline, latency does not count: the next front end starts as soon as tracking took
    # this frame (not just in time), and waits for the model stage instead of replacing.
    overlap = pipeline.config.overlap_front_end  # as planned by pipeline.thread_budget
    stages = TwoStages(take, front, back, overlap=overlap, just_in_time=False)
    try:
        stages.run()
    finally:
        if overlay is not None:
            overlay.close()
        if stages.idle():
            pipeline.close()
    if exporter is not None:
        exporter.write(args.out / "amass")
    logging.getLogger(__name__).info("wrote %s", args.out)
    if lost:
        print(
            f"pymafx-ros process: {len(lost)} frame(s) lost to the device (no JSON written): "
            f"{lost}",
            file=sys.stderr,
        )
        return 1
    return 0
