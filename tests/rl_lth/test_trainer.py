"""The RL lottery trainer with both algorithms: masks hold through training, the rewind point is
captured, logs are written, config.json keeps the keys that run folders have."""

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import shared_mask as sm
from rl_lth.algorithms.a2c import A2CConfig
from rl_lth.budget import Budget
from rl_lth.presets import ATARI
from rl_lth.trainer import RLTrainer, Runtime

pytestmark = pytest.mark.filterwarnings("ignore:.*precision lowered by casting")
UPDATES = 250


def _trainer(epochs=2):
    return RLTrainer("CartPole-v0", "a2c", Budget(epochs, 15, 10), A2CConfig(width=16), Runtime(progress=False))


def _unit(trainer, tmp_path: Path, ticket, mask, capture=None):
    init = tmp_path / "init.safetensors"
    if not init.exists():
        trainer.save_weights(trainer.build_model(0), init)
    folder = tmp_path / ticket
    return sm.Unit(
        0,
        0 if ticket == sm.DENSE else 1,
        ticket,
        mask,
        folder,
        init,
        tmp_path / "rewind.safetensors",
        folder / "final.safetensors",
        ticket_seed=7,
        capture_rewind=capture,
    )


def scalars(tb_dir, tag):
    events = EventAccumulator(str(tb_dir))
    events.Reload()
    return [event.value for event in events.Scalars(tag)]


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
    assert any(unit.files.tb.glob("events.out.tfevents.*"))


def test_the_dense_run_captures_the_rewind_weights_at_the_requested_batch(tmp_path):
    trainer = _trainer()
    model = trainer.build_model(0)
    dense = sm.Mask.dense(model, sm.prunable(model, "all"))
    trainer.train(_unit(trainer, tmp_path, sm.DENSE, dense, capture=sm.parse_step("1ep")))
    rewind = load_file(str(tmp_path / "rewind.safetensors"))
    final = load_file(str(tmp_path / sm.DENSE / "final.safetensors"))
    short = _trainer(epochs=1)
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


def test_config_json_keeps_the_keys_of_existing_run_folders():
    budget = {"experiment", "metric", "algo", "epochs", "batches_per_epoch", "last_episodes"}
    classic = _trainer().config()
    assert set(classic) == budget | {
        "width",
        "num_envs",
        "steps_per_env",
        "reward_scale",
        "gamma",
        "entropy_coef",
        "value_coef",
        "lr",
        "alpha",
        "eps",
    }
    assert classic["algo"] == "a2c" and classic["width"] == 16
    atari = RLTrainer("Breakout-v5", "elf", ATARI["tiny"].budget, ATARI["tiny"].settings).config()
    assert set(atari) == budget | {"elf", "preprocessing"} and atari["algo"] == "elf"
    assert set(atari["elf"]) == {
        "num_envs",
        "batch_size",
        "unroll",
        "trajectories",
        "gamma",
        "entropy_coef",
        "value_coef",
        "ratio_clamp",
        "reward_clip",
        "advantage_clip",
        "lr",
        "beta1",
        "beta2",
        "adam_eps",
        "behaviour_refresh",
        "channels",
        "hidden",
        "env_threads",
    }


def test_settings_must_be_the_algorithms_config():
    with pytest.raises(TypeError, match="elf settings must be ELFConfig, not A2CConfig"):
        RLTrainer("Breakout-v5", "elf", ATARI["tiny"].budget, A2CConfig())


def test_a_pruned_atari_ticket_trains_off_policy_with_clamped_ratios_and_stays_sparse(tmp_path):
    # Refreshing the behaviour net only every 10 updates makes the data clearly off-policy.
    tiny = ATARI["tiny"]
    trainer = RLTrainer(
        "Breakout-v5",
        "elf",
        replace(tiny.budget, epochs=1, batches_per_epoch=UPDATES),
        replace(tiny.settings, behaviour_refresh=10),
        Runtime(progress=False),
    )
    model = trainer.build_model(0)
    mask = sm.prune_global(model, sm.Mask.dense(model, sm.prunable(model)), rate=0.5)
    trainer.save_weights(model, tmp_path / "init.safetensors")
    unit = sm.Unit(
        0,
        1,
        "winning",
        mask,
        tmp_path / "unit",
        tmp_path / "init.safetensors",
        tmp_path / "init.safetensors",
        tmp_path / "unit" / "final.safetensors",
        ticket_seed=7,
    )

    metrics = trainer.train(unit)

    assert set(metrics) == {"ticket_reward"} and metrics["ticket_reward"] >= 0
    final = load_file(str(unit.final_path))
    initial = load_file(str(tmp_path / "init.safetensors"))
    for name, keep in mask.items():
        assert (final[name][~keep] == 0).all(), f"pruned entries of {name} came back"
    assert any(not torch.equal(final[n], initial[n]) for n in mask.names()), "the ticket trained"
    weight_max = scalars(unit.files.tb, "loss/importance_weight_max")
    weight_mean = scalars(unit.files.tb, "loss/importance_weight_mean")
    assert len(weight_max) == UPDATES // 10
    assert max(weight_max) <= 1.5 + 1e-6
    assert any(abs(w - 1) > 1e-4 for w in weight_mean), "the behaviour net lags the trained one"
    assert scalars(unit.files.tb, "ticket_reward") == [pytest.approx(metrics["ticket_reward"])]
