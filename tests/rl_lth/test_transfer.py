"""A CartPole ticket transferred to Acrobot (other observation and action sizes) through `rl-lth run`."""

import json

import pytest
from safetensors.torch import load_file

import shared_mask as sm
from rl_lth.cli import main

pytestmark = pytest.mark.filterwarnings("ignore:.*precision lowered by casting")
SMALL = ["--width", "16", "--no-progress", "--seeds", "0", "--last-episodes", "5"]
RESHAPED = ["trunk.0.weight", "policy.weight", "policy.bias"]  # 4 -> 6 observations, 2 -> 3 actions


def test_a_cartpole_ticket_trains_on_acrobot(tmp_path):
    source, target = tmp_path / "cartpole", tmp_path / "acrobot"
    main(
        [
            "run",
            "--env",
            "CartPole-v0",
            "--out",
            str(source),
            *SMALL,
            "--levels",
            "2",
            "--epochs",
            "2",
            "--batches-per-epoch",
            "10",
        ]
    )
    main(
        [
            "run",
            "--env",
            "Acrobot-v1",
            "--out",
            str(target),
            *SMALL,
            "--levels",
            "0",
            "--epochs",
            "1",
            "--batches-per-epoch",
            "130",
            "--transfer-from",
            str(source / "seed_0"),
        ]
    )

    record = json.loads((target / "transfer.json").read_text())
    assert record["levels"] == [1, 2]
    assert record["own_initialization"] == RESHAPED and record["dense"] == RESHAPED
    rewind = load_file(str(source / "seed_0" / "rewind.safetensors"))
    fitted = load_file(str(target / "seed_0" / "transfer_rewind.safetensors"))
    init = load_file(str(target / "seed_0" / "init.safetensors"))
    for name, tensor in fitted.items():
        assert tensor.equal(init[name] if name in RESHAPED else rewind[name]), name
    for level in (1, 2):
        mask = sm.Mask.load(source / "seed_0" / f"level_{level:02d}" / "mask.safetensors")
        fitted_mask = sm.Mask.load(target / "seed_0" / f"level_{level:02d}" / "transfer_mask.safetensors")
        for name, keep in fitted_mask.items():
            assert keep.all() if name in RESHAPED else keep.equal(mask[name]), name
        for ticket in ("transfer", "transfer_random_reinit", "transfer_random_mask"):
            unit = json.loads((target / "seed_0" / f"level_{level:02d}" / ticket / "metrics.json").read_text())
            assert unit["metrics"]["ticket_reward"] <= 0  # Acrobot's rewards: -1 per step

    # a transferred ticket exports under the mask it trained with
    import shared_mask.export as sx

    unit = target / "seed_0" / "level_02" / "transfer_random_mask"
    sx.export(unit, tmp_path / "ticket.safetensors")
    exported = sx.read(tmp_path / "ticket.safetensors")
    trained = load_file(str(unit / "final.safetensors"))
    for name, keep in exported.mask.items():
        assert not trained[name][~keep].any(), name
    assert exported.mask != sm.Mask.load(target / "seed_0" / "level_02" / "transfer_mask.safetensors")
