"""``--task lottery_translation``: fairseq's translation task training a lottery ticket.

Dense run (captures the rewind checkpoint at update 1000, the default rewind point here)::

    fairseq-train DATA --user-dir fairseq_lth --task lottery_translation --arch transformer_wmt_en_de \\
        --save-interval-updates 1000 --lth-rewind-updates 1000 --lth-rewind-checkpoint RUN/rewind.pt ...

Ticket run (starts from it, keeps the mask's pruned entries exactly zero)::

    fairseq-train DATA --user-dir fairseq_lth --task lottery_translation --arch transformer_wmt_en_de \\
        --continue-once RUN/rewind.pt --lth-mask level_01/mask.safetensors --lth-ticket winning ...
"""
from dataclasses import dataclass

from fairseq.tasks import register_task
from fairseq.tasks.translation import TranslationConfig, TranslationTask

import shared_mask as sm

from ..hooks import LotteryOptions
from .lottery_task import LotteryTask


@dataclass
class LotteryTranslationConfig(TranslationConfig, LotteryOptions):
    pass


@register_task("lottery_translation", dataclass=LotteryTranslationConfig)
class LotteryTranslationTask(LotteryTask, TranslationTask):
    cfg: LotteryTranslationConfig
    default_rewind = sm.Step(1000, "it")  # the paper's Transformer setting
