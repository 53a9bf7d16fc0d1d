"""The /diagnostics form of the node's statistics: levels, booleans as booleans, latency
percentiles over the last 10 s (read back by plots), failures and restarts."""

from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticStatus
from std_msgs.msg import Header

from pymafx_ros.ros.diagnostics import (
    LATENCY_WINDOW_S,
    NodeStats,
    diagnostic_array,
    latency_percentiles,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def statuses(stats: NodeStats) -> dict[str, DiagnosticStatus]:
    array = diagnostic_array(stats.snapshot(), "cam1/pymafx", Header())
    return {s.name.split(": ")[1]: s for s in array.status}


def values(status: DiagnosticStatus) -> dict[str, str]:
    return {kv.key: kv.value for kv in status.values}


def test_placeholder_flags_are_booleans_and_make_the_model_an_error():
    stats = NodeStats()
    stats.set_state("running", placeholder_assets=True, placeholder_weights=False)
    model = statuses(stats)["model"]
    assert model.level == DiagnosticStatus.ERROR
    assert values(model)["placeholder assets"] == "true"
    assert values(model)["placeholder weights"] == "false"
    stats.set_state("running", placeholder_assets=False, assets_source="real")
    assert statuses(stats)["model"].level == DiagnosticStatus.OK


def test_latency_percentiles_cover_the_last_window_and_read_back():
    clock = Clock()
    stats = NodeStats(clock=clock)
    stats.frame_processed({"pipeline": 1000.0}, 1, 0, default_k=False)
    clock.now += LATENCY_WINDOW_S + 1  # the slow frame leaves the window
    for ms in (10.0, 20.0, 30.0):
        stats.frame_processed({"pipeline": ms}, 1, 0, default_k=False)
    array = diagnostic_array(stats.snapshot(), "pymafx", Header())
    assert latency_percentiles(array) == {"pipeline": (20.0, 29.0, 30.0)}


def test_failures_warn_and_a_restarted_thread_is_an_error_until_a_frame_goes_through():
    stats = NodeStats()
    stats.set_state("running")
    assert statuses(stats)["inference"].level == DiagnosticStatus.OK
    stats.frame_failed("processing_error")
    inference = statuses(stats)["inference"]
    assert inference.level == DiagnosticStatus.WARN and "processing_error" in inference.message
    assert values(inference)["frames failed: processing_error"] == "1"
    stats.worker_restarted("SystemExit: gone")
    inference = statuses(stats)["inference"]
    assert inference.level == DiagnosticStatus.ERROR and "SystemExit: gone" in inference.message
    assert values(inference)["inference thread restarts"] == "1"
    stats.frame_processed({}, 0, 0, default_k=False)
    assert statuses(stats)["inference"].level == DiagnosticStatus.OK


def test_rejections_are_counted_by_kind():
    stats = NodeStats()
    for reason in ("size", "size", "encoding"):
        stats.message_rejected(reason)
    stats.frame_ignored()
    given = values(statuses(stats)["input"])
    assert given["messages rejected"] == "3" and given["rejected: size"] == "2"
    assert given["rejected: encoding"] == "1" and given["frames ignored (paused)"] == "1"


def test_resident_memory_and_its_peak_are_reported_in_mb():
    held = bytearray(64 * 2**20)  # 64 MB touched: resident now, and in the peak
    held[::4096] = b"\x01" * len(held[::4096])
    inference = values(statuses(NodeStats())["inference"])
    rss = float(inference["resident memory (MB)"])
    assert 64 < rss <= float(inference["peak resident memory (MB)"])
    del held
