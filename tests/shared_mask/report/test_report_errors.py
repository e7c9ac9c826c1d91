"""Folders that are not readable runs: one clear line on stderr, exit status 2, no traceback."""

import json

import pytest

from shared_mask.report.cli import main


def _fails(capsys, *argv):
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lth-report: error: ") and "Traceback" not in err
    return err


def test_path_that_is_not_a_directory(tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x")
    assert "file.txt: not a directory" in _fails(capsys, tmp_path / "file.txt", "--out", tmp_path / "out")
    assert "nowhere: not a directory" in _fails(capsys, tmp_path / "nowhere", "--out", tmp_path / "out")


def test_folder_without_config_is_not_a_run(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert "not a run folder (no config.json)" in _fails(capsys, tmp_path / "empty", "--out", tmp_path / "out")


def test_run_without_any_result(write_run, capsys, tmp_path):
    path = write_run(results_csv=False)
    for metrics in path.glob("seed_*/level_*/*/metrics.json"):
        metrics.unlink()
    assert "no results yet" in _fails(capsys, path, "--out", tmp_path / "out")


def test_config_missing_a_required_field(write_run, capsys, tmp_path):
    path = write_run()
    config = json.loads((path / "config.json").read_text())
    del config["trainer"]["metric"]
    (path / "config.json").write_text(json.dumps(config))
    assert "config lacks trainer.metric" in _fails(capsys, path, "--out", tmp_path / "out")


@pytest.mark.parametrize(
    "damage, named",
    [
        (lambda record: record.pop("density"), "malformed metrics.json (KeyError('density'))"),
        (lambda record: record["metrics"].update(ticket_reward="oops"), "malformed metrics.json"),
    ],
)
def test_a_malformed_metrics_json_is_named(write_run, capsys, tmp_path, damage, named):
    path = write_run()
    unit = path / "seed_1" / "level_02" / "winning" / "metrics.json"
    record = json.loads(unit.read_text())
    damage(record)
    unit.write_text(json.dumps(record))
    err = _fails(capsys, path, "--out", tmp_path / "out")
    assert f"{unit}: {named}" in err


def test_a_truncated_metrics_json_is_named(write_run, capsys, tmp_path):
    path = write_run()
    unit = path / "seed_0" / "level_00" / "dense"
    (unit / "metrics.json").write_text((unit / "metrics.json").read_text()[:20])
    assert f"{unit / 'metrics.json'}: unreadable metrics.json" in _fails(capsys, path, "--out", tmp_path / "out")


def test_results_csv_is_not_read_a_damaged_one_changes_nothing(write_run, tmp_path, capsys):
    """results.csv is the loop's table of the units' metrics.json; the report reads the units themselves."""
    path = write_run()
    complete = main([str(path), "--out", str(tmp_path / "complete")])
    text = (path / "results.csv").read_text()
    (path / "results.csv").write_text(text[: len(text) // 2].rsplit(",", 1)[0])  # cut inside a row
    assert main([str(path), "--out", str(tmp_path / "damaged")]) == complete == 0
    summary = (tmp_path / "damaged" / "summary.csv").read_text()
    assert summary == (tmp_path / "complete" / "summary.csv").read_text()


@pytest.mark.parametrize("tolerance", ["nan", "-1", "1.5"])
def test_an_invalid_tolerance_is_refused(write_run, tmp_path, tolerance, capsys):
    with pytest.raises(SystemExit) as exit_status:
        main([str(write_run()), "--out", str(tmp_path / "out"), "--tolerance", tolerance])
    assert exit_status.value.code == 2 and "expected a fraction in [0, 1)" in capsys.readouterr().err


def test_compare_mixing_metrics(write_run, capsys, tmp_path):
    rl, lm = write_run("rl"), write_run("lm", experiment="wikitext-2", metric="test_log_ppl")
    err = _fails(capsys, rl, lm, "--out", tmp_path / "out", "--compare")
    assert "--compare mixes metrics" in err and "rl: ticket_reward" in err and "lm: test_log_ppl" in err
    assert not (tmp_path / "out").exists()  # nothing written before the inputs were found valid
