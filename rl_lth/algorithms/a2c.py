"""Synchronous advantage actor-critic (A2C) on envpool, the classic-control trainer of the paper.

One batch: every one of ``num_envs`` environments takes ``steps_per_env`` steps with the current
policy (32 x 4 = 128 steps in the paper), then one RMSprop update on the n-step returns,
bootstrapped from the critic at the last observation.

envpool resets an environment automatically on the step *after* its episode ended: that step returns
the new episode's first observation with reward 0 and ignores the action. Such "reset steps" are
not transitions of any episode: they are left out of the loss, and no return crosses them. The
ending step itself is kept: after a termination its return is the reward alone; after a truncation
(time limit) it bootstraps from the critic's value of the final observation, which envpool returns
on the ending step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from shared_mask.options import check_settings

from ..envs import action_count, make_env, observation_size
from ..network import DEFAULT_WIDTH, ActorCritic
from ..returns import n_step_returns
from ..scores import GameScores
from .base import Algorithm, BatchCallback, register


@dataclass(frozen=True)
class A2CConfig:
    """Paper settings by default (Yu et al. 2020, classic control); the rest are project choices."""

    width: int = field(default=DEFAULT_WIDTH, metadata={"help": "units in each of the three hidden layers"})
    num_envs: int = field(default=32, metadata={"help": "parallel environments"})
    steps_per_env: int = field(default=4, metadata={"help": "steps of each environment per batch"})
    reward_scale: float = field(
        default=0.01, metadata={"help": "multiplier of immediate rewards (the paper divides them by 100)"}
    )
    gamma: float = field(default=0.99, metadata={"help": "discount"})
    # The paper gives 0.01 for Atari only. With rewards divided by 100 that bonus keeps the CartPole
    # policy too random to hold 195; 0.001 reaches 200.
    entropy_coef: float = field(default=0.001, metadata={"help": "entropy bonus weight"})
    value_coef: float = field(default=0.5, metadata={"help": "value loss weight"})
    lr: float = field(default=1e-4, metadata={"help": "RMSprop learning rate"})
    alpha: float = field(default=0.99, metadata={"help": "RMSprop smoothing constant"})
    eps: float = field(default=1e-8, metadata={"help": "RMSprop epsilon"})

    def __post_init__(self):
        check_settings(self, unit_interval=("gamma", "alpha"))
        if min(self.width, self.num_envs, self.steps_per_env) < 1 or self.lr <= 0:
            raise ValueError(
                f"width, num_envs and steps_per_env must be positive and lr > 0; "
                f"got {self.width}, {self.num_envs}, {self.steps_per_env}, {self.lr}"
            )


@dataclass
class Rollout:
    """``steps_per_env`` steps of every environment; arrays are [time, env] (obs has one more row)."""

    obs: torch.Tensor  # [T + 1, E, obs_size]: the observation each step acted on, then the next one
    actions: torch.Tensor  # [T, E]
    rewards: torch.Tensor  # [T, E], scaled
    terminated: torch.Tensor  # [T, E] bool
    truncated: torch.Tensor  # [T, E] bool
    valid: torch.Tensor  # [T, E] bool: False on envpool's reset steps


class EnvRunner:
    """Steps an envpool environment with a policy and remembers where each episode stands."""

    def __init__(self, env, num_envs: int, seed: int, keep_episodes: int):
        self.env = env
        self.num_envs = num_envs
        self.generator = torch.Generator().manual_seed(seed)  # action sampling, independent of global RNG
        obs, _ = env.reset()
        self.obs = torch.from_numpy(np.asarray(obs, dtype=np.float32)).reshape(num_envs, -1)
        self.ended = np.zeros(num_envs, dtype=bool)  # the last step ended an episode: next is a reset step
        self.env_ids = np.arange(num_envs)
        self.scores = GameScores(num_envs, keep_episodes)  # undiscounted, unscaled episodic returns
        self.steps = 0

    @torch.no_grad()
    def rollout(self, model: nn.Module, steps: int, reward_scale: float) -> tuple[Rollout, list[float]]:
        """Act ``steps`` times in every environment; return the rollout and the finished episodes' returns."""
        E = self.num_envs
        obs = torch.empty((steps + 1, E, self.obs.shape[1]))
        actions = torch.empty((steps, E), dtype=torch.long)
        rewards = np.empty((steps, E), dtype=np.float32)
        terminated = np.empty((steps, E), dtype=bool)
        truncated = np.empty((steps, E), dtype=bool)
        valid = np.empty((steps, E), dtype=bool)
        finished = []
        for t in range(steps):
            obs[t] = self.obs
            actions[t] = sample(model.logits(self.obs), self.generator)
            next_obs, reward, term, trunc, _ = self.env.step(actions[t].numpy())
            valid[t] = ~self.ended
            rewards[t], terminated[t], truncated[t] = reward, term, trunc
            self.ended = term | trunc
            finished += self.scores.record(self.env_ids, reward, self.ended)
            self.obs = torch.from_numpy(np.asarray(next_obs, dtype=np.float32)).reshape(E, -1)
        obs[steps] = self.obs
        self.steps += steps * E
        scaled = torch.from_numpy(rewards) * reward_scale
        return Rollout(
            obs, actions, scaled, torch.from_numpy(terminated), torch.from_numpy(truncated), torch.from_numpy(valid)
        ), finished

    def close(self) -> None:
        self.env.close()


