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

import shared_mask as sm

from . import a2c, atari
from .demo import run_demo
from .envs import PRESETS, preset
from .network import DEFAULT_WIDTH
from .results import print_table
from .trainer import TRAINERS

SETTING_HELP = {
    "num_envs": "parallel environments", "steps_per_env": "steps of each environment per batch",
    "reward_scale": "multiplier of immediate rewards", "gamma": "discount", "entropy_coef": "entropy bonus weight",
    "value_coef": "value loss weight", "lr": "RMSprop learning rate", "alpha": "RMSprop smoothing constant",
    "eps": "RMSprop epsilon",
}


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except for options whose default comes from the game's preset."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rl-lth", description="Lottery tickets in reinforcement learning "
                                     "(Yu et al., ICLR 2020) on envpool games.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run (or resume) a lottery on one game",
                              formatter_class=_HelpFormatter)
    run.add_argument("--env", required=True, help=f"game id: {', '.join(PRESETS)}")
    run.add_argument("--out", required=True, help="run folder; rerunning the same command resumes it")
    run.add_argument("--algo", choices=[*TRAINERS, atari.cli.ALGO],
                     help="training algorithm (default: the game's); elf is the Atari trainer, see "
                     "python -m rl_lth.atari run --help")
    lottery = run.add_argument_group("lottery")
    lottery.add_argument("--levels", type=int, default=20, help="pruning levels after the dense level 0")
    lottery.add_argument("--rate", type=float, default=0.2, help="fraction of surviving weights pruned per level")
    lottery.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    lottery.add_argument("--tickets", nargs="+", default=["winning", "random_reinit"], choices=sm.TICKETS)
    lottery.add_argument("--rewind", default="1epoch", help="late-rewinding point: 0 (reset to init), "
                         "<N>epochs or <N>batches of the dense run")
    lottery.add_argument("--schedule", default="iterative", choices=["iterative", "oneshot"])
    budget = run.add_argument_group("budget (default: the game's preset)")
    budget.add_argument("--epochs", type=int, help="N: epochs each ticket trains")
    budget.add_argument("--batches-per-epoch", type=int, help="M: batches per epoch")
    budget.add_argument("--last-episodes", type=int, help="L: episodes averaged into the ticket reward")
    network = run.add_argument_group("network and optimizer")
    network.add_argument("--width", type=int, default=DEFAULT_WIDTH, help="units in each of the three hidden layers")
    defaults = a2c.A2CConfig()
    for setting in fields(a2c.A2CConfig):
        network.add_argument(f"--{setting.name.replace('_', '-')}", type=type(getattr(defaults, setting.name)),
                             default=getattr(defaults, setting.name), help=SETTING_HELP[setting.name])
    run.add_argument("--threads", type=int, default=1, help="torch threads (one is fastest for these networks)")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")

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


def run_command(args: argparse.Namespace) -> None:
    trainer = trainer_from_args(args)
    config = sm.LotteryConfig(levels=args.levels, rate=args.rate, seeds=args.seeds, tickets=args.tickets,
                              schedule=args.schedule, rewind=args.rewind, scope="all")
    trainer.rewind_batch(sm.parse_step(config.rewind))
    results = sm.run_lottery(trainer, config, args.out, progress=not args.no_progress)
    print_table(args.out)
    print(f"results: {results}")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if atari.wants_atari(argv):
        atari.main(argv)
        return
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            run_command(args)
        else:
            run_demo(args.out, progress=not args.no_progress)
    except ValueError as error:
        parser.exit(2, f"rl-lth: error: {error}\n")
    except KeyboardInterrupt:
        sys.exit(130)
