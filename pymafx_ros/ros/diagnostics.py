"""Run-time statistics of the node and their /diagnostics form.

``NodeStats`` is written by the callbacks and the inference thread and read by the diagnostics
timer, hence the lock. Rates are counted over a sliding window, latency percentiles over the
frames of the last ``LATENCY_WINDOW_S`` seconds (so a plot of them follows the run).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from std_msgs.msg import Header

from pymafx_ros.pipeline.memory import peak_resident_mb, resident_mb
from pymafx_ros.tracking.quality import TrackQuality

RATE_WINDOW_S = 5.0
LATENCY_WINDOW_S = 10.0
LATENCY_SAMPLES = 1000  # at most, whatever the frame rate
LATENCY_KEY = "latency {stage} (ms) p50/p95/max"


class _Rate:
    def __init__(self) -> None:
        self._times: deque[float] = deque(maxlen=4096)

    def tick(self, now: float) -> None:
        self._times.append(now)

    def hz(self, now: float) -> float:
        while self._times and now - self._times[0] > RATE_WINDOW_S:
            self._times.popleft()
        return len(self._times) / RATE_WINDOW_S


@dataclass
class StatsSnapshot:
    """A consistent copy of the statistics (plain values)."""

    state: str
    input_hz: float
    processed_hz: float
    received: int
    processed: int
    dropped: int
    ignored: int  # arrived while inference was paused
    rejected: dict[str, int]
    failed: dict[str, int]  # frames taken but not published, per kind
    last_frame_failed: bool
    thread_restarts: int
    last_thread_failure: str
    recovering: bool  # the inference thread was restarted and no frame went through since
    non_finite_people: int
    people_last_frame: int
    pending: int  # frames waiting in the slot or being processed
    default_intrinsics: bool | None
    latency_ms: dict[str, tuple[float, float, float]]  # stage -> (p50, p95, max)
    info: dict[str, str | bool] = field(default_factory=dict)
    smoothing: bool | None = None  # None: no frame processed yet
    tracks: list[TrackQuality] = field(default_factory=list)  # live tracks
    world: str = ""  # what ~/world_bodies is doing, or why not
    world_ok: bool | None = None  # None: no world_frame set
    rss_mb: float = 0.0  # the node's resident memory when the snapshot was taken
    peak_rss_mb: float = 0.0  # the most it has held since it started


class NodeStats:
    """Counters, rates and latency samples shared between threads."""

    def __init__(self, clock=time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._input, self._processed_rate = _Rate(), _Rate()
        self._latency: dict[str, deque[tuple[float, float]]] = {}  # stage -> (time, ms)
        self.state = "loading model"
        self.received = self.processed = self.dropped = self.ignored = 0
        self.rejected: dict[str, int] = {}
        self.failed: dict[str, int] = {}
        self.last_frame_failed = self.recovering = False
        self.thread_restarts = 0
        self.last_thread_failure = ""
        self.non_finite_people = self.people_last_frame = 0
        self.pending = 0  # set by the node: frames waiting or in progress
        self.default_intrinsics: bool | None = None
        self.info: dict[str, str | bool] = {}
        self.smoothing: bool | None = None
        self.tracks: list = []
        self.world, self.world_ok = "", None

    def frame_received(self, replaced_waiting: bool) -> None:
        with self._lock:
            self.received += 1
            self.dropped += int(replaced_waiting)
            self._input.tick(self._clock())

    def frame_ignored(self) -> None:
        with self._lock:
            self.ignored += 1

    def message_rejected(self, reason: str) -> None:
        with self._lock:
            self.rejected[reason] = self.rejected.get(reason, 0) + 1

    def frame_failed(self, kind: str) -> None:
        """A frame was taken for processing but nothing was published for it."""
        with self._lock:
            self.failed[kind] = self.failed.get(kind, 0) + 1
            self.last_frame_failed = True

    def worker_restarted(self, reason: str) -> None:
        with self._lock:
            self.thread_restarts += 1
            self.last_thread_failure = reason
            self.recovering = True

    def frame_processed(
        self, latency_ms: dict[str, float], people: int, non_finite: int, default_k: bool
    ) -> None:
        with self._lock:
            self.processed += 1
            self.last_frame_failed = self.recovering = False
            self.people_last_frame = people
            self.non_finite_people += non_finite
            self.default_intrinsics = default_k
            now = self._clock()
            self._processed_rate.tick(now)
            for stage, value in latency_ms.items():
                if np.isfinite(value):
                    samples = self._latency.setdefault(stage, deque(maxlen=LATENCY_SAMPLES))
                    samples.append((now, float(value)))

    def tracking_seen(self, smoothing: bool, tracks: list) -> None:
        """The last frame's smoothing switch and per-track quality figures."""
        with self._lock:
            self.smoothing, self.tracks = smoothing, list(tracks)

    def set_world(self, text: str, ok: bool | None = None) -> None:
        """What ~/world_bodies does (``ok`` None: not configured)."""
        with self._lock:
            self.world, self.world_ok = text, ok

    def set_state(self, state: str, **info: str | bool) -> None:
        with self._lock:
            self.state = state
            self.info.update(info)

    def set_info(self, **info: str) -> None:
        """Update the reported values (device health, model provenance) without the state."""
        with self._lock:
            self.info.update(info)

    def snapshot(self) -> StatsSnapshot:
        rss = resident_mb()
        with self._lock:
            now = self._clock()
            latency = {}
            for stage, samples in self._latency.items():
                while samples and now - samples[0][0] > LATENCY_WINDOW_S:
                    samples.popleft()
                if samples:
                    values = np.array([value for _, value in samples])
                    p50, p95 = np.percentile(values, [50, 95])
                    latency[stage] = (float(p50), float(p95), float(values.max()))
            return StatsSnapshot(
                state=self.state,
                input_hz=self._input.hz(now),
                processed_hz=self._processed_rate.hz(now),
                received=self.received,
                processed=self.processed,
                dropped=self.dropped,
                ignored=self.ignored,
                rejected=dict(self.rejected),
                failed=dict(self.failed),
                last_frame_failed=self.last_frame_failed,
                thread_restarts=self.thread_restarts,
                last_thread_failure=self.last_thread_failure,
                recovering=self.recovering,
                non_finite_people=self.non_finite_people,
                people_last_frame=self.people_last_frame,
                pending=self.pending,
                default_intrinsics=self.default_intrinsics,
                latency_ms=latency,
                info=dict(self.info),
                smoothing=self.smoothing,
                tracks=list(self.tracks),
                world=self.world,
                world_ok=self.world_ok,
                rss_mb=rss,
                peak_rss_mb=max(peak_resident_mb(), rss),
            )


