"""The report's study outputs on synthetic run folders: stability lines and instability (figure, CSV,
summary lines), early-bird distances and emergence, and the mask overlap panel."""

import json

import pytest
import torch

import shared_mask as sm
from shared_mask.early_bird import write_unconverged
from shared_mask.report import figures
from shared_mask.report.cli import main
from shared_mask.report.mask_stats import mask_stats
from shared_mask.report.overlap import mask_overlaps
from shared_mask.report.runs import load_run
from shared_mask.report.study_figures import early_bird_figure, stability_figure
from shared_mask.report.study_tables import stability_lines

from .conftest import synthetic_mask

ALPHAS = [0.0, 0.5, 1.0]


def _line(run, seed, level, k, values):
    path = sm.RunFolder(run).stability_line(seed, level, k)
    path.parent.mkdir(parents=True)
    record = {
        "seed": seed,
        "level": level,
        "k": k,
        "metric": "eval_reward",
        "higher_is_better": True,
        "values": {str(a): v for a, v in zip(ALPHAS, values)},
        "complete": True,
        "instability": max(-v for v in values) - (-values[0] - values[-1]) / 2,
    }
    path.write_text(json.dumps(record))


def _early_bird(run, seed, level, distances, chosen):
    steps = [10 * (i + 1) for i in range(len(distances) + 1)]
    record = {
        "seed": seed,
        "level": level,
        "steps": steps,
        "epochs": [s / 10 for s in steps],
        "distances": distances,
        "threshold": 0.1,
        "window": 2,
        "converged": chosen is not None,
        "step": None if chosen is None else steps[chosen],
        "epoch": None if chosen is None else steps[chosen] / 10,
    }
    sm.RunFolder(run).early_bird_record(seed, level).write_text(json.dumps(record))


@pytest.fixture
def study_run(write_run):
    run = write_run(seeds=(0, 1), levels=2, tickets=("winning", "random_reinit"))
    for seed in (0, 1):
        _line(run, seed, 0, "0", [100.0, 60.0 + 10 * seed, 100.0])  # instability 40, 30
        _line(run, seed, 0, "1ep", [100.0, 100.0, 100.0])  # 0, 0
        # 10 for both: a straight line's barrier is half the difference of its ends (the definition's max)
        _line(run, seed, 2, "1ep", [90.0, 80.0, 70.0 + 20 * seed])
        _early_bird(run, seed, 1, [0.5, 0.05, 0.05, 0.01], 3)
        _early_bird(run, seed, 2, [0.5, 0.3, 0.2, 0.4], None if seed else 4)
        early = synthetic_mask(2)
        fc = early["fc.weight"].clone()
        fc[0], fc[-1] = False, True  # one kept entry moved: overlap (alive - 1) / alive
        sm.Mask({"embed.weight": early["embed.weight"], "fc.weight": fc}).save(
            sm.RunFolder(run).early_bird_mask(seed, 2)
        )
    return run


def test_stability_figure_draws_means_over_seeds(study_run):
    run = load_run(study_run)
    fig = stability_figure(run.name, stability_lines(run))
    line_ax, k_ax, pruned_ax = fig.axes[:3]
    lines = {line.get_gid(): line for line in line_ax.get_lines()}
    assert list(lines["line:0:0"].get_ydata()) == pytest.approx([100, 65, 100])
    assert list(lines["line:0:0"].get_xdata()) == ALPHAS
    dense = [c for c in k_ax.containers if c.get_label() == "dense"][0]
    assert list(dense.lines[0].get_ydata()) == pytest.approx([35, 0])  # k = 0, then 1ep
    pruned = {line.get_gid(): line for line in pruned_ax.get_lines()}
    assert list(pruned["pruned:1ep"].get_ydata()) == pytest.approx([0, 10])


def test_report_writes_the_study_tables_and_says_what_never_converged(study_run, tmp_path, read_csv, capsys):
    out = tmp_path / "report"
    assert main([str(study_run), "--out", str(out)]) == 0
    rows = {(r["level"], r["k"]): r for r in read_csv(out / "cartpole_instability.csv")}
    assert float(rows["0", "0"]["instability_mean"]) == pytest.approx(35)
    assert float(rows["0", "0"]["instability_std"]) == pytest.approx(7.0710678)
    assert float(rows["2", "1ep"]["instability_mean"]) == pytest.approx(10) and rows["2", "1ep"]["seeds"] == "2"
    birds = {(r["seed"], r["level"]): r for r in read_csv(out / "cartpole_early_bird.csv")}
    assert birds["0", "1"]["epoch"] == "4.0" and birds["1", "2"]["converged"] == "False"
    printed = capsys.readouterr().out
    assert "early-bird ticket, seed 1 level 2: never converged (5 draws)" in printed
    assert "instability at k = 0, level 0 (0 pruned): 35 ± 7.071 over 2 seed(s)" in printed
    for name in ("cartpole_stability.png", "cartpole_early_bird.png", "mask_overlap.csv"):
        assert (out / name).exists()


def test_early_bird_figure_marks_where_each_ticket_emerged(study_run):
    run = load_run(study_run)
    records = [json.loads(p.read_text()) for p in run.folder.early_bird_records()]
    ax = early_bird_figure(run.name, records, 0.2).axes[0]
    lines = {line.get_gid(): line for line in ax.get_lines()}
    assert list(lines["distance:1"].get_xdata()) == [2.0, 3.0, 4.0, 5.0]
    assert list(lines["distance:1"].get_ydata()) == pytest.approx([0.5, 0.05, 0.05, 0.01])
    assert list(lines["emerged:1:0"].get_xdata()) == [4.0] and list(lines["emerged:1:0"].get_ydata()) == [0.05]
    assert "emerged:2:1" not in lines and "emerged:2:0" in lines
    assert "never converged: 1 of 2 seeds" in lines["distance:2"].get_label()


def test_mask_overlap_across_seeds_and_with_early_bird_masks(study_run):
    run = load_run(study_run)
    overlaps = mask_overlaps(run)
    alive = synthetic_mask(2).alive()
    early = [o for o in overlaps if o.compared == "early_bird"]
    assert {(o.seed, o.level) for o in early} == {(0, 2), (1, 2)}
    assert all(o.overlap == pytest.approx((alive - 1) / alive) for o in early)
    assert all(o.overlap == 1.0 for o in overlaps if o.compared == "across_seeds")  # synthetic masks repeat
    ax = figures.mask_figure(run.name, mask_stats(run), overlaps).axes[1]
    lines = {line.get_gid(): line for line in ax.get_lines()}
    assert list(lines["early_bird"].get_ydata()) == pytest.approx([(alive - 1) / alive])
    assert list(lines["across_seeds"].get_ydata()) == [1.0, 1.0]
    assert list(lines["chance"].get_ydata()) == pytest.approx([m.density() for m in map(synthetic_mask, (1, 2))])
    assert torch.is_tensor(synthetic_mask(1)["fc.weight"])


def test_an_early_bird_ticket_that_never_emerged_is_done_not_missing(write_run):
    unit = (0, 1, "early_bird")
    run = write_run(seeds=(0,), levels=1, tickets=("winning", "early_bird"), skip={unit})
    assert load_run(run).missing_units() == [unit]  # not run yet
    write_unconverged(sm.RunFolder(run).unit(unit).metrics, unit, 0.8)  # what the lottery writes for it
    assert load_run(run).missing_units() == []
