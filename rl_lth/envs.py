"""envpool's classic-control games and their per-game budgets."""

from __future__ import annotations

import warnings

import numpy as np

from .budget import Budget

# gymnasium warns, on every access to an envpool Box space, that its float64 bounds become float32.
warnings.filterwarnings("ignore", message=r".*precision lowered by casting to float32", category=UserWarning)

# Budgets measured with the paper's settings (RMSprop lr 1e-4, 32 x 4 steps per batch) and the default
# network, so that the dense network learns each game within N epochs and the last L = 100 episodes
# are played by the trained policy. CartPole: the dense network first averages 195 over 100 episodes
# after about 1,000 batches and holds ~200 after; N x M = 2,000 batches. Acrobot: about -85 after
# 2,500 batches; 3,000. LunarLander (about 10k steps/s): crosses 0 after ~15k batches and reaches
# 100-150 after 20-25k; 25,000.
BUDGETS = {
    "CartPole-v0": Budget(10, 200, 100),
    "CartPole-v1": Budget(10, 200, 100),
    "Acrobot-v1": Budget(10, 300, 100),
    "LunarLander-v2": Budget(25, 1000, 100),
}
# The `tiny` preset of every classic-control game (seconds per unit): 300 batches, 1,200 steps in each of
# the 32 environments, so that even Acrobot's (500 steps) and LunarLander's (1,000) first episodes end.
TINY_BUDGET = Budget(2, 150, 10)
# Environment steps per second of an A2C unit with the paper's network on one thread (measured on the
# project's 2-core CPU machines; a busy machine is slower): `rl-lth run` estimates a run's time from it.
STEPS_PER_SECOND = {"CartPole-v0": 12_000, "CartPole-v1": 12_000, "Acrobot-v1": 10_000, "LunarLander-v2": 6_000}


def budget(env_id: str) -> Budget:
    """The budget of ``env_id``; ValueError naming the known games otherwise."""
    if env_id not in BUDGETS:
        raise ValueError(
            f"unknown env id {env_id!r}; classic-control games: {', '.join(BUDGETS)} "
            "(Atari games: their envpool -v5 ids)"
        )
    return BUDGETS[env_id]


def make_env(env_id: str, num_envs: int, seed: int):
    """``num_envs`` synchronous envpool copies of ``env_id`` (gymnasium API), seeded with ``seed``.

    envpool auto-resets: the step after an episode ends returns the new episode's first observation
    with reward 0 and ignores the action (see :mod:`rl_lth.algorithms.a2c`).
    """
    budget(env_id)
    import envpool  # here, not at the top: importing envpool takes seconds, and `rl-lth --help` needs none of it

    return envpool.make(env_id, env_type="gymnasium", num_envs=num_envs, seed=seed, num_threads=1)


def observation_size(env) -> int:
    return int(np.prod(env.observation_space.shape))


def action_count(env) -> int:
    return int(env.action_space.n)