def _kv(key: str, value: object) -> KeyValue:
    """KeyValue with floats to 2 decimals and booleans as 'true'/'false' (YAML's spelling)."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, float):
        value = f"{value:.2f}"
    return KeyValue(key=key, value=str(value))


def _status(name: str, hardware_id: str, level: bytes, message: str, values) -> DiagnosticStatus:
    return DiagnosticStatus(
        level=level,
        name=name,
        message=message,
        hardware_id=hardware_id,
        values=[_kv(k, v) for k, v in values],
    )


def diagnostic_array(snap: StatsSnapshot, prefix: str, header: Header) -> DiagnosticArray:
    """Four statuses: input (WARN on default intrinsics), inference, model (ERROR on
    placeholders), tracking (per-track jitter and filter lag; WARN while a world_frame is set
    but TF cannot give it). ``prefix`` is the node's name, so several cameras stay apart."""
    info = snap.info
    hardware = str(info.get("device", ""))
    OK, WARN, ERROR = DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR

    rejected_total = sum(snap.rejected.values())
    input_values = [
        ("input rate (Hz)", snap.input_hz),
        ("frames received", snap.received),
        ("frames dropped (replaced while waiting)", snap.dropped),
        ("frames ignored (paused)", snap.ignored),
        ("messages rejected", rejected_total),
        *((f"rejected: {reason}", n) for reason, n in sorted(snap.rejected.items())),
        ("intrinsics", _intrinsics_text(snap.default_intrinsics)),
    ]
    if snap.default_intrinsics:
        input_level, input_text = WARN, "default intrinsics in use (no calibrated CameraInfo)"
    elif snap.received == 0:
        input_level, input_text = OK, "waiting for images"
    else:
        input_level, input_text = OK, f"{snap.input_hz:.1f} Hz in"

    inference_values = [
        ("state", snap.state),
        ("processed rate (Hz)", snap.processed_hz),
        ("frames processed", snap.processed),
        ("frames pending (waiting or in progress)", snap.pending),
        ("people in last frame", snap.people_last_frame),
        ("people dropped (non-finite)", snap.non_finite_people),
        ("frames failed", sum(snap.failed.values())),
        *((f"frames failed: {kind}", n) for kind, n in sorted(snap.failed.items())),
        ("inference thread restarts", snap.thread_restarts),
        ("resident memory (MB)", snap.rss_mb),
        ("peak resident memory (MB)", snap.peak_rss_mb),
        ("stages", info.get("stages", "")),
        ("stage means", info.get("stage_means", "")),
        ("last thread failure", snap.last_thread_failure),
        ("backend", info.get("backend", "")),
        ("backend fallback", info.get("backend_fallback") or "none"),
        ("precision", info.get("precision", "")),
        ("experts", info.get("experts", "")),
        ("CPU features", info.get("cpu", "")),
        ("device", hardware),
        *((key, value) for key, value in info.items() if key.startswith("device ")),
    ]
    for stage, (p50, p95, worst) in sorted(snap.latency_ms.items()):
        key = LATENCY_KEY.format(stage=stage)
        inference_values.append((key, f"{p50:.1f}/{p95:.1f}/{worst:.1f}"))
    inference_text = f"{snap.state}, {snap.processed_hz:.1f} Hz processed"
    if snap.state == "failed":
        inference_level = ERROR
    elif snap.recovering:
        inference_level = ERROR
        inference_text = (
            f"inference thread died and was restarted ({snap.last_thread_failure}); "
            "waiting for a frame to go through"
        )
    elif snap.state == "running" and info.get("device fallback", "none") != "none":
        inference_level = WARN
        inference_text = (
            f"running on the CPU after a GPU failure ({info['device fallback']}); restart the "
            "node to use the GPU again"
        )
    elif snap.state == "running" and info.get("backend_fallback"):
        inference_level = WARN
        inference_text = (
            f"running backend {info.get('backend', '')} instead of the one configured (see "
            "'backend fallback' for why and the fix)"
        )
    elif snap.state == "running" and snap.last_frame_failed:
        inference_level = WARN
        inference_text = f"running, the last frame failed ({', '.join(sorted(snap.failed))})"
    elif snap.state == "running":
        inference_level = OK
    else:
        inference_level = WARN

    placeholder = info.get("placeholder_assets") is True or info.get("placeholder_weights") is True
    model_values = [
        ("assets", info.get("assets_source", "")),
        ("weights", info.get("weights_source", "")),
        ("placeholder assets", info.get("placeholder_assets", "")),
        ("placeholder weights", info.get("placeholder_weights", "")),
    ]
    if placeholder:
        model_level = ERROR
        model_text = "PLACEHOLDER assets/weights: poses are meaningless (set data_dir/checkpoint)"
    elif "assets_source" not in info:
        model_level, model_text = WARN, "model not loaded yet"
    else:
        model_level, model_text = OK, "real assets and weights"

    return DiagnosticArray(
        header=header,
        status=[
            _status(f"{prefix}: input", hardware, input_level, input_text, input_values),
            _status(
                f"{prefix}: inference", hardware, inference_level, inference_text, inference_values
            ),
            _status(f"{prefix}: model", hardware, model_level, model_text, model_values),
            _tracking_status(snap, f"{prefix}: tracking", hardware),
        ],
    )


