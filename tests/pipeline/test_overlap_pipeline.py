"""A real Pipeline through the two stages gives the serial results frame by frame: the MediaPipe
front end (which looks again where the tracks predict people) and the body-projected part boxes
(carried from the frame before) both read tracking state, and the hand-off keeps it that of a
serial run. The model is the fake one, slowed so the stages really run side by side."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pipeline_fakes import CountingFakeModel

from pymafx_ros.config import PipelineConfig
from pymafx_ros.pipeline.overlap import END, TwoStages
from pymafx_ros.pipeline.pipeline import Pipeline
from pymafx_ros.pipeline.result import FrameResult
from pymafx_ros.pipeline.serialize import frame_to_dict

FRAMES = 6
PERIOD_MS = 66


class SlowModel(CountingFakeModel):
    """The fake model taking ~40 ms, as long as the front end or longer."""

    def __call__(self, *args, **kwargs):
        time.sleep(0.04)
        return super().__call__(*args, **kwargs)


@pytest.fixture(scope="module")
def clip(astronaut_640) -> list[np.ndarray]:
    """The astronaut walking right, a few pixels per frame."""
    return [np.roll(astronaut_640, 6 * index, axis=1) for index in range(FRAMES)]


def _pipeline(detector: str, layer, info) -> Pipeline:
    config = PipelineConfig(detector=detector, device="cpu", num_threads=1)
    return Pipeline(config, model=SlowModel(layer), model_info=info)


def _serial(pipeline: Pipeline, clip: list[np.ndarray]) -> list[FrameResult]:
    return [pipeline.process(rgb, timestamp_ms=i * PERIOD_MS) for i, rgb in enumerate(clip)]


def _staged(pipeline: Pipeline, clip: list[np.ndarray], just_in_time: bool) -> list[FrameResult]:
    frames = iter(enumerate(clip))
    results: list[FrameResult] = []

    def front(frame):
        index, rgb = frame
        return pipeline.front_end(rgb, timestamp_ms=index * PERIOD_MS)

    def back(front_frame, release) -> None:
        results.append(pipeline.back_end(front_frame, tracked=release))

    TwoStages(lambda _t: next(frames, END), front, back, just_in_time=just_in_time).run()
    return results


def _comparable(result: FrameResult) -> dict:
    record = frame_to_dict(result)
    record.pop("timings_ms")
    return record


# MediaPipe reads the tracks' predicted boxes; full_frame's part boxes come from the frame before.
CASES = [("mediapipe", False), ("full_frame", True)]


@pytest.mark.parametrize(("detector", "just_in_time"), CASES)
def test_staged_results_equal_serial_ones(
    detector, just_in_time, clip, fake_smplx_layer, fake_model_info
) -> None:
    serial_pipeline = _pipeline(detector, fake_smplx_layer, fake_model_info)
    staged_pipeline = _pipeline(detector, fake_smplx_layer, fake_model_info)
    try:
        serial = _serial(serial_pipeline, clip)
        staged = _staged(staged_pipeline, clip, just_in_time)
    finally:
        serial_pipeline.close()
        staged_pipeline.close()
    assert sum(len(r.people) for r in serial) >= FRAMES - 2  # the front end found the person
    assert len(staged) == FRAMES
    for index, (a, b) in enumerate(zip(serial, staged, strict=True)):
        assert _comparable(a) == _comparable(b), f"frame {index} differs"
