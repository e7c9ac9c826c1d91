"""Evaluation episodes for the stability analysis: a network's mean score over a fixed number of games
with fixed seeds, without training, so that two networks are compared on the same games (the barrier
on the line is then not noise of the evaluation itself)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .algorithms.a2c import sample

EVAL_SEED = 2_147_483_629  # the evaluation games' and action sampling's seed, the same for every network


@dataclass(frozen=True)
class Evaluation:
    """How the networks on a stability line are scored."""

    eval_episodes: int = field(
        default=32, metadata={"help": "stability analysis: evaluation episodes (fixed seeds) scored for each network"}
    )
    eval_greedy: bool = field(
        default=False,
        metadata={"help": "stability analysis: act greedily (the most likely action) instead of sampling"},
    )

    def __post_init__(self):
        if self.eval_episodes < 1:
            raise ValueError(f"--eval-episodes must be at least 1, got {self.eval_episodes}")


@torch.no_grad()
def evaluate_policy(algorithm, model: nn.Module, evaluation: Evaluation) -> float:
    """The mean score of ``evaluation.eval_episodes`` games, one in each of as many environments seeded
    with :data:`EVAL_SEED`, acting with ``model`` (sampled with a generator of that seed, or greedily)."""
    count = evaluation.eval_episodes
    env, game_over = algorithm.open_evaluation(count, EVAL_SEED)
    generator = torch.Generator().manual_seed(EVAL_SEED)
    running, scores, done = np.zeros(count), np.zeros(count), np.zeros(count, dtype=bool)
    try:
        obs, _ = env.reset()
        while not done.all():
            observation = torch.from_numpy(np.asarray(obs))
            observation = observation.float() if observation.is_floating_point() else observation
            logits = model(observation.to(algorithm.device))[0].float().cpu()
            actions = logits.argmax(-1) if evaluation.eval_greedy else sample(logits, generator)
            obs, reward, terminated, truncated, info = env.step(actions.numpy())
            running += np.where(done, 0.0, reward)
            ended = game_over(terminated, truncated, info) & ~done
            scores[ended] = running[ended]
            done |= ended
    finally:
        env.close()
    return float(scores.mean())
