"""Early-bird tickets with fairseq: the dense fairseq-train draws the masks every N updates (inside the
plugin), the driver settles them and trains the early_bird ticket under the chosen draw. One tiny run."""

import json

import numpy as np
import pytest

import shared_mask as sm
from fairseq_lth.driver import imp
from fairseq_lth.plugin.checkpoint_compat import load_checkpoint
from tests.fairseq_lth.conftest import MODEL_ARGS, data  # noqa: F401 (the tiny translation data fixture)

DRIVER = ["--levels", "1", "--seeds", "0", "--rewind", "4it", "--tickets", "early_bird", "--schedule", "oneshot"]
DRIVER += ["--average-last", "1", "--beam", "1", "--cpu", "--no-progress"]


@pytest.fixture(scope="module")
def early_bird_run(data, tmp_path_factory):  # noqa: F811
    out = tmp_path_factory.mktemp("early_bird") / "run"
    study = ["--early-bird-every", "2it", "--early-bird-window", "2", "--early-bird-threshold", "0.5"]
    imp.main(["--data", str(data), "--out", str(out), *DRIVER, *study, "--", *MODEL_ARGS])
    return out


def test_the_dense_run_draws_every_two_updates_and_the_ticket_trains_under_the_chosen_draw(early_bird_run):
    run = sm.RunFolder(early_bird_run, ".pt")
    record = json.loads(run.early_bird_record(0, 1).read_text())
    assert record["steps"] == [2, 4, 6, 8] and record["epochs"] == [None] * 4
    draws = sorted(run.early_bird_draws(0, 1).glob("*.safetensors"))
    first, second = (sm.Mask.load(path) for path in draws[:2])
    differ = sum(int(np.count_nonzero(first[n].numpy() != second[n].numpy())) for n in first.names())
    assert record["distances"][0] == differ / first.numel()  # recomputed by hand from the stored masks
    assert record["converged"] and record["step"] == 6  # window 2 below 0.5: draws 1 and 2 -> the third draw
    mask = sm.Mask.load(run.early_bird_mask(0, 1))
    assert mask == sm.Mask.load(draws[2]) and mask.density() == pytest.approx(0.8, abs=1e-3)
    final = load_checkpoint(run.final((0, 1, "early_bird")))["model"]
    for name, keep in mask.items():
        assert not final[name][~keep].any(), name
    metrics = json.loads(run.unit((0, 1, "early_bird")).metrics.read_text())
    assert metrics["metrics"]["bleu"] >= 0


def test_draws_in_epochs_and_a_stability_study_are_refused_for_fairseq(data, tmp_path, capsys):  # noqa: F811
    for extra, message in (
        (["--early-bird-every", "1ep"], "fairseq draws early-bird masks every N updates"),
        (["--stability-points", "0", "--early-bird-every", "2it"], "FairseqTrainer does not implement stability yet"),
    ):
        out = tmp_path / "bad"
        with pytest.raises(SystemExit) as exit_info:
            imp.main(["--data", str(data), "--out", str(out), *DRIVER, *extra, "--", *MODEL_ARGS])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and err.count("\n") == 1 and message in err, err
        assert not out.exists()
