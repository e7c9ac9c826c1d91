"""n-step returns of actor-critic rollouts, shared by every algorithm."""

from __future__ import annotations

import torch


def n_step_returns(
    rewards: torch.Tensor, terminated: torch.Tensor, truncated: torch.Tensor, values: torch.Tensor, gamma: float
) -> torch.Tensor:
    """Discounted returns [T, N] of ``rewards`` [T, N] (time first: a batch-first caller passes
    transposed views), bootstrapped from ``values`` [T + 1, N] (the critic's values of the
    observations each step acted on, then of the one after the last step) at the end and after a
    truncation (time limit), and zero past a termination.

    envpool's reset step after an episode end gets a meaningless return but never feeds the step
    before it: that step ended its episode, so it uses either nothing (terminated) or the value of
    the final observation (truncated).
    """
    returns = torch.empty_like(rewards)
    following = values[-1]
    for t in reversed(range(rewards.shape[0])):
        following = torch.where(truncated[t], values[t + 1], following)
        following = rewards[t] + gamma * following * (~terminated[t])
        returns[t] = following
    return returns
