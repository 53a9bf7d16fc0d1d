"""``PackedConv``: oneDNN-packed weights give the wrapped layer's outputs, per input shape."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pymafx_ros.model.packed_conv import PackedConv, pack_convolutions, packing_available

pytestmark = pytest.mark.skipif(not packing_available(), reason="torch built without oneDNN")

LAYERS = {
    "3x3": lambda: nn.Conv2d(16, 24, 3, padding=1),
    "3x3 stride 2": lambda: nn.Conv2d(16, 24, 3, stride=2, padding=1),
    "1x1 stride 2": lambda: nn.Conv2d(16, 24, 1, stride=2),
    "7x7 stride 2": lambda: nn.Conv2d(16, 24, 7, stride=2, padding=3, bias=False),
    "deconv 4x4": lambda: nn.ConvTranspose2d(16, 24, 4, stride=2, padding=1),
}


@pytest.mark.parametrize("name", LAYERS)
def test_packed_layer_equals_the_layer_at_every_batch_size(name):
    torch.manual_seed(0)
    layer = LAYERS[name]().eval()
    packed = PackedConv(layer)
    with torch.inference_mode():
        for batch in (1, 2, 3, 1):
            for memory_format in (torch.channels_last, torch.contiguous_format):
                x = torch.randn(batch, 16, 14, 14).contiguous(memory_format=memory_format)
                torch.testing.assert_close(packed(x), layer(x), rtol=1e-5, atol=1e-5)
    # Batch 1 and larger batches get oneDNN layouts of their own; nothing else is kept.
    assert sorted(packed.packed) == [(1, 14, 14), (2, 14, 14)]


def test_autograd_and_other_dtypes_take_the_dense_path():
    torch.manual_seed(1)
    layer = nn.Conv2d(4, 6, 3, padding=1)
    packed = PackedConv(layer)
    x = torch.randn(2, 4, 8, 8)
    out = packed(x)
    out.sum().backward()
    assert layer.weight.grad is not None
    assert packed.packed == {}
    layer.double()  # the wrapper shares the layer's parameters
    with torch.inference_mode():
        torch.testing.assert_close(packed(x.double()), layer(x.double()))
    assert packed.packed == {}


def test_loading_weights_drops_the_packed_copies():
    torch.manual_seed(2)
    layer = nn.Conv2d(4, 6, 3, padding=1).eval()
    module = nn.Sequential(layer)
    assert pack_convolutions(module) == 1
    x = torch.randn(1, 4, 8, 8)
    with torch.inference_mode():
        before = module(x)
        module.load_state_dict({"0.weight": -layer.weight.detach(), "0.bias": layer.bias.detach()})
        after = module(x)
    assert isinstance(module[0], PackedConv)
    torch.testing.assert_close(after, 2 * layer.bias.view(1, -1, 1, 1) - before)


def test_string_padding_is_refused():
    with pytest.raises(ValueError, match="zero padding"):
        PackedConv(nn.Conv2d(4, 4, 3, padding="same"))


class _MissingOperators:
    """A torch build whose oneDNN namespace lacks the packing operators."""


class _WrongOperators:
    """Operators that run but compute something else (a changed internal API)."""

    def __init__(self, real) -> None:
        self.real = real

    def _reorder_convolution_weight(self, *args):
        return self.real._reorder_convolution_weight(*args)

    def _convolution_pointwise(self, x, *args):
        return self.real._convolution_pointwise(x, *args) + 1.0


@pytest.mark.parametrize(
    ("operators", "reason"), [(_MissingOperators(), "AttributeError"), ("wrong", "differs")]
)
def test_a_failing_packed_path_disables_itself_once(monkeypatch, caplog, operators, reason):
    from pymafx_ros.model import packed_conv

    if operators == "wrong":
        operators = _WrongOperators(packed_conv._MKLDNN)
    monkeypatch.setattr(packed_conv, "_MKLDNN", operators)
    torch.manual_seed(3)
    layer = nn.Conv2d(8, 8, 3, padding=1).eval()
    packed = PackedConv(layer)
    x = torch.randn(1, 8, 10, 10)
    with torch.inference_mode(), caplog.at_level("WARNING"):
        first = packed(x)
        second = packed(torch.randn(2, 8, 10, 10))
        expected = layer(x)
    torch.testing.assert_close(first, expected)  # the plain convolution's result
    assert second.shape == (2, 8, 10, 10)
    assert reason in packed.disabled and packed.packed == {}
    warnings = [r for r in caplog.records if "packed convolution unavailable" in r.getMessage()]
    assert len(warnings) == 1  # logged once, never retried
