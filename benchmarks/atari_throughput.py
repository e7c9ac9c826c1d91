"""Frames per second of the Atari (ELF) trainer against raw envpool stepping, in the same process.

Both sides use the same game, ``num_envs``, ``batch_size`` and envpool threads:

- raw: envpool in asynchronous mode, uniformly random actions, nothing else;
- trainer: the real learning loop (rl_lth.algorithms.elf.ELF.train): acting with the
  behaviour network, trajectory bookkeeping, the ELF loss and Adam steps, under a mask guard.

The raw side is measured before and after the trainer and averaged, to even out a shared machine.
The trainer's throughput is all environment steps over all its time, from the first recv to the end
of the last update. The first batch waits until every environment has taken T steps, which fills
the pool with about ``num_envs`` trajectories that the next updates drain without stepping, so
runs should span a few times ``num_envs / trajectories`` updates (the default: twice, at least 50).
Frames = steps x frame_skip (4). Usage:

    python benchmarks/atari_throughput.py [--preset paper|tiny] [--device cpu|cuda] [--updates N] ...
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import torch

import shared_mask as sm
from rl_lth.algorithms.elf import ELF
from rl_lth.atari.envs import PREPROCESSING, make_atari_env
from rl_lth.presets import ATARI
from rl_lth.trainer import torch_threads

FRAME_SKIP = PREPROCESSING["frame_skip"]


def raw_steps_per_second(env_id: str, settings, seconds: float) -> float:
    env = make_atari_env(env_id, settings.num_envs, settings.batch_size, seed=0, threads=settings.env_threads)
    actions = env.action_space.n
    rng = np.random.default_rng(0)
    env.async_reset()
    for _ in range(settings.num_envs // settings.batch_size):  # first observations of every environment
        env.send(rng.integers(0, actions, settings.batch_size), env.recv()[-1]["env_id"])
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        ids = env.recv()[-1]["env_id"]
        env.send(rng.integers(0, actions, len(ids)), ids)
        steps += len(ids)
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed


def trainer_steps_per_second(env_id: str, settings, updates: int, device: torch.device) -> float:
    algorithm = ELF(env_id, settings, device)
    model = algorithm.build_model(0).to(device)
    optimizer = algorithm.make_optimizer(model)
    guard = sm.enforce(model, sm.Mask.dense(model, sm.prunable(model)), optimizer)
    collector = algorithm.open(0, keep_scores=1024)
    start = time.perf_counter()

    def on_update(update: int, losses, finished) -> None:
        if update % 10 == 0 or update == updates:
            print(f"  update {update}: {collector.steps} steps, {time.perf_counter() - start:.0f} s", flush=True)

    algorithm.train(model, optimizer, collector, updates, on_update)
    if device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    guard.remove()
    collector.close()
    return collector.steps / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="Breakout-v5")
    parser.add_argument("--preset", default="paper", choices=sorted(ATARI), help="settings: envs, batch, net")
    parser.add_argument("--num-envs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--trajectories", type=int)
    parser.add_argument("--env-threads", type=int)
    parser.add_argument("--updates", type=int, help="trainer updates (default: 2 num_envs / trajectories, at least 50)")
    parser.add_argument("--raw-seconds", type=float, default=10.0, help="seconds of each raw measurement")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    given = dict(
        num_envs=args.num_envs, batch_size=args.batch_size, trajectories=args.trajectories, env_threads=args.env_threads
    )
    settings = replace(ATARI[args.preset].settings, **{k: v for k, v in given.items() if v is not None})
    updates = args.updates or max(50, 2 * settings.num_envs // settings.trajectories)
    if updates < 1:
        parser.error("--updates must be positive")
    device = torch.device(args.device)
    print(
        f"{args.env}: {settings.num_envs} envs, {settings.batch_size} per recv, {settings.trajectories} "
        f"trajectories of {settings.unroll} per batch, net channels {settings.channels} hidden {settings.hidden}, "
        f"{updates} updates, device {device}, torch threads {args.threads or torch.get_num_threads()}"
    )
    with torch_threads(args.threads):
        before = raw_steps_per_second(args.env, settings, args.raw_seconds)
        trainer = trainer_steps_per_second(args.env, settings, updates, device)
        after = raw_steps_per_second(args.env, settings, args.raw_seconds)
    raw = (before + after) / 2
    print(f"raw envpool: {raw * FRAME_SKIP:10.0f} frames/s ({raw:.0f} steps/s; {before:.0f} before, {after:.0f} after)")
    print(f"trainer:     {trainer * FRAME_SKIP:10.0f} frames/s ({trainer:.0f} steps/s)")
    print(f"ratio trainer / raw: {trainer / raw:.3f}")


if __name__ == "__main__":
    main()
