"""Summary tables from synthetic runs: every number against the hand computation in conftest."""

import pytest

from shared_mask.report.cli import main
from shared_mask.report.runs import load_run
from shared_mask.report.tables import summarize, tolerance_sentence


def _by_level(rows):
    return {int(row["level"]): row for row in rows}


def test_summary_csv_holds_mean_std_gap_and_dense(write_run, read_csv, tmp_path):
    run = write_run(tickets=("winning", "random_reinit", "random_mask"))
    assert main([str(run), "--out", str(tmp_path / "out")]) == 0

    rows = _by_level(read_csv(tmp_path / "out" / "summary.csv"))
    assert sorted(rows) == [1, 2, 3, 4, 5]
    for level, row in rows.items():
        assert row["run"] == "cartpole" and row["experiment"] == "CartPole-v0" and row["metric"] == "ticket_reward"
        assert float(row["fraction_pruned"]) == pytest.approx(1 - 0.8**level)
        assert float(row["dense_mean"]) == pytest.approx(101.0)
        assert float(row["dense_std"]) == pytest.approx(1.0)
        assert int(row["winning_n"]) == 3
        assert float(row["winning_mean"]) == pytest.approx(101 - 0.4 * level)
        assert float(row["winning_std"]) == pytest.approx(1.0)
        assert float(row["random_reinit_mean"]) == pytest.approx(101 - 3 * level)
        assert float(row["random_reinit_std"]) == pytest.approx(2.0)
        assert float(row["random_mask_std"]) == pytest.approx(3.0)
        assert float(row["gap_winning_minus_random_reinit"]) == pytest.approx(2.6 * level)
        assert float(row["gap_winning_minus_random_mask"]) == pytest.approx(1.6 * level)
    # 1% of 101 is 1.01: the winning mean 101 - 0.4 level stays within it for levels 1 and 2 only.
    assert [rows[level]["winning_within_tolerance"] for level in range(1, 6)] == ["True", "True"] + ["False"] * 3


def test_markdown_states_the_tolerance_verdict_and_rows(write_run, tmp_path):
    run = write_run()
    assert main([str(run), "--out", str(tmp_path / "out"), "--tolerance", "0.05"]) == 0
    markdown = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    # 5% of 101 is 5.05: all five levels (101 - 0.4 * 5 = 99) are within; 1 - 0.8^5 = 0.672.
    assert "stays within 5% of dense up to 0.672 of weights pruned (level 5)" in markdown
    assert "Dense network: 101 ± 1 (n=3)." in markdown
    assert "| 3 | 0.488 | 99.8 ± 1 (n=3) | 92 ± 2 (n=3) | 7.8 |" in markdown
    assert "Missing units: 0 of 33." in markdown


def test_lower_is_better_metric_flips_the_tolerance(write_run):
    # Log perplexity rising with pruning: winning = 4 + 0.1 level, dense = 4 (seeds add nothing).
    def log_ppl(seed, level, ticket):
        return 4.0 if ticket == "dense" else 4.0 + (0.1 if ticket == "winning" else 0.5) * level

    summary = summarize(load_run(write_run(metric="test_log_ppl", value=log_ppl)))
    assert summary.run.higher_is_better is False
    assert summary.last_level_within(0.05).level == 2  # 4.2 <= 4 * 1.05 < 4.3
    assert tolerance_sentence(summary, 0.01) == (
        "The winning ticket is outside 1% of dense already at 0.2 of weights pruned (level 1)."
    )
    assert summary.gap(summary.levels[0], "random_reinit") == pytest.approx(-0.4)


def test_config_can_declare_the_direction_of_an_unknown_metric(write_run):
    run = load_run(write_run(metric="error_rate", trainer={"higher_is_better": False}))
    assert run.higher_is_better is False
    assert load_run(write_run("other", metric="score")).higher_is_better is True


def test_partial_run_reports_missing_units(write_run, read_csv, tmp_path, capsys):
    skip = {(2, 5, "winning"), (2, 5, "random_reinit"), (1, 4, "winning"), (0, 5, "winning"), (1, 5, "winning")}
    run = write_run(skip=skip)
    assert main([str(run), "--out", str(tmp_path / "out")]) == 0

    rows = _by_level(read_csv(tmp_path / "out" / "summary.csv"))
    assert int(rows[4]["winning_n"]) == 2
    assert float(rows[4]["winning_mean"]) == pytest.approx(101 - 1.6)  # seeds 0 and 2: -1 and +1 cancel
    assert rows[5]["winning_mean"] == "" and rows[5]["gap_winning_minus_random_reinit"] == ""
    assert float(rows[5]["random_reinit_mean"]) == pytest.approx(101 - 15 - 1)  # seeds 0 and 1

    out = capsys.readouterr().out
    assert "missing 5 of 33 units" in out
    assert "seed 1, winning: levels 4-5" in out and "seed 2, random_reinit: level 5" in out
    markdown = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert "Missing units: 5 of 33." in markdown and "- seed 0, winning: level 5" in markdown


def test_results_come_from_metrics_json_without_results_csv(write_run, read_csv, tmp_path):
    run = write_run(results_csv=False)
    assert main([str(run), "--out", str(tmp_path / "out")]) == 0
    rows = _by_level(read_csv(tmp_path / "out" / "summary.csv"))
    assert float(rows[3]["winning_mean"]) == pytest.approx(101 - 1.2)


def test_a_stale_results_csv_is_not_read(write_run):
    path = write_run()
    lines = (path / "results.csv").read_text().splitlines()
    (path / "results.csv").write_text("\n".join(line for line in lines if ",5,0." not in line) + "\n")
    run = load_run(path)
    assert summarize(run).levels[-1].tickets["winning"].mean == pytest.approx(99.0)
    assert run.missing_units() == []


def test_metrics_json_is_the_one_source_of_results(write_run):
    path = write_run()
    text = (path / "results.csv").read_text().replace("dense,ticket_reward,100.0", "dense,ticket_reward,130.0")
    (path / "results.csv").write_text(text)
    assert summarize(load_run(path)).dense.mean == pytest.approx((100 + 101 + 102) / 3)
