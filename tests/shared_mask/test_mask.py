import os

import pytest
import torch

import shared_mask as sm
from tests.shared_mask.models import TiedLM, mlp


@pytest.fixture
def pruned():
    model = mlp()
    return model, sm.prune_global(model, sm.Mask.dense(model), 0.5)


def test_dense_mask_covers_selected_parameters(pruned):
    model, _ = pruned
    mask = sm.Mask.dense(model, ["0.weight", "4.bias"])
    assert mask.names() == ["0.weight", "4.bias"] and mask.density() == 1.0
    assert mask["0.weight"].dtype == torch.bool and mask["0.weight"].shape == (32, 10)


def test_report_rows_add_up(pruned):
    _, mask = pruned
    rows = mask.report()
    assert [r.name for r in rows] == mask.names()
    for row in rows:
        assert row.alive == int(mask[row.name].sum()) and row.density == row.alive / row.numel
    assert sum(r.alive for r in rows) == mask.alive()
    assert "total" in str(rows) and "0.weight" in str(rows)


def test_apply_zeroes_exactly_the_pruned_entries(pruned):
    model, mask = pruned
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    mask.apply_(model)
    for name, p in model.named_parameters():
        keep = mask[name]
        assert torch.equal(p[keep], before[name][keep]) and (p[~keep] == 0).all()


def test_save_load_roundtrip_is_bit_packed_and_atomic(tmp_path, pruned):
    model, mask = pruned
    path = tmp_path / "sub" / "mask.safetensors"
    mask.save(path)
    assert os.listdir(path.parent) == ["mask.safetensors"]  # no temporary left behind
    assert sm.Mask.load(path, model) == mask
    header = 8 + int.from_bytes(path.read_bytes()[:8], "little")
    assert path.stat().st_size - header <= mask.numel() / 8 + len(mask)  # <= 1 bit per entry (+ byte padding)


def test_big_mask_file_is_under_one_thirtieth_of_fp32_bytes(tmp_path):
    mask = sm.Mask({"w": torch.rand(1000, 1000) > 0.5, "b": torch.ones(1000, dtype=torch.bool)})
    mask.save(tmp_path / "m.safetensors")
    assert (tmp_path / "m.safetensors").stat().st_size <= 4 * mask.numel() / 30
    assert sm.Mask.load(tmp_path / "m.safetensors") == mask


def test_hamming_counts_differing_positions():
    a = sm.Mask({"w": torch.tensor([True, True, False, False])})
    b = sm.Mask({"w": torch.tensor([True, False, False, True])})
    assert a.hamming(b) == 0.5 and a.hamming(a) == 0.0
    with pytest.raises(ValueError, match="different parameters"):
        a.hamming(sm.Mask({"v": torch.ones(4, dtype=torch.bool)}))


def test_mask_for_another_model_is_a_clear_error(tmp_path, pruned):
    _, mask = pruned
    mask.save(tmp_path / "m.safetensors")
    with pytest.raises(KeyError, match="another model"):
        sm.Mask.load(tmp_path / "m.safetensors", TiedLM())
    with pytest.raises(
        ValueError, match=r"'0.weight' has shape \(32, 10\) but the model's parameter has shape \(16, 10\)"
    ):
        sm.Mask.load(tmp_path / "m.safetensors", mlp(sizes=(10, 16, 32, 3)))


def test_missing_and_corrupt_files_are_clear_errors(tmp_path, pruned):
    _, mask = pruned
    with pytest.raises(FileNotFoundError, match="mask file not found"):
        sm.Mask.load(tmp_path / "nope.safetensors")
    (tmp_path / "junk").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(ValueError, match="not a valid mask file"):
        sm.Mask.load(tmp_path / "junk")
    mask.save(tmp_path / "m.safetensors")
    data = (tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "cut").write_bytes(data[:-20])
    with pytest.raises(ValueError, match="not a valid mask file"):
        sm.Mask.load(tmp_path / "cut")


def test_a_mask_must_be_bool():
    with pytest.raises(ValueError, match="bool tensor"):
        sm.Mask({"w": torch.ones(3)})


def test_dense_mask_over_unknown_names_is_a_clear_error():
    with pytest.raises(KeyError, match="parameters not in the model: 9.weight"):
        sm.Mask.dense(mlp(), ["0.weight", "9.weight"])
