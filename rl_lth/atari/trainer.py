"""The ELF-style asynchronous off-policy actor-critic as a shared_mask lottery trainer.

One training batch: the actor steps envpool (``num_envs`` games, ``batch_size`` answering per recv)
with a behaviour copy of the network until ``trajectories`` trajectories of T actions have completed
(collector.py); the current network is trained on them with importance weights pi/pi_behaviour
clamped at 1.5 (loss.py); the behaviour copy is refreshed from the masked network (actor_critic.py).
"""
from __future__ import annotations

from dataclasses import asdict

import shared_mask as sm
import torch

from ..budget import Budget
from ..rl_trainer import RLTrainer
from ..unit_log import UnitLog
from .actor_critic import make_optimizer, train_updates
from .collector import TrajectoryCollector
from .envs import PREPROCESSING, make_atari_env
from .network import build_network
from .presets import ELFConfig, check_game


class AtariTrainer(RLTrainer):
    """Trains a ticket for ``budget.batches`` updates on ``env_id``; its ticket reward is the mean
    full-game score of the last ``budget.last_episodes`` games played during training.

    Every ticket of a seed sees the same environment and action-sampling seeds (envpool's
    asynchronous order still varies from run to run).
    """

    def __init__(self, env_id: str, settings: ELFConfig, budget: Budget, device: str = "cpu",
                 threads: int = 1, progress: bool = True):
        super().__init__(budget, threads, progress)
        self.env_id = check_game(env_id)
        self.settings = settings
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("--device cuda was asked for, but torch sees no CUDA device")
        probe = make_atari_env(env_id, 1, 1, seed=0, threads=1)
        self.obs_shape, self.actions = probe.observation_space.shape, int(probe.action_space.n)
        probe.close()

    def config(self) -> dict:
        return {"experiment": self.env_id, "metric": "ticket_reward", **self.budget_config(),
                "elf": asdict(self.settings), "preprocessing": PREPROCESSING}

    def build_model(self, seed: int) -> torch.nn.Module:
        return build_network(self.obs_shape[0], self.actions, self.settings.channels, self.settings.hidden, seed)

    def train_unit(self, unit: sm.Unit) -> dict[str, float]:
        s = self.settings
        model = sm.start_model(self, unit).to(self.device)
        optimizer = make_optimizer(model, s)
        guard = sm.enforce(model, unit.mask, optimizer)  # pruned entries stay zero after every step
        env = make_atari_env(self.env_id, s.num_envs, s.batch_size, seed=unit.seed, threads=s.env_threads)
        collector = TrajectoryCollector(env, s.num_envs, s.unroll, self.budget.last_episodes, unit.seed, self.device)
        capture = self.rewind_batch(unit.capture_rewind) if unit.capture_rewind else None
        log = UnitLog(unit, self.budget.batches, "game_score", self.progress)

        def on_update(update: int, losses: dict[str, float], finished: list[float]) -> None:
            if update == capture:
                self.save_weights(model, unit.rewind_path)
            log.batch(update, losses, finished, collector.steps)

        reward = None
        try:
            train_updates(model, optimizer, collector, s, self.budget.batches, on_update)
            reward = collector.scores.mean_last(self.budget.last_episodes)
        finally:
            log.close(reward, collector.steps)
            guard.remove()
            env.close()
        self.save_weights(model, unit.final_path)
        return {"ticket_reward": reward}
