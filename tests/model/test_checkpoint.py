"""Strict checkpoint loading: the official container, prefixes, and readable failures."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pymafx_ros.model.checkpoint import CheckpointError, load_checkpoint


class _ArbitraryObject:
    """Stands for any non-tensor payload a pickle could smuggle in."""


def _small_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() + 1 for k, v in model.state_dict().items()}


def _assert_loaded(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, state[key].to(value.dtype), msg=key)


@pytest.mark.parametrize(
    "wrap",
    [
        lambda s: {"model": s, "epoch": 3},  # the official demo's container
        lambda s: {"model": {f"module.{k}": v for k, v in s.items()}},  # DataParallel
        lambda s: s,  # a bare state dict
    ],
    ids=["official-container", "module-prefix", "bare"],
)
def test_accepted_layouts_load_every_tensor(tmp_path, wrap):
    source, target = _small_model(), _small_model()
    state = _state(source)
    path = tmp_path / "ckpt.pt"
    torch.save(wrap(state), path)
    load_checkpoint(target, path)
    _assert_loaded(target, state)


def _saved(tmp_path, state) -> str:
    path = tmp_path / "ckpt.pt"
    torch.save({"model": state}, path)
    return str(path)


def test_missing_key_is_named(tmp_path):
    state = _state(_small_model())
    del state["0.bias"]
    with pytest.raises(CheckpointError, match=r"missing keys 1: 0\.bias") as info:
        load_checkpoint(_small_model(), _saved(tmp_path, state))
    assert "PyMAF-X_model_checkpoint_v1.1.pt" in str(info.value)


def test_unexpected_key_is_named(tmp_path):
    state = _state(_small_model())
    state["extra.weight"] = torch.zeros(2)
    with pytest.raises(CheckpointError, match=r"unexpected keys 1: extra\.weight"):
        load_checkpoint(_small_model(), _saved(tmp_path, state))


def test_wrong_shape_is_named_with_both_shapes(tmp_path):
    state = _state(_small_model())
    state["0.weight"] = torch.zeros(3, 5)
    with pytest.raises(CheckpointError, match=r"mis-shaped .* 0\.weight \(3, 5\) != \(3, 4\)"):
        load_checkpoint(_small_model(), _saved(tmp_path, state))


def test_many_problems_are_counted_and_abbreviated(tmp_path):
    state = {f"junk{i}": torch.zeros(1) for i in range(8)}
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(_small_model(), _saved(tmp_path, state))
    message = str(info.value)
    assert "unexpected keys 8: junk0" in message and "(3 more)" in message
    assert "missing keys 7:" in message


def test_nothing_loaded_when_incompatible(tmp_path):
    model = _small_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    state = _state(model)
    state["0.weight"] = torch.zeros(3, 5)
    with pytest.raises(CheckpointError):
        load_checkpoint(model, _saved(tmp_path, state))
    _assert_loaded(model, before)


def test_non_weights_pickle_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    # A pickled instance of an arbitrary class: weights-only unpickling refuses to build it.
    torch.save({"model": _ArbitraryObject()}, path)
    with pytest.raises(CheckpointError, match="only weights are ever loaded"):
        load_checkpoint(_small_model(), path)


def test_non_tensor_entries_are_refused(tmp_path):
    path = tmp_path / "numbers.pt"
    torch.save({"model": {"0.weight": 1.5}}, path)
    with pytest.raises(CheckpointError, match="not tensors"):
        load_checkpoint(_small_model(), path)


def test_missing_file_says_what_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"PyMAF-X v1\.1"):
        load_checkpoint(_small_model(), tmp_path / "absent.pt")


class _TinyNet(nn.Sequential):
    """Stands in for PyMAFX in the factory tests (same constructor signature)."""

    def __init__(self, assets) -> None:
        torch.manual_seed(0)
        super().__init__(nn.Linear(4, 3), nn.BatchNorm1d(3))


def test_factory_loads_the_checkpoint_and_reports_real_weights(
    tmp_path, monkeypatch, placeholder_data_dir, caplog
):
    from pymafx_ros.model import factory

    monkeypatch.setattr(factory, "PyMAFX", _TinyNet)
    state = _state(_TinyNet(None))
    path = tmp_path / "ckpt.pt"
    torch.save({"model": state}, path)
    with caplog.at_level("WARNING", logger=factory.LOG.name):
        model, info = factory.build_model(placeholder_data_dir, checkpoint=path)
    _assert_loaded(model, state)
    assert not model.training
    assert not info.placeholder_weights and info.seed is None
    assert info.placeholder_assets and info.faces.shape == (20908, 3)
    assert info.num_vertices == 10475
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "placeholders" in warning and "data_dir" in warning


def test_factory_refuses_a_mismatched_checkpoint(tmp_path, monkeypatch, placeholder_data_dir):
    from pymafx_ros.model import factory

    monkeypatch.setattr(factory, "PyMAFX", _TinyNet)
    path = tmp_path / "other.pt"
    torch.save({"model": {"0.weight": torch.zeros(3, 4)}}, path)
    with pytest.raises(CheckpointError, match="missing keys"):
        factory.build_model(placeholder_data_dir, checkpoint=path)
