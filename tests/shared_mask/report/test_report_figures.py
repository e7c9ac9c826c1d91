"""Figures: produced as PNG, plotted series equal to the summary table, the paper's fraction-pruned axis."""

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from shared_mask.report import figures
from shared_mask.report.cli import main
from shared_mask.report.compare import compare_labels
from shared_mask.report.mask_stats import mask_stats
from shared_mask.report.runs import load_run
from shared_mask.report.tables import summarize

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _lines_by_gid(ax):
    return {line.get_gid(): line for line in ax.get_lines()}


def test_cli_writes_every_figure_as_png(write_run, tmp_path):
    runs = [write_run("rewind"), write_run("reset", lottery={"rewind": "0"})]
    out = tmp_path / "out"
    assert main([*map(str, runs), "--out", str(out), "--compare", "--pdf"]) == 0
    names = ["rewind_ticket_reward", "reset_ticket_reward", "compare_ticket_reward", "rewind_masks", "reset_masks"]
    for name in names:
        assert (out / f"{name}.png").read_bytes()[:8] == PNG_MAGIC
        assert (out / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left behind


def test_plotted_series_equal_the_summary_table(write_run, read_csv, tmp_path):
    run = write_run(skip={(0, 3, "random_reinit")})
    assert main([str(run), "--out", str(tmp_path / "out")]) == 0
    table = read_csv(tmp_path / "out" / "summary.csv")

    ax = figures.ticket_figure(summarize(load_run(run))).axes[0]
    lines = _lines_by_gid(ax)
    for ticket, color in [("winning", "tab:blue"), ("random_reinit", "tab:red")]:
        line = lines[ticket]
        assert line.get_color() == color
        np.testing.assert_allclose(line.get_xdata(), [float(r["fraction_pruned"]) for r in table])
        np.testing.assert_allclose(line.get_ydata(), [float(r[f"{ticket}_mean"]) for r in table])
        # The shaded band spans mean - std .. mean + std at every level.
        band = next(c for c in ax.collections if np.allclose(c.get_facecolor()[0][:3], to_rgb(color)))
        vertices = band.get_paths()[0].vertices
        for row in table:
            x, mean, std = (float(row[k]) for k in ("fraction_pruned", f"{ticket}_mean", f"{ticket}_std"))
            ys = vertices[np.isclose(vertices[:, 0], x), 1]
            assert ys.min() == pytest.approx(mean - std) and ys.max() == pytest.approx(mean + std)
    dense = lines["dense"]
    assert set(dense.get_ydata()) == {float(table[0]["dense_mean"])} and dense.get_color() == "gray"
    assert ax.get_title() == "CartPole-v0" and ax.get_ylabel() == "ticket reward"
    assert ax.get_title(loc="right") == "partial: 1 of 33 units missing"


def test_fraction_pruned_axis_is_labelled_and_spaced_like_the_paper():
    fractions = [1 - 0.8**k for k in range(1, 21)]
    assert [figures._tick_label(t) for t in figures.tick_fractions([0.0, *fractions])] == [
        "0",
        "0.49",
        "0.74",
        "0.87",
        "0.93",
        "0.96",
        "0.98",
        "0.99",
    ]

    fig = Figure()
    ax = fig.add_subplot()
    ax.plot(fractions, np.arange(20))
    figures.set_pruned_axis(ax, fractions)
    assert ax.get_xlabel() == "fraction of weights pruned"
    pixels = ax.transData.transform(np.column_stack([fractions, np.zeros(20)]))[:, 0]
    np.testing.assert_allclose(np.diff(pixels), np.diff(pixels)[0])  # 20 levels evenly spaced


def test_compare_legend_comes_from_the_differing_config_fields(write_run):
    runs = [load_run(write_run("a")), load_run(write_run("b", lottery={"rewind": "0", "schedule": "oneshot"}))]
    labels = compare_labels(runs)
    assert labels == ["schedule=iterative, rewind=1ep", "schedule=oneshot, rewind=0"]

    ax = figures.compare_figure([summarize(r) for r in runs], labels).axes[0]
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "schedule=oneshot, rewind=0: winning ticket (n=3)" in legend
    assert "schedule=iterative, rewind=1ep: dense network (n=3)" in legend
    lines = _lines_by_gid(ax)
    np.testing.assert_allclose(lines["b:random_reinit"].get_ydata(), [101 - 3 * k for k in range(1, 6)])
    # Colour says the ticket kind, line style the run.
    assert lines["a:winning"].get_color() == lines["b:winning"].get_color() == "tab:blue"
    assert lines["a:random_reinit"].get_color() == "tab:red"
    assert lines["a:winning"].get_linestyle() == lines["a:random_reinit"].get_linestyle()
    assert lines["a:winning"].get_linestyle() != lines["b:winning"].get_linestyle()


def test_compare_labels_name_the_setting_not_the_extent(write_run):
    chains = [
        load_run(
            write_run("w", tickets=("winning", "lr_rewind"), lottery={"chain": "winning"}, value=lambda *unit: 1.0)
        ),
        load_run(write_run("l", tickets=("lr_rewind",), lottery={"chain": "lr_rewind"}, value=lambda *unit: 1.0)),
    ]
    assert compare_labels(chains) == ["chain=winning", "chain=lr_rewind"]
    more_seeds = [load_run(write_run("s2", seeds=(0, 1))), load_run(write_run("s3"))]
    assert compare_labels(more_seeds) == ["seeds=0+1", "seeds=0+1+2"]
    # A fine-tuning budget that only one run set (for its finetune tickets) does not find masks.
    criteria = [
        load_run(write_run("kinds", lottery={"pruning": "large_final", "finetune_budget": "2ep"})),
        load_run(write_run("movement", lottery={"pruning": "movement"})),
    ]
    assert compare_labels(criteria) == ["pruning=large_final", "pruning=movement"]


def test_figures_state_seeds_band_direction_and_aggregation(write_run):
    run = load_run(write_run(skip={(2, 5, "winning")}))
    summary = summarize(run)
    ax = figures.ticket_figure(summary, band="sem").axes[0]
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["winning ticket (n=2-3)", "random ticket (reinit) (n=3)", "dense network (n=3)"]
    assert [t.get_text() for t in ax.texts] == ["band: ±1 standard error of the mean over seeds"]
    # The sem band: std / sqrt(n) around the mean (random_reinit: std 2 over 3 seeds).
    band = next(c for c in ax.collections if np.allclose(c.get_facecolor()[0][:3], to_rgb("tab:red")))
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.max() - ys.min() == pytest.approx((101 - 3) - (101 - 15) + 2 * 2 / np.sqrt(3))
    lm = load_run(write_run("lm", experiment="wikitext-2", metric="test_log_ppl"))
    assert figures.ticket_figure(summarize(lm)).axes[0].get_ylabel() == "test log perplexity (lower is better)"
    heat = figures.mask_figure(run.name, mask_stats(run)).axes[0]
    assert heat.get_title() == "cartpole: per-layer density (mean over 3 seeds)"


def test_the_density_axis_is_log_spaced_and_labelled_by_density():
    fractions = [1 - 0.8**k for k in range(1, 21)]
    fig = Figure()
    ax = fig.add_subplot()
    figures.set_density_axis(ax, fractions)
    assert ax.get_xlabel() == "density (fraction of weights kept, log scale)"
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["1", "0.5", "0.2", "0.1", "0.05", "0.02"]  # 0.8^20 = 0.0115
    pixels = ax.transData.transform(np.column_stack([[0.0, 0.9, 0.99], np.zeros(3)]))[:, 0]
    assert pixels[2] - pixels[1] == pytest.approx(pixels[1] - pixels[0])  # a decade is a decade


def test_compare_labels_fall_back_to_run_names(write_run):
    runs = [load_run(write_run("first")), load_run(write_run("second"))]
    assert compare_labels(runs) == ["first", "second"]
