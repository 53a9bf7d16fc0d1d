"""The node under overload: a camera publishing 1920x1080 frames far faster than inference runs.

Starts the real node (real pipeline, placeholder assets and seeded weights unless --data and
--checkpoint are given; they cost the same), waits for its model, streams a 1920x1080 rgb8 clip
(the scikit-image astronaut, moving) at --rate Hz for --warmup seconds and then --seconds more,
and prints one JSON line:

  frames_in          frames the camera published during the measured --seconds
  frames_received    of those, frames the node took in (the rest were lost on the way: the
                     node subscribes best-effort, as sensor data should be)
  frames_processed   people messages the node published for frames of the measured window
  frames_dropped     frames the node replaced while busy (newest-frame slot), same window
  latency_ms_p50/p95/max   image stamp -> people message received here, per processed frame
  rss_mb_start/end   the node's resident memory after the warm-up and at the end
  rss_mb_peak        the most it held (VmHWM: the model build, before the engine took over)
  rss_mb_diagnostics what the node's diagnostics said last ('resident memory (MB)')
  plus what the run was: rate asked and achieved, size, threads, CPU.

What must hold (the issue's limits): rss growth <= 100 MB, p95 <= 3 x p50, processed stamps
an increasing subsequence of the camera's. --plot PATH also writes the latency plot.

    source scripts/env.sh   # the messages come from the colcon install tree on PYTHONPATH
    PYTHONPATH=$PWD:$PYTHONPATH flock /tmp/pymafx-bench.lock python benchmarks/node_overload.py \
        [--seconds 30] [--rate 60] [--plot out/node_overload_latency.png]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from pymafx_ros.msg import SmplxModelInfo, SmplxPeople
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from pymafx_ros.demo.sample_clip import sample_frames, sample_intrinsics
from pymafx_ros.ros.conversions import intrinsics_to_camera_info, rgb_to_image
from pymafx_ros.tools.check import cpu_flags

REPO = Path(__file__).resolve().parents[1]
LATCHED = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="measured streaming time")
    parser.add_argument("--rate", type=float, default=60.0, help="camera frames per second")
    parser.add_argument("--warmup", type=float, default=10.0, help="streaming before measuring")
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 2) - 1),
                        help="the node's num_threads (default: all cores but one)")  # fmt: skip
    parser.add_argument("--detector", default="mediapipe", choices=("mediapipe", "full_frame"))
    parser.add_argument("--data", default="", help="PyMAF-X data/ (default: placeholders)")
    parser.add_argument("--checkpoint", default="", help="checkpoint (default: placeholders)")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME:=VALUE",
        help="another node parameter, e.g. input_reliability:=reliable",
    )
    parser.add_argument("--plot", type=Path, help="also write the latency plot (PNG) here")
    parser.add_argument("--log", type=Path, default=Path("/tmp/node_overload_node.log"))
    return parser.parse_args()


def camera_frames(width: int, height: int, count: int = 8) -> list[np.ndarray]:
    """The moving astronaut, scaled to the frame height and centred on a grey background."""
    frames = []
    for square in sample_frames(count, height):
        frame = np.full((height, width, 3), 110, np.uint8)
        x0 = (width - height) // 2
        frame[:, x0 : x0 + height] = square
        frames.append(frame)
    return frames


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory now (``VmRSS``) or its peak so far (``VmHWM``), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def node_command(args: argparse.Namespace) -> list[str]:
    params = ["-p", f"detector:={args.detector}", "-p", "device:=cpu",
              "-p", f"num_threads:={args.threads}", "-p", "diagnostics.period_s:=0.5",
              "-r", "image:=/bench/image", "-r", "camera_info:=/bench/camera_info"]  # fmt: skip
    if args.data:
        params += ["-p", f"data_dir:={args.data}"]
    if args.checkpoint:
        params += ["-p", f"checkpoint:={args.checkpoint}"]
    for extra in args.param:
        params += ["-p", extra]
    return [sys.executable, "-m", "pymafx_ros.ros.node", "--ros-args", *params]


class Bench:
    """Camera, people and diagnostics listeners in one rclpy node spun by a thread."""

    def __init__(self, args: argparse.Namespace) -> None:
        rclpy.init(args=[])  # our --param values are not ROS arguments
        self.node = rclpy.create_node("node_overload_bench")
        driver_qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
        self.image_pub = self.node.create_publisher(Image, "/bench/image", driver_qos)
        self.info_pub = self.node.create_publisher(CameraInfo, "/bench/camera_info", driver_qos)
        k = sample_intrinsics(args.width, args.height)
        self.info = intrinsics_to_camera_info(k, args.width, args.height)
        self.images = [rgb_to_image(f) for f in camera_frames(args.width, args.height)]
        self.lock = threading.Lock()
        self.sent: list[int] = []
        self.people: list[tuple[int, int]] = []  # (stamp ns, received ns)
        self.diagnostics: list[tuple[str, int, bytes]] = []
        self.loaded = threading.Event()
        self.node.create_subscription(SmplxPeople, "/pymafx/people", self._on_people, 100)
        self.node.create_subscription(SmplxModelInfo, "/pymafx/model_info",
                                      lambda _: self.loaded.set(), LATCHED)  # fmt: skip
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics,
                                      100, raw=True)  # fmt: skip
        self.last_diagnostics: dict[str, str] = {}
        self._executor = SingleThreadedExecutor()
        self._executor.add_node(self.node)
        self._spinning = True
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while self._spinning:
            self._executor.spin_once(timeout_sec=0.05)

    def _on_people(self, msg: SmplxPeople) -> None:
        now = time.time_ns()
        with self.lock:
            self.people.append((msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec, now))

    def _on_diagnostics(self, raw: bytes) -> None:
        from rclpy.serialization import deserialize_message

        array = deserialize_message(raw, DiagnosticArray)
        with self.lock:
            self.diagnostics.append(("/diagnostics", time.time_ns(), bytes(raw)))
            self.last_diagnostics = {kv.key: kv.value for s in array.status for kv in s.values}

    def counter(self, key: str) -> int:
        with self.lock:
            return int(self.last_diagnostics.get(key, 0))

    def stream(self, rate: float, seconds: float) -> tuple[list[int], float]:
        """Publish at ``rate`` for ``seconds``; the stamps sent and the achieved rate."""
        period, start = 1.0 / rate, time.monotonic()
        next_time, stamps = start, []
        while time.monotonic() - start < seconds:
            stamp = time.time_ns()
            header = Header(frame_id="camera_color_optical_frame")
            header.stamp.sec, header.stamp.nanosec = divmod(stamp, 10**9)
            image = self.images[len(self.sent) % len(self.images)]
            image.header, self.info.header = header, header
            self.info_pub.publish(self.info)
            self.image_pub.publish(image)
            stamps.append(stamp)
            self.sent.append(stamp)
            next_time += period
            time.sleep(max(0.0, next_time - time.monotonic()))
        return stamps, len(stamps) / (time.monotonic() - start)

    def close(self) -> None:
        self._spinning = False
        self._thread.join(2.0)
        self._executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown()


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def main() -> int:
    args = parse_args()
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    with open(args.log, "wb") as log:
        node = subprocess.Popen(
            node_command(args), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO
        )
    bench = Bench(args)
    try:
        if not bench.loaded.wait(300):
            print(f"the node did not load its model; see {args.log}", file=sys.stderr)
            return 1
        bench.stream(args.rate, args.warmup)
        rss_start = rss_mb(node.pid)
        received0 = bench.counter("frames received")
        dropped0 = bench.counter("frames dropped (replaced while waiting)")
        stamps, achieved = bench.stream(args.rate, args.seconds)
        in_window = set(stamps)
        # The frame in progress when the camera stopped still comes out.
        wait_for(lambda: bench.counter("frames pending (waiting or in progress)") == 0, 30)
        time.sleep(1.0)  # one more diagnostics period with the final counters
        rss_end = rss_mb(node.pid)
        with bench.lock:
            answered = [(s, r) for s, r in bench.people if s in in_window]
        latency = np.array([(r - s) / 1e6 for s, r in answered])
        if latency.size == 0:
            print(f"no frame of the window was answered; see {args.log}", file=sys.stderr)
            return 1
        processed = [s for s, _ in answered]
        order = [stamps.index(s) for s in processed]
        result = {
            "frames_in": len(stamps),
            "frames_received": bench.counter("frames received") - received0,
            "frames_processed": len(answered),
            "frames_dropped": bench.counter("frames dropped (replaced while waiting)") - dropped0,
            "latency_ms_p50": round(float(np.percentile(latency, 50)), 1),
            "latency_ms_p95": round(float(np.percentile(latency, 95)), 1),
            "latency_ms_max": round(float(latency.max()), 1),
            "rss_mb_start": round(rss_start, 1),
            "rss_mb_end": round(rss_end, 1),
            "rss_mb_peak": round(rss_mb(node.pid, "VmHWM"), 1),
            "rss_mb_diagnostics": bench.last_diagnostics.get("resident memory (MB)", ""),
            "processed_in_camera_order": order == sorted(order),
            "rate_hz": args.rate,
            "achieved_rate_hz": round(achieved, 1),
            "seconds": args.seconds,
            "size": f"{args.width}x{args.height}",
            "threads": args.threads,
            "detector": args.detector,
            "params": args.param,
            "cpu": cpu_flags()[0],
            "cores": os.cpu_count(),
        }
        print(json.dumps(result), flush=True)
        if args.plot:
            from pymafx_ros.demo.latency_plot import write_latency_plot
            from pymafx_ros.demo.run_report import latency_series

            with bench.lock:
                e2e, stages = latency_series(answered, list(bench.diagnostics))
            title = (f"node under overload: {args.width}x{args.height} at {achieved:.0f} Hz for "
                     f"{args.seconds:.0f} s, {args.threads} threads, {args.detector}")  # fmt: skip
            write_latency_plot(args.plot, e2e, stages, title)
        return 0
    finally:
        bench.close()
        if node.poll() is None:
            node.send_signal(signal.SIGINT)
            try:
                node.wait(15)
            except subprocess.TimeoutExpired:
                node.kill()


if __name__ == "__main__":
    sys.exit(main())