def sample(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One action per row from softmax(logits), by the Gumbel-max trick (faster than torch.multinomial)."""
    exponential = torch.empty_like(logits).exponential_(generator=generator)
    return (logits - exponential.log()).argmax(-1)


def a2c_loss(model: nn.Module, rollout: Rollout, config: A2CConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """Policy gradient with the n-step advantage, value regression and an entropy bonus, over valid steps."""
    T, E = rollout.actions.shape
    logits, values = model(rollout.obs.reshape((T + 1) * E, -1))
    values = values.reshape(T + 1, E)
    returns = n_step_returns(rollout.rewards, rollout.terminated, rollout.truncated, values.detach(), config.gamma)
    log_probs = F.log_softmax(logits.reshape(T + 1, E, -1)[:T], -1)
    weights = rollout.valid / rollout.valid.sum().clamp(min=1)  # a mean over the valid steps only
    chosen = log_probs.gather(-1, rollout.actions.unsqueeze(-1)).squeeze(-1)
    advantages = returns - values[:T].detach()
    policy_loss = -(chosen * advantages * weights).sum()
    value_loss = 0.5 * ((returns - values[:T]).pow(2) * weights).sum()
    entropy = (-(log_probs.exp() * log_probs).sum(-1) * weights).sum()
    loss = policy_loss + config.value_coef * value_loss - config.entropy_coef * entropy
    stats = torch.stack([policy_loss, value_loss, entropy]).tolist()
    return loss, dict(zip(("policy_loss", "value_loss", "entropy"), stats))


@register
class A2C(Algorithm):
    """A2C on a classic-control game (one with a budget in :mod:`rl_lth.envs`), on the CPU."""

    name = "a2c"
    Config = A2CConfig
    score_name = "reward"

    def __init__(self, env_id: str, config: A2CConfig | None = None, device: str | torch.device = "cpu"):
        super().__init__(env_id, config, device)
        if self.device.type != "cpu":
            raise ValueError(f"a2c trains on the CPU (its networks are too small to gain from {self.device})")
        probe = make_env(env_id, 1, 0)  # unknown games fail here, before any run folder is written
        self.obs_size, self.actions = observation_size(probe), action_count(probe)
        probe.close()

    def config_entries(self) -> dict:
        return asdict(self.config)  # at the top level of the trainer section, where run folders have them

    def steps_per_batch(self) -> int:
        return self.config.num_envs * self.config.steps_per_env

    def build_model(self, seed: int) -> ActorCritic:
        return ActorCritic(self.obs_size, self.actions, self.config.width, seed)

    def make_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        c = self.config
        return torch.optim.RMSprop(model.parameters(), lr=c.lr, alpha=c.alpha, eps=c.eps, foreach=True)

    def open(self, seed: int, keep_scores: int) -> EnvRunner:
        env = make_env(self.env_id, self.config.num_envs, seed)
        return EnvRunner(env, self.config.num_envs, seed, keep_scores)

    def open_evaluation(self, games: int, seed: int):
        return make_env(self.env_id, games, seed), lambda terminated, truncated, info: terminated | truncated

    def train(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        runner: EnvRunner,
        batches: int,
        on_batch: BatchCallback | None = None,
    ) -> None:
        """``batches`` A2C updates, each on a fresh rollout of the current policy."""
        c = self.config
        for batch in range(1, batches + 1):
            rollout, finished = runner.rollout(model, c.steps_per_env, c.reward_scale)
            loss, losses = a2c_loss(model, rollout, c)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if on_batch is not None:
                on_batch(batch, losses, finished)

    def act(self, model: nn.Module, runner: EnvRunner) -> list[float]:
        return runner.rollout(model, self.config.steps_per_env, self.config.reward_scale)[1]

    def batch_losses(self, model: nn.Module, count: int, seed: int):
        """A2C losses of ``count`` rollouts of ``model``'s policy on fresh games seeded with ``seed``."""
        runner = self.open(seed, 1)
        try:
            for _ in range(count):
                rollout = runner.rollout(model, self.config.steps_per_env, self.config.reward_scale)[0]
                yield a2c_loss(model, rollout, self.config)[0]
        finally:
            runner.close()

    def ones_output(self, model: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        weight = next(model.parameters())
        return model(torch.ones(1, self.obs_size, dtype=weight.dtype, device=weight.device))
