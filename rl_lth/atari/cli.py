"""The Atari lottery from the command line, with the option names of ``rl-lth run``.

    python -m rl_lth.atari run --env Breakout-v5 --out runs/breakout [--budget paper|tiny --device cuda
        --levels 20 --rate 0.2 --seeds 0 1 2 --tickets winning random_reinit --rewind 1epoch ...]

``rl-lth run`` hands Atari ids to :func:`main` (see :func:`wants_atari`).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import fields

import shared_mask as sm

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


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except for the options whose unset value means "the budget's"."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rl-lth", description="Lottery tickets on Atari (Yu et al., ICLR 2020) "
                                     "with an ELF-style asynchronous off-policy actor-critic on envpool.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run (or resume) a lottery on one Atari game",
                              formatter_class=_HelpFormatter)
    run.add_argument("--env", required=True, help=f"envpool Atari id; the paper's: {', '.join(GAMES)}")
    run.add_argument("--out", required=True, help="run folder; rerunning the same command resumes it")
    run.add_argument("--algo", choices=[ALGO], default=ALGO, help="training algorithm")
    lottery = run.add_argument_group("lottery")
    lottery.add_argument("--levels", type=int, default=20, help="pruning levels after the dense level 0")
    lottery.add_argument("--rate", type=float, default=0.2, help="fraction of surviving weights pruned per level")
    lottery.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    lottery.add_argument("--tickets", nargs="+", default=["winning", "random_reinit"], choices=sm.TICKETS)
    lottery.add_argument("--rewind", default="1epoch", help="late-rewinding point: 0 (reset to init), "
                         "<N>epochs or <N>batches of the dense run")
    lottery.add_argument("--schedule", default="iterative", choices=["iterative", "oneshot"])
    budget = run.add_argument_group("budget")
    budget.add_argument("--budget", default="paper", choices=sorted(SCALES),
                        help="paper: 25 epochs of 1000 batches, last 1024 games, the paper's settings; "
                        "tiny: the test size (8 games, batches of 4 trajectories, a narrow net, 2 epochs of 100 batches)")
    budget.add_argument("--epochs", type=int, help="N: epochs each ticket trains (unset: the budget's)")
    budget.add_argument("--batches-per-epoch", type=int, help="M: batches per epoch (unset: the budget's)")
    budget.add_argument("--last-episodes", type=int, help="L: games averaged into the ticket reward (unset: the budget's)")
    settings = run.add_argument_group("trainer (unset: the budget's settings)")
    for setting in fields(ELFConfig):
        settings.add_argument(f"--{setting.name.replace('_', '-')}", type=type(setting.default),
                              help=SETTING_HELP[setting.name])
    run.add_argument("--device", default="cpu", help="torch device of the networks: cpu or cuda")
    run.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default); on a small "
                     "CPU, more than one competes with envpool's threads and is much slower")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def trainer_from_args(args: argparse.Namespace) -> AtariTrainer:
    """The trainer that the parsed ``run`` options describe; options left out keep the budget's values."""
    overrides = {f.name: getattr(args, f.name) for f in fields(ELFConfig)}
    chosen = scale(args.budget, epochs=args.epochs, batches_per_epoch=args.batches_per_epoch,
                   last_episodes=args.last_episodes, **overrides)
    return AtariTrainer(args.env, chosen.settings, chosen.budget, device=args.device, threads=args.threads,
                        progress=not args.no_progress)


def run_command(args: argparse.Namespace) -> None:
    trainer = trainer_from_args(args)
    config = sm.LotteryConfig(levels=args.levels, rate=args.rate, seeds=args.seeds, tickets=args.tickets,
                              schedule=args.schedule, rewind=args.rewind, scope="all")
    trainer.rewind_batch(sm.parse_step(config.rewind))
    print(f"results: {sm.run_lottery(trainer, config, args.out, progress=not args.no_progress)}")


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
    try:
        run_command(args)
    except ValueError as error:
        parser.exit(2, f"rl-lth: error: {error}\n")
    except KeyboardInterrupt:
        sys.exit(130)
