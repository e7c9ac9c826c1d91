"""Environment steps per second and wall time to CartPole-v1 195 of the classic-control A2C trainer,
against stable-baselines3 A2C measured in the same run.

- rl_lth: the real trainer (rl_lth.algorithms.a2c.A2C.train) with the CartPole preset's settings: 32 envpool
  environments x 4 steps per batch, RMSprop lr 1e-4, one torch thread, under a (dense) mask guard
  as in a lottery run;
- stable-baselines3: A2C with its default hyperparameters on 8 DummyVecEnv CartPole-v1 copies
  (``make_vec_env``), CPU; its steps per second with torch's default thread count (out of the box)
  and with one thread (its fastest on a small CPU), its time to 195 with one thread;
- raw envpool: 32 CartPole-v1 environments stepped with random actions, for orientation.

Steps per second are measured over a fixed number of steps after a short warm-up. Time to 195 is
the wall time from the start of training until the mean reward of the last 100 finished episodes
first reaches 195, for each seed (the median is compared). Usage:

    python benchmarks/rl_throughput.py [--seeds 0 1 2] [--steps 200000] [--limit 120]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import torch

import shared_mask as sm
from rl_lth.algorithms.a2c import A2C
from rl_lth.envs import make_env
from rl_lth.trainer import torch_threads

ENV = "CartPole-v1"
TARGET = 195.0
SB3_ENVS = 8


class Solved(Exception):
    """Raised from a training callback to stop at the target."""


def rl_lth_run(seed: int, max_steps: int, stop_at_target: bool) -> tuple[float, float | None]:
    """(steps per second after warm-up, seconds to the target or None) of the rl_lth trainer."""
    algorithm = A2C(ENV)
    settings = algorithm.config
    model = algorithm.build_model(seed)
    optimizer = algorithm.make_optimizer(model)
    sm.enforce(model, sm.Mask.dense(model, sm.prunable(model, "all")), optimizer)
    runner = algorithm.open(seed, keep_scores=100)
    warmup = 20
    marks = {}

    def on_batch(batch, _losses, _finished):
        if batch == warmup:
            marks["warm"] = (time.perf_counter(), runner.steps)
        if "solved" not in marks and len(runner.scores.finished) == 100 and runner.scores.mean_last(100) >= TARGET:
            marks["solved"] = time.perf_counter() - start
            if stop_at_target:
                raise Solved

    batches = max_steps // (settings.num_envs * settings.steps_per_env)
    start = time.perf_counter()
    try:
        algorithm.train(model, optimizer, runner, batches, on_batch)
    except Solved:
        pass
    warm_time, warm_steps = marks["warm"]
    return (runner.steps - warm_steps) / (time.perf_counter() - warm_time), marks.get("solved")


def sb3_run(seed: int, max_steps: int, stop_at_target: bool) -> tuple[float, float | None]:
    """The same two figures for stable-baselines3 A2C (defaults, 8 DummyVecEnv environments)."""
    from stable_baselines3 import A2C
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    class Watch(BaseCallback):
        def __init__(self):
            super().__init__()
            self.warm = self.solved = None

        def _on_step(self) -> bool:
            if self.warm is None and self.num_timesteps >= 20 * 5 * SB3_ENVS:
                self.warm = (time.perf_counter(), self.num_timesteps)
            episodes = self.model.ep_info_buffer
            if self.solved is None and len(episodes) == 100 and np.mean([e["r"] for e in episodes]) >= TARGET:
                self.solved = time.perf_counter() - start
                return not stop_at_target
            return True

    env = make_vec_env(ENV, n_envs=SB3_ENVS, seed=seed)
    model = A2C("MlpPolicy", env, seed=seed, device="cpu", verbose=0)
    watch = Watch()
    start = time.perf_counter()
    model.learn(total_timesteps=max_steps, callback=watch)
    warm_time, warm_steps = watch.warm
    return (model.num_timesteps - warm_steps) / (time.perf_counter() - warm_time), watch.solved


def raw_envpool_steps_per_second(seconds: float = 3.0) -> float:
    env = make_env(ENV, 32, 0)
    env.reset()
    rng = np.random.default_rng(0)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.step(rng.integers(0, 2, size=32))
        steps += 32
    return steps / (time.perf_counter() - start)


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _show(seconds):
    return "not reached" if seconds is None else f"{seconds:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=200_000, help="steps of the throughput runs")
    parser.add_argument("--limit", type=int, default=1_000_000, help="most steps of a time-to-195 run")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    default_threads = torch.get_num_threads()
    with torch_threads(default_threads):
        sb3_default = sb3_run(args.seeds[0], args.steps, stop_at_target=False)[0]
    print(f"stable-baselines3 A2C ({SB3_ENVS} envs), {default_threads} torch threads: {sb3_default:,.0f} steps/s")

    results = {}
    for name, run in (
        ("rl_lth A2C (32 envpool envs)", rl_lth_run),
        (f"stable-baselines3 A2C ({SB3_ENVS} envs)", sb3_run),
    ):
        with torch_threads(1):
            speed = statistics.median(run(seed, args.steps, stop_at_target=False)[0] for seed in args.seeds[:1] * 2)
            solved = [run(seed, args.limit, stop_at_target=True)[1] for seed in args.seeds]
        results[name] = (speed, solved)
        print(
            f"{name}, 1 torch thread: {speed:,.0f} steps/s; time to {TARGET:.0f}: "
            f"{', '.join(_show(s) for s in solved)} (median {_show(_median(solved))})",
            flush=True,
        )
    raw = raw_envpool_steps_per_second()
    print(f"raw envpool {ENV}, 32 envs, random actions: {raw:,.0f} steps/s")

    (ours, our_times), (theirs, their_times) = results.values()
    for label, baseline in ((f"{default_threads} threads (default)", sb3_default), ("1 thread", theirs)):
        ratio = ours / baseline
        print(
            f"steps/s: rl_lth is {ratio:.1f}x stable-baselines3 with {label} (target >= 5x): "
            f"{'met' if ratio >= 5 else 'NOT met'}"
        )
    mine, base = _median(our_times), _median(their_times)
    met = mine is not None and (base is None or mine <= base)
    print(
        f"time to {TARGET:.0f}: rl_lth {_show(mine)} vs stable-baselines3 {_show(base)} (target: no slower): "
        f"{'met' if met else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
