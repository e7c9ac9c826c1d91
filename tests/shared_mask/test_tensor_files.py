"""Mask and weight files: byte-deterministic, checksummed, and clear errors when damaged."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import shared_mask as sm
from shared_mask import tensor_file
from tests.shared_mask.models import mlp
from tests.shared_mask.test_lottery import MLPTrainer, config


def a_mask():
    model = mlp(0)
    return sm.prune_global(model, sm.Mask.dense(model), 0.7)


def test_the_same_mask_gives_the_same_bytes(tmp_path):
    a_mask().save(tmp_path / "a.safetensors")
    a_mask().save(tmp_path / "b.safetensors")
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()
    assert set(load_file(str(tmp_path / "a.safetensors"))) == set(a_mask().names())  # safetensors reads it


def test_a_flipped_byte_in_a_mask_is_refused(tmp_path):
    path = tmp_path / "mask.safetensors"
    a_mask().save(path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x10  # inside the packed bits of the last tensor
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="is corrupt: its contents do not match the checksum"):
        sm.Mask.load(path)


def test_a_mask_written_before_checksums_still_loads(tmp_path):
    mask = a_mask()
    packed = {n: torch.from_numpy(np.packbits(t.numpy().reshape(-1))) for n, t in mask.items()}
    metadata = {
        "format": "shared_mask.bitpacked.v1",
        "names": json.dumps(mask.names()),
        "shapes": json.dumps({n: list(t.shape) for n, t in mask.items()}),
    }
    save_file(packed, str(tmp_path / "old.safetensors"), metadata=metadata)
    assert sm.Mask.load(tmp_path / "old.safetensors") == mask


def test_weights_files_are_deterministic_and_a_truncated_one_is_a_clear_error(tmp_path):
    trainer = MLPTrainer()
    trainer.save_weights(mlp(3), tmp_path / "a.safetensors")
    trainer.save_weights(mlp(3), tmp_path / "b.safetensors")
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()
    data = (tmp_path / "a.safetensors").read_bytes()
    (tmp_path / "a.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="a.safetensors is not a readable safetensors file"):
        trainer.load_weights(tmp_path / "a.safetensors", mlp(0))


def test_every_dtype_round_trips(tmp_path):
    tensors = {
        "f16": torch.randn(3, 2).half(),
        "bf16": torch.randn(5).bfloat16(),
        "i64": torch.arange(4),
        "flag": torch.tensor([True, False]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0),
    }
    tensor_file.save(tensors, tmp_path / "t.safetensors", {"note": "x"})
    loaded, metadata = tensor_file.load(tmp_path / "t.safetensors")
    assert metadata["note"] == "x"
    for name, tensor in tensors.items():
        assert loaded[name].dtype == tensor.dtype and torch.equal(loaded[name], tensor), name


def test_a_rerun_removes_half_written_files_of_a_killed_run(tmp_path):
    run = tmp_path / "run"
    sm.run_lottery(MLPTrainer(), config(seeds=[0], levels=1), run, progress=False)
    leftover = run / "seed_0" / "level_01" / "winning" / ".final.safetensors.tmp4242"
    leftover.write_bytes(b"half")
    sm.run_lottery(MLPTrainer(), config(seeds=[0], levels=1), run, progress=False)
    assert not leftover.exists()


def test_a_rerun_with_nothing_left_to_train_rebuilds_a_damaged_results_csv(tmp_path):
    run = tmp_path / "run"
    sm.run_lottery(MLPTrainer(), config(seeds=[0], levels=1), run, progress=False)
    complete = (run / "results.csv").read_text()
    (run / "results.csv").write_text(complete[: len(complete) // 2])  # killed while it was rewritten
    trainer = MLPTrainer()
    sm.run_lottery(trainer, config(seeds=[0], levels=1), run, progress=False)
    assert trainer.calls == [] and (run / "results.csv").read_text() == complete
