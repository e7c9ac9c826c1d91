"""The early-bird rule on crafted distance sequences, and a level's record and mask from stored draws."""

import json

import pytest
import torch

import shared_mask as sm
from shared_mask.early_bird import early_bird_draw, settle


def test_the_rule_picks_the_draw_that_completes_the_window():
    # distances[i - 1] is draw i's distance to draw i - 1
    distances = [0.5, 0.05, 0.05, 0.2, 0.05, 0.05, 0.05, 0.01]
    assert early_bird_draw(distances, threshold=0.1, window=3) == 7
    assert early_bird_draw(distances, threshold=0.1, window=2) == 3
    assert early_bird_draw(distances, threshold=0.1, window=1) == 2
    assert early_bird_draw(distances, threshold=0.1, window=5) is None  # never five in a row
    assert early_bird_draw(distances, threshold=0.04, window=1) == 8
    assert early_bird_draw([0.1, 0.1], threshold=0.1, window=1) is None  # below, not at, the threshold
    assert early_bird_draw([], threshold=0.1, window=1) is None


def _draw(density, seed, folder, step, index):
    generator = torch.Generator().manual_seed(seed)
    mask = sm.Mask({"w": torch.rand(40, 25, generator=generator) < density})
    mask.save(folder / f"{step:09d}.safetensors")
    index[str(step)] = step / 10
    return mask


def test_settle_records_distances_and_saves_the_early_bird_mask(tmp_path):
    run = sm.RunFolder(tmp_path)
    folder = run.early_bird_draws(0, 1)
    folder.mkdir(parents=True)
    index, masks = {}, []
    for i, seed in enumerate([0, 1, 2, 2, 2, 3]):  # draws 3 and 4 repeat draw 2; draw 5 moves again
        masks.append(_draw(0.5, seed, folder, 10 * (i + 1), index))
    (folder / "index.json").write_text(json.dumps(index))
    config = sm.LotteryConfig(levels=1, early_bird_threshold=0.1, early_bird_window=2)
    record = settle(run, 0, 1, config)
    assert record["steps"] == [10, 20, 30, 40, 50, 60]
    assert record["distances"][2:4] == [0.0, 0.0] and min(record["distances"][:2] + record["distances"][4:]) > 0.3
    assert record["converged"] and record["step"] == 50 and record["epoch"] == 5.0  # draw 4 ends the window
    assert sm.Mask.load(run.early_bird_mask(0, 1)) == masks[4]

    never = settle(run, 0, 1, sm.LotteryConfig(levels=1, early_bird_window=3))
    assert not never["converged"] and never["step"] is None


def test_a_trainer_without_the_studies_is_refused_before_anything_is_written(tmp_path):
    from tests.shared_mask.test_lottery import MLPTrainer  # implements neither study

    for config in (
        sm.LotteryConfig(levels=1, tickets=["winning", "early_bird"]),
        sm.LotteryConfig(stability_points=["0"]),
    ):
        with pytest.raises(ValueError, match="MLPTrainer does not implement (early_bird|stability) yet"):
            sm.run_lottery(MLPTrainer(), config, tmp_path / "run", progress=False)
        assert not (tmp_path / "run").exists()
