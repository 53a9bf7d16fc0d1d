"""The bf16 encoders' deconvolutions as four phase convolutions: equal to ConvTranspose2d, used
by OpenVINO bf16 only, and the whole bf16 path stays within the stated millimetre bound."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pymafx_ros.backends.cpu_features import detect_cpu_features
from pymafx_ros.backends.export.phase_deconv import PhaseDeconvolution, with_phase_deconvolutions
from pymafx_ros.backends.export.programs import DECONVOLUTION_PARTS, ENCODER_PARTS
from pymafx_ros.backends.openvino_backend import OpenVinoBackend
from pymafx_ros.backends.options import BackendOptions
from pymafx_ros.backends.selection import create_backend
from pymafx_ros.model.pose_resnet import PoseResNetDeconvEncoder


@pytest.mark.parametrize(
    ("batch", "in_channels", "channels", "height", "width"),
    [(1, 8, 4, 7, 7), (3, 16, 5, 1, 1), (2, 4, 6, 3, 9)],
)
def test_equals_conv_transpose(batch, in_channels, channels, height, width):
    generator = torch.Generator().manual_seed(batch * height + width)
    deconv = nn.ConvTranspose2d(in_channels, channels, 4, stride=2, padding=1, bias=False)
    deconv.weight.data = torch.randn(deconv.weight.shape, generator=generator)
    x = torch.randn(batch, in_channels, height, width, generator=generator)
    with torch.no_grad():
        want = deconv(x)
        got = PhaseDeconvolution(deconv)(x)
    assert got.shape == want.shape == (batch, channels, 2 * height, 2 * width)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "deconv",
    [
        nn.ConvTranspose2d(4, 4, 4, stride=2, padding=1, bias=True),
        nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, bias=False),
        nn.ConvTranspose2d(4, 4, 4, stride=1, padding=1, bias=False),
    ],
)
def test_other_geometries_are_refused_by_name(deconv):
    with pytest.raises(ValueError, match=r"k=4, stride=2, padding=1, no bias"):
        PhaseDeconvolution(deconv)


def test_encoder_copy_equals_the_encoder_which_is_left_alone():
    torch.manual_seed(0)
    encoder = PoseResNetDeconvEncoder().eval()
    rewritten = with_phase_deconvolutions(encoder).eval()
    kinds = {type(m) for m in rewritten.modules()}
    assert nn.ConvTranspose2d not in kinds and PhaseDeconvolution in kinds
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in encoder.modules()) == 3
    image = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        for got, want in zip(rewritten(image), encoder(image), strict=True):
            torch.testing.assert_close(got, want, atol=1e-4 * want.abs().max().item(), rtol=0)


def test_only_openvino_bf16_exports_phase_deconvolutions(seeded_model):
    cpu = detect_cpu_features()
    assert OpenVinoBackend(seeded_model, "bf16", cpu).phase_deconvolutions
    assert not OpenVinoBackend(seeded_model, "fp32", cpu).phase_deconvolutions


def test_phase_programs_only_for_encoders_with_deconvolutions(seeded_model):
    """The body's HRNet has none: exporting it again under another name would only cost."""
    with_deconvolutions = {
        part
        for part in ENCODER_PARTS
        if any(isinstance(m, nn.ConvTranspose2d) for m in seeded_model.encoders[part].modules())
    }
    assert with_deconvolutions == set(DECONVOLUTION_PARTS)


@pytest.mark.skipif(not detect_cpu_features().native_bf16, reason="CPU without native bf16")
def test_openvino_bf16_joints_stay_within_the_auto_bound(seeded_model):
    """precision ``auto`` takes bf16 for a 5 mm bound (README); one person, both hands."""
    backend = create_backend(seeded_model, BackendOptions("openvino", "bf16", num_threads=2))
    generator = torch.Generator().manual_seed(4)
    crops = [torch.randn(1, 3, 224, 224, generator=generator) for _ in range(4)]
    vis = {"vis_lhand": torch.tensor([1.0]), "vis_rhand": torch.tensor([1.0])}
    got = backend.predict(*crops, **vis, profile="joints").smplx_joints
    with torch.inference_mode():
        want = seeded_model.predict(*crops, **vis, profile="joints")["smplx_joints"]
    assert (got - want).norm(dim=-1).max() < 5e-3
