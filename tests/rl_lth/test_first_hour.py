"""What a new user of `rl-lth` sees: budgets in --help, a tiny preset per classic-control game, the
estimate before a run, a log file per unit, and output without carriage-return frames off a terminal."""

import os
import subprocess
import sys

import pytest

import shared_mask as sm
from rl_lth.cli import main, preset_values
from rl_lth.envs import BUDGETS, STEPS_PER_SECOND, TINY_BUDGET
from rl_lth.presets import preset
from shared_mask.estimate import duration

pytestmark = pytest.mark.filterwarnings("ignore:.*precision lowered by casting")


def _help(*argv):
    with pytest.raises(SystemExit):
        main(["run", *argv, "--help"])


def test_help_shows_each_budget_of_the_game_given(capsys):
    _help("--env", "Acrobot-v1")
    text = " ".join(capsys.readouterr().out.split())
    budget = BUDGETS["Acrobot-v1"]
    assert f"N: epochs each ticket trains (default: {budget.epochs} for Acrobot-v1, preset paper)" in text
    assert f"(default: {budget.batches_per_epoch} for Acrobot-v1, preset paper)" in text
    assert "RMSprop learning rate (default: 0.0001 for Acrobot-v1, preset paper)" in text
    _help("--env", "CartPole-v0", "--preset", "tiny")
    text = " ".join(capsys.readouterr().out.split())
    assert f"(default: {TINY_BUDGET.batches_per_epoch} for CartPole-v0, preset tiny)" in text
    _help()
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: the preset's; `rl-lth run --env GAME [--preset NAME] --help` shows it)" in text


def test_every_classic_control_game_has_a_tiny_preset():
    for game in BUDGETS:
        assert preset(game, "tiny").budget == TINY_BUDGET
        assert TINY_BUDGET.batches < preset(game, "paper").budget.batches / 5
    budget_help, _ = preset_values("a2c", "LunarLander-v2", "tiny")
    assert budget_help("epochs") == f"default: {TINY_BUDGET.epochs} for LunarLander-v2, preset tiny"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """`rl-lth run --preset tiny` as a recipe runs it: output to a file, not a terminal."""
    out = tmp_path_factory.mktemp("tiny") / "cp"
    argv = ["run", "--env", "CartPole-v0", "--preset", "tiny", "--out", str(out), "--levels", "1", "--seeds", "0"]
    argv += ["--width", "16", "--batches-per-epoch", "40"]
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from rl_lth.cli import main; main(sys.argv[1:])", *argv],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return out, done


def test_a_run_estimates_its_time_first_and_logs_without_carriage_returns(tiny_run):
    out, done = tiny_run
    steps = 2 * 40 * 32 * 4
    assert done.stdout.splitlines()[0] == (
        f"{out}: 3 of 3 units to train, 80 batches ({steps:,} steps) each; about "
        f"{duration(3 * steps / STEPS_PER_SECOND['CartPole-v0'])} one at a time "
        f"(from CartPole-v0's measured ~{STEPS_PER_SECOND['CartPole-v0']:,} steps/s with A2C)"
    )
    assert "\r" not in done.stdout + done.stderr
    assert "ticket_reward" in done.stdout and "random_reinit" in done.stdout  # the unit lines and the table


def test_every_unit_logs_its_progress_in_its_folder(tiny_run):
    out, _ = tiny_run
    for key in [(0, 0, "dense"), (0, 1, "winning"), (0, 1, "random_reinit")]:
        lines = sm.RunFolder(out).unit(key).log.read_text().splitlines()
        assert lines[0].endswith(f"seed 0 level {key[1]} {key[2]}: training 80 batches of CartPole-v0")
        assert [line.split()[3] for line in lines[1:-1]] == [f"{b}/80" for b in range(8, 80, 8)]
        assert " done: ticket_reward " in lines[-1] and "10,240 steps" in lines[-1]
    assert (out / "run.json").is_file() and (out / "summary.md").is_file()


def test_an_export_says_which_weights_it_holds_and_files_are_not_private(tiny_run, tmp_path):
    import stat

    import shared_mask.export as sx

    out, _ = tiny_run
    unit = out / "seed_0" / "level_01" / "winning"
    exported = sx.export(unit, tmp_path / "t.safetensors")
    note = "final.safetensors: the unit's weights at the end of training, which its metric scored"
    assert exported.weights == note and str(exported).endswith(f"\nweights: {note}")
    assert sx.read(tmp_path / "t.safetensors").config["weights"] == {
        "which": "final",
        "file": str((unit / "final.safetensors").resolve()),
        "note": note,
    }
    sx.unpack(tmp_path / "t.safetensors", tmp_path / "dense.safetensors")  # safetensors writes 0600 itself
    umask = os.umask(0)
    os.umask(umask)
    for path in (tmp_path / "t.safetensors", tmp_path / "dense.safetensors", out / "run.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_help_imports_neither_envpool_nor_matplotlib():
    probe = "import sys, rl_lth.cli; print(sorted(m for m in ('envpool', 'matplotlib') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stderr
