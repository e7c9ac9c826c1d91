"""Sparse export of RL tickets: classic-control and Atari networks round-trip through the file and lth-export,
the sparse models act like the dense masked ones, and bad units are refused."""

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

import shared_mask as sm
import shared_mask.export as sx
from rl_lth import cli as rl_lth_cli
from rl_lth.atari.network import build_network
from rl_lth.export import EXPORTER
from rl_lth.network import ActorCritic
from shared_mask.export import cli

pytestmark = pytest.mark.filterwarnings("ignore:.*precision lowered by casting")

A2C_CONFIG = {
    "experiment": "CartPole-v0",
    "metric": "ticket_reward",
    "algo": "a2c",
    "epochs": 1,
    "batches_per_epoch": 5,
    "last_episodes": 1,
    "width": 128,
    "num_envs": 32,
    "steps_per_env": 4,
}
ELF_CONFIG = {
    "experiment": "Breakout-v5",
    "metric": "ticket_reward",
    "algo": "elf",
    "epochs": 1,
    "batches_per_epoch": 5,
    "last_episodes": 1,
    "elf": {"batch_size": 4, "channels": 8, "hidden": 32},
    "preprocessing": {"img_height": 84, "img_width": 84, "stack_num": 4},
}


def write_unit(run, trainer_config, model, density):
    """A finished level-1 winning unit as the lottery loop leaves it: pruned final weights, the mask, metrics."""
    mask = sm.prune_to_density(model, sm.Mask.dense(model, sm.prunable(model, "all")), density)
    mask.apply_(model)
    unit = run / "seed_0" / "level_01" / "winning"
    unit.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"lottery": {"levels": 1, "rate": 0.2}, "trainer": trainer_config}))
    mask.save(unit.parent / "mask.safetensors")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(unit / "final.safetensors"))
    (unit / "metrics.json").write_text(
        json.dumps(
            {
                "seed": 0,
                "level": 1,
                "ticket": "winning",
                "density": density,
                "fraction_pruned": 1 - density,
                "metrics": {"ticket_reward": 20.0},
            }
        )
    )
    return unit, model.eval()


@pytest.fixture
def classic(tmp_path):
    return write_unit(tmp_path / "run", A2C_CONFIG, ActorCritic(4, 2, width=128, seed=3), density=0.012)


@pytest.mark.parametrize("policy", ["sparse", "auto", "dense"])
def test_classic_ticket_round_trip_acts_like_the_dense_masked_network(classic, tmp_path, policy):
    unit, dense = classic
    exported = sx.export(unit, tmp_path / "ticket.safetensors")
    assert exported.bytes * 8 < exported.dense_bytes and "csr" in exported.layouts.values()
    model = sx.load(tmp_path / "ticket.safetensors", policy=policy)
    sparse_layers = sum(isinstance(m, sx.SparseLinear) for m in model.modules())
    assert sparse_layers == {"sparse": 5, "dense": 0}.get(policy, sparse_layers)
    obs = torch.randn(32, 4)
    with torch.no_grad():
        for ours, reference in zip(model(obs), dense(obs)):
            torch.testing.assert_close(ours, reference)
        torch.testing.assert_close(model.logits(obs), dense.logits(obs))
    config = sx.read(tmp_path / "ticket.safetensors").config
    assert config["model"] == {"network": "actor_critic", "obs_size": 4, "actions": 2, "width": 128}
    assert config["unit"]["ticket"] == "winning" and config["run"]["trainer"] == A2C_CONFIG


