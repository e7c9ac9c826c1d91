"""The tiny study recipes (deconstructing.sh, pruning_at_init.sh) run from a clean environment: they loop over
the model recipes (here the language model's, which this also tests), make each model's data once, and
compare the runs."""

import json
import subprocess

import pytest

from tests.test_recipes import ROOT, assert_ran, clean_env

pytestmark = pytest.mark.duration(130)


TINY_LM = {"LEVELS": "1", "SEEDS": "0", "EPOCHS": "2", "EMBED": "16", "LINES": "1000"}
# The studies' recipes loop over the model recipes; one model and the fewest kinds or strategies. The
# deconstructing recipe's kinds run alone (no criterion runs, as the README's RL example): its loop over
# criteria is the loop over strategies that pruning_at_init's test runs, with shared data and a comparison.
STUDY_RECIPES = {
    "deconstructing": ({"KINDS": "winning supermask", "CRITERIA": " "}, ["kinds"]),
    "pruning_at_init": ({"STRATEGIES": "snip"}, ["imp", "snip"]),
}


@pytest.mark.parametrize("recipe", sorted(STUDY_RECIPES))
def test_a_study_recipe_makes_the_data_once_and_compares_its_runs(recipe, tmp_path):
    settings, runs = STUDY_RECIPES[recipe]
    done = subprocess.run(
        ["bash", str(ROOT / "recipes" / "tiny" / f"{recipe}.sh")],
        env=clean_env(tmp_path, MODELS="language_model", **TINY_LM, **settings),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = tmp_path / "out"
    data = out / "language_model" / "bin"
    assert done.stdout.count(f"binarized data in {data} ") == len(runs)
    assert done.stdout.count("(made earlier; delete it to make it again)") == len(runs) - 1
    tables = done.stdout.split("# Lottery ticket report")[1:]
    assert len(tables) == len(runs)
    for run, table in zip(runs, tables):
        folder = out / f"language_model_{run}"
        assert_ran(folder, "# Lottery ticket report" + table)
        assert not (folder / "bin").exists() and not (folder / "raw").exists()
        assert json.loads((folder / "run" / "config.json").read_text())["trainer"]["data"] == str(data)
    if len(runs) == 1:  # nothing to compare
        assert not (out / "language_model_report").exists()
        return
    compared = (out / "language_model_report" / "summary.md").read_text()
    assert [f"language_model_{run}/run" in compared for run in runs] == [True] * len(runs)
    assert (out / "language_model_report" / "compare_test_log_ppl.png").is_file()
