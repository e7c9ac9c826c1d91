"""The tiny recipes run as the README says, from a clean environment: no virtual environment on PATH
(the recipes find the toolkit's commands themselves), each ending with its table and its report."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.duration(100)

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.executable).parent.parent  # the environment running the tests holds the toolkit
# The smallest settings that still run every step: data, lottery, scoring, report (language_model.sh: in
# test_study_recipes.py, which runs it through the study recipes).
RECIPES = {
    "cartpole": {"LEVELS": "1", "SEEDS": "0"},
    "rl_stability": {
        "LEVELS": "1",
        "EPOCHS": "3",
        "BATCHES": "40",
        "POINTS": "20it",
        "STUDY_LEVELS": "1",
        "WORKERS": "0",
        "THRESHOLD": "0.5",
    },
    "translation": {"LEVELS": "0", "SEEDS": "0", "MAX_UPDATE": "60"},
}


def clean_env(tmp_path, **settings):
    """PATH without the virtual environment; PYTHONPATH this checkout (the code under test)."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "VENV": str(VENV),
        "PYTHONPATH": str(ROOT),
        "OUT": str(tmp_path / "out"),
        "OMP_NUM_THREADS": os.environ["OMP_NUM_THREADS"],  # the suite's one thread per process (tests/conftest.py)
        "WORKERS": "1",  # tokenizers and fairseq-preprocess in this process: a pool costs more than tiny data
        **settings,
    }


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_a_tiny_recipe_runs_without_the_venv_on_path(recipe, tmp_path):
    done = subprocess.run(
        ["bash", str(ROOT / "recipes" / "tiny" / f"{recipe}.sh")],
        env=clean_env(tmp_path, **RECIPES[recipe]),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "\r" not in done.stdout + done.stderr  # no progress-bar frames in what a log file would get
    out = tmp_path / "out"
    assert_ran(out, done.stdout[done.stdout.index("# Lottery ticket report") :])
    if recipe == "rl_stability":  # the studies' own figures
        assert (out / "report" / "run_stability.png").is_file() and (out / "report" / "run_early_bird.png").is_file()


def assert_ran(out, table):
    """A model recipe's OUT: its run, with run.json and summary.md, and its report, whose table it printed."""
    assert "Dense network: " in table and "(n=1)" in table and "Missing units: 0 of" in table
    assert table.startswith((out / "report" / "summary.md").read_text().strip())
    assert list((out / "report").glob("run_*.png"))  # the metric's figure
    assert (out / "run" / "run.json").is_file() and (out / "run" / "summary.md").is_file()


def test_without_an_install_a_recipe_says_what_to_do(tmp_path):
    env = {**clean_env(tmp_path), "VENV": str(tmp_path / "nothing")}
    done = subprocess.run(
        ["bash", str(ROOT / "recipes" / "tiny" / "cartpole.sh")], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 2 and not (tmp_path / "out").exists()
    assert done.stderr == (
        f"cartpole.sh: no toolkit install in {tmp_path / 'nothing'} and none on PATH: run `make install` in the "
        "repository (or set VENV to the virtual environment that has it)\n"
    )
    assert os.path.isfile(ROOT / "recipes" / "toolkit_path.sh")
