"""Episodic scores of vectorized games: raw rewards summed per episode (per full game on Atari)."""

from __future__ import annotations

from collections import deque

import numpy as np


class GameScores:
    """Scores of finished episodes (the last ``keep``), and the running sums of the ones in progress."""

    def __init__(self, num_envs: int, keep: int):
        self.running = np.zeros(num_envs)
        self.finished: deque[float] = deque(maxlen=keep)
        self.count = 0

    def record(self, env_ids: np.ndarray, rewards: np.ndarray, over: np.ndarray) -> list[float]:
        """Add one step's rewards of ``env_ids``; return the scores of the episodes that ended with it."""
        self.running[env_ids] += rewards
        done = env_ids[over]
        scores = self.running[done].tolist()
        self.running[done] = 0.0
        self.finished.extend(scores)
        self.count += len(scores)
        return scores

    def mean_last(self, n: int) -> float:
        """Mean score of the last ``n`` finished episodes (fewer if fewer have finished)."""
        if not self.finished:
            raise RuntimeError("no episode finished during training: train for more batches")
        return float(np.mean(list(self.finished)[-n:]))
