"""The stability analysis and early-bird tickets on CartPole (real trainings, tiny budgets): children,
the line and its CSV, determinism with equal noise, resume after a kill, bad input."""

import csv
import re

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import shared_mask as sm
from rl_lth.cli import main, parse_args, trainer_from_args
from rl_lth.unit_log import UnitLog
from shared_mask.stability import grid, interpolate

pytestmark = pytest.mark.filterwarnings("ignore:.*precision lowered by casting")
BASE = ["--epochs", "2", "--batches-per-epoch", "10", "--last-episodes", "5", "--width", "16", "--no-progress"]
BASE += ["--seeds", "0", "--levels", "1", "--rewind", "1ep", "--eval-episodes", "4"]
STUDY = ["--tickets", "winning", "early_bird", "--early-bird-every", "2it", "--stability-points", "0", "10it"]
STUDY += ["--stability-levels", "0", "1", "--stability-grid", "4"]


def _argv(out, *extra):
    return ["run", "--env", "CartPole-v0", "--out", str(out), *BASE, *extra]


def _csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def _child(out, level, point, child):
    return out / "seed_0" / f"level_{level:02d}" / "stability" / f"k_{point}" / f"child_{child}"


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("stability") / "run"
    main(_argv(out, *STUDY))
    return out


@pytest.fixture(scope="module")
def trainer(study):
    return trainer_from_args(parse_args(_argv(study, *STUDY)))


def test_the_csv_holds_every_point_of_every_line(study):
    rows = _csv(study / "stability.csv")
    assert list(rows[0]) == ["seed", "level", "fraction_pruned", "k", "a", "metric", "value"]
    lines = {(r["level"], r["k"]) for r in rows}
    assert lines == {("0", "0"), ("0", "10it"), ("1", "0"), ("1", "10it")}
    for level, k in lines:
        alphas = [float(r["a"]) for r in rows if (r["level"], r["k"]) == (level, k)]
        assert alphas == grid(4)
    assert {r["metric"] for r in rows} == {"eval_reward"}
    assert {float(r["fraction_pruned"]) for r in rows if r["level"] == "0"} == {0.0}
    assert all(float(r["fraction_pruned"]) == pytest.approx(0.2, abs=1e-3) for r in rows if r["level"] == "1")


def test_w_k_is_the_dense_run_s_weights_at_k(study):
    # k = 10it is the rewind point 1ep (10 batches) by another name: replayed, not read from rewind.*
    replayed = load_file(str(study / "seed_0" / "stability_start_10it.safetensors"))
    captured = load_file(str(study / "seed_0" / "rewind.safetensors"))
    assert replayed.keys() == captured.keys()
    assert all(torch.equal(replayed[name], captured[name]) for name in replayed)


def test_children_with_different_noise_differ_and_keep_the_mask(study):
    mask = sm.Mask.load(study / "seed_0" / "level_01" / "mask.safetensors")
    for point in ("0", "10it"):
        first = load_file(str(_child(study, 1, point, 1) / "final.safetensors"))
        second = load_file(str(_child(study, 1, point, 2) / "final.safetensors"))
        assert any(not torch.equal(first[name], second[name]) for name in first)
        for a in grid(4):  # every network on the line has exactly the mask's zeros
            line = interpolate(first, second, a)
            for name, keep in mask.items():
                assert torch.equal(line[name] != 0, keep), (point, a, name)


def test_the_ends_of_the_line_are_each_child_s_own_evaluation(study, trainer):
    rows = _csv(study / "stability.csv")
    for level in (0, 1):
        values = [float(r["value"]) for r in rows if (r["level"], r["k"]) == (str(level), "10it")]
        for child, a_value in ((1, values[0]), (2, values[-1])):
            model = trainer.load_weights(
                _child(study, level, "10it", child) / "final.safetensors", trainer.build_model(0)
            )
            assert trainer.evaluate(model, 0) == a_value


def test_the_instability_is_computed_from_the_line(study):
    for line in sm.stability.read_lines(sm.RunFolder(study)):
        losses = [-v for v in line.values]
        assert line.instability == pytest.approx(max(losses) - (losses[0] + losses[-1]) / 2)


