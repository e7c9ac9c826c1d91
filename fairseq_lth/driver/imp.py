"""Iterative magnitude pruning over fairseq-train runs, into the run folder of docs/design.md.

    fairseq-lth-imp --data DATA --out RUN [--task lottery_translation|lottery_language_modeling]
        [--levels 20 --rate 0.2 --seeds 0 1 2 --scope all --tickets winning random_reinit --rewind 1000it|1ep
        --schedule iterative ...] -- FAIRSEQ_TRAIN_ARGS

FAIRSEQ_TRAIN_ARGS are the model and optimization options of fairseq-train (--arch, --optimizer,
--lr, --max-update, --save-interval-updates, ...); the driver adds the plugin, the task, the seed,
the save dir and the lottery options. Per seed it writes W_0 as a fairseq checkpoint (init.pt),
trains the dense network (capturing rewind.pt at the rewind point), then per level computes the
mask from the previous winning ticket's final weights with shared_mask and trains each ticket from
rewind.pt. Each unit is scored by BLEU (translation, :mod:`fairseq_lth.driver.evaluate`) or by test log
perplexity (language modeling, :mod:`fairseq_lth.driver.evaluate_lm`).

The whole command is checked before the run folder is touched (:mod:`fairseq_lth.driver.train_args`).
Rerunning resumes (:mod:`fairseq_lth.driver.trainer` runs the units; :mod:`fairseq_lth.driver.task_kinds`
names the tasks).
"""

from __future__ import annotations

import argparse
import logging
import sys

import shared_mask as sm
from shared_mask.options import (
    ArgumentParser,
    HelpFormatter,
    add_lottery_options,
    import_extensions,
    lottery_config_from_args,
    run_command,
    workers_from_args,
)

from .scoring import SCORING, SCORING_CONFIGS, add_scoring_options, scoring_config


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="fairseq-lth-imp",
        description="Lottery tickets (IMP) for fairseq translation and language models.",
        epilog="Arguments after -- go to fairseq-train (model, optimizer, schedule, checkpoint interval).",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--data", required=True, help="binarized data directory (fairseq-preprocess)")
    parser.add_argument(
        "--task",
        default="lottery_translation",
        choices=SCORING,
        help="lottery_translation (scored by BLEU) or lottery_language_modeling (test log perplexity)",
    )
    add_lottery_options(parser, rewind=None)
    parser.add_argument(
        "--keep-checkpoints",
        action="store_true",
        help="keep each unit's fairseq checkpoints (default: keep final.pt only)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--verify-masks",
        action="store_true",
        help="every fairseq-train rank checks after every update that the pruned entries are zero in "
        "its weights, optimizer state and fp32 master copy, and records its mask and weights "
        "digests (checkpoints/lth_verify.rank<R>.json); slow, for tests and new hardware",
    )
    add_scoring_options(parser, SCORING_CONFIGS, unset_help="default: the task's")
    return parser


def run(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """Parse the driver's options (before ``--``) and fairseq-train's (after it), then run the lottery."""
    ours, train_args = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    extensions = import_extensions(ours)
    args = parser.parse_args(ours)
    if not train_args:
        parser.error("give the fairseq-train arguments after --, e.g. -- --arch transformer_wmt_en_de ...")
    try:
        evaluation = scoring_config(args, SCORING[args.task], SCORING_CONFIGS)
    except ValueError as e:
        parser.error(f"{e} (--task {args.task})")
    # fairseq (seconds to import) only once the command line is complete: --help and its errors are quick.
    from .task_kinds import TASKS
    from .trainer import FairseqTrainer

    config = lottery_config_from_args(args, rewind=str(TASKS[args.task].task.default_rewind))
    trainer = FairseqTrainer(
        args.data,
        train_args,
        config.scope,
        evaluation,
        keep_checkpoints=args.keep_checkpoints,
        task=args.task,
        extensions=extensions,
        progress=not args.no_progress,
        verify_masks=args.verify_masks,
    )
    trainer.check(config.rewind)  # before run_lottery claims the run folder
    for point in config.stability_steps:
        trainer.check_point(point)
    if "early_bird" in config.tickets and sm.parse_step(config.early_bird_every).unit != "it":
        raise ValueError(
            f"--early-bird-every {config.early_bird_every}: fairseq draws early-bird masks every N updates "
            "(e.g. --early-bird-every 500it)"
        )
    results = sm.run_lottery(trainer, config, args.out, progress=not args.no_progress, workers=workers_from_args(args))
    print(results.read_text(), end="")


def main(argv: list[str] | None = None) -> None:
    # The driver shows its progress and one line per unit; fairseq's info logs belong in the units' logs
    # (fairseq installs a root handler at the info level when imported).
    logging.getLogger().setLevel(logging.WARNING)
    parser = build_parser()
    run_command(parser, lambda: run(parser, sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
