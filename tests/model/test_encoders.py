"""HRNet-W48 and PoseResNet-50 encoders: official state-dict layout and seed-0 feature parity."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from pymafx_ros.model.hrnet import HRNetW48Encoder
from pymafx_ros.model.pose_resnet import PoseResNetDeconvEncoder
from pymafx_ros.model.seeded_weights import read_state_dict_table

PARTS = {
    "body": HRNetW48Encoder,
    "hand": PoseResNetDeconvEncoder,
    "face": PoseResNetDeconvEncoder,
}


def _load_seeded(module: nn.Module, weights: dict[str, torch.Tensor], prefix: str) -> None:
    """Strictly load the drawn tensors under ``prefix``; kept entries stay as built."""
    state = module.state_dict()
    drawn = {k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}
    assert drawn and set(drawn) <= set(state), f"seeded keys for {prefix} do not fit the module"
    state.update(drawn)
    module.load_state_dict(state, strict=True)


@pytest.fixture(scope="module")
def encoders(seeded_weights_seed0) -> dict[str, nn.Module]:
    built = {}
    for part, cls in PARTS.items():
        module = cls()
        _load_seeded(module, seeded_weights_seed0, f"encoders.{part}.")
        built[part] = module.eval()
    return built


def _encoder_input(part: str, fixture: dict[str, np.ndarray]) -> torch.Tensor:
    if part == "hand":
        # PyMAF-X batches the right hand with the mirrored left hand.
        rhand = torch.from_numpy(fixture["in_img_rhand"])
        lhand = torch.from_numpy(fixture["in_img_lhand"])
        return torch.cat([rhand, torch.flip(lhand, [3])])
    return torch.from_numpy(fixture[f"in_img_{part}"])


def _assert_close_rel(actual: np.ndarray, expected: np.ndarray, name: str) -> None:
    assert actual.shape == expected.shape, f"{name}: {actual.shape} != {expected.shape}"
    scale = float(np.abs(expected).max())
    err = float(np.abs(actual - expected).max())
    assert err <= 1e-4 * scale, f"{name}: max abs error {err:.3g} > 1e-4 * {scale:.3g}"


@pytest.mark.parametrize("part", list(PARTS))
def test_state_dict_layout_equals_official_table(part, encoders, state_dict_table):
    prefix = f"encoders.{part}."
    expected = {
        row.key[len(prefix) :]: (row.shape, row.dtype)
        for row in read_state_dict_table(state_dict_table)
        if row.key.startswith(prefix)
    }
    actual = {
        key: (tuple(value.shape), str(value.dtype).removeprefix("torch."))
        for key, value in encoders[part].state_dict().items()
    }
    assert sorted(actual) == sorted(expected)
    assert actual == expected


@pytest.mark.parametrize("part", list(PARTS))
def test_features_match_official_seed0(part, encoders, parity_fixture):
    with torch.no_grad():
        levels = [f.numpy() for f in encoders[part](_encoder_input(part, parity_fixture))]
    assert len(levels) == 3
    for level in (0, 1):
        name = f"A_feat_enc_{part}_sfeat{level}"
        _assert_close_rel(levels[level], parity_fixture[name], name)
    finest = f"A_feat_enc_{part}_sfeat2"
    if part == "body":
        _assert_close_rel(levels[2], parity_fixture[finest], finest)
    else:
        # The fixture stores the 56x56 maps of hand/face only in part.
        _assert_close_rel(levels[2][:, :32], parity_fixture[f"{finest}_ch0to31"], finest)
        means = levels[2].mean(axis=(2, 3))
        _assert_close_rel(means, parity_fixture[f"{finest}_chanmean"], f"{finest}_chanmean")


@pytest.mark.parametrize("part", ["body", "hand"])
def test_unbatched_image_is_rejected_with_hint(part, encoders):
    with pytest.raises(ValueError, match=r"\[B,3,224,224\]"):
        encoders[part](torch.zeros(3, 224, 224))
