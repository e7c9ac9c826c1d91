"""`rl-lth run` and `rl-lth demo` on tiny budgets (CartPole and Breakout): the run folder, resume,
error messages, and options generated from the algorithms' config dataclasses."""

import csv
import json
import sys
import textwrap

import pytest

import shared_mask as sm
from rl_lth import demo
from rl_lth.algorithms import ALGORITHMS
from rl_lth.cli import algorithm_named, main, parse_args, trainer_from_args

pytestmark = pytest.mark.filterwarnings("ignore:.*precision lowered by casting")
TINY = ["--epochs", "2", "--batches-per-epoch", "10", "--last-episodes", "10", "--width", "16", "--no-progress"]


def _run(out, *extra):
    main(["run", "--env", "CartPole-v0", "--out", str(out), "--levels", "2", "--seeds", "0", "1", *TINY, *extra])


def _rows(out):
    with open(out / "results.csv") as f:
        return list(csv.DictReader(f))


def test_run_writes_the_run_folder_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    _run(out)
    rows = _rows(out)
    assert len(rows) == 2 * (1 + 2 * 2)
    assert {r["ticket"] for r in rows} == {"dense", "winning", "random_reinit"}
    assert {r["metric"] for r in rows} == {"ticket_reward"}
    assert json.loads((out / "config.json").read_text())["trainer"]["experiment"] == "CartPole-v0"
    for seed in (0, 1):
        assert (out / f"seed_{seed}" / "rewind.safetensors").exists()
        assert sm.Mask.load(out / f"seed_{seed}" / "level_02" / "mask.safetensors").density() == pytest.approx(
            0.64, abs=1e-3
        )

    # an interrupted unit is redone; finished ones are skipped and the masks are unchanged
    redo = out / "seed_1" / "level_02" / "winning"
    (redo / "metrics.json").unlink()
    kept = out / "seed_0" / "level_01" / "winning" / "metrics.json"
    kept_time, mask_bytes = kept.stat().st_mtime_ns, (out / "seed_1" / "level_02" / "mask.safetensors").read_bytes()
    before = {(r["seed"], r["level"], r["ticket"]): r["value"] for r in rows}
    capsys.readouterr()
    _run(out)
    printed = capsys.readouterr().out
    assert "seed 1 level  2 winning" in printed and "seed 0 level  1" not in printed
    assert kept.stat().st_mtime_ns == kept_time
    assert (out / "seed_1" / "level_02" / "mask.safetensors").read_bytes() == mask_bytes
    after = {(r["seed"], r["level"], r["ticket"]): r["value"] for r in _rows(out)}
    assert after == before  # the redone unit is deterministic given the seed
    assert "random_reinit" in printed and "pruned" in printed  # the summary table


