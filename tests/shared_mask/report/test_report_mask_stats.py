"""Mask statistics: per-layer density and Hamming distance between consecutive levels (see conftest)."""

import pytest

from shared_mask.report import figures
from shared_mask.report.cli import main
from shared_mask.report.mask_stats import ALL, mask_stats
from shared_mask.report.overlap import mask_overlaps
from shared_mask.report.runs import load_run


def test_mask_stats_csv_holds_per_layer_density_and_hamming(write_run, read_csv, tmp_path):
    run = write_run(seeds=(0, 1))
    assert main([str(run), "--out", str(tmp_path / "out")]) == 0
    rows = {(int(r["seed"]), int(r["level"]), r["layer"]): r for r in read_csv(tmp_path / "out" / "mask_stats.csv")}
    assert len(rows) == 2 * 6 * 3  # seeds x levels 0..5 x (whole mask, embed.weight, fc.weight)

    for seed in (0, 1):
        for level in range(6):
            embed, fc, whole = (rows[(seed, level, layer)] for layer in ("embed.weight", "fc.weight", ALL))
            assert (int(embed["numel"]), int(embed["alive"])) == (50, 50 - 10 * level)
            assert float(fc["density"]) == pytest.approx((75 - 5 * level) / 75)
            assert float(whole["density"]) == pytest.approx((125 - 15 * level) / 125)
            if level == 0:
                assert whole["hamming_to_previous"] == "" and embed["hamming_to_previous"] == ""
            else:
                assert float(whole["hamming_to_previous"]) == pytest.approx(15 / 125)
                assert float(embed["hamming_to_previous"]) == pytest.approx(10 / 50)
                assert float(fc["hamming_to_previous"]) == pytest.approx(5 / 75)


def test_hamming_is_blank_where_the_previous_level_mask_is_absent(write_run):
    path = write_run(seeds=(0,))
    (path / "seed_0" / "level_02" / "mask.safetensors").unlink()
    whole = {s.level: s for s in mask_stats(load_run(path)) if s.layer == ALL}
    assert sorted(whole) == [0, 1, 3, 4, 5]
    assert whole[3].hamming_to_previous is None and whole[4].hamming_to_previous == pytest.approx(0.12)


def test_mask_figure_draws_layer_densities_and_mask_overlap(write_run):
    run = load_run(write_run(seeds=(0, 1)))
    heat_ax, overlap_ax = figures.mask_figure("cartpole", mask_stats(run), mask_overlaps(run)).axes[:2]
    assert [t.get_text() for t in heat_ax.get_yticklabels()] == ["embed.weight", "fc.weight"]
    image = heat_ax.get_images()[0].get_array()
    assert image[0, 2] == pytest.approx(0.6) and image[1, 5] == pytest.approx(50 / 75)
    assert image.mask[0, 5]  # embed.weight fully pruned at level 5: off the log colour scale, drawn black
    seeds = {line.get_gid(): line for line in overlap_ax.get_lines()}["across_seeds"]
    assert list(seeds.get_ydata()) == pytest.approx([1.0] * 5)  # the synthetic seeds share their masks
    assert list(seeds.get_xdata()) == pytest.approx([15 * k / 125 for k in range(1, 6)])


def test_run_without_masks_gets_no_mask_figure(write_run, tmp_path, capsys):
    run = write_run(masks=False)
    assert main([str(run), "--out", str(tmp_path / "out")]) == 0
    assert not (tmp_path / "out" / "cartpole_masks.png").exists()
    assert "no level masks found" in capsys.readouterr().out
