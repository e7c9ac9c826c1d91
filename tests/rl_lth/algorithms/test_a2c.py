"""The A2C algorithm on real envpool CartPole: auto-reset handling, learning, determinism."""

import numpy as np
import pytest
import torch

from rl_lth.algorithms.a2c import A2C, A2CConfig, EnvRunner
from rl_lth.envs import make_env
from rl_lth.network import ActorCritic

pytestmark = pytest.mark.filterwarnings("ignore:.*precision lowered by casting")


def test_reset_steps_are_invalid_and_episode_returns_are_whole():
    env = make_env("CartPole-v0", 4, seed=0)
    runner = EnvRunner(env, 4, seed=0, keep_episodes=1000)
    model = ActorCritic(4, 2, width=8, seed=0)
    rollout, finished = runner.rollout(model, 300, reward_scale=1.0)
    ended = rollout.terminated | rollout.truncated
    assert finished and len(finished) == int(ended.sum())
    assert rollout.valid[0].all()
    assert torch.equal(rollout.valid[1:], ~ended[:-1])  # exactly the steps after an episode end
    assert (rollout.rewards[~rollout.valid] == 0).all()
    # CartPole pays 1 per step: an episode's return is its count of valid steps (for episodes
    # that start and end inside the rollout), with no reward leaking across the boundary
    for env_index in range(4):
        ends = torch.nonzero(ended[:, env_index]).flatten().tolist()
        for start, end in zip(ends, ends[1:]):
            steps = int(rollout.valid[start + 1 : end + 1, env_index].sum())
            assert steps == int(rollout.rewards[start + 1 : end + 1, env_index].sum())


def _train_cartpole(batches, seed=0):
    algorithm = A2C("CartPole-v0", A2CConfig())
    model = algorithm.build_model(seed)
    runner = algorithm.open(seed, keep_scores=50)
    algorithm.train(model, algorithm.make_optimizer(model), runner, batches)
    runner.close()
    return model, runner


def test_cartpole_learns_within_a_small_budget():
    torch.set_num_threads(1)
    _, runner = _train_cartpole(400)
    # a uniformly random policy averages about 22 steps
    assert runner.scores.mean_last(50) > 60


def test_training_is_deterministic_given_the_seed():
    first, runner_a = _train_cartpole(20, seed=3)
    second, runner_b = _train_cartpole(20, seed=3)
    for a, b in zip(first.parameters(), second.parameters()):
        assert torch.equal(a, b)
    assert list(runner_a.scores.finished) == list(runner_b.scores.finished)
    other, _ = _train_cartpole(20, seed=4)
    assert not torch.equal(next(other.parameters()), next(first.parameters()))


def test_models_are_deterministic_in_their_seed_and_leave_the_global_rng_alone():
    state = torch.random.get_rng_state()
    a, b, c = ActorCritic(4, 2, seed=1), ActorCritic(4, 2, seed=1), ActorCritic(4, 2, seed=2)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.trunk[0].weight, c.trunk[0].weight)
    assert all(np.count_nonzero(p.detach().numpy()) == p.numel() for p in a.parameters())


def test_a2c_refuses_other_devices_and_games():
    with pytest.raises(ValueError, match="a2c trains on the CPU"):
        A2C("CartPole-v0", device="meta")
    with pytest.raises(ValueError, match="unknown env id 'Breakout-v5'"):
        A2C("Breakout-v5")
