"""The stability line's arithmetic and settings: interpolation (ends bit for bit, a shared mask's zeros
kept at every point), the instability, the grid, and the settings' checks."""

import pytest
import torch

import shared_mask as sm
from shared_mask.stability import grid, instability, interpolate


def test_grid_is_evenly_spaced_with_exact_ends():
    assert grid(5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert grid(11)[0] == 0.0 and grid(11)[-1] == 1.0 and len(grid(11)) == 11


def test_interpolation_ends_are_the_networks_and_the_middle_is_their_mean():
    generator = torch.Generator().manual_seed(0)
    first = {"w": torch.randn(4, 3, generator=generator), "steps": torch.tensor(7)}
    second = {"w": torch.randn(4, 3, generator=generator), "steps": torch.tensor(9)}
    assert torch.equal(interpolate(first, second, 0.0)["w"], first["w"])
    assert torch.equal(interpolate(first, second, 1.0)["w"], second["w"])
    torch.testing.assert_close(interpolate(first, second, 0.5)["w"], (first["w"] + second["w"]) / 2)
    torch.testing.assert_close(interpolate(first, second, 0.25)["w"], 0.75 * first["w"] + 0.25 * second["w"])
    assert interpolate(first, second, 0.5)["steps"] == 7  # integer tensors are not interpolated
    with pytest.raises(ValueError, match="differ in their tensors"):
        interpolate(first, {"w": second["w"]}, 0.5)


def test_networks_that_share_a_mask_keep_exactly_its_zeros_along_the_line():
    generator = torch.Generator().manual_seed(1)
    keep = torch.rand(50, 20, generator=generator) > 0.7
    first = {"w": torch.randn(50, 20, generator=generator) * keep}
    second = {"w": torch.randn(50, 20, generator=generator) * keep}
    for a in grid(11):
        w = interpolate(first, second, a)["w"]
        assert torch.equal(w != 0, keep), a


def test_instability_is_the_largest_loss_above_the_mean_of_the_ends():
    assert instability([1.0, 3.0, 2.0]) == pytest.approx(1.5)
    assert instability([1.0, 1.0, 1.0, 1.0]) == 0
    assert instability([2.0, 1.0, 0.0]) == pytest.approx(1.0)  # the larger end is the maximum
    rewards = [100.0, 40.0, 90.0]  # a reward barrier: the loss is the negated reward
    assert instability([-r for r in rewards]) == pytest.approx(55.0)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"stability_grid": 2}, "at least 3 points"),
        ({"stability_points": ["0", "0it"]}, "repeat"),
        ({"stability_points": ["10"]}, "say which unit"),
        ({"stability_noise": [1]}, "two children"),
        ({"stability_levels": [3], "levels": 2}, "beyond the lottery"),
        ({"early_bird_threshold": 1.0}, r"threshold must be in \(0, 1\)"),
        ({"early_bird_threshold": 0.0}, r"threshold must be in \(0, 1\)"),
        ({"early_bird_window": 0}, "window"),
        ({"early_bird_every": "0"}, "positive interval"),
    ],
)
def test_bad_study_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        sm.LotteryConfig(**settings)


def test_study_settings_are_normalised():
    config = sm.LotteryConfig(stability_points=["0", "100batches", "1epoch"], early_bird_every="2epochs")
    assert config.stability_points == ["0", "100it", "1ep"] and config.early_bird_every == "2ep"
