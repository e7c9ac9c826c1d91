"""How each plugin task is scored, as options: its scoring config and the options common to every config.

A scoring config is a dataclass (:class:`EvalConfig` for BLEU, scored by :mod:`fairseq_lth.driver.evaluate`,
:class:`LMEvalConfig` for log perplexity, by :mod:`fairseq_lth.driver.evaluate_lm`) whose fields carry their
help; the metadata below is shared by the fields both have, so each option is described once. Nothing here
imports fairseq: ``fairseq-lth-imp --help`` builds its parser from this module alone.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

from shared_mask.options import add_dataclass_options, dataclass_from_args

AVERAGE_LAST = {"help": "average the last K checkpoints before scoring"}
SUBSET = {"help": "the subset to score", "flags": ["--gen-subset"]}
MAX_TOKENS = {"help": "tokens per batch when scoring", "flags": ["--max-tokens-eval", "--max-tokens-generate"]}
CPU = {"help": "score on the CPU"}


@dataclass
class EvalConfig:
    """How a trained run is scored (the defaults are Vaswani et al.'s and fairseq's WMT'14 settings)."""

    metric: ClassVar[str] = "bleu"
    higher_is_better: ClassVar[bool] = True

    average_last: int = field(default=5, metadata=AVERAGE_LAST)
    subset: str = field(default="test", metadata=SUBSET)
    beam: int = field(default=4, metadata={"help": "beam size"})
    lenpen: float = field(default=0.6, metadata={"help": "length penalty"})
    max_tokens: int = field(default=8000, metadata=MAX_TOKENS)
    remove_bpe: str = field(default="subword_nmt", metadata={"help": "BPE marker to remove before scoring"})
    compound_split: bool = field(
        default=False, metadata={"help": "split hyphenated compounds before scoring (fairseq's WMT'14 En-De BLEU)"}
    )
    cpu: bool = field(default=False, metadata=CPU)


@dataclass
class LMEvalConfig:
    """How a trained language model is scored: its last checkpoint (or an average) on the test set."""

    higher_is_better: ClassVar[bool] = False

    average_last: int = field(default=1, metadata=AVERAGE_LAST)
    subset: str = field(default="test", metadata=SUBSET)
    max_tokens: int = field(default=4000, metadata=MAX_TOKENS)
    cpu: bool = field(default=False, metadata=CPU)

    @property
    def metric(self) -> str:
        """``test_log_ppl`` (``<subset>_log_ppl`` for another subset)."""
        return f"{self.subset}_log_ppl"


# Each plugin task's scoring config, by task name (the driver's --task choices).
SCORING = {"lottery_translation": EvalConfig, "lottery_language_modeling": LMEvalConfig}
SCORING_CONFIGS = list(SCORING.values())


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
