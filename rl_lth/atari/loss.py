"""The ELF off-policy actor-critic loss, as pure functions of a batch of trajectories.

Shapes: ``B`` trajectories of ``T`` actions; observations, logits and values have ``T + 1`` rows
per trajectory (the last observation bootstraps the return).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class Trajectories:
    """A training batch. ``valid`` is False on envpool's reset steps (the step after a lost life or a
    finished game: reward 0, action ignored), which are left out of the loss."""

    obs: torch.Tensor  # [B, T + 1, C, H, W] uint8
    actions: torch.Tensor  # [B, T] long
    behaviour_log_probs: torch.Tensor  # [B, T]: log pi_behaviour(a|s) when the action was chosen
    rewards: torch.Tensor  # [B, T] raw game rewards
    terminated: torch.Tensor  # [B, T] bool: a life (or the game) was lost; no bootstrap
    truncated: torch.Tensor  # [B, T] bool: time limit; bootstrap from the next observation
    valid: torch.Tensor  # [B, T] bool

    def to(self, device: torch.device | str) -> "Trajectories":
        return Trajectories(*(getattr(self, f).to(device, non_blocking=True) for f in self.__dataclass_fields__))


def n_step_returns(rewards: torch.Tensor, terminated: torch.Tensor, truncated: torch.Tensor,
                   values: torch.Tensor, gamma: float) -> torch.Tensor:
    """Discounted returns [B, T] from (already clipped) ``rewards``, bootstrapped from ``values``
    [B, T + 1] at the end of each trajectory and after a truncation, zero past a termination.

    A reset step never feeds the step before it: that step ended a life or game.
    """
    returns = torch.empty_like(rewards)
    following = values[:, -1]
    for t in reversed(range(rewards.shape[1])):
        following = torch.where(truncated[:, t], values[:, t + 1], following)
        following = rewards[:, t] + gamma * following * (~terminated[:, t])
        returns[:, t] = following
    return returns


def importance_weights(log_probs: torch.Tensor, behaviour_log_probs: torch.Tensor, clamp: float) -> torch.Tensor:
    """pi_current(a|s) / pi_behaviour(a|s), clamped above at ``clamp``; no gradient flows through it."""
    return torch.exp(log_probs.detach() - behaviour_log_probs).clamp(max=clamp)


def elf_loss(logits: torch.Tensor, values: torch.Tensor, batch: Trajectories, gamma: float,
             entropy_coef: float, value_coef: float, ratio_clamp: float, reward_clip: float,
             advantage_clip: float) -> tuple[torch.Tensor, dict[str, float]]:
    """Importance-weighted policy gradient + smooth L1 value loss - entropy bonus.

    ``logits`` [B, T + 1, A] and ``values`` [B, T + 1] come from the current network on ``batch.obs``.
    As in ELF the per-step terms are summed over the T steps and averaged over trajectories.
    """
    B, T = batch.actions.shape
    rewards = batch.rewards.clamp(-reward_clip, reward_clip)
    returns = n_step_returns(rewards, batch.terminated, batch.truncated, values.detach(), gamma)
    log_probs = F.log_softmax(logits[:, :T], -1)
    chosen = log_probs.gather(-1, batch.actions.unsqueeze(-1)).squeeze(-1)
    advantages = (returns - values[:, :T].detach()).clamp(-advantage_clip, advantage_clip)
    weights = importance_weights(chosen, batch.behaviour_log_probs, ratio_clamp)
    valid = batch.valid.float()
    policy_loss = -(weights * advantages * chosen * valid).sum() / B
    value_loss = (F.smooth_l1_loss(values[:, :T], returns, reduction="none") * valid).sum() / B
    entropy = (-(log_probs.exp() * log_probs).sum(-1) * valid).sum() / B
    loss = policy_loss + value_coef * value_loss - entropy_coef * entropy
    steps = valid.sum().clamp(min=1)
    weight_max = torch.where(batch.valid, weights, torch.zeros_like(weights)).max()
    stats = dict(zip(("policy_loss", "value_loss", "entropy", "importance_weight_mean", "importance_weight_max"),
                     torch.stack([policy_loss, value_loss, entropy * B / steps, (weights * valid).sum() / steps,
                                  weight_max]).tolist()))  # one device sync
    return loss, stats
