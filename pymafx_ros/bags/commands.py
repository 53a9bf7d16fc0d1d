"""``pymafx-ros process-bag`` and ``pymafx-ros process-bags``: their arguments and exit codes.

Exit codes: 0 everything processed; 1 done, but something could not be read (truncated bag,
corrupt message) or frames failed (each reported); 2 nothing done: unreadable input, a missing
topic, an unknown type, bad parameters or an output that exists; 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pymafx_ros.tools.motion_export import DEFAULT_CAMERA_POSE, EXPORT_FORMATS
from pymafx_ros.tracking.offline_smoothing import SMOOTHING_MODES

if TYPE_CHECKING:
    from pymafx_ros.bags.process_bag import BagOptions

# The bag modules (rclpy, the messages) are imported when a bag command runs, so the other
# commands start without ROS.

# Flag -> node parameter; a flag left out leaves the parameter to --params and the defaults.
NODE_FLAGS = (
    ("max_people", "max_people", int, "most people per image (default 10, as `process`)"),
    ("detector", "detector", str, "mediapipe or full_frame"),
    ("min_score", "min_person_score", float, "detection score below which a person is ignored"),
    ("fov", "default_fov_deg", float, "horizontal FOV (deg) without a calibrated CameraInfo"),
    ("data", "data_dir", str, "PyMAF-X data/ folder (default: placeholder)"),
    ("checkpoint", "checkpoint", str, "PyMAF-X checkpoint (default: placeholder)"),
    ("device", "device", str, "auto, cpu, cuda or cuda:N"),
    ("threads", "num_threads", int, "CPU threads for inference (0: library default)"),
    ("backend", "backend", str, "inference engine (see the node's 'backend' parameter)"),
    ("precision", "precision", str, "fp32, bf16, fp16 or auto"),
    ("experts", "experts", str, "body,hands,face (default), body,hands (no face expert) or body"),
    ("world_frame", "world_frame", str, "TF frame (from the bag's /tf, /tf_static) for "
     "~/world_bodies and the motion files"),
)  # fmt: skip


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """The options process-bag and process-bags share."""
    parser.add_argument("--topic", help="camera topic (default: the only image topic)")
    parser.add_argument("--camera-info", help="CameraInfo topic (default: the camera's namespace)")
    parser.add_argument("--params", type=Path, help="the node's YAML parameter file")
    for flag, _, kind, text in NODE_FLAGS:
        parser.add_argument(f"--{flag.replace('_', '-')}", dest=flag, type=kind, help=text)
    parser.add_argument(
        "--smoothing",
        choices=SMOOTHING_MODES,
        default="causal",
        help="causal: the node's filter (default, as live); offline: forward and backward, "
        "zero lag; none: raw estimates",
    )
    parser.add_argument("--markers", action="store_true", help="also write ~/markers")
    parser.add_argument(
        "--copy-inputs", action="store_true", help="copy the camera, CameraInfo and TF through"
    )
    parser.add_argument("--export", choices=EXPORT_FORMATS, help="motion files, one per track")
    parser.add_argument(
        "--camera-pose",
        default=DEFAULT_CAMERA_POSE,
        help="x,y,z,roll,pitch,yaw of the camera in a z-up world when no --world-frame "
        f"(default {DEFAULT_CAMERA_POSE}: 1.5 m up, level, looking along +x; an assumption)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")


def node_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The node parameters the flags set."""
    return {
        name: getattr(args, flag)
        for flag, name, _, _ in NODE_FLAGS
        if getattr(args, flag, None) is not None
    }


def bag_options(args: argparse.Namespace, source: Path, output: Path) -> BagOptions:
    """BagOptions from parsed arguments for one input and its output."""
    from pymafx_ros.bags.process_bag import BagOptions

    return BagOptions(
        input=source,
        output=output,
        topic=args.topic,
        camera_info=args.camera_info,
        params_file=args.params,
        overrides=node_overrides(args),
        smoothing=args.smoothing,
        markers=args.markers,
        copy_inputs=args.copy_inputs,
        export=args.export,
        export_dir=getattr(args, "export_dir", None),
        camera_pose=args.camera_pose,
        overwrite=args.overwrite,
    )


def add_parsers(subparsers: Any) -> None:
    """Register process-bag and process-bags on the CLI's subparsers."""
    one = subparsers.add_parser(
        "process-bag",
        help="reconstruct the people in one rosbag into an MCAP rosbag2",
        description="Every image of a rosbag (rosbag2 MCAP/sqlite3, ROS 1) through the node's "
        "pipeline, in stamp order; writes what the node would publish as an MCAP rosbag2.",
    )
    one.add_argument("input", type=Path, help="rosbag2 folder, .mcap, .db3 or ROS 1 .bag")
    one.add_argument("--out", type=Path, required=True, help="output rosbag2 folder")
    one.add_argument("--export-dir", type=Path, help="motion files folder (default OUT_amass)")
    one.add_argument("--summary", action="store_true", help="print a one-line JSON summary")
    add_common_arguments(one)
    one.set_defaults(run=run_one)

    many = subparsers.add_parser(
        "process-bags",
        help="many rosbags on Ray (pip install '.[batch]'), one task per bag",
        description="Each bag as process-bag does it, on Ray actors that load the model once; "
        "outputs and manifest.json in DIR; bags already done are skipped on a rerun.",
    )
    many.add_argument("inputs", type=Path, nargs="+", help="bags (folders or files)")
    many.add_argument("--out", type=Path, required=True, help="output folder")
    many.add_argument("--workers", type=int, default=1, help="actors (each loads the model)")
    many.add_argument("--ray-address", help="existing Ray cluster (default: RAY_ADDRESS, else "
                      "a local Ray started for this run)")  # fmt: skip
    add_common_arguments(many)
    many.set_defaults(run=run_many)


def _fail(command: str, error: BaseException) -> int:
    print(f"pymafx-ros {command}: error: {error}", file=sys.stderr)
    return 2


def run_one(args: argparse.Namespace) -> int:
    """process-bag: the exit code (see the module docstring)."""
    from pymafx_ros.bags.input_bag import BagInputError
    from pymafx_ros.bags.process_bag import process_bag
    from pymafx_ros.ros.parameters import ParameterError

    try:
        summary = process_bag(bag_options(args, args.input, args.out))
    except (BagInputError, ParameterError, FileExistsError, ValueError) as error:
        return _fail("process-bag", error)
    except KeyboardInterrupt:
        print("pymafx-ros process-bag: interrupted; no output written", file=sys.stderr)
        return 130
    for problem in summary.problems:
        print(f"pymafx-ros process-bag: {problem}", file=sys.stderr)
    if summary.failures:
        print(
            f"pymafx-ros process-bag: {summary.failures} frame(s) failed and were skipped",
            file=sys.stderr,
        )
    if args.summary:
        print(summary.to_json(), flush=True)
    return summary.exit_code


def run_many(args: argparse.Namespace) -> int:
    """process-bags: 0 when every bag is done cleanly, 1 when one failed or had problems."""
    from pymafx_ros.bags.batch import BatchOptions, run_batch
    from pymafx_ros.ros.parameters import ParameterError

    try:
        options = BatchOptions(
            inputs=list(args.inputs),
            out_dir=args.out,
            workers=args.workers,
            ray_address=args.ray_address,
            template=bag_options(args, Path(), Path()),
        )
        return run_batch(options)
    except (ParameterError, ValueError, RuntimeError) as error:
        return _fail("process-bags", error)