def _tracking_status(snap: StatsSnapshot, name: str, hardware: str) -> DiagnosticStatus:
    """Live tracks with what the filter buys (jitter before/after, mm) and costs (lag, ms)."""
    smoothing = {None: "no frame yet", True: "on", False: "off"}[snap.smoothing]
    values: list[tuple[str, object]] = [
        ("smoothing", smoothing),
        ("tracks", len(snap.tracks)),
        ("world bodies", snap.world),
    ]
    for track in snap.tracks:
        values += [
            (f"{track.track_id} age (frames)", track.age_frames),
            (
                f"{track.track_id} joint jitter raw/published (mm)",
                _pair(track.jitter_raw_mm, track.jitter_mm),
            ),
            (
                f"{track.track_id} filter lag position/rotation (ms)",
                _pair(track.lag_ms, track.rotation_lag_ms),
            ),
        ]
    text = f"{len(snap.tracks)} tracks, smoothing {smoothing}"
    if snap.world_ok is False:
        return _status(
            name, hardware, DiagnosticStatus.WARN, f"{text}; world bodies {snap.world}", values
        )
    return _status(name, hardware, DiagnosticStatus.OK, text, values)


def _pair(a: float, b: float) -> str:
    return f"{a:.1f}/{b:.1f}"


def _intrinsics_text(default_intrinsics: bool | None) -> str:
    if default_intrinsics is None:
        return "none yet"
    return "default (documented fallback)" if default_intrinsics else "CameraInfo"


def latency_percentiles(array: DiagnosticArray) -> dict[str, tuple[float, float, float]]:
    """stage -> (p50, p95, max) in ms, read back from a /diagnostics message of this node
    (for plots and benchmarks)."""
    prefix, suffix = LATENCY_KEY.split("{stage}")
    out = {}
    for status in array.status:
        for kv in status.values:
            if kv.key.startswith(prefix) and kv.key.endswith(suffix):
                numbers = tuple(float(v) for v in kv.value.split("/"))
                out[kv.key[len(prefix) : -len(suffix)]] = numbers
    return out
