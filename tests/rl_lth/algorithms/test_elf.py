"""The ELF loss on hand-made batches: importance-ratio clamp, reward and advantage clipping, reset steps."""

import math

import pytest
import torch

from rl_lth.algorithms.elf import elf_loss, importance_weights
from rl_lth.atari.trajectories import Trajectories

SETTINGS = dict(gamma=0.5, entropy_coef=0.01, value_coef=1.0, ratio_clamp=1.5, reward_clip=1.0, advantage_clip=1.0)


def batch(rewards, terminated=None, truncated=None, valid=None, actions=None, behaviour=None):
    rewards = torch.tensor(rewards, dtype=torch.float32)
    B, T = rewards.shape
    false = torch.zeros(B, T, dtype=torch.bool)
    return Trajectories(
        obs=torch.zeros(B, T + 1, 1, 1, 1, dtype=torch.uint8),
        actions=torch.zeros(B, T, dtype=torch.long) if actions is None else actions,
        behaviour_log_probs=torch.full((B, T), math.log(0.5)) if behaviour is None else behaviour,
        rewards=rewards,
        terminated=false if terminated is None else torch.tensor(terminated),
        truncated=false if truncated is None else torch.tensor(truncated),
        valid=~false if valid is None else torch.tensor(valid),
    )


def test_importance_weights_are_clamped_at_1_5_and_carry_no_gradient():
    current = torch.log(torch.tensor([0.9, 0.5, 0.1])).requires_grad_()
    behaviour = torch.log(torch.tensor([0.3, 0.5, 0.2]))
    weights = importance_weights(current, behaviour, clamp=1.5)
    assert torch.allclose(weights, torch.tensor([1.5, 1.0, 0.5]))
    assert not weights.requires_grad


def test_rewards_are_clipped_to_plus_minus_one():
    logits, values = torch.zeros(1, 3, 2), torch.zeros(1, 3)
    small = elf_loss(logits, values, batch([[1.0, -1.0]]), **SETTINGS)[0]
    large = elf_loss(logits, values, batch([[250.0, -40.0]]), **SETTINGS)[0]
    assert torch.equal(small, large)


def test_advantages_are_clipped_to_plus_minus_one():
    logits = torch.zeros(1, 3, 2, requires_grad=True)
    values = torch.full((1, 3), -1000.0)  # returns - values = huge positive advantages
    loss, stats = elf_loss(logits, values, batch([[0.0, 0.0]]), **{**SETTINGS, "entropy_coef": 0.0})
    # clipped advantage 1, importance weight 1 (pi = behaviour = 0.5): policy loss -2 * log 0.5
    assert stats["policy_loss"] == pytest.approx(-2 * math.log(0.5))


def test_the_policy_gradient_is_weighted_by_the_clamped_ratio():
    logits = torch.tensor([[[math.log(9.0), 0.0]] * 2])  # pi(a=0) = 0.9
    behaviour = torch.full((1, 1), math.log(0.1))  # behaviour chose a=0 with probability 0.1: ratio 9
    weighted = elf_loss(logits, torch.zeros(1, 2), batch([[1.0]], behaviour=behaviour), **SETTINGS)[1]
    assert weighted["importance_weight_max"] == pytest.approx(1.5)
    assert weighted["policy_loss"] == pytest.approx(-1.5 * 1.0 * math.log(0.9), rel=1e-5)


def test_reset_steps_are_left_out_of_the_loss():
    logits, values = torch.zeros(1, 3, 2), torch.zeros(1, 3)
    kept = elf_loss(logits, values, batch([[1.0, 0.0]], terminated=[[True, False]], valid=[[True, False]]), **SETTINGS)
    alone = elf_loss(torch.zeros(1, 2, 2), torch.zeros(1, 2), batch([[1.0]], terminated=[[True]]), **SETTINGS)
    assert torch.allclose(kept[0], alone[0])
