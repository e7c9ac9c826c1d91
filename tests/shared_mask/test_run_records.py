"""What a run folder says about itself: run.json per invocation, summary.md, the estimate printed before
training, a failed unit's log and failure.json, and `lth-status`."""

import json
import os
import socket
import statistics

import pytest
import torch

import shared_mask as sm
from shared_mask import status
from shared_mask.provenance import read_invocations
from shared_mask.report.runs import load_run
from shared_mask.report.tables import summarize, summary_markdown
from tests.shared_mask.test_lottery import MLPTrainer

LOTTERY = dict(levels=1, rate=0.5, seeds=[0], tickets=["winning", "random_reinit"], rewind="1ep")


class FailingTrainer(MLPTrainer):
    """Raises a ValueError in the unit ``fail_on`` (a real error, not an interrupt)."""

    def __init__(self, fail_on):
        super().__init__(epochs=2)
        self.fail_on = fail_on

    def train(self, unit):
        if (unit.seed, unit.level, unit.ticket) == self.fail_on:
            raise ValueError("no episode finished: give it more batches")
        return super().train(unit)


class Timed(MLPTrainer):
    def unit_work(self):
        return "4 batches"

    def expected_unit_seconds(self):
        return 20.0, "a known speed"


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    run = tmp_path_factory.mktemp("records") / "run"
    sm.run_lottery(MLPTrainer(epochs=2), sm.LotteryConfig(**LOTTERY), run, progress=False)
    sm.run_lottery(MLPTrainer(epochs=2), sm.LotteryConfig(**LOTTERY), run, progress=False)  # a rerun
    return run


def test_run_json_records_every_invocation(finished):
    invocations = read_invocations(sm.RunFolder(finished))
    assert len(invocations) == 2
    for entry in invocations:
        assert entry["outcome"] == "finished" and entry["host"] == socket.gethostname()
        assert entry["versions"]["torch"] == torch.__version__.split("+")[0] or entry["versions"]["torch"] == str(
            torch.__version__
        )
        assert entry["start"] <= entry["end"] and entry["pid"] == os.getpid()
        assert entry["command"] and entry["cpus"] == os.cpu_count()
    assert "lth-nlp-rl" in invocations[0]["versions"] and "git" in invocations[0]


def test_summary_md_holds_the_reports_table(finished):
    expected = summary_markdown([summarize(load_run(finished))], 0.01)
    assert (finished / "summary.md").read_text() == expected
    assert "| 1 | 0.5 |" in expected


def test_the_estimate_before_training_counts_units_and_time(tmp_path, capsys):
    sm.run_lottery(Timed(epochs=2), sm.LotteryConfig(**LOTTERY), tmp_path / "run", progress=False)
    first = capsys.readouterr().out.splitlines()[0]
    assert (
        first
        == f"{tmp_path / 'run'}: 3 of 3 units to train, 4 batches each; about 60 s one at a time (from a known speed)"
    )
    # On a rerun with more seeds, the speed is the one observed in the folder.
    seconds = [json.loads(p.read_text())["seconds"] for p in sm.RunFolder(tmp_path / "run").metrics_files()]
    sm.run_lottery(Timed(epochs=2), sm.LotteryConfig(**{**LOTTERY, "seeds": [0, 1]}), tmp_path / "run", progress=False)
    first = capsys.readouterr().out.splitlines()[0]
    mean = statistics.fmean(seconds)
    assert first.startswith(f"{tmp_path / 'run'}: 3 of 6 units to train, 4 batches each; about ")
    assert first.endswith(f"one at a time (from the 3 finished units' mean of {status.duration(mean)})")


def test_a_failed_unit_keeps_its_log_and_error_and_status_names_them(tmp_path):
    run = tmp_path / "runs" / "a"
    with pytest.raises(sm.UnitFailed) as failed:
        sm.run_lottery(FailingTrainer((0, 1, "random_reinit")), sm.LotteryConfig(**LOTTERY), run, progress=False)
    unit = sm.RunFolder(run).unit((0, 1, "random_reinit"))
    assert str(failed.value).endswith(f"(its log: {unit.log})")
    assert "ValueError: no episode finished" in unit.log.read_text()
    assert json.loads(unit.failure.read_text())["error"] == "ValueError: no episode finished: give it more batches"
    assert read_invocations(sm.RunFolder(run))[-1]["outcome"].startswith("failed: UnitFailed: unit seed 0 level 1")

    lines = status.status_lines(run)
    assert lines[0].startswith(f"{run}: not running: 2 of 3 units done, 1 failed, 0 interrupted, 0 not started; about ")
    assert lines[1] == (
        f"  failed: seed 0 level 1 random_reinit: ValueError: no episode finished: give it more batches (log: {unit.log})"
    )
    # A rerun that succeeds clears the failure.
    sm.run_lottery(MLPTrainer(epochs=2), sm.LotteryConfig(**LOTTERY), run, progress=False)
    assert not unit.failure.exists() and status.status_lines(run)[0].startswith(
        f"{run}: not running: 3 of 3 units done"
    )


def test_status_of_a_live_run_and_the_time_left(tmp_path, capsys):
    root = tmp_path / "runs"
    run = root / "deep" / "b"
    sm.run_lottery(MLPTrainer(epochs=2), sm.LotteryConfig(**LOTTERY), run, progress=False)
    sm.run_lottery(MLPTrainer(epochs=2), sm.LotteryConfig(**{**LOTTERY, "levels": 3}), run, progress=False)
    folder = sm.RunFolder(run)
    # Pretend this process is still training level 3 (run.json's last invocation has not ended).
    invocations = read_invocations(folder)
    invocations[-1].update(end=None, outcome="running", workers={"workers": 2})
    folder.provenance.write_text(json.dumps({"invocations": invocations}))
    for ticket in ("winning", "random_reinit"):
        (folder.unit((0, 3, ticket)).metrics).unlink()
    seconds = [json.loads(p.read_text())["seconds"] for p in folder.metrics_files()]
    expected = status.duration(2 * statistics.fmean(seconds) / 2)  # the two units of level 3, two at a time
    capsys.readouterr()

    assert status.main([str(root)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"{run}: running (pid {os.getpid()} on {socket.gethostname()} since {invocations[-1]['start']}): "
        f"5 of 7 units done, 0 failed, 2 running, 0 not started; about {expected} left at "
        f"{status.duration(statistics.fmean(seconds))} per unit, 2 at a time"
    )
    assert out[1:] == ["  running: seed 0 level 3 winning", "  running: seed 0 level 3 random_reinit"]


def test_status_of_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert status.main([str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"lth-status: error: {tmp_path}: not a run folder (no config.json)\n"


def test_durations_read_as_people_read_them():
    assert [status.duration(s) for s in (0.2, 40, 720, 3 * 3600, 5 * 86400)] == [
        "1 s",
        "40 s",
        "12 min",
        "3.0 h",
        "5.0 days",
    ]
