"""What `rl-lth run` starts from for a game: its default algorithm, and the settings and budget that
``--preset`` names (the paper's by default); command-line options override single values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .algorithms.a2c import A2CConfig
from .algorithms.elf import ELFConfig
from .atari.envs import is_atari
from .budget import Budget
from .envs import TINY_BUDGET, budget

NAMES = ("paper", "tiny")


@dataclass(frozen=True)
class Preset:
    """A named pair of algorithm settings (its config dataclass) and budget."""

    settings: Any
    budget: Budget


# The paper uses one configuration for every Atari game.
ATARI = {
    "paper": Preset(ELFConfig(), Budget(epochs=25, batches_per_epoch=1000, last_episodes=1024)),
    # Test size: the real games and loss, a narrow net, a few hundred small updates on a CPU.
    "tiny": Preset(
        ELFConfig(num_envs=8, batch_size=4, trajectories=4, channels=8, hidden=32, env_threads=1),
        Budget(epochs=2, batches_per_epoch=100, last_episodes=16),
    ),
}


def default_algorithm(env_id: str | None) -> str:
    """elf for envpool Atari ids, a2c for the rest (the classic-control games)."""
    return "elf" if env_id and is_atari(env_id) else "a2c"


def preset(env_id: str, name: str = "paper") -> Preset:
    """Preset ``name`` of ``env_id``: the paper's, or tiny (test size: seconds per unit for classic control)."""
    choices = (
        ATARI
        if is_atari(env_id)
        else {"paper": Preset(A2CConfig(), budget(env_id)), "tiny": Preset(A2CConfig(), TINY_BUDGET)}
    )
    if name not in choices:
        raise ValueError(f"{env_id} has no preset {name!r}; choose one of {', '.join(choices)}")
    return choices[name]
