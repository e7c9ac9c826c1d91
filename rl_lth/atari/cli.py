"""The Atari lottery from the command line, with the option names of ``rl-lth run``.

    python -m rl_lth.atari run --env Breakout-v5 --out runs/breakout [--budget paper|tiny --device cuda
        --levels 20 --rate 0.2 --seeds 0 1 2 --tickets winning random_reinit --rewind 1epoch ...]

``rl-lth run`` hands Atari ids to :func:`main` (see :func:`wants_atari`).
"""
from __future__ import annotations

import argparse
from dataclasses import fields

from ..lottery_cli import (HelpFormatter, add_budget_overrides, add_process_options, add_run_options, exit_on_errors,
                           run_lottery)
from .presets import GAMES, SCALES, ELFConfig, is_atari, scale
from .trainer import AtariTrainer

ALGO = "elf"
SETTING_HELP = {
    "num_envs": "game environments", "batch_size": "ready environments per envpool recv",
    "unroll": "T: actions per trajectory", "trajectories": "trajectories per training batch",
    "gamma": "discount", "entropy_coef": "entropy bonus weight", "value_coef": "smooth L1 value loss weight",
    "ratio_clamp": "upper clamp of the importance ratio", "reward_clip": "rewards clipped to +-this",
    "advantage_clip": "advantages clipped to +-this", "lr": "Adam learning rate", "beta1": "Adam beta1",
    "beta2": "Adam beta2", "adam_eps": "Adam epsilon", "behaviour_refresh": "updates between behaviour-net refreshes",
    "channels": "channels of the last two convolutions", "hidden": "units of the fully connected layer",
    "env_threads": "envpool threads (0: envpool's choice)",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rl-lth", description="Lottery tickets on Atari (Yu et al., ICLR 2020) "
                                     "with an ELF-style asynchronous off-policy actor-critic on envpool.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run (or resume) a lottery on one Atari game", formatter_class=HelpFormatter)
    add_run_options(run, f"envpool Atari id; the paper's: {', '.join(GAMES)}")
    run.add_argument("--algo", choices=[ALGO], default=ALGO, help="training algorithm")
    budget = run.add_argument_group("budget (unset: the --budget's)")
    budget.add_argument("--budget", default="paper", choices=sorted(SCALES),
                        help="paper: 25 epochs of 1000 batches, last 1024 games, the paper's settings; "
                        "tiny: the test size (8 games, batches of 4 trajectories, a narrow net, 2 epochs of 100 batches)")
    add_budget_overrides(budget)
    settings = run.add_argument_group("trainer (unset: the budget's settings)")
    for setting in fields(ELFConfig):
        settings.add_argument(f"--{setting.name.replace('_', '-')}", type=type(setting.default),
                              help=SETTING_HELP[setting.name])
    run.add_argument("--device", default="cpu", help="torch device of the networks: cpu or cuda")
    add_process_options(run, "torch threads (0: torch's default); on a small CPU, more than one competes with "
                        "envpool's threads: slower for small networks, faster for the paper's (1.4x with 2 "
                        "threads on 2 cores)")
    return parser


def trainer_from_args(args: argparse.Namespace) -> AtariTrainer:
    """The trainer that the parsed ``run`` options describe; options left out keep the budget's values."""
    overrides = {f.name: getattr(args, f.name) for f in fields(ELFConfig)}
    chosen = scale(args.budget, epochs=args.epochs, batches_per_epoch=args.batches_per_epoch,
                   last_episodes=args.last_episodes, **overrides)
    return AtariTrainer(args.env, chosen.settings, chosen.budget, device=args.device, threads=args.threads,
                        progress=not args.no_progress)


def wants_atari(argv: list[str]) -> bool:
    """Whether ``rl-lth`` ``argv`` is a ``run`` for this trainer: ``--algo elf``, or an Atari ``--env``
    without ``--algo``."""
    probe = argparse.ArgumentParser(add_help=False)
    probe.add_argument("command", nargs="?")
    probe.add_argument("--env")
    probe.add_argument("--algo")
    known, _ = probe.parse_known_args(argv)
    if known.command != "run":
        return False
    return known.algo == ALGO if known.algo else bool(known.env) and is_atari(known.env)


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    exit_on_errors(parser, lambda: run_lottery(trainer_from_args(args), args))
