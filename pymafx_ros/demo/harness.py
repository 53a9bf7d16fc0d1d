"""`make demo`: sample camera -> pymafx node -> recorded outputs -> summary.

Starts the node (on the placeholder assets unless real ones are given), waits for its model,
plays the generated sample clip through the stand-in camera driver, records every output into
an MCAP rosbag2 and prints what happened: frames in and processed, rates, latency percentiles,
topics and TF frames.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from pymafx_ros.config import NODE_DETECTORS

REPO = Path(__file__).resolve().parents[2]
PLACEHOLDER_BANNER = """\
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!! PLACEHOLDER {what}: the poses in this demo are MEANINGLESS (random-looking bodies).
!! They only show that the node, its topics, TF and timing work. For real humans give the
!! licensed files:  PYMAFX_DATA_DIR=/path/to/pymafx/data  (smpl/SMPLX_NEUTRAL_2020.npz, ...)
!!                  PYMAFX_CHECKPOINT=/path/to/the/PyMAF-X/v1.1/checkpoint
!! e.g. `PYMAFX_DATA_DIR=... PYMAFX_CHECKPOINT=... make demo` (see the README, "Assets").
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="demo", description=__doc__)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of camera stream")
    parser.add_argument("--rate", type=float, default=15.0, help="camera frames per second")
    parser.add_argument("--size", type=int, default=384, help="frame side in pixels")
    parser.add_argument("--detector", default="mediapipe", choices=NODE_DETECTORS)
    parser.add_argument("--data-dir", default=os.environ.get("PYMAFX_DATA_DIR", ""))
    parser.add_argument("--checkpoint", default=os.environ.get("PYMAFX_CHECKPOINT", ""))
    parser.add_argument("--device", default=os.environ.get("PYMAFX_DEVICE", "auto"))
    parser.add_argument(
        "--backend",
        default=os.environ.get("PYMAFX_BACKEND", "auto"),
        help="the node's backend parameter (auto: OpenVINO on the CPU when installed)",
    )
    parser.add_argument(
        "--precision",
        default=os.environ.get("PYMAFX_PRECISION", "auto"),
        help="the node's precision parameter; the demo uses auto (bf16 encoders where the CPU "
        "has native bf16, joints within ~1 mm of fp32), the node's own default is fp32",
    )
    parser.add_argument(
        "--experts",
        default=os.environ.get("PYMAFX_EXPERTS", "body,hands,face"),
        help="the node's experts parameter: body,hands,face, body,hands (no face expert) or body",
    )
    parser.add_argument(
        "--num-threads",
        type=int,
        default=None,
        help="inference threads of the node (default: every core for the exported CPU engines, "
        "whose idle threads yield; all cores but one for eager torch, whose OpenMP threads spin "
        "and slow down badly when the camera, the recorder and DDS need a core)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "out" / "demo")
    parser.add_argument(
        "--load-timeout",
        type=float,
        default=900.0,
        help="most seconds to wait for the model (a first start of an exported backend builds "
        "its programs: minutes; later starts load them from the cache in seconds)",
    )
    parser.add_argument(
        "--drain-timeout", type=float, default=60.0, help="most seconds to wait for answers"
    )
    options = parser.parse_args(argv)
    if options.num_threads is None:
        options.num_threads = default_threads(options.backend)
    return options


def default_threads(backend: str) -> int:
    """Inference threads for the demo's node: every core unless eager torch runs on the CPU."""
    from pymafx_ros.backends.cpu_features import detect_cpu_features
    from pymafx_ros.backends.selection import choose_backend

    cores = os.cpu_count() or 2
    try:
        engine = choose_backend(backend, "fp32", "cpu", detect_cpu_features()).backend
    except (ValueError, RuntimeError):
        engine = backend  # the node itself reports what is wrong with it
    return cores if engine in ("openvino", "onnxruntime") else max(1, cores - 1)


def _share_dir() -> Path:
    """The installed share/pymafx_ros (config/, msg/), or the source tree (same layout)."""
    try:
        from ament_index_python.packages import get_package_share_directory

        share = Path(get_package_share_directory("pymafx_ros"))
        if (share / "config" / "pymafx.yaml").is_file():
            return share
    except (ImportError, LookupError, ValueError):
        pass
    return REPO


def _executable(name: str, module: str) -> list[str]:
    """`ros2 run pymafx_ros <name>` without ros2cli: the installed script, else the module."""
    try:
        from ament_index_python.packages import get_package_prefix

        path = Path(get_package_prefix("pymafx_ros")) / "lib" / "pymafx_ros" / name
        if os.access(path, os.X_OK):
            return [str(path)]
    except (ImportError, LookupError, ValueError):
        pass
    return [sys.executable, "-m", module]


def _percentiles(values: list[float]) -> str:
    if not values:
        return "n/a"
    p50, p95 = np.percentile(values, [50, 95])
    return f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {max(values):.0f} ms"


class Demo:
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.out: Path = options.out
        self.children: list[subprocess.Popen] = []

    def start(self, command: list[str], log_name: str) -> subprocess.Popen:
        log = open(self.out / log_name, "wb")  # noqa: SIM115 (lives as long as the child)
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self.children.append(child)
        return child

    def stop_children(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in self.children:
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def node_command(self) -> list[str]:
        o = self.options
        params = _share_dir() / "config" / "pymafx.yaml"
        args = ["--params-file", str(params), "-p", f"detector:={o.detector}"]
        args += ["-p", f"device:={o.device}", "-p", f"num_threads:={o.num_threads}"]
        args += ["-p", f"backend:={o.backend}", "-p", f"precision:={o.precision}"]
        args += ["-p", f"experts:={o.experts}"]
        if o.data_dir:
            args += ["-p", f"data_dir:={o.data_dir}"]
        if o.checkpoint:
            args += ["-p", f"checkpoint:={o.checkpoint}"]
        args += ["-r", "image:=/camera/image", "-r", "camera_info:=/camera/camera_info"]
        return [*_executable("pymafx_node", "pymafx_ros.ros.node"), "--ros-args", *args]

    def camera_command(self) -> list[str]:
        o = self.options
        return [
            *_executable("sample_camera", "pymafx_ros.demo.sample_camera"),
            "--rate", str(o.rate), "--duration", str(o.duration), "--size", str(o.size),
            "--image-topic", "/camera/image", "--camera-info-topic", "/camera/camera_info",
        ]  # fmt: skip


def run(options: argparse.Namespace) -> int:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from pymafx_ros.demo.recorder import OutputRecorder

    if os.environ.get("ROS_DOMAIN_ID", "0") in ("", "0"):
        os.environ["ROS_DOMAIN_ID"] = str(random.randint(101, 200))  # keep other graphs out
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    options.out.mkdir(parents=True, exist_ok=True)
    demo = Demo(options)
    if not (options.data_dir and options.checkpoint):
        print(PLACEHOLDER_BANNER.format(what="MODEL FILES / WEIGHTS"), flush=True)

    rclpy.init(args=[])
    recorder = OutputRecorder()
    executor = SingleThreadedExecutor()
    executor.add_node(recorder)
    spinning = threading.Event()
    spinning.set()

    def spin() -> None:
        while spinning.is_set():
            executor.spin_once(timeout_sec=0.05)

    spinner = threading.Thread(target=spin, name="recorder")
    spinner.start()
    try:
        return _run_with(demo, recorder, options)
    finally:
        demo.stop_children()
        spinning.clear()
        spinner.join()
        executor.shutdown()
        recorder.destroy_node()
        rclpy.try_shutdown()


def _wait(condition, timeout: float, child: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if child is not None and child.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def _run_with(demo: Demo, recorder, options: argparse.Namespace) -> int:
    print(f"[demo] ROS_DOMAIN_ID={os.environ['ROS_DOMAIN_ID']}; logs in {demo.out}", flush=True)
    started = time.monotonic()
    node = demo.start(demo.node_command(), "node.log")
    print(
        "[demo] starting the node and loading the model (the first start of the OpenVINO / ONNX "
        "Runtime backend exports and caches its programs: a few minutes) ...",
        flush=True,
    )
    info_topic = "/pymafx/model_info"
    if not _wait(lambda: recorder.counts().get(info_topic), options.load_timeout, node):
        print(f"[demo] the node did not come up; its log ({demo.out / 'node.log'}):")
        print((demo.out / "node.log").read_text(errors="replace")[-4000:])
        print("demo summary: frames in 0, frames processed 0 (the node did not start)")
        return 1
    load_s = time.monotonic() - started
    print(f"[demo] model loaded in {load_s:.1f} s; streaming the sample clip ...", flush=True)
    camera = demo.start(demo.camera_command(), "camera.log")
    camera.wait(options.duration + 60)
    print("[demo] clip done; letting the node finish the frame in flight ...", flush=True)
    _drain(recorder, options.drain_timeout)
    node.send_signal(signal.SIGINT)
    node_code = node.wait(60)
    print(f"[demo] node stopped (exit code {node_code}); writing the bag ...", flush=True)
    time.sleep(0.5)
    bag = demo.out / "outputs_bag"
    shutil.rmtree(bag, ignore_errors=True)
    recorder.write_bag(bag, _share_dir() / "msg")
    pictures = write_pictures(demo.out, recorder, options)
    print(summary(demo, recorder, load_s, node_code, bag, pictures), flush=True)
    processed = len(recorder.people)
    return 0 if processed > 0 and node_code == 0 else 1


def _drain(recorder, timeout: float) -> None:
    """Wait (at most ``timeout`` s) until the node reports no frame waiting or in progress in
    a diagnostics message sent after the camera stopped."""
    stopped_ns = time.time_ns()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        array = recorder.last_diagnostics
        if array is not None:
            sent_ns = array.header.stamp.sec * 1_000_000_000 + array.header.stamp.nanosec
            values = _diagnostic_values(array)
            if (
                sent_ns > stopped_ns
                and values.get("frames pending (waiting or in progress)") == "0"
            ):
                return
        time.sleep(0.2)


def write_pictures(out: Path, recorder, options: argparse.Namespace) -> dict[str, str]:
    """The overlay video of what the node published and the latency plot, next to the bag;
    what was written (or why not), for the summary."""
    from pymafx_ros.demo.latency_plot import write_latency_plot
    from pymafx_ros.demo.run_report import latency_series, write_overlay_video

    people = [(p.stamp_ns, p.received_ns) for p in recorder.people]
    messages = list(recorder.messages)
    stamps = sorted(s for s, _ in people)
    span_s = (stamps[-1] - stamps[0]) / 1e9 if len(stamps) > 1 else 0.0
    fps = max(1.0, (len(stamps) - 1) / span_s) if span_s else 1.0  # plays at the processed rate
    video = out / "overlay.mp4"
    frames = write_overlay_video(video, messages, "/pymafx/overlay", fps)
    written = {"video": f"{video} ({frames} frames at {fps:.1f} fps)" if frames else "none"}
    end_to_end, stages = latency_series(people, messages)
    if end_to_end:
        plot = out / "latency.png"
        title = (
            f"make demo: {options.size}x{options.size} at {options.rate:g} Hz, "
            f"detector {options.detector}, {options.num_threads} torch threads"
        )
        written["plot"] = str(write_latency_plot(plot, end_to_end, stages, title))
    else:
        written["plot"] = "none (no frame was processed)"
    return written


def summary(
    demo: Demo, recorder, load_s: float, node_code: int, bag: Path, pictures: dict[str, str]
) -> str:
    camera_log = (demo.out / "camera.log").read_text(errors="replace")
    published = next(
        (int(line.split()[2]) for line in camera_log.splitlines() if "published" in line), 0
    )
    people = recorder.people
    stamps = sorted(p.stamp_ns for p in people)
    span_s = (stamps[-1] - stamps[0]) / 1e9 if len(stamps) > 1 else 0.0
    latency = [(p.received_ns - p.stamp_ns) / 1e6 for p in people]
    values = _diagnostic_values(recorder.last_diagnostics)
    placeholder = "true" in (values.get("placeholder assets"), values.get("placeholder weights"))
    counts = recorder.counts()
    size_mb = sum(f.stat().st_size for f in bag.rglob("*") if f.is_file()) / 1e6
    stages = sorted(k for k in values if k.startswith("latency "))
    lines = [
        "",
        "=================================== demo summary ===================================",
        f"frames in (camera)       : {published} at {demo.options.rate:g} Hz, "
        f"{demo.options.size}x{demo.options.size}",
        f"frames received by node  : {values.get('frames received', '?')} "
        f"(dropped while busy: {values.get('frames dropped (replaced while waiting)', '?')}, "
        f"rejected: {values.get('messages rejected', '?')})",
        f"frames processed         : {len(people)} "
        f"({(len(people) - 1) / span_s if span_s else 0:.2f} Hz processed); "
        f"people per frame: {np.mean([p.people for p in people]) if people else 0:.2f}",
        f"model start-up           : {load_s:.1f} s",
        f"latency image->people    : {_percentiles(latency)}",
        *(f"  node {k[8:]:<22}: {values[k]}" for k in stages),
        "topics recorded          : "
        + ", ".join(f"{topic} ({n})" for topic, n in sorted(counts.items())),
        f"TF frames published      : {len(recorder.tf_children)} ({_first(recorder.tf_children)})",
        f"backend / device         : {values.get('backend', '?')} "
        f"({values.get('precision', '?')}) / {values.get('device', '?')}; "
        f"CPU {values.get('CPU features', '?')}",
        f"bag (MCAP rosbag2)       : {bag} ({size_mb:.1f} MB)",
        f"overlay video            : {pictures['video']}",
        f"latency plot             : {pictures['plot']}",
        f"node exit code           : {node_code}",
    ]
    if placeholder:
        lines += ["", PLACEHOLDER_BANNER.format(what="MODEL FILES / WEIGHTS WERE USED")]
    lines.append(
        f"demo summary: frames in {published}, frames processed {len(people)}, "
        f"median latency {np.median(latency) if latency else float('nan'):.0f} ms"
    )
    return "\n".join(lines)


def _first(names: set[str], count: int = 6) -> str:
    shown = sorted(names)[:count]
    return ", ".join(shown) + (", ..." if len(names) > count else "")


def _diagnostic_values(array) -> dict[str, str]:
    if array is None:
        return {}
    return {kv.key: kv.value for status in array.status for kv in status.values}


def main(argv: list[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
