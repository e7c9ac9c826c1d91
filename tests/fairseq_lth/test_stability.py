"""The stability analysis with fairseq (one tiny translation run): the dense fairseq-train captures W_k at
a save point, two children train from it with other --seed values, and fairseq-validate scores the line."""

import csv

import pytest
import torch

import shared_mask as sm
from fairseq_lth.driver import imp
from fairseq_lth.driver.evaluate import EvalConfig
from fairseq_lth.driver.trainer import FairseqTrainer
from fairseq_lth.plugin.checkpoint_compat import load_checkpoint
from tests.fairseq_lth.conftest import MODEL_ARGS, data  # noqa: F401 (the tiny translation data fixture)

DRIVER = ["--levels", "0", "--seeds", "0", "--rewind", "2it", "--stability-levels", "0", "--stability-grid", "3"]
DRIVER += ["--average-last", "1", "--beam", "1", "--cpu", "--no-progress"]


@pytest.fixture(scope="module")
def stability_run(data, tmp_path_factory):  # noqa: F811
    out = tmp_path_factory.mktemp("stability") / "run"
    imp.main(["--data", str(data), "--out", str(out), *DRIVER, "--stability-points", "4it", "--", *MODEL_ARGS])
    return out


def _child(out, child):
    return out / "seed_0" / "level_00" / "stability" / "k_4it" / f"child_{child}" / "final.pt"


def test_children_start_from_the_dense_checkpoint_at_k_and_the_line_ends_are_their_own_scores(stability_run, data):  # noqa: F811
    start = load_checkpoint(stability_run / "seed_0" / "stability_start_4it.pt")
    assert start["optimizer_history"][-1]["num_updates"] == 4  # captured by the dense fairseq-train at update 4
    first, second = (load_checkpoint(_child(stability_run, c)) for c in (1, 2))
    assert all(c["optimizer_history"][-1]["num_updates"] == 8 for c in (first, second))  # trained from 4 to the end
    assert any(not torch.equal(first["model"][n], second["model"][n]) for n in first["model"])  # other --seed
    with open(stability_run / "stability.csv") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["a"]) for r in rows] == [0.0, 0.5, 1.0] and {r["metric"] for r in rows} == {"valid_loss"}
    trainer = FairseqTrainer(str(data), MODEL_ARGS, "all", EvalConfig(cpu=True))
    for child, row in ((1, rows[0]), (2, rows[-1])):
        model = trainer.load_weights(_child(stability_run, child), trainer.build_model(0))
        assert trainer.evaluate(model, 0) == pytest.approx(float(row["value"]), abs=1e-3)  # fairseq prints 3 decimals
    (line,) = sm.stability.read_lines(sm.RunFolder(stability_run, ".pt"))
    values = line.values
    assert line.instability == pytest.approx(max(values) - (values[0] + values[-1]) / 2)


def test_a_point_off_the_save_boundary_is_refused_before_anything_is_written(data, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "bad"
    with pytest.raises(SystemExit) as exit_info:
        imp.main(["--data", str(data), "--out", str(out), *DRIVER, "--stability-points", "3it", "--", *MODEL_ARGS])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "--stability-points 3it" in err, err
    assert "--save-interval-updates" in err and not out.exists()
