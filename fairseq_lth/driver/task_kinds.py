"""The plugin tasks the driver runs, and what it needs to know of each besides its name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..plugin.tasks.lottery_language_modeling import LotteryLanguageModelingTask
from ..plugin.tasks.lottery_translation import LotteryTranslationTask
from . import evaluate as ev
from . import evaluate_lm
from .scoring import SCORING


@dataclass(frozen=True)
class TaskKind:
    """What the driver needs to know of a plugin task besides its name."""

    task: type  # the plugin's task class; its default_rewind is the lottery's default --rewind
    eval_config: type  # the scoring config (scoring.EvalConfig, scoring.LMEvalConfig)
    evaluate: Callable  # (data, scored checkpoint, eval config, work_dir) -> metrics
    dictionaries: str  # glob of the dictionaries in a binarized data directory
    preprocess: str  # how such a directory is made


TASKS = {
    "lottery_translation": TaskKind(
        LotteryTranslationTask,
        SCORING["lottery_translation"],
        ev.evaluate,
        "dict.*.txt",
        "fairseq-preprocess --source-lang SRC --target-lang TGT",
    ),
    "lottery_language_modeling": TaskKind(
        LotteryLanguageModelingTask,
        SCORING["lottery_language_modeling"],
        evaluate_lm.evaluate,
        "dict.txt",
        "fairseq-preprocess --only-source",
    ),
}
