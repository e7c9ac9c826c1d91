"""The sparse ticket file: per-tensor layouts, exact round trips, sizes, and refusal of bad input."""

import json

import pytest
import torch
from safetensors.torch import save_file

import shared_mask as sm
from shared_mask.export import layouts, ticket_file, untie


def sparse(shape, density, seed=0):
    generator = torch.Generator().manual_seed(seed)
    keep = torch.rand(shape, generator=generator) < density
    return torch.randn(shape, generator=generator) * keep, keep


@pytest.mark.parametrize("density,layout", [(1.0, "dense"), (0.99, "bitmask"), (0.5, "bitmask"), (0.05, "csr")])
def test_each_tensor_takes_its_smallest_exact_layout(density, layout):
    tensor, keep = sparse((64, 400), density)
    assert layouts.choose(tensor, keep) == layout
    sizes = {name: layouts.stored_bytes(name, (64, 400), int(keep.sum()), 4) for name in layouts.LAYOUTS}
    assert sizes[layout] == min(sizes[n] for n in layouts.LAYOUTS if n != "dense" or keep.all())


@pytest.mark.parametrize("layout", layouts.LAYOUTS)
@pytest.mark.parametrize("shape", [(7,), (5, 9), (3, 4, 5, 2), (1,)])
def test_every_layout_decodes_to_the_same_tensor_and_mask(layout, shape):
    tensor, keep = sparse(shape, 0.4, seed=3)
    if layout == "dense":
        keep = torch.ones(shape, dtype=torch.bool)
    keep.view(-1)[0] = True  # a kept zero stays kept: the file holds the mask, not the nonzeros
    tensor.view(-1)[0] = 0.0
    decoded, decoded_keep = layouts.decode(layout, layouts.encode(layout, tensor, keep), shape)
    assert torch.equal(decoded, tensor) and torch.equal(decoded_keep, keep)


def test_file_round_trip_keeps_tensors_mask_config_and_dtypes(tmp_path):
    tensors = {
        "a.weight": sparse((650, 650), 0.05)[0],
        "a.bias": torch.randn(650, dtype=torch.float64),
        "half": sparse((30, 20), 0.3)[0].half(),
        "count": torch.tensor([3]),
    }
    mask = sm.Mask({"a.weight": tensors["a.weight"] != 0, "half": tensors["half"] != 0})
    written = ticket_file.write(tmp_path / "t.safetensors", tensors, mask, {"domain": "x", "model": {"k": [1]}})
    assert written == {"a.weight": "csr", "a.bias": "dense", "half": "bitmask", "count": "dense"}
    ticket = ticket_file.read(tmp_path / "t.safetensors")
    assert ticket.config == {"domain": "x", "model": {"k": [1]}} and ticket.layouts == written
    assert ticket.mask == mask
    for name, tensor in tensors.items():
        assert ticket.tensors[name].dtype == tensor.dtype and torch.equal(ticket.tensors[name], tensor), name
    assert [p.name for p in tmp_path.iterdir()] == ["t.safetensors"]  # atomic: no temporary left


def test_a_95_percent_pruned_layer_is_over_8x_smaller_than_dense(tmp_path):
    weight = sparse((650, 650), 0.05)[0]
    save_file({"w": weight}, str(tmp_path / "dense.safetensors"))
    ticket_file.write(tmp_path / "sparse.safetensors", {"w": weight}, sm.Mask({"w": weight != 0}), {})
    ratio = (tmp_path / "dense.safetensors").stat().st_size / (tmp_path / "sparse.safetensors").stat().st_size
    assert ratio > 12  # CSR with int16 columns: 6 bytes per kept weight


def test_weights_the_mask_prunes_must_be_zero(tmp_path):
    weight = torch.randn(4, 5)
    keep = torch.rand(4, 5) < 0.5
    with pytest.raises(ValueError, match=r"'w' has \d+ nonzero weights where the mask prunes"):
        ticket_file.write(tmp_path / "t.safetensors", {"w": weight}, sm.Mask({"w": keep}), {})
    with pytest.raises(ValueError, match="shape \\[4, 6\\].*a mask for another model"):
        wider = sm.Mask({"w": torch.ones(4, 6, dtype=torch.bool)})
        ticket_file.write(tmp_path / "t.safetensors", {"w": weight}, wider, {})
    with pytest.raises(ValueError, match="parameters the model does not have \\(v\\)"):
        ticket_file.write(tmp_path / "t.safetensors", {"w": weight}, sm.Mask({"v": keep}), {})
    assert not list(tmp_path.iterdir())


def test_corrupt_and_foreign_files_are_refused(tmp_path):
    path = tmp_path / "t.safetensors"
    weight = sparse((50, 40), 0.05)[0]
    ticket_file.write(path, {"w": weight}, sm.Mask({"w": weight != 0}), {})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="t.safetensors is not a valid sparse ticket file"):
        ticket_file.read(path)
    sm.Mask({"w": weight != 0}).save(tmp_path / "mask.safetensors")
    with pytest.raises(ValueError, match="mask.safetensors is not a valid sparse ticket file"):
        ticket_file.read(tmp_path / "mask.safetensors")
    with pytest.raises(ValueError, match="no such sparse ticket file"):
        ticket_file.read(tmp_path / "missing.safetensors")


def test_arrays_that_contradict_the_header_are_refused(tmp_path):
    weight = sparse((50, 40), 0.05)[0]
    arrays = layouts.encode("csr", weight, weight != 0)
    arrays["col"] = arrays["col"].flip(0)  # columns out of order
    header = {"w": {"layout": "csr", "shape": [50, 40], "dtype": "float32"}}
    save_file(
        {f"w/{k}": v for k, v in arrays.items()},
        str(tmp_path / "t.safetensors"),
        metadata={"format": ticket_file.FORMAT, "tensors": json.dumps(header), "config": "{}", "masked": "[]"},
    )
    with pytest.raises(ValueError, match="not strictly increasing"):
        ticket_file.read(tmp_path / "t.safetensors")


def test_tied_tensors_are_stored_once_under_the_masks_name():
    table = torch.randn(6, 3)
    tensors = {"decoder.embed": table, "encoder.embed": table, "bias": torch.zeros(3), "empty": torch.zeros(0)}
    unique, tied = untie(tensors, prefer=["encoder.embed"])
    assert list(unique) == ["encoder.embed", "bias", "empty"] and tied == {"decoder.embed": "encoder.embed"}


def test_a_ticket_file_is_byte_deterministic_and_a_flipped_byte_is_refused(tmp_path):
    weight, keep = sparse((64, 64), 0.1)
    tensors = {"w": weight, "b": torch.randn(64)}
    mask = sm.Mask({"w": keep})
    config = {"trainer": {"z": 1, "a": [1, 2]}, "lottery": {"b": 2}}
    ticket_file.write(tmp_path / "one.safetensors", tensors, mask, config)
    ticket_file.write(tmp_path / "two.safetensors", tensors, mask, config)
    data = (tmp_path / "one.safetensors").read_bytes()
    assert data == (tmp_path / "two.safetensors").read_bytes()
    flipped = bytearray(data)
    flipped[-5] ^= 0x10  # inside the last tensor's bytes
    (tmp_path / "flipped.safetensors").write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="flipped.safetensors is not a valid sparse ticket.*checksum"):
        ticket_file.read(tmp_path / "flipped.safetensors")
