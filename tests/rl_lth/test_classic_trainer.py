"""The A2C lottery trainer: masks hold through training, the rewind point is captured, logs are written."""
from pathlib import Path

import pytest
import shared_mask as sm
import torch
from safetensors.torch import load_file

from rl_lth.trainer import A2CTrainer

pytestmark = pytest.mark.filterwarnings("ignore:.*precision lowered by casting")


def _trainer(**kwargs):
    return A2CTrainer("CartPole-v0", epochs=2, batches_per_epoch=15, last_episodes=10, width=16,
                      progress=False, **kwargs)


def _unit(trainer, tmp_path: Path, ticket, mask, capture=None):
    init = tmp_path / "init.safetensors"
    if not init.exists():
        trainer.save_weights(trainer.build_model(0), init)
    folder = tmp_path / ticket
    return sm.Unit(0, 0 if ticket == sm.DENSE else 1, ticket, mask, folder, init, tmp_path / "rewind.safetensors",
                   folder / "final.safetensors", ticket_seed=7, capture_rewind=capture)


def test_pruned_entries_stay_zero_through_training(tmp_path):
    trainer = _trainer()
    model = trainer.build_model(0)
    mask = sm.prune_global(model, sm.Mask.dense(model, sm.prunable(model, "all")), 0.8)
    trainer.save_weights(model, tmp_path / "rewind.safetensors")
    unit = _unit(trainer, tmp_path, "winning", mask)
    metrics = trainer.train(unit)
    assert set(metrics) == {"ticket_reward"} and metrics["ticket_reward"] > 0
    final, start = load_file(str(unit.final_path)), load_file(str(unit.rewind_path))
    for name in mask.names():
        assert (final[name][~mask[name]] == 0).all(), name
    assert any(not torch.equal(final[name][mask[name]], start[name][mask[name]]) for name in mask.names())
    assert any(unit.tb_dir.glob("events.out.tfevents.*"))


def test_the_dense_run_captures_the_rewind_weights_at_the_requested_batch(tmp_path):
    trainer = _trainer()
    model = trainer.build_model(0)
    dense = sm.Mask.dense(model, sm.prunable(model, "all"))
    trainer.train(_unit(trainer, tmp_path, sm.DENSE, dense, capture=sm.parse_step("1ep")))
    rewind = load_file(str(tmp_path / "rewind.safetensors"))
    final = load_file(str(tmp_path / sm.DENSE / "final.safetensors"))
    short = A2CTrainer("CartPole-v0", epochs=1, batches_per_epoch=15, last_episodes=10, width=16, progress=False)
    short.train(_unit(short, tmp_path / "short", sm.DENSE, dense))
    after_one_epoch = load_file(str(tmp_path / "short" / sm.DENSE / "final.safetensors"))
    for name, tensor in rewind.items():
        assert torch.equal(tensor, after_one_epoch[name]), name
        assert not torch.equal(tensor, final[name]), name


def test_a_rewind_point_after_training_is_an_error():
    with pytest.raises(ValueError, match="after the end of training"):
        _trainer().rewind_batch(sm.parse_step("3ep"))
    assert _trainer().rewind_batch(sm.parse_step("7batches")) == 7


def test_every_parameter_is_prunable_and_configs_name_the_experiment():
    trainer = _trainer()
    model = trainer.build_model(0)
    assert sm.prunable(model, "all") == [name for name, _ in model.named_parameters()]
    assert any(name.endswith("bias") for name in sm.prunable(model, "all"))
    config = trainer.config()
    assert config["experiment"] == "CartPole-v0" and config["metric"] == "ticket_reward"
    assert config["lr"] == 1e-4 and config["num_envs"] * config["steps_per_env"] == 128
