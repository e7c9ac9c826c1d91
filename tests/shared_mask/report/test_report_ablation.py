"""The ablation tables (ticket kinds by fraction pruned; strategies by fraction pruned), the strategy
column of summary.csv, and overlays of runs made with different strategies."""

from matplotlib.colors import to_rgb

from shared_mask.report import figures
from shared_mask.report.cli import main
from shared_mask.report.compare import compare_labels
from shared_mask.report.runs import load_run
from shared_mask.report.tables import summarize

KINDS = ("winning", "supermask", "reshuffle", "random_mask_even")


def value(seed, level, ticket):
    """Mean 50 + 10 * (kind index) - level, sample std 1 over seeds 0, 1, 2."""
    index = KINDS.index(ticket) if ticket in KINDS else 0
    return 50.0 + 10 * index - level + (seed - 1)


def test_summary_md_has_an_ablation_table_per_run_and_a_strategy_table(write_run, read_csv, tmp_path):
    imp = write_run("imp", levels=2, tickets=KINDS, value=value)
    snip = write_run("snip", levels=2, tickets=("winning",), value=value, lottery={"pruning": "snip"})
    assert main([str(imp), str(snip), "--out", str(tmp_path / "out"), "--compare"]) == 0
    text = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert "Ablation by ticket kind (masks by IMP (global magnitude)):" in text
    assert "| ticket kind \\ fraction pruned | 0 | 0.2 | 0.36 |" in text
    assert "| supermask (no training) (`supermask`) |  | 59 ± 1 (n=3) | 58 ± 1 (n=3) |" in text
    assert "| dense network | 50 ± 1 (n=3) |  |  |" in text
    assert "Ablation by ticket kind (masks by SNIP):" in text
    assert "| SNIP (snip, winning) | 50 ± 1 (n=3) | 49 ± 1 (n=3) | 48 ± 1 (n=3) |" in text
    assert "| IMP (global magnitude) (imp, winning) |" in text
    rows = read_csv(tmp_path / "out" / "summary.csv")
    assert {(r["run"], r["pruning"]) for r in rows} == {("imp", "global_magnitude"), ("snip", "snip")}
    assert {r["reshuffle_n"] for r in rows if r["run"] == "imp"} == {"3"}


def test_an_overlay_of_strategies_names_them_and_draws_each_in_its_colour(write_run):
    runs = [
        load_run(write_run(name, levels=2, value=value, lottery={"pruning": name}))
        for name in ("global_magnitude", "synflow")
    ]
    labels = compare_labels(runs)
    assert labels == ["pruning=global_magnitude", "pruning=synflow"]
    ax = figures.compare_figure([summarize(r) for r in runs], labels).axes[0]
    lines = {line.get_gid(): line for line in ax.get_lines()}
    assert to_rgb(lines["synflow:winning"].get_color()) == to_rgb("tab:brown")
    assert to_rgb(lines["global_magnitude:winning"].get_color()) == to_rgb("tab:blue")
