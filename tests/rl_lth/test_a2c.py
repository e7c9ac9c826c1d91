"""The A2C trainer on real envpool CartPole: returns, auto-reset handling, learning, determinism."""
import numpy as np
import pytest
import torch

from rl_lth import a2c
from rl_lth.envs import make_env
from rl_lth.network import ActorCritic

pytestmark = pytest.mark.filterwarnings("ignore:.*precision lowered by casting")


def _rollout(rewards, terminated, truncated):
    rewards = torch.tensor(rewards, dtype=torch.float32)[:, None]
    shape = rewards.shape
    return a2c.Rollout(torch.zeros(shape[0] + 1, 1, 4), torch.zeros(shape, dtype=torch.long), rewards,
                       torch.tensor(terminated)[:, None], torch.tensor(truncated)[:, None],
                       torch.ones(shape, dtype=torch.bool))


def test_returns_bootstrap_from_the_critic_at_the_end():
    rollout = _rollout([1.0, 1.0], [False, False], [False, False])
    values = torch.tensor([[0.0], [0.0], [10.0]])
    returns = a2c.n_step_returns(rollout, values, gamma=0.5)
    assert returns[:, 0].tolist() == [1 + 0.5 * (1 + 0.5 * 10), 1 + 0.5 * 10]


def test_no_return_crosses_a_termination_or_a_reset_step():
    # step 1 terminates; step 2 is envpool's reset step (reward 0); step 3 starts the next episode
    rollout = _rollout([1.0, 2.0, 0.0, 4.0], [False, True, False, False], [False] * 4)
    values = torch.tensor([[0.0], [0.0], [99.0], [0.0], [8.0]])
    returns = a2c.n_step_returns(rollout, values, gamma=0.5)
    assert returns[1, 0] == 2.0  # nothing after a termination
    assert returns[0, 0] == 1 + 0.5 * 2.0
    assert returns[3, 0] == 4 + 0.5 * 8.0


def test_truncation_bootstraps_from_the_final_observation():
    # step 0 is cut by the time limit: its return uses V(final observation) = values[1]
    rollout = _rollout([1.0, 0.0, 3.0], [False, False, False], [True, False, False])
    values = torch.tensor([[0.0], [6.0], [50.0], [2.0]])
    returns = a2c.n_step_returns(rollout, values, gamma=0.5)
    assert returns[0, 0] == 1 + 0.5 * 6.0
    assert returns[2, 0] == 3 + 0.5 * 2.0


def test_reset_steps_are_invalid_and_episode_returns_are_whole():
    env = make_env("CartPole-v0", 4, seed=0)
    runner = a2c.EnvRunner(env, 4, seed=0, keep_episodes=1000)
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
            steps = int(rollout.valid[start + 1: end + 1, env_index].sum())
            assert steps == int(rollout.rewards[start + 1: end + 1, env_index].sum())


def _train_cartpole(batches, seed=0):
    settings = a2c.A2CConfig()
    env = make_env("CartPole-v0", settings.num_envs, seed)
    model = ActorCritic(4, 2, seed=seed)
    runner = a2c.EnvRunner(env, settings.num_envs, seed, keep_episodes=50)
    a2c.train(model, a2c.make_optimizer(model, settings), runner, settings, batches)
    return model, runner


def test_cartpole_learns_within_a_small_budget():
    torch.set_num_threads(1)
    _, runner = _train_cartpole(400)
    # a uniformly random policy averages about 22 steps
    assert runner.episodes.mean_last(50) > 60


def test_training_is_deterministic_given_the_seed():
    first, runner_a = _train_cartpole(20, seed=3)
    second, runner_b = _train_cartpole(20, seed=3)
    for a, b in zip(first.parameters(), second.parameters()):
        assert torch.equal(a, b)
    assert list(runner_a.episodes.finished) == list(runner_b.episodes.finished)
    other, _ = _train_cartpole(20, seed=4)
    assert not torch.equal(next(other.parameters()), next(first.parameters()))


def test_models_are_deterministic_in_their_seed_and_leave_the_global_rng_alone():
    state = torch.random.get_rng_state()
    a, b, c = ActorCritic(4, 2, seed=1), ActorCritic(4, 2, seed=1), ActorCritic(4, 2, seed=2)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.trunk[0].weight, c.trunk[0].weight)
    assert all(np.count_nonzero(p.detach().numpy()) == p.numel() for p in a.parameters())
