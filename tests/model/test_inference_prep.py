"""``prepare_for_inference``: BN folding + channels-last encoders, same outputs as the plain
model (which stays the parity contract), guarded against training and checkpoint loading."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from torch import nn

from pymafx_ros.model.checkpoint import CheckpointError, load_checkpoint
from pymafx_ros.model.conv_blocks import fold_batch_norms
from pymafx_ros.model.packed_conv import PackedConv
from pymafx_ros.model.pose_resnet import PoseResNetDeconvEncoder
from pymafx_ros.tools import parity

ABS_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def prepared_model(seeded_model):
    """A prepared deep copy: the session's plain model must stay untouched (~1.2 GB more)."""
    model = copy.deepcopy(seeded_model)
    model.prepare_for_inference()
    yield model
    del model


def _fixture_inputs(parity_fixture) -> tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
    images = [
        torch.from_numpy(parity_fixture[f"in_img_{p}"]) for p in ("body", "lhand", "rhand", "face")
    ]
    vis = {f"vis_{h}": torch.from_numpy(parity_fixture[f"in_vis_{h}"]) for h in ("lhand", "rhand")}
    return images, vis


@pytest.mark.parametrize("given_visibility", [True, False])
def test_prepared_predict_matches_the_plain_model(
    seeded_model, prepared_model, parity_fixture, given_visibility
):
    images, vis = _fixture_inputs(parity_fixture)
    if not given_visibility:
        vis = {}
    with torch.inference_mode():
        plain = seeded_model.predict(*images, **vis)
        prepared = prepared_model.predict(*images, **vis)
    assert plain.keys() == prepared.keys()
    for key, expected in plain.items():
        got = prepared[key]
        assert got.shape == expected.shape and got.dtype == expected.dtype, key
        if not expected.is_floating_point():
            assert torch.equal(got, expected), key
            continue
        # Absolute for unit-scale outputs; the yaw angles in degrees (|x| ~ 1-10) get the same
        # tolerance relative to their scale.
        scale = max(1.0, expected.abs().max().item())
        assert (got - expected).abs().max().item() <= ABS_TOLERANCE * scale, key


def test_the_prepared_model_passes_parity_on_every_section(prepared_model):
    fixture = Path(__file__).parents[1] / "fixtures" / "parity_seed0.npz"
    report = parity.run_parity(fixture, model=prepared_model)
    assert report.ok, parity.format_report(report, with_features=False)
    assert {c.section for c in report.outputs} == {"A", "B", "C", "D"}


def test_preparation_folds_every_batch_norm_and_is_idempotent(prepared_model):
    keys = set(prepared_model.state_dict())
    assert not [k for k in keys if k.startswith("encoders.") and "running_mean" in k]
    assert "encoders.body.conv1.bias" in keys
    assert not any(isinstance(m, nn.BatchNorm2d) for m in prepared_model.encoders.modules())
    convolutions = (nn.Conv2d, nn.ConvTranspose2d)
    assert not any(type(m) in convolutions for m in prepared_model.encoders.modules())
    assert any(isinstance(m, PackedConv) for m in prepared_model.encoders.modules())
    prepared_model.prepare_for_inference()
    assert set(prepared_model.state_dict()) == keys


def test_preparing_in_training_mode_is_refused(seeded_model):
    keys = set(seeded_model.state_dict())
    try:
        seeded_model.train()
        with pytest.raises(RuntimeError, match=r"\.eval\(\)"):
            seeded_model.prepare_for_inference()
    finally:
        seeded_model.eval()
    assert not seeded_model.prepared_for_inference
    assert set(seeded_model.state_dict()) == keys
    encoder = PoseResNetDeconvEncoder((8,))
    with pytest.raises(RuntimeError, match=r"\.eval\(\)"):
        encoder.prepare_for_inference()


def test_a_prepared_model_refuses_training_and_checkpoints(prepared_model, tmp_path):
    with pytest.raises(RuntimeError, match="cannot train"):
        prepared_model.train()
    assert not prepared_model.training
    path = tmp_path / "checkpoint.pt"
    torch.save({"model": {"x": torch.zeros(1)}}, path)
    with pytest.raises(CheckpointError, match="prepared for inference"):
        load_checkpoint(prepared_model, path)


def test_a_batch_norm_without_its_convolution_is_refused_untouched():
    module = nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU(), nn.BatchNorm2d(4)).eval()
    with pytest.raises(RuntimeError, match="cannot fold"):
        fold_batch_norms(module)
    assert isinstance(module[2], nn.BatchNorm2d)


def test_folding_keeps_the_function_of_conv_and_deconv_pairs():
    torch.manual_seed(0)
    module = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ConvTranspose2d(4, 5, 4, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(5),
    )
    for bn in (module[1], module[3]):
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.data.uniform_(0.5, 2)
        bn.bias.data.uniform_(-1, 1)
    module.eval()
    x = torch.randn(2, 3, 8, 8)
    expected = module(x)
    assert fold_batch_norms(module) == 2
    assert isinstance(module[1], nn.Identity) and isinstance(module[3], nn.Identity)
    torch.testing.assert_close(module(x), expected, rtol=1e-5, atol=1e-5)
