"""The Atari trainer on real Breakout at the tiny size: a few hundred updates of a pruned ticket, then
the command line end to end with resume."""
import json

import pytest
import shared_mask as sm
import torch
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rl_lth.atari import AtariTrainer, main, scale, wants_atari

UPDATES = 250


def scalars(tb_dir, tag):
    events = EventAccumulator(str(tb_dir))
    events.Reload()
    return [event.value for event in events.Scalars(tag)]


def test_a_pruned_ticket_trains_off_policy_with_clamped_ratios_and_stays_sparse(tmp_path):
    # Refreshing the behaviour net only every 10 updates makes the data clearly off-policy.
    chosen = scale("tiny", epochs=1, batches_per_epoch=UPDATES, behaviour_refresh=10)
    trainer = AtariTrainer("Breakout-v5", chosen.settings, chosen.budget, progress=False)
    model = trainer.build_model(0)
    mask = sm.prune_global(model, sm.Mask.dense(model, sm.prunable(model)), rate=0.5)
    trainer.save_weights(model, tmp_path / "init.safetensors")
    unit = sm.Unit(0, 1, "winning", mask, tmp_path / "unit", tmp_path / "init.safetensors",
                   tmp_path / "init.safetensors", tmp_path / "unit" / "final.safetensors", ticket_seed=7)

    metrics = trainer.train(unit)

    assert set(metrics) == {"ticket_reward"} and metrics["ticket_reward"] >= 0
    final = load_file(str(unit.final_path))
    initial = load_file(str(tmp_path / "init.safetensors"))
    for name, keep in mask.items():
        assert (final[name][~keep] == 0).all(), f"pruned entries of {name} came back"
    assert any(not torch.equal(final[n], initial[n]) for n in mask.names()), "the ticket trained"
    weight_max = scalars(unit.tb_dir, "loss/importance_weight_max")
    weight_mean = scalars(unit.tb_dir, "loss/importance_weight_mean")
    assert len(weight_max) == UPDATES // 10
    assert max(weight_max) <= 1.5 + 1e-6
    assert any(abs(w - 1) > 1e-4 for w in weight_mean), "the behaviour net lags the trained one"
    assert scalars(unit.tb_dir, "ticket_reward") == [pytest.approx(metrics["ticket_reward"])]


def test_the_command_line_runs_a_lottery_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["run", "--env", "Breakout-v5", "--out", str(out), "--budget", "tiny", "--levels", "1", "--seeds", "0",
            "--rewind", "10batches", "--epochs", "2", "--batches-per-epoch", "30", "--num-envs", "4",
            "--batch-size", "2", "--no-progress"]
    assert wants_atari(argv) and wants_atari(["run", "--env", "CartPole-v1", "--algo", "elf"])
    assert not wants_atari(["run", "--env", "Breakout-v5", "--algo", "a2c"]) and not wants_atari(["demo"])
    main(argv)
    config = json.loads((out / "config.json").read_text())
    assert config["trainer"]["experiment"] == "Breakout-v5" and config["trainer"]["metric"] == "ticket_reward"
    assert config["trainer"]["elf"]["num_envs"] == 4 and config["trainer"]["batches_per_epoch"] == 30
    assert (out / "seed_0" / "rewind.safetensors").exists()
    rows = (out / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 3  # dense, winning, random_reinit
    units = sorted(out.glob("seed_0/level_*/*/metrics.json"))
    before = {path: path.stat().st_mtime_ns for path in units}

    interrupted = out / "seed_0" / "level_01" / "random_reinit" / "metrics.json"
    interrupted.unlink()
    main(argv)
    assert interrupted.exists()
    assert all(path.stat().st_mtime_ns == before[path] for path in units if path != interrupted)

    with pytest.raises(SystemExit):
        main(argv[:-1] + ["--batch-size", "4", "--no-progress"])  # another configuration into the same folder
    assert "different configuration" in capsys.readouterr().err
