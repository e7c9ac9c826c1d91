"""`rl-lth`: the RL lottery from the command line.

    rl-lth run --env CartPole-v0 --out runs/cartpole [--levels 20 --rate 0.2 --seeds 0 1 2
               --tickets winning random_reinit --rewind 1epoch --schedule iterative ...]
    rl-lth run --env Breakout-v5 --out runs/breakout [--preset paper|tiny --device cuda ...]
    rl-lth sweep --envs Breakout-v5 Pong-v5 --out runs/atari [--workers 8 | --ray-address auto ...]
    rl-lth demo [--out demo_run]

Every option group is generated from a dataclass (shared_mask.options): the lottery's, the budget,
the chosen algorithm's config and the runtime. The trainer options are those of ``--algo`` (by
default elf for Atari ids, a2c for the rest), so the parser is built after a first look at
``--env`` and ``--algo``; options left out keep the ``--preset``'s values.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import shared_mask as sm
from shared_mask.options import (
    ArgumentParser,
    HelpFormatter,
    add_dataclass_options,
    add_lottery_options,
    dataclass_from_args,
    import_extensions,
    lottery_config_from_args,
    run_command,
    workers_from_args,
)

from .algorithms import ALGORITHMS
from .atari.envs import GAMES
from .budget import Budget
from .demo import run_demo
from .envs import BUDGETS
from .evaluate import Evaluation
from .presets import NAMES, default_algorithm, preset
from .results import print_table
from .trainer import RLTrainer, Runtime

PROG = "rl-lth"


def build_parser(algo: str, env: str | None = None, preset_name: str = "paper") -> argparse.ArgumentParser:
    """The parser, with the trainer options of algorithm ``algo`` under `run`; their help shows the values
    of ``env``'s preset ``preset_name`` when ``env`` is given."""
    parser = ArgumentParser(
        prog=PROG, description="Lottery tickets in reinforcement learning (Yu et al., ICLR 2020) on envpool games."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run (or resume) a lottery on one game", formatter_class=HelpFormatter)
    run.add_argument(
        "--env",
        required=True,
        help=f"game id: {', '.join(BUDGETS)}, or an envpool Atari id (the paper's: {', '.join(GAMES)})",
    )
    _add_lottery_and_trainer_options(run, algo, env, preset_name)

    sweep = commands.add_parser(
        "sweep",
        help="run (or resume) one lottery per game, all of their units over the same workers",
        formatter_class=HelpFormatter,
    )
    sweep.add_argument(
        "--envs",
        nargs="+",
        required=True,
        help="game ids (one algorithm for all of them); each lottery goes to OUT/<game>",
    )
    _add_lottery_and_trainer_options(sweep, algo, None, preset_name)

    demo = commands.add_parser(
        "demo",
        help="a short CartPole-v0 lottery with a table and a figure (minutes on a CPU)",
        formatter_class=HelpFormatter,
    )
    demo.add_argument("--out", default="demo_run", help="run folder (the figure is written inside it)")
    add_dataclass_options(demo, Runtime, exclude=("threads", "device"))
    return parser


def _add_lottery_and_trainer_options(
    command: argparse.ArgumentParser, algo: str, env: str | None, preset_name: str
) -> None:
    command.add_argument(
        "--algo",
        choices=ALGORITHMS,
        help="training algorithm (default: elf for Atari ids, "
        f"a2c for the rest); the trainer options below are {algo}'s, `--algo NAME --help` lists "
        "another's",
    )
    command.add_argument(
        "--preset",
        default="paper",
        choices=NAMES,
        help="the settings and budget that the options below override: the paper's, or tiny, the test "
        "size (classic control: 2 epochs of 150 batches; Atari: 8 games, batches of 4 trajectories, a "
        "narrow net, 2 epochs of 100 batches)",
    )
    add_lottery_options(command, rewind="1epoch")
    budget, settings = preset_values(algo, env, preset_name)
    add_dataclass_options(command.add_argument_group("budget"), Budget, unset_default=True, unset_help=budget)
    add_dataclass_options(
        command.add_argument_group(f"{algo} trainer"), ALGORITHMS[algo].Config, unset_default=True, unset_help=settings
    )
    add_dataclass_options(command.add_argument_group("evaluation (stability analysis)"), Evaluation)
    add_dataclass_options(command.add_argument_group("runtime"), Runtime)


def preset_values(algo: str, env: str | None, preset_name: str):
    """Help texts of the budget and trainer options: the value of ``env``'s preset, or where to see it."""
    try:
        chosen = preset(env, preset_name) if env else None
    except ValueError:  # an unknown game or preset: the parser says so
        chosen = None
    if chosen is None:
        generic = "default: the preset's; `rl-lth run --env GAME [--preset NAME] --help` shows it"
        return generic, generic
    settings = chosen.settings if isinstance(chosen.settings, ALGORITHMS[algo].Config) else ALGORITHMS[algo].Config()
    where = f"{env}, preset {preset_name}"
    return (
        lambda name: f"default: {getattr(chosen.budget, name)} for {where}",
        lambda name: f"default: {getattr(settings, name)} for {where}",
    )


def algorithm_named(argv: list[str]) -> str:
    """The algorithm that ``argv`` asks for with ``--algo``, or the default of its ``--env``."""
    probe = argparse.ArgumentParser(add_help=False)
    probe.add_argument("--env")
    probe.add_argument("--envs", nargs="+", default=[])
    probe.add_argument("--algo")
    known = probe.parse_known_args(argv)[0]
    if known.algo in ALGORITHMS:
        return known.algo
    defaults = {default_algorithm(env) for env in known.envs}
    if len(defaults) > 1:
        raise ValueError(
            f"--envs {' '.join(known.envs)} mixes games of different algorithms "
            f"({', '.join(sorted(defaults))}): sweep them separately"
        )
    return defaults.pop() if defaults else default_algorithm(known.env)


def trainer_from_args(args: argparse.Namespace) -> RLTrainer:
    """The trainer that parsed `run` options describe: the preset's settings and budget, overridden."""
    chosen = preset(args.env, args.preset)
    algo = args.algo or default_algorithm(args.env)
    config = ALGORITHMS[algo].Config
    settings = dataclass_from_args(config, args, base=chosen.settings if isinstance(chosen.settings, config) else None)
    return RLTrainer(
        args.env,
        algo,
        dataclass_from_args(Budget, args, base=chosen.budget),
        settings,
        dataclass_from_args(Runtime, args),
        dataclass_from_args(Evaluation, args),
    )


def run(args: argparse.Namespace) -> Path:
    """Run (or resume) the lottery that parsed `run` options describe; print its table."""
    return sweep(args, {args.env: Path(args.out)})[0]


def sweep(args: argparse.Namespace, folders: dict[str, Path]) -> list[Path]:
    """Run (or resume) one lottery per game of ``folders`` (game -> run folder) over the same workers."""
    lottery = lottery_config_from_args(args)
    lotteries = []
    for env, out in folders.items():
        trainer = trainer_from_args(argparse.Namespace(**{**vars(args), "env": env}))
        trainer.rewind_batch(sm.parse_step(lottery.rewind))  # a rewind point after training fails before any work
        check_study_points(trainer, lottery)
        lotteries.append((trainer, lottery, out))
    results = sm.run_lotteries(lotteries, progress=args.progress, workers=workers_from_args(args))
    for out, csv_path in zip(folders.values(), results):
        print_table(out)
        print(f"results: {csv_path}")
    return results


def check_study_points(trainer: RLTrainer, lottery: sm.LotteryConfig) -> None:
    """Stability points before the end of training, and early-bird draws within it."""
    budget = trainer.budget
    end = budget.batches
    for step in lottery.stability_steps:
        if budget.batches_at(step) >= end:
            raise ValueError(
                f"stability point {step} is not before the end of training ({end} batches): its children would "
                "not train"
            )
    if "early_bird" in lottery.tickets:
        every = sm.parse_step(lottery.early_bird_every)
        if budget.batches_at(every) > end:
            raise ValueError(f"--early-bird-every {every} is longer than training ({end} batches): nothing to draw")


def parse_args(argv: list[str]) -> argparse.Namespace:
    import_extensions(argv)  # first: the algorithms they register are valid --algo choices
    probe = argparse.ArgumentParser(add_help=False)
    probe.add_argument("--env")
    probe.add_argument("--preset", default="paper")
    known = probe.parse_known_args(argv)[0]
    return build_parser(algorithm_named(argv), known.env, known.preset).parse_args(argv)


def command(argv: list[str]) -> object:
    args = parse_args(argv)
    if args.command == "demo":
        return run_demo(args.out, progress=args.progress)
    if args.command == "sweep":
        if len(set(args.envs)) != len(args.envs):
            raise ValueError(f"--envs names a game twice: {' '.join(args.envs)}")
        return sweep(args, {env: Path(args.out) / env for env in args.envs})
    return run(args)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    run_command(ArgumentParser(prog=PROG), lambda: command(argv))
