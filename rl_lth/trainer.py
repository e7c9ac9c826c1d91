"""The A2C trainer as a shared_mask lottery trainer: trains one ticket of one level of one seed."""
from __future__ import annotations

from dataclasses import asdict

import shared_mask as sm

from . import a2c
from .budget import Budget
from .envs import action_count, make_env, observation_size, preset
from .network import DEFAULT_WIDTH, ActorCritic
from .rl_trainer import RLTrainer
from .unit_log import UnitLog


class A2CTrainer(RLTrainer):
    """Trains a ticket for ``epochs`` x ``batches_per_epoch`` A2C batches on ``env_id``; its ticket
    reward is the mean undiscounted reward of the last ``last_episodes`` training episodes.

    Every ticket of a seed sees the same environment and action-sampling seeds, so winning and random
    tickets differ only in their network.
    """

    def __init__(self, env_id: str, epochs: int, batches_per_epoch: int, last_episodes: int,
                 width: int = DEFAULT_WIDTH, settings: a2c.A2CConfig | None = None,
                 threads: int = 1, progress: bool = True):
        preset(env_id)  # unknown games fail here, before any folder is written
        if width < 1:
            raise ValueError(f"width must be positive, got {width}")
        super().__init__(Budget(epochs, batches_per_epoch, last_episodes, algo="a2c"), threads, progress)
        self.env_id = env_id
        self.width = width
        self.settings = settings or a2c.A2CConfig()
        probe = make_env(env_id, 1, 0)
        self.obs_size, self.actions = observation_size(probe), action_count(probe)
        probe.close()

    def config(self) -> dict:
        return {"experiment": self.env_id, "metric": "ticket_reward", **self.budget_config(), "width": self.width,
                **asdict(self.settings)}

    def build_model(self, seed: int) -> ActorCritic:
        return ActorCritic(self.obs_size, self.actions, self.width, seed)

    def train_unit(self, unit: sm.Unit) -> dict[str, float]:
        model = sm.start_model(self, unit)
        optimizer = a2c.make_optimizer(model, self.settings)
        guard = sm.enforce(model, unit.mask, optimizer)
        env = make_env(self.env_id, self.settings.num_envs, unit.seed)
        runner = a2c.EnvRunner(env, self.settings.num_envs, unit.seed, self.budget.last_episodes)
        capture = self.rewind_batch(unit.capture_rewind) if unit.capture_rewind else None
        log = UnitLog(unit, self.budget.batches, "reward", self.progress)

        def on_batch(batch: int, losses: dict[str, float], finished: list[float]) -> None:
            if batch == capture:
                self.save_weights(model, unit.rewind_path)
            log.batch(batch, losses, finished, runner.steps)

        reward = None
        try:
            a2c.train(model, optimizer, runner, self.settings, self.budget.batches, on_batch)
            reward = runner.episodes.mean_last(self.budget.last_episodes)
        finally:
            log.close(reward, runner.steps)
            guard.remove()
            env.close()
        self.save_weights(model, unit.final_path)
        return {"ticket_reward": reward}


TRAINERS = {"a2c": A2CTrainer}  # classic-control algorithm name -> trainer class
