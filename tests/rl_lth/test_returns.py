"""n-step returns on hand-made rollouts: bootstrapping, terminations, truncations and reset steps."""

import torch

from rl_lth.returns import n_step_returns


def _returns(rewards, terminated, truncated, values, gamma):
    """One environment, time first: the lists become [T, 1] columns."""
    column = lambda x, dtype=None: torch.tensor(x, dtype=dtype)[:, None]
    return n_step_returns(
        column(rewards, torch.float32), column(terminated), column(truncated), torch.tensor(values), gamma
    )


def test_returns_bootstrap_from_the_critic_at_the_end():
    returns = _returns([1.0, 1.0], [False, False], [False, False], [[0.0], [0.0], [10.0]], gamma=0.5)
    assert returns[:, 0].tolist() == [1 + 0.5 * (1 + 0.5 * 10), 1 + 0.5 * 10]


def test_no_return_crosses_a_termination_or_a_reset_step():
    # step 1 terminates; step 2 is envpool's reset step (reward 0); step 3 starts the next episode
    returns = _returns(
        [1.0, 2.0, 0.0, 4.0], [False, True, False, False], [False] * 4, [[0.0], [0.0], [99.0], [0.0], [8.0]], gamma=0.5
    )
    assert returns[1, 0] == 2.0  # nothing after a termination
    assert returns[0, 0] == 1 + 0.5 * 2.0
    assert returns[3, 0] == 4 + 0.5 * 8.0


def test_truncation_bootstraps_from_the_final_observation():
    # step 0 is cut by the time limit: its return uses V(final observation) = values[1]
    returns = _returns(
        [1.0, 0.0, 3.0], [False, False, False], [True, False, False], [[0.0], [6.0], [50.0], [2.0]], gamma=0.5
    )
    assert returns[0, 0] == 1 + 0.5 * 6.0
    assert returns[2, 0] == 3 + 0.5 * 2.0


def test_batch_first_callers_pass_transposed_views():
    rewards = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    terminated = torch.tensor([[False, True, False, False]])
    truncated = torch.tensor([[False, False, True, False]])
    values = torch.tensor([[0.0, 0.0, 0.0, 8.0, 4.0]])
    returns = n_step_returns(rewards.T, terminated.T, truncated.T, values.T, gamma=0.5).T
    # step 3 bootstraps from V(s_4); step 2 was truncated: from V(s_3); step 1 ended a life: no bootstrap
    assert returns.tolist() == [[1.0, 0.0, 1.0 + 0.5 * 8.0, 0.0 + 0.5 * 4.0]]
