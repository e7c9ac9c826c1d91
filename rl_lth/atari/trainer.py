"""The ELF-style asynchronous off-policy actor-critic as a shared_mask lottery trainer.

One training batch: the actor steps envpool (``num_envs`` games, ``batch_size`` answering per recv)
with a behaviour copy of the network until ``trajectories`` trajectories of T actions have completed
(collector.py); the current network is trained on them with importance weights pi/pi_behaviour
clamped at 1.5 (loss.py); the behaviour copy is refreshed from the masked network (actor_critic.py).
"""
from __future__ import annotations

import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict

import shared_mask as sm
import torch
from torch.utils.tensorboard import SummaryWriter
from tqdm.auto import tqdm

from .actor_critic import make_optimizer, train_updates
from .collector import TrajectoryCollector
from .envs import PREPROCESSING, make_atari_env
from .network import build_network
from .presets import Budget, ELFConfig, check_game

LOG_EVERY = 10  # updates between tensorboard points


class AtariTrainer(sm.Trainer):
    """Trains a ticket for ``budget.batches`` updates on ``env_id``; its ticket reward is the mean
    full-game score of the last ``budget.last_episodes`` games played during training.

    Every ticket of a seed sees the same environment and action-sampling seeds (envpool's
    asynchronous order still varies from run to run).
    """

    def __init__(self, env_id: str, settings: ELFConfig, budget: Budget, device: str = "cpu",
                 threads: int = 1, progress: bool = True):
        self.env_id = check_game(env_id)
        self.settings = settings
        self.budget = budget
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("--device cuda was asked for, but torch sees no CUDA device")
        if threads < 0:
            raise ValueError(f"threads must be 0 (torch's default) or positive, got {threads}")
        self.threads = threads
        self.progress = progress
        probe = make_atari_env(env_id, 1, 1, seed=0, threads=1)
        self.obs_shape, self.actions = probe.observation_space.shape, int(probe.action_space.n)
        probe.close()

    def config(self) -> dict:
        return {"experiment": self.env_id, "metric": "ticket_reward", "algo": "elf",
                "epochs": self.budget.epochs, "batches_per_epoch": self.budget.batches_per_epoch,
                "last_episodes": self.budget.last_episodes, "elf": asdict(self.settings),
                "preprocessing": PREPROCESSING}

    def build_model(self, seed: int) -> torch.nn.Module:
        return build_network(self.obs_shape[0], self.actions, self.settings.channels, self.settings.hidden, seed)

    def rewind_batch(self, step: sm.Step) -> int:
        """The update after which W_j is captured; ValueError if training never gets there."""
        batches = step.amount * (self.budget.batches_per_epoch if step.unit == "ep" else 1)
        if batches > self.budget.batches:
            raise ValueError(f"rewind point {step} is after the end of training ({self.budget.batches} batches)")
        return batches

    def train(self, unit: sm.Unit) -> dict[str, float]:
        with torch_threads(self.threads):
            return self._train(unit)

    def _train(self, unit: sm.Unit) -> dict[str, float]:
        s = self.settings
        model = sm.start_model(self, unit).to(self.device)
        optimizer = make_optimizer(model, s)
        guard = sm.enforce(model, unit.mask, optimizer)  # pruned entries stay zero after every step
        env = make_atari_env(self.env_id, s.num_envs, s.batch_size, seed=unit.seed, threads=s.env_threads)
        collector = TrajectoryCollector(env, s.num_envs, s.unroll, self.budget.last_episodes, unit.seed, self.device)
        capture = self.rewind_batch(unit.capture_rewind) if unit.capture_rewind else None
        shutil.rmtree(unit.tb_dir, ignore_errors=True)  # a redone unit starts a fresh log
        writer = SummaryWriter(str(unit.tb_dir))
        bar = tqdm(total=self.budget.batches, desc=f"seed {unit.seed} level {unit.level} {unit.ticket}",
                   unit="batch", leave=False, disable=not self.progress)
        window, start = [], time.perf_counter()

        def on_update(update: int, losses: dict[str, float], finished: list[float]) -> None:
            nonlocal window
            if update == capture:
                self.save_weights(model, unit.rewind_path)
            window += finished
            if update % LOG_EVERY == 0 or update == self.budget.batches:
                self._log(writer, bar, update, losses, window, collector.steps, start)
                window = []

        try:
            train_updates(model, optimizer, collector, s, self.budget.batches, on_update)
        finally:
            bar.close()
            guard.remove()
            env.close()
        reward = collector.scores.mean_last(self.budget.last_episodes)
        writer.add_scalar("ticket_reward", reward, collector.steps)
        writer.close()
        self.save_weights(model, unit.final_path)
        return {"ticket_reward": reward}

    @staticmethod
    def _log(writer, bar, update: int, stats: dict[str, float], scores: list[float], steps: int, start: float):
        for name, value in stats.items():
            writer.add_scalar(f"loss/{name}", value, steps)
        if scores:
            writer.add_scalar("episode/game_score", sum(scores) / len(scores), steps)
            bar.set_postfix(score=f"{sum(scores) / len(scores):.1f}", refresh=False)
        writer.add_scalar("perf/steps_per_second", steps / (time.perf_counter() - start), steps)
        bar.update(update - bar.n)


@contextmanager
def torch_threads(count: int):
    """Run with ``count`` intra-op threads (0: leave torch's default), then restore."""
    previous = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
