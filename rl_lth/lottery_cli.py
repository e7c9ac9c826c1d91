"""Command-line pieces shared by ``rl-lth run`` for classic control and for Atari."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

import shared_mask as sm

from .results import print_table


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except for options whose unset value means "the preset's"."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


def add_run_options(run: argparse.ArgumentParser, games: str) -> None:
    """The game, the run folder and the lottery options (the paper's protocol by default)."""
    run.add_argument("--env", required=True, help=f"game id: {games}")
    run.add_argument("--out", required=True, help="run folder; rerunning the same command resumes it")
    lottery = run.add_argument_group("lottery")
    lottery.add_argument("--levels", type=int, default=20, help="pruning levels after the dense level 0")
    lottery.add_argument("--rate", type=float, default=0.2, help="fraction of surviving weights pruned per level")
    lottery.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    lottery.add_argument("--tickets", nargs="+", default=["winning", "random_reinit"], choices=sm.TICKETS)
    lottery.add_argument("--rewind", default="1epoch", help="late-rewinding point: 0 (reset to init), "
                         "<N>epochs or <N>batches of the dense run")
    lottery.add_argument("--schedule", default="iterative", choices=["iterative", "oneshot"])


def add_budget_overrides(budget: argparse._ArgumentGroup) -> None:
    budget.add_argument("--epochs", type=int, help="N: epochs each ticket trains")
    budget.add_argument("--batches-per-epoch", type=int, help="M: batches per epoch")
    budget.add_argument("--last-episodes", type=int, help="L: episodes averaged into the ticket reward")


def add_process_options(run: argparse.ArgumentParser, threads_help: str) -> None:
    run.add_argument("--threads", type=int, default=1, help=threads_help)
    run.add_argument("--no-progress", action="store_true", help="no progress bars")


def run_lottery(trainer, args: argparse.Namespace) -> Path:
    """Run (or resume) the lottery that ``args`` describes with ``trainer``; print its table."""
    config = sm.LotteryConfig(levels=args.levels, rate=args.rate, seeds=args.seeds, tickets=args.tickets,
                              schedule=args.schedule, rewind=args.rewind, scope="all")
    trainer.rewind_batch(sm.parse_step(config.rewind))  # a rewind point after training fails before any work
    results = sm.run_lottery(trainer, config, args.out, progress=not args.no_progress)
    print_table(args.out)
    print(f"results: {results}")
    return results


def exit_on_errors(parser: argparse.ArgumentParser, command: Callable[[], object]) -> None:
    """Run ``command``; bad settings end the program with the parser's usage error, ^C with status 130."""
    try:
        command()
    except ValueError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    except KeyboardInterrupt:
        sys.exit(130)
