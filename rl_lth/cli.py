"""`rl-lth`: the RL lottery from the command line.

    rl-lth run --env CartPole-v0 --out runs/cartpole [--levels 20 --rate 0.2 --seeds 0 1 2
               --tickets winning random_reinit --rewind 1epoch --schedule iterative ...]
    rl-lth demo [--out demo_run]

Atari games (or ``--algo elf``) are handed to :mod:`rl_lth.atari`'s command line.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import fields

from . import a2c, atari
from .demo import run_demo
from .envs import PRESETS, preset
from .lottery_cli import (HelpFormatter, add_budget_overrides, add_process_options, add_run_options, exit_on_errors,
                          run_lottery)
from .network import DEFAULT_WIDTH
from .trainer import TRAINERS

SETTING_HELP = {
    "num_envs": "parallel environments", "steps_per_env": "steps of each environment per batch",
    "reward_scale": "multiplier of immediate rewards", "gamma": "discount", "entropy_coef": "entropy bonus weight",
    "value_coef": "value loss weight", "lr": "RMSprop learning rate", "alpha": "RMSprop smoothing constant",
    "eps": "RMSprop epsilon",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rl-lth", description="Lottery tickets in reinforcement learning "
                                     "(Yu et al., ICLR 2020) on envpool games.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run (or resume) a lottery on one game", formatter_class=HelpFormatter)
    add_run_options(run, f"{', '.join(PRESETS)}, or an envpool Atari id (Breakout-v5, ...)")
    run.add_argument("--algo", choices=[*TRAINERS, atari.cli.ALGO],
                     help="training algorithm (default: the game's); elf is the Atari trainer, see "
                     "python -m rl_lth.atari run --help")
    add_budget_overrides(run.add_argument_group("budget (default: the game's preset)"))
    network = run.add_argument_group("network and optimizer")
    network.add_argument("--width", type=int, default=DEFAULT_WIDTH, help="units in each of the three hidden layers")
    defaults = a2c.A2CConfig()
    for setting in fields(a2c.A2CConfig):
        network.add_argument(f"--{setting.name.replace('_', '-')}", type=type(getattr(defaults, setting.name)),
                             default=getattr(defaults, setting.name), help=SETTING_HELP[setting.name])
    add_process_options(run, "torch threads (one is fastest for these networks)")

    demo = commands.add_parser("demo", help="a short CartPole-v0 lottery with a table and a figure (minutes on a CPU)")
    demo.add_argument("--out", default="demo_run", help="run folder (the figure is written inside it)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def trainer_from_args(args: argparse.Namespace):
    game = preset(args.env)
    settings = a2c.A2CConfig(**{f.name: getattr(args, f.name) for f in fields(a2c.A2CConfig)})
    return TRAINERS[args.algo or game.algo](
        args.env, epochs=_given(args.epochs, game.epochs),
        batches_per_epoch=_given(args.batches_per_epoch, game.batches_per_epoch),
        last_episodes=_given(args.last_episodes, game.last_episodes), width=args.width, settings=settings,
        threads=args.threads, progress=not args.no_progress)


def _given(value, default):
    return default if value is None else value


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if atari.wants_atari(argv):
        atari.main(argv)
        return
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        exit_on_errors(parser, lambda: run_lottery(trainer_from_args(args), args))
    else:
        exit_on_errors(parser, lambda: run_demo(args.out, progress=not args.no_progress))