def test_early_bird_draws_distances_and_ticket(study):
    run = sm.RunFolder(study)
    record = sm.early_bird.read_record(run.early_bird_record(0, 1))
    assert record["steps"] == list(range(2, 21, 2)) and record["epochs"][-1] == 2.0
    draws = sorted(run.early_bird_draws(0, 1).glob("*.safetensors"))
    assert len(draws) == 10 and len(record["distances"]) == 9
    # one distance by hand: the fraction of entries where two stored (bit-packed) masks differ
    first, second = (sm.Mask.load(path) for path in draws[3:5])
    differ = sum(int(np.count_nonzero(first[n].numpy() != second[n].numpy())) for n in first.names())
    assert record["distances"][3] == differ / first.numel()
    assert record["converged"]  # settles within 5 draws on this budget: the ticket trained under it
    chosen = sm.Mask.load(draws[record["steps"].index(record["step"])])
    assert sm.Mask.load(run.early_bird_mask(0, 1)) == chosen
    assert chosen.density() == pytest.approx(0.8, abs=1e-3)
    assert any(r.ticket == "early_bird" and r.metric == "ticket_reward" for r in sm.read_results(study))


def test_a_density_that_never_converges_is_reported(tmp_path, capsys):
    out = tmp_path / "never"
    main(_argv(out, "--tickets", "winning", "early_bird", "--early-bird-every", "5it", "--early-bird-window", "9"))
    run = sm.RunFolder(out)
    record = sm.early_bird.read_record(run.early_bird_record(0, 1))
    assert not record["converged"] and len(record["distances"]) == 3
    assert not run.early_bird_mask(0, 1).exists()
    assert "never converged" in (out / "seed_0" / "level_01" / "early_bird" / "metrics.json").read_text()
    assert not [r for r in sm.read_results(out) if r.ticket == "early_bird"]


def test_children_with_the_same_noise_are_identical(tmp_path):
    out = tmp_path / "same"
    main(_argv(out, "--stability-points", "10it", "--stability-levels", "0", "1", "--stability-noise", "3", "3"))
    for level in (0, 1):
        first = (_child(out, level, "10it", 1) / "final.safetensors").read_bytes()
        assert first == (_child(out, level, "10it", 2) / "final.safetensors").read_bytes()
    for line in sm.stability.read_lines(sm.RunFolder(out)):
        assert line.instability == 0 and len(set(line.values)) == 1


def test_a_killed_run_resumes_to_the_same_csv(study, tmp_path, monkeypatch):
    out = tmp_path / "killed"

    class KilledInChild(UnitLog):  # ^C in the middle of the second child of level 1 at k = 10it
        def __init__(self, unit, *args):
            super().__init__(unit, *args)
            self.unit = unit

        def batch(self, batch, *args):
            if self.unit.role == "stability/k_10it/child_2" and self.unit.level == 1 and batch == 3:
                raise KeyboardInterrupt
            super().batch(batch, *args)

    monkeypatch.setattr("rl_lth.trainer.UnitLog", KilledInChild)
    with pytest.raises(SystemExit) as killed:
        main(_argv(out, *STUDY))
    assert killed.value.code == 130
    assert not (_child(out, 1, "10it", 2) / "metrics.json").exists()
    monkeypatch.undo()

    from rl_lth.trainer import RLTrainer

    evaluate, calls = RLTrainer.evaluate, []

    def killed_in_line(self, model, seed):  # ^C after two points of a line
        calls.append(seed)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return evaluate(self, model, seed)

    monkeypatch.setattr(RLTrainer, "evaluate", killed_in_line)
    with pytest.raises(SystemExit):
        main(_argv(out, *STUDY))
    monkeypatch.undo()
    partial = [p for p in out.glob("seed_0/level_*/stability/k_*/line.json") if '"complete": false' in p.read_text()]
    assert len(partial) == 1
    main(_argv(out, *STUDY))
    assert (out / "stability.csv").read_text() == (study / "stability.csv").read_text()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--stability-points", "3ep"], r"stability point 3ep is not before the end of training \(20 batches\)"),
        (["--stability-points", "20it"], "not before the end of training"),
        (["--stability-points", "0", "--stability-grid", "2"], "at least 3 points"),
        (["--tickets", "winning", "early_bird", "--early-bird-threshold", "1.5"], r"in \(0, 1\)"),
        (["--stability-points", "0", "--stability-levels", "2"], "beyond the lottery's 1 levels"),
        (["--tickets", "winning", "early_bird", "--early-bird-every", "3ep"], "longer than training"),
    ],
)
def test_bad_input_is_one_line_before_anything_is_written(tmp_path, capsys, extra, message):
    out = tmp_path / "bad"
    with pytest.raises(SystemExit) as exit_info:
        main(_argv(out, *extra))
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and re.search(message, err), err
    assert not out.exists()
