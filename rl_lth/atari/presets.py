"""The paper's Atari configuration: the nine games, the ELF trainer's settings and the budgets."""
from __future__ import annotations

from dataclasses import dataclass, replace

from envpool.registration import registry

from ..budget import Budget

GAMES = ("Assault-v5", "Berzerk-v5", "Breakout-v5", "Centipede-v5", "Kangaroo-v5", "Krull-v5",
         "Qbert-v5", "Seaquest-v5", "SpaceInvaders-v5")


@dataclass(frozen=True)
class ELFConfig:
    """Settings of the asynchronous off-policy actor-critic (paper values by default)."""

    num_envs: int = 1024  # game environments stepping asynchronously
    batch_size: int = 128  # ready environments returned by each envpool recv
    unroll: int = 6  # T: actions per trajectory (plus the observation that bootstraps it)
    trajectories: int = 128  # trajectories per training batch, taken from the pool as they complete
    gamma: float = 0.99
    entropy_coef: float = 0.01
    value_coef: float = 1.0  # ELF adds the smooth L1 value loss unweighted
    ratio_clamp: float = 1.5  # upper bound of pi_current(a|s) / pi_behaviour(a|s)
    reward_clip: float = 1.0  # rewards are clipped to [-reward_clip, reward_clip]
    advantage_clip: float = 1.0  # and so are advantages
    lr: float = 1e-3  # Adam
    beta1: float = 0.9
    beta2: float = 0.999
    adam_eps: float = 1e-3
    behaviour_refresh: int = 1  # updates between copies of the trained net into the acting (behaviour) net
    channels: int = 64  # channels of the last two convolutions (the first two have half)
    hidden: int = 512  # units of the fully connected layer
    env_threads: int = 0  # envpool worker threads; 0 lets envpool choose

    def __post_init__(self):
        counts = {"num_envs": self.num_envs, "batch_size": self.batch_size, "unroll": self.unroll,
                  "trajectories": self.trajectories, "behaviour_refresh": self.behaviour_refresh,
                  "channels": self.channels, "hidden": self.hidden}
        bad = [f"{name}={value}" for name, value in counts.items() if value < 1]
        if bad or self.env_threads < 0:
            raise ValueError(f"Atari settings must be positive counts, got {', '.join(bad) or f'env_threads={self.env_threads}'}")
        if self.batch_size > self.num_envs:
            raise ValueError(f"batch_size ({self.batch_size}) cannot exceed num_envs ({self.num_envs}): "
                             "each recv returns batch_size of the num_envs environments")
        if min(self.ratio_clamp, self.reward_clip, self.advantage_clip, self.lr, self.adam_eps) <= 0:
            raise ValueError("ratio_clamp, reward_clip, advantage_clip, lr and adam_eps must be positive")


@dataclass(frozen=True)
class Scale:
    """A named pair of trainer settings and budget (``--budget paper`` or ``--budget tiny``)."""

    settings: ELFConfig
    budget: Budget


SCALES = {
    "paper": Scale(ELFConfig(), Budget(epochs=25, batches_per_epoch=1000, last_episodes=1024, algo="elf")),
    # Test size: the real games and loss, a narrow net, a few hundred small updates on a CPU.
    "tiny": Scale(ELFConfig(num_envs=8, batch_size=4, trajectories=4, channels=8, hidden=32, env_threads=1),
                  Budget(epochs=2, batches_per_epoch=100, last_episodes=16, algo="elf")),
}

# The paper uses one shared configuration for every game.
PRESETS = {game: SCALES["paper"].budget for game in GAMES}


def is_atari(env_id: str) -> bool:
    """True for envpool's Atari ids (``Breakout-v5`` ...), which this trainer handles."""
    spec = registry.specs.get(env_id)
    return spec is not None and spec[0] == "envpool.atari"


def check_game(env_id: str) -> str:
    if not is_atari(env_id):
        raise ValueError(f"{env_id!r} is not an envpool Atari id; the paper's games are {', '.join(GAMES)}")
    return env_id


def scale(name: str, **overrides) -> Scale:
    """The scale ``name`` with the given settings or budget fields replaced (``None`` keeps the preset's)."""
    if name not in SCALES:
        raise ValueError(f"unknown budget {name!r}; choose one of {', '.join(SCALES)}")
    preset = SCALES[name]
    given = {key: value for key, value in overrides.items() if value is not None}
    budget_keys = {"epochs", "batches_per_epoch", "last_episodes"}
    unknown = set(given) - budget_keys - set(ELFConfig.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown Atari settings: {', '.join(sorted(unknown))}")
    budget = replace(preset.budget, **{k: v for k, v in given.items() if k in budget_keys})
    settings = replace(preset.settings, **{k: v for k, v in given.items() if k not in budget_keys})
    return Scale(settings, budget)