def test_units_of_a_real_cartpole_lottery_export_and_act_like_their_final_weights(tmp_path):
    rl_lth_cli.main(
        [
            "run",
            "--env",
            "CartPole-v0",
            "--out",
            str(tmp_path / "run"),
            "--levels",
            "1",
            "--seeds",
            "0",
            "--tickets",
            "winning",
            "random_mask",
            "--epochs",
            "1",
            "--batches-per-epoch",
            "5",
            "--last-episodes",
            "1",
            "--width",
            "16",
            "--rewind",
            "0",
            "--no-progress",
        ]
    )
    obs = torch.randn(32, 4)
    for level, ticket in (("00", "dense"), ("01", "winning"), ("01", "random_mask")):
        unit = tmp_path / "run" / "seed_0" / f"level_{level}" / ticket
        exported = sx.export(unit, tmp_path / f"{ticket}.safetensors")
        dense = ActorCritic(4, 2, width=16)
        dense.load_state_dict(load_file(str(unit / "final.safetensors")))
        model = sx.load(exported.path, policy="sparse")
        level_mask = sm.Mask.load(unit.parent / "mask.safetensors")
        assert (sx.read(exported.path).mask == level_mask) == (ticket != "random_mask")  # random positions
        with torch.no_grad():
            torch.testing.assert_close(model.logits(obs), dense.logits(obs))


def test_atari_ticket_round_trip_acts_like_the_dense_masked_network(tmp_path):
    unit, dense = write_unit(tmp_path / "run", ELF_CONFIG, build_network(4, 6, channels=8, hidden=32, seed=1), 0.1)
    sx.export(unit, tmp_path / "ticket.safetensors")
    model = sx.load(tmp_path / "ticket.safetensors", policy="sparse")
    assert isinstance(model.fc[0], sx.SparseLinear) and isinstance(model.policy, sx.SparseLinear)
    frames = torch.randint(0, 256, (4, 4, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        for ours, reference in zip(model(frames), dense(frames)):
            torch.testing.assert_close(ours, reference)


def test_cli_exports_a_unit_and_unpacks_the_exact_final_weights(classic, tmp_path, capsys):
    unit, _ = classic
    cli.main([str(unit), "--out", str(tmp_path / "ticket.safetensors")])
    assert "smaller than the unit's final weights" in capsys.readouterr().out
    cli.main([str(tmp_path / "ticket.safetensors"), "--out", str(tmp_path / "dense.safetensors")])
    final, unpacked = load_file(str(unit / "final.safetensors")), load_file(str(tmp_path / "dense.safetensors"))
    assert final.keys() == unpacked.keys() and all(torch.equal(final[k], unpacked[k]) for k in final)


def test_an_unfinished_unit_is_refused(classic, tmp_path, capsys):
    unit, _ = classic
    (unit / "metrics.json").unlink()
    with pytest.raises(SystemExit) as exit_info:
        cli.main([str(unit), "--out", str(tmp_path / "ticket.safetensors")])
    assert exit_info.value.code == 2 and "not a finished unit" in capsys.readouterr().err
    with pytest.raises(ValueError, match="is not a lottery unit folder"):
        sx.export(unit.parent.parent.parent, tmp_path / "ticket.safetensors")


def test_a_mask_of_another_model_is_refused(classic, tmp_path):
    unit, model = classic
    wider = ActorCritic(4, 2, width=130)
    sm.Mask.dense(wider).save(unit.parent / "mask.safetensors")
    with pytest.raises(ValueError, match="shape .* a mask for another model"):
        sx.export(unit, tmp_path / "ticket.safetensors")
    sm.prune_to_density(model, sm.Mask.dense(model), 0.01).save(unit.parent / "mask.safetensors")
    with pytest.raises(ValueError, match="nonzero weights where the mask prunes: the mask is not this model's"):
        sx.export(unit, tmp_path / "ticket.safetensors")
    assert not (tmp_path / "ticket.safetensors").exists()


def test_weights_that_do_not_fit_the_network_are_refused(classic, tmp_path):
    unit, _ = classic
    tensors = load_file(str(unit / "final.safetensors"))
    del tensors["value.bias"]
    finished = sx.FinishedUnit.open(unit)
    with pytest.raises(ValueError, match="does not fit the actor_critic network"):
        EXPORTER.load(
            sx.SparseTicket(
                tensors,
                None,
                {"model": EXPORTER.weights(finished, finished.final)[1], "run": {"trainer": A2C_CONFIG}},
                {},
            )
        )


def test_a_corrupt_export_is_refused(classic, tmp_path):
    unit, _ = classic
    path = sx.export(unit, tmp_path / "ticket.safetensors").path
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ValueError, match="is not a valid sparse ticket file"):
        sx.load(path)
