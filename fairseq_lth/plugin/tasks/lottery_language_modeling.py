"""``--task lottery_language_modeling``: fairseq's language-modeling task training a lottery ticket.

The same mask, ticket, rewind and scope options as ``lottery_translation``, with a default rewind
point of its own (``DEFAULT_REWIND``). Dense run::

    fairseq-train DATA --user-dir fairseq_lth --task lottery_language_modeling --arch lottery_lstm_wikitext2 \\
        --tokens-per-sample 50 --batch-size 30 --lth-rewind-checkpoint RUN/rewind.pt ...

Ticket run::

    fairseq-train DATA --user-dir fairseq_lth --task lottery_language_modeling --arch lottery_lstm_wikitext2 \\
        --tokens-per-sample 50 --batch-size 30 --continue-once RUN/rewind.pt --lth-mask level_01/mask.safetensors ...

Besides fairseq's ``loss`` (base 2) and ``ppl``, the task logs ``log_ppl``: the loss in nats, the
natural log of the perplexity, which is the metric the IMP driver reports (``test_log_ppl``).
"""

import math
from dataclasses import dataclass
from typing import Optional

from fairseq.logging import metrics
from fairseq.tasks import register_task
from fairseq.tasks.language_modeling import LanguageModelingConfig, LanguageModelingTask

import shared_mask as sm

from ..hooks import LotteryOptions, rewind_updates_field
from .lottery_task import LotteryTask

DEFAULT_REWIND = sm.Step(1, "ep")  # the paper's LSTM setting


@dataclass
class LotteryLanguageModelingConfig(LanguageModelingConfig, LotteryOptions):
    lth_rewind_updates: Optional[int] = rewind_updates_field(DEFAULT_REWIND)  # noqa: UP045 (fairseq reads Optional)


@register_task("lottery_language_modeling", dataclass=LotteryLanguageModelingConfig)
class LotteryLanguageModelingTask(LotteryTask, LanguageModelingTask):
    cfg: LotteryLanguageModelingConfig
    default_rewind = DEFAULT_REWIND

    def reduce_metrics(self, logging_outputs, criterion):
        super().reduce_metrics(logging_outputs, criterion)
        metrics.log_derived("log_ppl", lambda meters: round(float(meters["loss"].avg) * math.log(2), 4))
