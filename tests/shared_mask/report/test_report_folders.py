"""`lth-report` over a folder of run folders: every run found, named by its path below the folder; no
tolerance verdict (nor warning) for runs that have no winning ticket by design."""

from shared_mask.report.cli import main, run_names
from shared_mask.report.runs import load_run
from shared_mask.report.tables import summarize, tolerance_sentence
from shared_mask.run_folder import find_runs


def test_a_folder_of_runs_is_searched_and_names_are_relative_paths(write_run, tmp_path, capsys):
    first, second = write_run("tiny_translation/run"), write_run("tiny_lm/run")
    deeper = write_run("sweep/atari/Pong-v5")
    root = tmp_path / "runs"
    assert find_runs(root) == [deeper, second, first]  # in path order, not inside run folders
    assert find_runs(first) == [first] and find_runs(tmp_path / "none") == [tmp_path / "none"]
    assert run_names([first, second]) == ["tiny_translation/run", "tiny_lm/run"]
    assert run_names([first]) == ["run"] and run_names([first, first]) == ["run", "run (2)"]

    assert main([str(root), "--out", str(tmp_path / "out")]) == 0
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"tiny_translation_run_ticket_reward.png", "sweep_atari_Pong-v5_masks.png", "grid.png"} <= written
    assert "## tiny_lm/run: CartPole-v0" in (tmp_path / "out" / "summary.md").read_text()


def test_runs_without_winning_tickets_by_design_get_no_warning(write_run, tmp_path, capsys):
    run = write_run("lr_chain", tickets=("lr_rewind",), lottery={"chain": "lr_rewind"}, value=lambda *unit: 1.0)
    sentence = tolerance_sentence(summarize(load_run(run)), 0.01)
    assert sentence == "This run trains no winning tickets (tickets: lr_rewind): no tolerance verdict."
    dense_only = write_run("dense_only", levels=0)
    sentence = tolerance_sentence(summarize(load_run(dense_only)), 0.01)
    assert sentence == "This run trains no winning tickets (levels 0: the dense network only): no tolerance verdict."
    assert main([str(run), str(dense_only), "--out", str(tmp_path / "out")]) == 0
    assert "No winning ticket" not in capsys.readouterr().out
