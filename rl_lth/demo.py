"""`rl-lth demo`: a shortened CartPole-v0 lottery that shows winning tickets beating random ones.

Shortened from the paper's protocol so that it finishes in a few minutes on a 2-core CPU: halving
the surviving weights at each of 4 levels reaches 93.75% pruned, each ticket trains for 1000 batches
(half the CartPole preset), and the learning rate is 3e-4 instead of 1e-4 so that sparse tickets
learn within that budget. Rewinding is the paper's: to the end of epoch 1 of the dense run.
"""

from __future__ import annotations

import time
from pathlib import Path

import shared_mask as sm

from .algorithms.a2c import A2CConfig
from .budget import Budget
from .results import draw_figure, ticket_table
from .trainer import RLTrainer, Runtime

ENV = "CartPole-v0"
EPOCHS, BATCHES_PER_EPOCH, LAST_EPISODES = 5, 200, 100
LEARNING_RATE = 3e-4
LOTTERY = dict(levels=4, rate=0.5, seeds=[0, 1, 2], tickets=["winning", "random_reinit"], rewind="1epoch")


def run_demo(out: str | Path = "demo_run", progress: bool = True) -> Path:
    """Run (or resume) the demo lottery into ``out``, print its table and write ``out/figure.png``."""
    start = time.time()
    trainer = RLTrainer(
        ENV,
        "a2c",
        Budget(EPOCHS, BATCHES_PER_EPOCH, LAST_EPISODES),
        A2CConfig(lr=LEARNING_RATE),
        Runtime(progress=progress),
    )
    sm.run_lottery(trainer, sm.LotteryConfig(**LOTTERY), out, progress=progress)
    figure = draw_figure(out, Path(out) / "figure.png")
    print(ticket_table(out))
    print(f"figure: {figure}\nrun folder: {out} ({time.time() - start:.0f} s)")
    return figure
