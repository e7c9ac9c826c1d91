"""The report reads a folder written by the real lottery loop (shared_mask.run_lottery)."""

import pytest
from torch import nn

import shared_mask as sm
from shared_mask.report.cli import main

REWARD = {"dense": 100.0, "winning": 100.0, "random_reinit": 50.0}


class UntrainedTrainer(sm.Trainer):
    """Keeps each ticket's starting weights; the reward is REWARD[ticket] * density + seed."""

    def config(self):
        return {"experiment": "Tiny-v0", "metric": "ticket_reward"}

    def build_model(self, seed):
        return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))

    def train(self, unit):
        self.save_weights(sm.start_model(self, unit), unit.final_path)
        return {"ticket_reward": REWARD[unit.ticket] * unit.mask.density() + unit.seed}


def test_report_of_a_lottery_run_folder(tmp_path, read_csv, capsys):
    run = tmp_path / "tiny"
    config = sm.LotteryConfig(levels=3, seeds=[0, 1], tickets=["winning", "random_reinit"], rewind="0")
    sm.run_lottery(UntrainedTrainer(), config, run, progress=False)
    assert main([str(run), "--out", str(tmp_path / "out")]) == 0
    assert "missing" not in capsys.readouterr().out

    masks = {
        row["level"]: row
        for row in read_csv(tmp_path / "out" / "mask_stats.csv")
        if row["seed"] == "1" and row["layer"] == "(all)"
    }
    density = {level: float(masks[str(level)]["density"]) for level in range(4)}
    assert density[0] == 1.0 and density[3] == pytest.approx(0.8**3, abs=0.01)
    for level in (1, 2, 3):  # IMP masks are nested: the change is what the level pruned
        assert float(masks[str(level)]["hamming_to_previous"]) == pytest.approx(density[level - 1] - density[level])

    for row in read_csv(tmp_path / "out" / "summary.csv"):
        kept = density[int(row["level"])]
        assert float(row["fraction_pruned"]) == pytest.approx(1 - kept)
        assert float(row["winning_mean"]) == pytest.approx(100 * kept + 0.5)
        assert float(row["gap_winning_minus_random_reinit"]) == pytest.approx(50 * kept)
    assert (tmp_path / "out" / "tiny_ticket_reward.png").exists()
