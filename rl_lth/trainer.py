"""The A2C trainer as a shared_mask lottery trainer: trains one ticket of one level of one seed."""
from __future__ import annotations

import shutil
import time
from dataclasses import asdict

import shared_mask as sm
from torch.utils.tensorboard import SummaryWriter
from tqdm.auto import tqdm

from . import a2c
from .atari.trainer import torch_threads
from .envs import action_count, make_env, observation_size, preset
from .network import DEFAULT_WIDTH, ActorCritic

LOG_EVERY = 10  # batches between tensorboard points


class A2CTrainer(sm.Trainer):
    """Trains a ticket for ``epochs`` x ``batches_per_epoch`` A2C batches on ``env_id``; its ticket
    reward is the mean undiscounted reward of the last ``last_episodes`` training episodes.

    Every ticket of a seed sees the same environment and action-sampling seeds, so winning and random
    tickets differ only in their network.
    """

    def __init__(self, env_id: str, epochs: int, batches_per_epoch: int, last_episodes: int,
                 width: int = DEFAULT_WIDTH, settings: a2c.A2CConfig | None = None,
                 threads: int = 1, progress: bool = True):
        preset(env_id)  # unknown games fail here, before any folder is written
        if min(epochs, batches_per_epoch, last_episodes, width, threads) < 1:
            raise ValueError("epochs, batches per epoch, last episodes, width and threads must be positive; "
                             f"got {epochs}, {batches_per_epoch}, {last_episodes}, {width}, {threads}")
        self.env_id = env_id
        self.epochs = epochs
        self.batches_per_epoch = batches_per_epoch
        self.last_episodes = last_episodes
        self.width = width
        self.settings = settings or a2c.A2CConfig()
        self.threads = threads
        self.progress = progress
        probe = make_env(env_id, 1, 0)
        self.obs_size, self.actions = observation_size(probe), action_count(probe)
        probe.close()

    @property
    def batches(self) -> int:
        return self.epochs * self.batches_per_epoch

    def config(self) -> dict:
        return {"experiment": self.env_id, "metric": "ticket_reward", "algo": "a2c", "width": self.width,
                "epochs": self.epochs, "batches_per_epoch": self.batches_per_epoch,
                "last_episodes": self.last_episodes, **asdict(self.settings)}

    def build_model(self, seed: int) -> ActorCritic:
        return ActorCritic(self.obs_size, self.actions, self.width, seed)

    def rewind_batch(self, step: sm.Step) -> int:
        """The batch count after which W_j is captured; ValueError if training never gets there."""
        batches = step.amount * (self.batches_per_epoch if step.unit == "ep" else 1)
        if batches > self.batches:
            raise ValueError(f"rewind point {step} is after the end of training ({self.batches} batches)")
        return batches

    def train(self, unit: sm.Unit) -> dict[str, float]:
        with torch_threads(self.threads):
            return self._train(unit)

    def _train(self, unit: sm.Unit) -> dict[str, float]:
        model = sm.start_model(self, unit)
        optimizer = a2c.make_optimizer(model, self.settings)
        guard = sm.enforce(model, unit.mask, optimizer)
        env = make_env(self.env_id, self.settings.num_envs, unit.seed)
        runner = a2c.EnvRunner(env, self.settings.num_envs, unit.seed, self.last_episodes)
        capture = self.rewind_batch(unit.capture_rewind) if unit.capture_rewind else None
        shutil.rmtree(unit.tb_dir, ignore_errors=True)  # a redone unit starts a fresh log
        writer = SummaryWriter(str(unit.tb_dir))
        bar = tqdm(total=self.batches, desc=f"seed {unit.seed} level {unit.level} {unit.ticket}",
                   unit="batch", leave=False, disable=not self.progress)
        window, start = [], time.perf_counter()

        def on_batch(batch: int, losses: dict[str, float], finished: list[float]) -> None:
            if batch == capture:
                self.save_weights(model, unit.rewind_path)
            window.extend(finished)
            if batch % LOG_EVERY and batch != self.batches:
                return
            for name, value in losses.items():
                writer.add_scalar(f"loss/{name}", value, runner.steps)
            if window:
                writer.add_scalar("episode/reward", sum(window) / len(window), runner.steps)
                bar.set_postfix(reward=f"{sum(window) / len(window):.1f}", refresh=False)
                window.clear()
            writer.add_scalar("perf/steps_per_second", runner.steps / (time.perf_counter() - start), runner.steps)
            bar.update(batch - bar.n)

        try:
            a2c.train(model, optimizer, runner, self.settings, self.batches, on_batch)
        finally:
            bar.close()
            guard.remove()
            env.close()
        reward = runner.episodes.mean_last(self.last_episodes)
        writer.add_scalar("ticket_reward", reward, runner.steps)
        writer.close()
        self.save_weights(model, unit.final_path)
        return {"ticket_reward": reward}


TRAINERS = {"a2c": A2CTrainer}  # algorithm name -> trainer class; the Atari trainer joins here
