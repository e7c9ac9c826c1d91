"""Wall time of a lottery trained one unit at a time vs on Ray workers, and what that predicts for the
paper's Atari grid.

1. Measured: the demo's CartPole-v0 lottery (3 seeds x 4 levels x 2 tickets + 3 dense units, 1000
   batches per unit) in this process (the default) and with ``--workers W`` (a local Ray cluster,
   its start-up included), same run folder layout, same masks (checked tensor by tensor).
2. The graph: per seed, dense -> winning(1) -> winning(2) -> ...; the random tickets of level k hang
   off winning(k-1). Its critical path is 1 + levels units, so W workers cannot beat
   max(critical path, units / W) unit times. The schedule is simulated with the driver's rule
   (longest remaining chain first) for equal unit times.
3. Predicted: the paper's Atari grid (9 games x 3 seeds x (1 + 20 levels x 2 tickets) = 1,107 units)
   for W = 1, 8, 64, 512 workers, each unit 25 epochs x 1000 updates x 128 trajectories x 6 steps at
   the Atari trainer's measured steps/s (``benchmarks/atari_throughput.py``; defaults: 51 steps/s on this
   2-core CPU with 2 torch threads, 9.1k steps/s on one H100).

    python benchmarks/lottery_wall.py [--workers 2] [--skip-measure]
"""

from __future__ import annotations

import argparse
import heapq
import shutil
import tempfile
import time
from pathlib import Path

import shared_mask as sm
from rl_lth.algorithms.a2c import A2CConfig
from rl_lth.budget import Budget
from rl_lth.demo import BATCHES_PER_EPOCH, ENV, EPOCHS, LAST_EPISODES, LEARNING_RATE, LOTTERY
from rl_lth.trainer import RLTrainer, Runtime

PAPER_GAMES, PAPER_SEEDS, PAPER_LEVELS, PAPER_TICKETS = 9, 3, 20, 2
PAPER_STEPS_PER_UNIT = 25 * 1000 * 128 * 6


def simulate(chains: int, levels: int, tickets: int, workers: int) -> int:
    """Unit times to train ``chains`` pruning chains (a game and seed each) on ``workers`` workers when
    every unit takes the same time, scheduling the longest remaining chain first (as the driver does)."""
    ready = [(-(levels + 1), chain, 0, "dense") for chain in range(chains)]
    heapq.heapify(ready)
    steps = 0
    while ready:
        steps += 1
        finished = [heapq.heappop(ready) for _ in range(min(workers, len(ready)))]
        for _, chain, level, ticket in finished:
            if ticket in ("dense", "winning") and level < levels:  # unlocks the next level's mask
                heapq.heappush(ready, (-(levels - level), chain, level + 1, "winning"))
                for _ in range(tickets - 1):
                    heapq.heappush(ready, (-1, chain, level + 1, "random"))
    return steps


def measure(workers: int) -> tuple[float, float]:
    """Seconds of the demo lottery in this process and on ``workers`` Ray workers (same masks)."""
    trainer = RLTrainer(
        ENV,
        "a2c",
        Budget(EPOCHS, BATCHES_PER_EPOCH, LAST_EPISODES),
        A2CConfig(lr=LEARNING_RATE),
        Runtime(progress=False),
    )
    config = sm.LotteryConfig(**LOTTERY)
    folder = Path(tempfile.mkdtemp(prefix="lottery_wall_"))
    seconds = []
    try:
        for name, setting in (("in_process", sm.Workers()), ("ray", sm.Workers(workers=workers))):
            start = time.perf_counter()
            sm.run_lottery(trainer, config, folder / name, progress=False, workers=setting)
            seconds.append(time.perf_counter() - start)
            print(f"{name}: {seconds[-1]:.1f} s", flush=True)
        for path in (folder / "in_process").glob("seed_*/level_*/mask.safetensors"):
            other = sm.Mask.load(folder / "ray" / path.relative_to(folder / "in_process"))
            assert other == sm.Mask.load(path), f"{path}: the masks differ"
    finally:
        shutil.rmtree(folder)
    return seconds[0], seconds[1]


def show_days(seconds: float) -> str:
    return f"{seconds / 86400:9.1f} days" if seconds >= 86400 else f"{seconds / 3600:9.1f} h   "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="Ray workers of the measured run")
    parser.add_argument("--skip-measure", action="store_true", help="only the graph figures and the prediction")
    parser.add_argument(
        "--cpu-steps-per-second",
        type=float,
        default=51.0,
        help="Atari trainer, paper settings, this CPU (benchmarks/atari_throughput.py --threads 2)",
    )
    parser.add_argument(
        "--gpu-steps-per-second",
        type=float,
        default=9100.0,
        help="Atari trainer, paper settings, one H100 (--device cuda)",
    )
    args = parser.parse_args()

    seeds, levels, tickets = len(LOTTERY["seeds"]), LOTTERY["levels"], len(LOTTERY["tickets"])
    units = seeds * (1 + levels * tickets)
    ideal = simulate(seeds, levels, tickets, args.workers)
    print(
        f"demo lottery: {units} units, critical path {1 + levels} units; with {args.workers} workers "
        f"{ideal} unit times: at best {units / ideal:.2f}x"
    )
    if not args.skip_measure:
        one, many = measure(args.workers)
        print(
            f"measured: in-process {one:.1f} s, {args.workers} Ray workers {many:.1f} s (start-up included): "
            f"{one / many:.2f}x; same masks"
        )

    chains = PAPER_GAMES * PAPER_SEEDS
    paper_units = chains * (1 + PAPER_LEVELS * PAPER_TICKETS)
    print(
        f"\nthe paper's Atari grid: {paper_units} units, critical path {1 + PAPER_LEVELS} units, "
        f"{PAPER_STEPS_PER_UNIT / 1e6:.1f}M agent steps per unit"
    )
    print(f"{'workers':>8}  {'unit times':>10}  {'wall (CPU here)':>16}  {'wall (one H100 each)':>20}")
    for workers in (1, 8, 64, 512):
        steps = simulate(chains, PAPER_LEVELS, PAPER_TICKETS, workers)
        cpu = steps * PAPER_STEPS_PER_UNIT / args.cpu_steps_per_second
        gpu = steps * PAPER_STEPS_PER_UNIT / args.gpu_steps_per_second
        print(f"{workers:>8}  {steps:>10}  {show_days(cpu):>16}  {show_days(gpu):>20}")


if __name__ == "__main__":
    main()
