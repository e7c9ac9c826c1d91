"""ELF-style asynchronous off-policy actor-critic on envpool Atari, the Atari trainer of the paper.

One training batch: the actor steps envpool (``num_envs`` games, ``batch_size`` answering per recv)
with a behaviour copy of the network until ``trajectories`` trajectories of T actions have completed;
the current network is trained on them with the policy gradient weighted by pi/pi_behaviour clamped
at 1.5, rewards and advantages clipped to [-1, 1] and a smooth L1 value loss; then the behaviour copy
is refreshed from the masked network.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from shared_mask.options import check_settings

from ..atari.envs import PREPROCESSING, check_game, game_over, make_atari_env
from ..atari.network import build_network
from ..atari.trajectories import Trajectories, TrajectoryCollector
from ..returns import n_step_returns
from .base import Algorithm, BatchCallback, register


@dataclass(frozen=True)
class ELFConfig:
    """Settings of the asynchronous off-policy actor-critic (paper values by default)."""

    num_envs: int = field(default=1024, metadata={"help": "game environments stepping asynchronously"})
    batch_size: int = field(default=128, metadata={"help": "ready environments returned by each envpool recv"})
    unroll: int = field(default=6, metadata={"help": "T: actions per trajectory"})
    trajectories: int = field(
        default=128, metadata={"help": "trajectories per training batch, taken from the pool as they complete"}
    )
    gamma: float = field(default=0.99, metadata={"help": "discount"})
    entropy_coef: float = field(default=0.01, metadata={"help": "entropy bonus weight"})
    value_coef: float = field(default=1.0, metadata={"help": "smooth L1 value loss weight (ELF adds it unweighted)"})
    ratio_clamp: float = field(
        default=1.5, metadata={"help": "upper clamp of the importance ratio pi_current(a|s) / pi_behaviour(a|s)"}
    )
    reward_clip: float = field(default=1.0, metadata={"help": "rewards clipped to +-this"})
    advantage_clip: float = field(default=1.0, metadata={"help": "advantages clipped to +-this"})
    lr: float = field(default=1e-3, metadata={"help": "Adam learning rate"})
    beta1: float = field(default=0.9, metadata={"help": "Adam beta1"})
    beta2: float = field(default=0.999, metadata={"help": "Adam beta2"})
    adam_eps: float = field(default=1e-3, metadata={"help": "Adam epsilon"})
    behaviour_refresh: int = field(
        default=1, metadata={"help": "updates between copies of the trained net into the acting (behaviour) net"}
    )
    channels: int = field(
        default=64, metadata={"help": "channels of the last two convolutions (the first two have half)"}
    )
    hidden: int = field(default=512, metadata={"help": "units of the fully connected layer"})
    env_threads: int = field(default=0, metadata={"help": "envpool worker threads (0: envpool's choice)"})

    def __post_init__(self):
        check_settings(self, unit_interval=("gamma", "beta1", "beta2"))
        if max(self.beta1, self.beta2) == 1:
            raise ValueError(f"Adam's betas must be below 1, got {self.beta1}, {self.beta2}")
        counts = {
            "num_envs": self.num_envs,
            "batch_size": self.batch_size,
            "unroll": self.unroll,
            "trajectories": self.trajectories,
            "behaviour_refresh": self.behaviour_refresh,
            "channels": self.channels,
            "hidden": self.hidden,
        }
        bad = [f"{name}={value}" for name, value in counts.items() if value < 1]
        if bad or self.env_threads < 0:
            raise ValueError(
                f"Atari settings must be positive counts, got {', '.join(bad) or f'env_threads={self.env_threads}'}"
            )
        if self.batch_size > self.num_envs:
            raise ValueError(
                f"batch_size ({self.batch_size}) cannot exceed num_envs ({self.num_envs}): "
                "each recv returns batch_size of the num_envs environments"
            )
        if min(self.ratio_clamp, self.reward_clip, self.advantage_clip, self.lr, self.adam_eps) <= 0:
            raise ValueError("ratio_clamp, reward_clip, advantage_clip, lr and adam_eps must be positive")


def importance_weights(log_probs: torch.Tensor, behaviour_log_probs: torch.Tensor, clamp: float) -> torch.Tensor:
    """pi_current(a|s) / pi_behaviour(a|s), clamped above at ``clamp``; no gradient flows through it."""
    return torch.exp(log_probs.detach() - behaviour_log_probs).clamp(max=clamp)


def elf_loss(
    logits: torch.Tensor,
    values: torch.Tensor,
    batch: Trajectories,
    gamma: float,
    entropy_coef: float,
    value_coef: float,
    ratio_clamp: float,
    reward_clip: float,
    advantage_clip: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Importance-weighted policy gradient + smooth L1 value loss - entropy bonus.

    ``logits`` [B, T + 1, A] and ``values`` [B, T + 1] come from the current network on ``batch.obs``.
    As in ELF the per-step terms are summed over the T steps and averaged over trajectories.
    """
    B, T = batch.actions.shape
    rewards = batch.rewards.clamp(-reward_clip, reward_clip)
    returns = n_step_returns(rewards.T, batch.terminated.T, batch.truncated.T, values.detach().T, gamma).T
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
    stats = dict(
        zip(
            ("policy_loss", "value_loss", "entropy", "importance_weight_mean", "importance_weight_max"),
            torch.stack(
                [policy_loss, value_loss, entropy * B / steps, (weights * valid).sum() / steps, weight_max]
            ).tolist(),
        )
    )  # one device sync
    return loss, stats


