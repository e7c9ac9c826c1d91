"""``--task lottery_translation``: fairseq's translation task training a lottery ticket.

Dense run (captures the rewind checkpoint at update 1000)::

    fairseq-train DATA --user-dir fairseq_lth --task lottery_translation --arch transformer_wmt_en_de \\
        --save-interval-updates 1000 --lth-rewind-updates 1000 --lth-rewind-checkpoint RUN/rewind.pt ...

Ticket run (starts from it, keeps the mask's pruned entries exactly zero)::

    fairseq-train DATA --user-dir fairseq_lth --task lottery_translation --arch transformer_wmt_en_de \\
        --continue-once RUN/rewind.pt --lth-mask level_01/mask.safetensors --lth-ticket winning ...
"""

from dataclasses import dataclass
from typing import Optional

from fairseq.tasks import register_task
from fairseq.tasks.translation import TranslationConfig, TranslationTask

import shared_mask as sm

from ..hooks import LotteryOptions, rewind_updates_field
from .lottery_task import LotteryTask

DEFAULT_REWIND = sm.Step(1000, "it")  # the paper's Transformer setting


@dataclass
class LotteryTranslationConfig(TranslationConfig, LotteryOptions):
    lth_rewind_updates: Optional[int] = rewind_updates_field(DEFAULT_REWIND)  # noqa: UP045 (fairseq reads Optional)


@register_task("lottery_translation", dataclass=LotteryTranslationConfig)
class LotteryTranslationTask(LotteryTask, TranslationTask):
    cfg: LotteryTranslationConfig
    default_rewind = DEFAULT_REWIND