def test_rewind_zero_and_one_shot(tmp_path):
    _run(tmp_path / "oneshot", "--rewind", "0", "--schedule", "oneshot", "--tickets", "winning")
    rows = _rows(tmp_path / "oneshot")
    assert {round(float(r["density"]), 3) for r in rows} == {1.0, 0.8, 0.64}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--env", "Pendulum-v9"], "unknown env id 'Pendulum-v9'"),
        (["--env", "CartPole-v0", "--rate", "1.2"], "pruning rate must be in (0, 1)"),
        (["--env", "CartPole-v0", "--levels", "-1"], "levels must be a non-negative integer"),
        (["--env", "CartPole-v0", "--rewind", "3"], "invalid step '3'"),
        (["--env", "CartPole-v0", "--rewind", "9epochs"], "after the end of training"),
        (["--env", "Breakout-v5", "--algo", "a2c"], "unknown env id 'Breakout-v5'"),
    ],
)
def test_bad_arguments_are_clear_errors(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--out", str(tmp_path / "run"), *args, *TINY])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("rl-lth: error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_a_folder_with_another_configuration_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    main(["run", "--env", "CartPole-v0", "--out", str(out), "--levels", "0", "--seeds", "0", *TINY])
    with pytest.raises(SystemExit) as exit_info:
        main(
            ["run", "--env", "CartPole-v0", "--out", str(out), "--levels", "0", "--seeds", "0", *TINY, "--lr", "0.001"]
        )
    assert exit_info.value.code == 2
    assert "different configuration" in capsys.readouterr().err


def test_demo_prints_a_table_and_draws_a_figure(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(demo, "EPOCHS", 2)
    monkeypatch.setattr(demo, "BATCHES_PER_EPOCH", 10)
    monkeypatch.setattr(demo, "LOTTERY", dict(demo.LOTTERY, levels=1, seeds=[0, 1]))
    main(["demo", "--out", str(tmp_path / "demo"), "--no-progress"])
    printed = capsys.readouterr().out
    assert "(dense)" in printed and "0.500" in printed and "winning" in printed
    assert (tmp_path / "demo" / "figure.png").read_bytes()[:4] == b"\x89PNG"


def test_atari_runs_a_lottery_with_the_elf_trainer_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    argv = [
        "run",
        "--env",
        "Breakout-v5",
        "--out",
        str(out),
        "--preset",
        "tiny",
        "--levels",
        "1",
        "--seeds",
        "0",
        "--rewind",
        "10batches",
        "--epochs",
        "2",
        "--batches-per-epoch",
        "30",
        "--num-envs",
        "4",
        "--batch-size",
        "2",
        "--no-progress",
    ]
    assert algorithm_named(argv) == "elf" and algorithm_named(["run", "--env", "CartPole-v1", "--algo", "elf"]) == "elf"
    assert algorithm_named(["run", "--env", "Breakout-v5", "--algo", "a2c"]) == "a2c"
    assert algorithm_named(["demo"]) == "a2c"
    main(argv)
    config = json.loads((out / "config.json").read_text())
    assert config["trainer"]["experiment"] == "Breakout-v5" and config["trainer"]["metric"] == "ticket_reward"
    assert config["trainer"]["elf"]["num_envs"] == 4 and config["trainer"]["batches_per_epoch"] == 30
    assert config["trainer"]["elf"]["channels"] == 8  # the tiny preset's, not overridden
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


def test_unset_options_keep_the_presets_values_and_booleans_are_flags():
    args = parse_args(
        ["run", "--env", "Breakout-v5", "--out", "x", "--preset", "tiny", "--hidden", "16", "--no-progress"]
    )
    trainer = trainer_from_args(args)
    assert trainer.algorithm.config.hidden == 16 and trainer.algorithm.config.num_envs == 8
    assert trainer.budget.batches_per_epoch == 100 and trainer.runtime.progress is False
    assert trainer_from_args(parse_args(["run", "--env", "CartPole-v0", "--out", "x"])).runtime.progress is True
    with pytest.raises(SystemExit):
        parse_args(["run", "--env", "CartPole-v0", "--out", "x", "--progress", "False"])


def test_a_registered_algorithm_gets_its_options_with_no_other_edit(tmp_path, monkeypatch):
    (tmp_path / "annealed_a2c.py").write_text(
        textwrap.dedent("""
        from dataclasses import dataclass, field

        from rl_lth.algorithms import register
        from rl_lth.algorithms.a2c import A2C, A2CConfig


        @dataclass(frozen=True)
        class AnnealedConfig(A2CConfig):
            anneal: bool = field(default=False, metadata={"help": "anneal the learning rate to 0"})


        @register
        class Annealed(A2C):
            name = "annealed_a2c"
            Config = AnnealedConfig
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    argv = ["run", "--extensions", "annealed_a2c", "--algo", "annealed_a2c", "--env", "CartPole-v0", "--out", "x"]
    try:
        trainer = trainer_from_args(parse_args(argv + ["--anneal", "--lr", "0.5"]))
        assert trainer.algorithm.config.anneal is True and trainer.algorithm.config.lr == 0.5
        assert trainer.config()["anneal"] is True and trainer.config()["algo"] == "annealed_a2c"
        assert trainer_from_args(parse_args(argv + ["--no-anneal"])).algorithm.config.anneal is False
    finally:
        ALGORITHMS.unregister("annealed_a2c")
        sys.modules.pop("annealed_a2c", None)


def test_an_unknown_algorithm_is_an_error_naming_the_known_ones(capsys):
    with pytest.raises(ValueError, match="unknown algorithm 'ppo'; choose one of a2c, elf"):
        ALGORITHMS["ppo"]
    with pytest.raises(SystemExit):
        main(["run", "--env", "CartPole-v0", "--out", "x", "--algo", "ppo"])
    assert "invalid choice: 'ppo'" in capsys.readouterr().err
