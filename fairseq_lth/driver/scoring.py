"""What the scorers share: the options common to every scoring config, and their command line.

A scoring config is a dataclass (:class:`fairseq_lth.driver.evaluate.EvalConfig` for BLEU,
:class:`fairseq_lth.driver.evaluate_lm.LMEvalConfig` for log perplexity) whose fields carry their help; the
metadata below is shared by the fields both have, so each option is described once.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

from shared_mask.files import write_json
from shared_mask.options import add_dataclass_options, dataclass_from_args

from .checkpoints import average_checkpoints, last_checkpoints

AVERAGE_LAST = {"help": "average the last K checkpoints before scoring"}
SUBSET = {"help": "the subset to score", "flags": ["--gen-subset"]}
MAX_TOKENS = {"help": "tokens per batch when scoring", "flags": ["--max-tokens-eval", "--max-tokens-generate"]}
CPU = {"help": "score on the CPU"}


def add_scoring_options(parser: argparse.ArgumentParser, configs: list[type], unset_help: str) -> None:
    """The union of the fields of ``configs`` as one "scoring" group; every option defaults to None, so
    the chosen config keeps its own default (see :func:`scoring_config`)."""
    group = parser.add_argument_group("scoring")
    seen: set[str] = set()
    for cls in configs:
        add_dataclass_options(group, cls, unset_default=True, unset_help=unset_help, exclude=seen)
        seen |= {f.name for f in dataclasses.fields(cls)}


def scoring_config(args: argparse.Namespace, cls: type, all_configs: list[type]):
    """The scoring config ``cls`` from :func:`add_scoring_options`'s options; an option ``cls`` has no
    use for (a BLEU option for a language model) is an error."""
    wanted = {f.name for f in dataclasses.fields(cls)}
    stray = sorted(
        {
            f.name
            for c in all_configs
            for f in dataclasses.fields(c)
            if f.name not in wanted and getattr(args, f.name, None) is not None
        }
    )
    if stray:
        raise ValueError(
            f"{', '.join('--' + n.replace('_', '-') for n in stray)}: not a scoring option of {cls.__name__}"
        )
    return dataclass_from_args(cls, args)


def cli(argv: list[str] | None, doc: str, score, cls: type) -> None:
    """The command line of a scoring module: ``score(data, checkpoint, cls(...), work_dir)`` on the average of a
    save dir's last checkpoints."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("save_dir", help="a fairseq-train --save-dir")
    parser.add_argument("--data", required=True, help="the binarized data directory")
    parser.add_argument("--out", help="write the metrics here as JSON")
    add_scoring_options(parser, [cls], unset_help=f"default: {cls.__name__}'s")
    args = parser.parse_args(argv)
    config = scoring_config(args, cls, [cls])
    with tempfile.TemporaryDirectory() as tmp:
        averaged = average_checkpoints(last_checkpoints(args.save_dir, config.average_last), Path(tmp) / "averaged.pt")
        metrics = score(args.data, averaged, config, Path(args.save_dir))
    print(json.dumps(metrics))
    if args.out:
        write_json(args.out, metrics)