@register
class ELF(Algorithm):
    """The ELF trainer on an envpool Atari game; every ticket of a seed sees the same environment and
    action-sampling seeds (envpool's asynchronous order still varies from run to run)."""

    name = "elf"
    Config = ELFConfig
    score_name = "game_score"

    def __init__(self, env_id: str, config: ELFConfig | None = None, device: str | torch.device = "cpu"):
        super().__init__(check_game(env_id), config, device)
        probe = make_atari_env(env_id, 1, 1, seed=0, threads=1)
        self.obs_shape, self.actions = probe.observation_space.shape, int(probe.action_space.n)
        probe.close()

    def config_entries(self) -> dict:
        return {"elf": asdict(self.config), "preprocessing": PREPROCESSING}

    def build_model(self, seed: int) -> nn.Module:
        return build_network(self.obs_shape[0], self.actions, self.config.channels, self.config.hidden, seed)

    def make_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        c = self.config
        return torch.optim.Adam(model.parameters(), lr=c.lr, betas=(c.beta1, c.beta2), eps=c.adam_eps)

    def open(self, seed: int, keep_scores: int) -> TrajectoryCollector:
        c = self.config
        env = make_atari_env(self.env_id, c.num_envs, c.batch_size, seed=seed, threads=c.env_threads)
        return TrajectoryCollector(env, c.num_envs, c.unroll, keep_scores, seed, self.device)

    def open_evaluation(self, games: int, seed: int):
        """Synchronous (every recv returns all games); a game ends when all its lives are lost."""
        env = make_atari_env(self.env_id, games, games, seed=seed, threads=self.config.env_threads)
        return env, lambda terminated, truncated, info: game_over(info, truncated)

    def train(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        runner: TrajectoryCollector,
        batches: int,
        on_batch: BatchCallback | None = None,
    ) -> None:
        """``batches`` updates on trajectories acted by a behaviour copy of ``model``, refreshed every
        ``behaviour_refresh`` updates. Under a mask guard the copy is taken after the guard re-zeroed the
        pruned entries, so it is exactly as sparse."""
        c = self.config
        behaviour = copy.deepcopy(model).requires_grad_(False)
        for update in range(1, batches + 1):
            batch, finished = runner.collect(behaviour, c.trajectories)
            batch = batch.to(self.device)
            B, T = batch.actions.shape
            logits, values = model(batch.obs.flatten(0, 1))
            loss, stats = elf_loss(
                logits.view(B, T + 1, -1),
                values.view(B, T + 1),
                batch,
                c.gamma,
                c.entropy_coef,
                c.value_coef,
                c.ratio_clamp,
                c.reward_clip,
                c.advantage_clip,
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if update % c.behaviour_refresh == 0:
                behaviour.load_state_dict(model.state_dict())
            if on_batch is not None:
                on_batch(update, stats, finished)

    def act(self, model: nn.Module, runner: TrajectoryCollector) -> list[float]:
        return runner.collect(model, self.config.trajectories)[1]

    def batch_losses(self, model: nn.Module, count: int, seed: int):
        """ELF losses of ``count`` batches of trajectories acted by ``model`` on games seeded with ``seed``."""
        c, runner = self.config, self.open(seed, 1)
        try:
            for _ in range(count):
                batch = runner.collect(model, c.trajectories)[0].to(self.device)
                B, T = batch.actions.shape
                logits, values = model(batch.obs.flatten(0, 1))
                losses = (c.gamma, c.entropy_coef, c.value_coef, c.ratio_clamp, c.reward_clip, c.advantage_clip)
                yield elf_loss(logits.view(B, T + 1, -1), values.view(B, T + 1), batch, *losses)[0]
        finally:
            runner.close()

    def ones_output(self, model: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        """All-ones frames after the network's scaling of pixels (which would cast them to float32)."""
        weight = next(model.parameters())
        hidden = model.fc(model.trunk(torch.ones(1, *self.obs_shape, dtype=weight.dtype, device=weight.device)))
        return model.policy(hidden), model.value(hidden)
